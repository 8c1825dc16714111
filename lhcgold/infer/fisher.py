r"""Fisher information: truth (from the weights), rate, histograms, SALLY and ratio models.

All functions stream the events file in chunks and work in morphing-component space:
with per-event component weights :math:`m_{ic}` the weight at θ is
:math:`w_i(\theta) = \sum_c f_c(\theta) m_{ic}` and its gradient
:math:`\partial_p w_i = \sum_c \partial_p f_c(\theta) m_{ic}`. With the luminosity
:math:`L` (``luminosity_ifb`` × 1000 pb⁻¹):

* truth:      :math:`I = L \sum_i \nabla w_i \nabla w_i^T / w_i` (MadMiner's ``truth_information``: the
  joint likelihood p(x, z|θ) of every event's full parton-level configuration);
* exact:      :math:`I = L \sum_i w_i\, t(x_i) t(x_i)^T + L\, \nabla\sigma \nabla\sigma^T / \sigma` with the
  score t(x|θ) = ∇ log p(x|θ) of the exact observed-level likelihood of an embedded process;
* rate:       :math:`I = L\, \nabla\sigma \nabla\sigma^T / \sigma`;
* histogram:  :math:`I = L \sum_k \nabla\sigma_k \nabla\sigma_k^T / \sigma_k` over the bins k;
* SALLY:      :math:`I = L \sum_i w_i\, \hat t_i \hat t_i^T` (= L σ E[t̂ t̂ᵀ]) plus the rate term;
* ratio (ML): as SALLY with :math:`\hat t = \nabla_\theta \log \hat r(x|\theta)` by central differences.

Every one of them is the information of the same *extended* likelihood, Poisson(n | L σ(θ)) × Π p(x_i|θ):
the rate term L ∇σ∇σᵀ/σ is part of each (implicitly in "truth" and "histogram", whose per-event or
per-bin sums of ∇w∇wᵀ/w contain it; added explicitly, from the same σ_c, in "exact", "sally" and
"ml"; "rate" is that term alone). They can therefore be compared: the exact information bounds every
estimator's from above (up to Monte-Carlo error). ``include_rate=False`` gives the kinematic
(shape-only) part, and the result's ``method`` then says so ("… (shape only)").

Example:
    >>> from lhcgold import infer                                    # doctest: +SKIP
    >>> info = infer.truth_information("events.h5", theta="sm", luminosity_ifb=300)  # doctest: +SKIP
    >>> info.profile(["gc"]).matrix                                   # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.results import read_result, write_result
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from . import _binning
from ._data import (
    column_indices,
    components_of,
    factor_gradients,
    factors,
    model_columns,
    parameter_indices,
    require_finite,
    resolve_theta,
)
from .likelihood import Truth

logger = logging.getLogger(__name__)

__all__ = [
    "FisherInformation",
    "fisher_ellipse",
    "histogram_information",
    "ml_information",
    "exact_information",
    "profile_information",
    "project_information",
    "rate_information",
    "sally_information",
    "truth_information",
]

PB_PER_IFB = 1000.0


@dataclass(frozen=True, eq=False)
class FisherInformation:
    """A Fisher information matrix with what it was computed for.

    Attributes:
        matrix: (P, P) information matrix (units: 1 / parameter²).
        parameter_names: names of the P parameters, in matrix order.
        theta: the parameter point it was computed at (in the order of ``parameter_names``).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        method: "truth", "rate", "histogram", "sally", "ml", or a derived description.
        details: free-form metadata (e.g. the histogram observables and bin edges).
    """

    matrix: NDArray[np.float64]
    parameter_names: tuple[str, ...]
    theta: NDArray[np.float64]
    luminosity_ifb: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(self.parameter_names):
            raise ConfigError(f"Fisher matrix of shape {m.shape} does not fit parameters {self.parameter_names}")
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "theta", np.asarray(self.theta, dtype=np.float64))

    def project(self, keep: Sequence[str | int]) -> FisherInformation:
        """The information on ``keep`` with the other parameters fixed (sub-matrix)."""
        idx = parameter_indices(keep, self.parameter_names)
        return replace(
            self,
            matrix=project_information(self.matrix, idx),
            parameter_names=tuple(self.parameter_names[i] for i in idx),
            theta=self.theta[idx],
            method=f"{self.method} (projected)",
        )

    def profile(self, keep: Sequence[str | int]) -> FisherInformation:
        """The information on ``keep`` with the other parameters profiled (Schur complement)."""
        idx = parameter_indices(keep, self.parameter_names)
        return replace(
            self,
            matrix=profile_information(self.matrix, idx),
            parameter_names=tuple(self.parameter_names[i] for i in idx),
            theta=self.theta[idx],
            method=f"{self.method} (profiled)",
        )

    def ellipse(
        self,
        *,
        center: ArrayLike | None = None,
        parameters: Sequence[str | int] = (0, 1),
        cl: float | None = None,
        distance: float = 1.0,
        profile: bool = True,
        n_points: int = 200,
    ) -> NDArray[np.float64]:
        """Points (n_points, 2) of the ellipse Δθᵀ I Δθ = d² in the plane of two parameters.

        Args:
            center: ellipse centre in that plane (default: this information's θ there).
            parameters: the two parameters of the plane.
            cl: confidence level (d² = χ²₂ quantile); overrides ``distance``.
            distance: d (1 = the "1σ" Fisher ellipse), used when ``cl`` is None.
            profile: profile the other parameters (True) or fix them (False).
            n_points: points along the ellipse.
        """
        idx = parameter_indices(parameters, self.parameter_names)
        if len(idx) != 2:
            raise ConfigError(f"an ellipse needs two parameters, got {list(parameters)}")
        sub = profile_information(self.matrix, idx) if profile else project_information(self.matrix, idx)
        c = self.theta[idx] if center is None else center
        return fisher_ellipse(sub, c, cl=cl, distance=distance, n_points=n_points)

    def to_dict(self) -> dict[str, Any]:
        return {
            "matrix": self.matrix.tolist(),
            "parameter_names": list(self.parameter_names),
            "theta": self.theta.tolist(),
            "luminosity_ifb": self.luminosity_ifb,
            "method": self.method,
            "details": _jsonable(self.details),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FisherInformation:
        return cls(
            matrix=np.asarray(d["matrix"], dtype=np.float64),
            parameter_names=tuple(d["parameter_names"]),
            theta=np.asarray(d["theta"], dtype=np.float64),
            luminosity_ifb=float(d["luminosity_ifb"]),
            method=str(d["method"]),
            details=dict(d.get("details", {})),
        )

    def save(self, path: str, *, overwrite: bool = False) -> None:
        """Write as JSON (``.json``) or HDF5 (``.h5``/``.hdf5``), atomically."""

        write_result(path, "fisher_information", self.to_dict(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str) -> FisherInformation:

        return cls.from_dict(read_result(path, "fisher_information"))


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# --------------------------------------------------------------------------------------------------
# Matrix manipulation
# --------------------------------------------------------------------------------------------------
def project_information(matrix: ArrayLike, keep: Sequence[int]) -> NDArray[np.float64]:
    """Sub-matrix on ``keep`` (the other parameters held fixed)."""
    m = np.asarray(matrix, dtype=np.float64)
    idx = np.asarray(keep, dtype=int)
    return m[np.ix_(idx, idx)]


def profile_information(matrix: ArrayLike, keep: Sequence[int]) -> NDArray[np.float64]:
    """Profiled information I_aa − I_ab I_bb⁻¹ I_ba on ``keep`` = a (b = the rest).

    A singular I_bb (a profiled direction without information) is handled with the
    pseudo-inverse: such a direction can neither be measured nor degrade the others.
    """
    m = np.asarray(matrix, dtype=np.float64)
    a = np.asarray(keep, dtype=int)
    b = np.setdiff1d(np.arange(m.shape[0]), a)
    if b.size == 0:
        return m[np.ix_(a, a)]
    i_aa, i_ab, i_bb = m[np.ix_(a, a)], m[np.ix_(a, b)], m[np.ix_(b, b)]
    return i_aa - i_ab @ np.linalg.pinv(i_bb, hermitian=True) @ i_ab.T


def fisher_ellipse(
    matrix: ArrayLike,
    center: ArrayLike = (0.0, 0.0),
    *,
    cl: float | None = None,
    distance: float = 1.0,
    n_points: int = 200,
    line_length: float = 1e3,
) -> NDArray[np.float64]:
    """Points (n_points, 2) on Δθᵀ I Δθ = d² for a 2 × 2 information matrix.

    With ``cl`` (e.g. 0.68, 0.95) d² is the χ² quantile for 2 degrees of freedom. A matrix of
    rank one (e.g. the rate alone, or a CP-odd parameter seen only through CP-even histograms)
    has an unbounded "ellipse": two parallel lines. They are returned as two segments of
    half-length ``line_length`` along the uninformed direction, separated by a row of NaN (which
    matplotlib draws as a gap). A zero matrix raises ConfigError.
    """

    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 2):
        raise ConfigError(f"fisher_ellipse needs a 2 x 2 matrix, got {m.shape}")
    d2 = chi2.ppf(cl, 2) if cl is not None else distance**2
    vals, vecs = np.linalg.eigh(0.5 * (m + m.T))  # ascending
    c = np.asarray(center, dtype=np.float64)
    if vals[1] <= 0:
        raise ConfigError("the information matrix has no positive eigenvalue: no constraint to draw")
    if vals[0] <= 1e-12 * vals[1]:
        half = n_points // 2
        r = np.sqrt(d2 / vals[1])
        s = np.linspace(-line_length, line_length, half)[:, None] * vecs[:, 0]
        lines = [c + r * vecs[:, 1] + s, np.full((1, 2), np.nan), c - r * vecs[:, 1] + s]
        return np.concatenate(lines)
    phi = np.linspace(0.0, 2.0 * np.pi, n_points)
    pts = (
        np.cos(phi)[:, None] * np.sqrt(d2 / vals[0]) * vecs[:, 0]
        + np.sin(phi)[:, None] * np.sqrt(d2 / vals[1]) * vecs[:, 1]
    )
    return pts + c


# --------------------------------------------------------------------------------------------------
# Information from events
# --------------------------------------------------------------------------------------------------
def _result(
    matrix: NDArray[np.float64],
    sample: Any,
    theta: NDArray[np.float64],
    luminosity_ifb: float,
    method: str,
    **details: Any,
) -> FisherInformation:
    return FisherInformation(
        matrix=0.5 * (matrix + matrix.T),
        parameter_names=sample.setup.parameter_names,
        theta=theta,
        luminosity_ifb=float(luminosity_ifb),
        method=method,
        details=details,
    )


def _check_lumi(luminosity_ifb: float) -> float:
    if not (np.isfinite(luminosity_ifb) and luminosity_ifb > 0):
        raise ConfigError(f"luminosity_ifb must be positive, got {luminosity_ifb}")
    return luminosity_ifb * PB_PER_IFB


def truth_information(
    events: EventsLike,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> FisherInformation:
    """Information of an ideal measurement of every event's full kinematics (parton truth).

    I = L Σ_i ∇w_i ∇w_iᵀ / w_i with the event weights w_i(θ) [pb]. Events with w_i(θ) ≤ 0
    carry no information and are skipped (counted in the log).

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`.
        theta: parameter point (array, benchmark name, or None for the origin).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        chunk_size: events per chunk.
        progress: show a progress bar.
    """
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    f, df = factors(th, comps), factor_gradients(th, comps)  # (C,), (P, C)
    info = np.zeros((len(th), len(th)))
    n_skipped = 0
    for _, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        w = m @ f
        g = m @ df.T  # (n, P)
        ok = w > 0
        n_skipped += int(np.count_nonzero(~ok))
        info += (g[ok] / w[ok, None]).T @ g[ok]
    if n_skipped:
        logger.info("truth information: %d events with non-positive weight at theta=%s skipped", n_skipped, th)
    return _result(lumi * info, sample, th, luminosity_ifb, "truth", include_rate=True)


def rate_information(
    events: EventsLike,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> FisherInformation:
    """Information in the total rate alone: I = L ∇σ ∇σᵀ / σ."""
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    sigma_c = sample.component_xsec(chunk_size=chunk_size)
    return _result(lumi * _rate_matrix(sigma_c, comps, th), sample, th, luminosity_ifb, "rate")


def _rate_matrix(
    sigma_c: NDArray[np.float64], comps: NDArray[np.int64], th: NDArray[np.float64]
) -> NDArray[np.float64]:
    sigma = float(factors(th, comps) @ sigma_c)
    if sigma <= 0:
        raise ConfigError(f"the cross section at theta={th} is not positive ({sigma} pb)")
    grad = factor_gradients(th, comps) @ sigma_c
    return np.outer(grad, grad) / sigma


def exact_information(
    events: EventsLike,
    truth: Any,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    include_rate: bool = True,
    chunk_size: int = 20_000,
    progress: bool = False,
) -> FisherInformation:
    """Information of the exact observed-level likelihood of an embedded process, rate included.

    I = L Σ_i w_i t(x_i) t(x_i)ᵀ + L ∇σ∇σᵀ/σ, with the exact score t(x|θ) = ∇ log p(x|θ) from the
    truth's component densities and the rate term computed exactly as in :func:`sally_information`
    (the events' σ_c), so that exact minus SALLY is L Σ_i w_i (t tᵀ − t̂ t̂ᵀ) on the same events.

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView` (use the test partition).
        truth: an :class:`~lhcgold.infer.Truth`, or anything it accepts (an embedded process with
            ``truth_components(x)``, a ``TruthModel``).
        theta: where the information is evaluated.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        include_rate: add the Poisson rate term (False: the shape-only part, method "exact (shape only)").
        chunk_size: events per chunk (each chunk integrates the latent variables once per event).
        progress: show a progress bar.
    """

    tr = truth if isinstance(truth, Truth) else Truth(truth)
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    f, df = factors(th, comps), factor_gradients(th, comps)
    sigma_c = tr.sigma_components()
    if sigma_c.shape != (comps.shape[0],):
        raise ConfigError(f"the truth's sigma_c has shape {sigma_c.shape}, the setup has {comps.shape[0]} components")
    sigma = float(f @ sigma_c)
    if sigma <= 0:
        raise ConfigError(f"the truth's cross section at theta={th} is not positive ({sigma} pb)")
    dlog_sigma = (df @ sigma_c) / sigma
    cols = None if not tr.observables else column_indices(tr.observables, sample.observables)
    fn = getattr(tr.process, "truth_components", None)
    fn = fn if callable(fn) else tr.process.components
    info = np.zeros((len(th), len(th)))
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        xx = x if cols is None else x[:, cols]
        require_finite(xx, sample, pos, "observable")
        pos += len(x)
        mbar = np.asarray(fn(xx), dtype=np.float64)
        if mbar.shape != m.shape:
            raise ConfigError(f"truth_components returned shape {mbar.shape}, expected {m.shape}")
        dens = mbar @ f
        ok = dens > 0
        t = mbar[ok] @ df.T / dens[ok, None] - dlog_sigma
        w = m[ok] @ f
        info += (t * w[:, None]).T @ t
    info *= lumi
    if include_rate:
        info += lumi * _rate_matrix(sample.component_xsec(chunk_size=chunk_size), comps, th)
    return _result(info, sample, th, luminosity_ifb, _named("exact", include_rate), include_rate=include_rate)


def _named(method: str, include_rate: bool) -> str:
    """The method label: every information includes the rate term unless it says "(shape only)"."""
    return method if include_rate else f"{method} (shape only)"


def histogram_information(
    events: EventsLike,
    observables: str | Sequence[str],
    *,
    bins: _binning.BinsLike | None = None,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    binning_theta: ArrayLike | str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> FisherInformation:
    """Information of a 1-D or 2-D (or n-D) histogram of observables, rate included.

    I = L Σ_k ∇σ_k ∇σ_kᵀ / σ_k over all bins k; the outer bins are overflow bins, so the sum of
    the bins is the total rate. Bins with σ_k(θ) ≤ 0 are skipped.

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`.
        observables: one name or a sequence of names (one axis each).
        bins: an int (every axis), or one int / edge array per axis. An int n gives n bins of
            equal cross section at ``binning_theta`` (adaptive binning by weighted quantiles).
            Default: 25 (1-D), 8 × 8 (2-D), 5 per axis beyond.
        theta: where the information is evaluated.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        binning_theta: θ for the adaptive binning (default: ``theta``).
        chunk_size: events per chunk.
        progress: show a progress bar.
    """
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    names = (observables,) if isinstance(observables, str) else tuple(observables)
    cols = column_indices(names, sample.observables)
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    th_bin = th if binning_theta is None else resolve_theta(binning_theta, sample.setup)
    edges = histogram_edges(
        sample, cols, _binning.normalize_bins(bins, len(cols)), factors(th_bin, comps), chunk_size=chunk_size
    )
    s_kc = bin_component_sums(sample, cols, edges, chunk_size=chunk_size, progress=progress)
    f, df = factors(th, comps), factor_gradients(th, comps)
    sigma_k = s_kc @ f  # (K,)
    grad_k = s_kc @ df.T  # (K, P)
    ok = sigma_k > 0
    if np.count_nonzero(~ok):
        logger.info(
            "histogram information: %d of %d bins empty at theta=%s (skipped)", int(np.count_nonzero(~ok)), len(ok), th
        )
    info = (grad_k[ok] / sigma_k[ok, None]).T @ grad_k[ok]
    return _result(
        lumi * info, sample, th, luminosity_ifb, "histogram", observables=list(names), edges=[e.tolist() for e in edges]
    )


def histogram_edges(
    sample: Any,
    cols: Sequence[int],
    bins: list[Any],
    f_binning: NDArray[np.float64],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[NDArray[np.float64]]:
    """Edges per axis: given arrays as they are, ints by weighted quantiles at f_binning."""
    if all(not isinstance(b, int) for b in bins):
        return list(bins)
    xs, ws = [], []
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size):
        require_finite(x[:, cols], sample, pos, "observable")
        pos += len(x)
        xs.append(x[:, cols])
        ws.append(m @ f_binning)
    if not xs:
        raise ConfigError("cannot build a histogram binning from an empty event sample")
    x_all, w_all = np.concatenate(xs), np.concatenate(ws)
    return [_binning.adaptive_edges(x_all[:, d], b, w_all) if isinstance(b, int) else b for d, b in enumerate(bins)]


def bin_component_sums(
    sample: Any,
    cols: Sequence[int],
    edges: Sequence[NDArray[np.float64]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> NDArray[np.float64]:
    """Per-bin sums of the component weights, S_kc (K, C), in one streamed pass."""
    n_bins = _binning.n_bins_total(edges)
    out: NDArray[np.float64] | None = None
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        require_finite(x[:, cols], sample, pos, "observable")
        pos += len(x)
        idx = _binning.bin_indices(x[:, cols], edges)
        part = np.stack([np.bincount(idx, weights=m[:, c], minlength=n_bins) for c in range(m.shape[1])], axis=1)
        out = part if out is None else out + part
    if out is None:
        raise ConfigError("cannot fill a histogram from an empty event sample")
    return out


def _score_columns(model: Any, sample: Any) -> list[int] | None:
    return model_columns(model, sample.observables)


def sally_information(
    events: EventsLike,
    score_model: Any,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    include_rate: bool = True,
    score_components: Sequence[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> FisherInformation:
    """Information of the estimated score t̂(x) (SALLY): L Σ_i w_i t̂_i t̂_iᵀ, plus the rate term.

    The score estimator must be trained at ``theta`` (its reference point); ``score_model.score(x)``
    returns (N, P). A model that names its ``observables`` gets exactly those columns.

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView` (use the test partition).
        score_model: object with ``score(x) -> (N, P)`` (and optionally ``observables``).
        theta: the model's reference point.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        include_rate: add the rate information L ∇σ∇σᵀ/σ (madminer's ``include_xsec_info``).
        score_components: use only these score components (the others' rows are zero).
    """
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    ref = getattr(score_model, "theta", None)
    if ref is not None and np.shape(ref) == th.shape and not np.allclose(ref, th):
        logger.warning("SALLY information at theta=%s from a score model trained at %s", th, ref)
    cols = _score_columns(score_model, sample)
    f = factors(th, comps)
    n_par = len(th)
    info = np.zeros((n_par, n_par))
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        xx = x if cols is None else x[:, cols]
        require_finite(xx, sample, pos, "observable")
        t = _model_score(score_model, xx, n_par, score_components)
        require_finite(t, sample, pos, "estimated score")
        pos += len(x)
        w = m @ f
        info += (t * w[:, None]).T @ t
    info *= lumi
    if include_rate:  # the rate term as in rate_information (the file's precise σ_c when stored)
        info += lumi * _rate_matrix(sample.component_xsec(chunk_size=chunk_size), comps, th)
    return _result(info, sample, th, luminosity_ifb, _named("sally", include_rate), include_rate=include_rate)


def _model_score(
    model: Any, x: NDArray[np.float64], n_par: int, score_components: Sequence[int] | None
) -> NDArray[np.float64]:
    t = np.asarray(model.score(x), dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != len(x):
        raise ConfigError(f"score model returned shape {t.shape} for {len(x)} events")
    if score_components is not None:
        full = np.zeros((len(x), n_par))
        sel = list(score_components)
        full[:, sel] = t[:, sel] if t.shape[1] == n_par else t
        return full
    if t.shape[1] < n_par:
        raise ConfigError(f"score model gives {t.shape[1]} components for {n_par} parameters")
    return t[:, :n_par]


def ml_information(
    events: EventsLike,
    ratio_model: Any,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    include_rate: bool = True,
    step: ArrayLike | None = None,
    gradient: str = "auto",
    chunk_size: int = 20_000,
    progress: bool = False,
) -> FisherInformation:
    """Information from a parameterised ratio estimator, t̂ = ∇_θ log r̂(x|θ); then as :func:`sally_information`.

    Args:
        gradient: "autograd" uses ``ratio_model.score(x, theta) -> (N, P)``; "fd" central differences
            of ``ratio_model.log_ratio(x, thetas (T, P)) -> (T, N)`` at θ ± h e_p, h = ``step`` (default
            1e-3 of each parameter's range); "auto" picks autograd when the model has ``score``.
    """
    if gradient not in ("auto", "autograd", "fd"):
        raise ConfigError(f"gradient must be 'auto', 'autograd' or 'fd', got {gradient!r}")
    use_score = gradient == "autograd" or (gradient == "auto" and callable(getattr(ratio_model, "score", None)))
    sample = as_view(events)
    lumi = _check_lumi(luminosity_ifb)
    setup = sample.setup
    comps = components_of(setup)
    th = resolve_theta(theta, setup)
    n_par = len(th)
    h = (
        (1e-3 * np.diff(setup.ranges, axis=1)[:, 0])
        if step is None
        else np.broadcast_to(np.asarray(step, dtype=np.float64), (n_par,))
    )
    shifted = np.concatenate([th + np.diag(h), th - np.diag(h)])  # (2P, P)
    cols = model_columns(ratio_model, sample.observables)
    f = factors(th, comps)
    info = np.zeros((n_par, n_par))
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        xx = x if cols is None else x[:, cols]
        require_finite(xx, sample, pos, "observable")
        if use_score:
            t = np.asarray(ratio_model.score(xx, th), dtype=np.float64)
        else:
            lr = np.asarray(ratio_model.log_ratio(xx, shifted), dtype=np.float64)
            t = ((lr[:n_par] - lr[n_par:]) / (2.0 * h[:, None])).T  # (n, P)
        require_finite(t, sample, pos, "estimated score")
        pos += len(x)
        w = m @ f
        info += (t * w[:, None]).T @ t
    info *= lumi
    if include_rate:  # the rate term as in rate_information (the file's precise σ_c when stored)
        info += lumi * _rate_matrix(sample.component_xsec(chunk_size=chunk_size), comps, th)
    return _result(
        info,
        sample,
        th,
        luminosity_ifb,
        _named("ml", include_rate),
        include_rate=include_rate,
        gradient="autograd" if use_score else "fd",
        step=None if use_score else h.tolist(),
    )
