r"""Asymptotic (Asimov) expected limits and observed limits on parameter grids.

For every parameter point θ (all at once, no per-θ loop over events):

.. math::
    \log L(\theta) = n_{obs} \sum_i \hat w_i \log \hat p(x_i|\theta)
                   + \log \mathrm{Pois}(n_{obs} \mid L\,\sigma(\theta)),
    \qquad q(\theta) = -2 \left[\log L(\theta) - \log L(\hat\theta)\right],

with θ̂ the best point of the scan. For expected limits the data are the Asimov set: the
weighted events reweighted to θ_true (ŵ_i ∝ w_i(θ_true)) and n_obs = L σ(θ_true); the
Poisson term uses the continuous extension n log μ − μ − log Γ(n + 1) (``round_n_observed``
rounds n_obs first, as MadMiner does). p-values follow Wilks' theorem, p = χ²_sf(q, dof)
with dof the number of scanned (non-profiled) parameters, or come from toys
(:func:`toy_p_values`, binned models).

Example:
    >>> from lhcgold import infer                                                 # doctest: +SKIP
    >>> res = infer.expected_limits(infer.Histogram(["pt_v"]), "events.h5",        # doctest: +SKIP
    ...                             grid=infer.LimitGrid([(-20, 20), (-20, 20)], 25), luminosity_ifb=10)
    >>> res.p_value_hist                                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from ._data import components_of, factors, parameter_indices, resolve_theta
from .diagnostics import closure_check
from .grid import LimitGrid, as_points, check_in_ranges
from .likelihood import AsimovData, Context, LikelihoodModel, ObservedData, RateOnly, _HistogramBase
from .results import LimitResult

logger = logging.getLogger(__name__)

__all__ = ["asymptotic_p_values", "expected_limits", "expected_limits_by_method", "observed_limits", "toy_p_values"]

PB_PER_IFB = 1000.0


def asymptotic_p_values(q: ArrayLike, dof: int) -> NDArray[np.float64]:
    """Wilks: p = χ²_sf(q, dof) for the test statistic q = −2 Δ log L (≥ 0)."""
    if dof < 1:
        raise ConfigError(f"dof must be >= 1, got {dof}")
    return chi2.sf(np.clip(np.asarray(q, dtype=np.float64), 0.0, None), dof)


def poisson_log_pmf(n: float, mu: NDArray[np.float64]) -> NDArray[np.float64]:
    """log Pois(n | μ) continued to real n; −inf where μ ≤ 0 (unless n = 0 and μ = 0)."""
    mu = np.asarray(mu, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mu > 0, n * np.log(np.where(mu > 0, mu, 1.0)) - mu - gammaln(n + 1.0), -np.inf)
    if n == 0:
        out = np.where(mu == 0, 0.0, out)
    return out


def expected_limits(
    likelihood: LikelihoodModel,
    events: EventsLike,
    *,
    grid: LimitGrid | ArrayLike,
    luminosity_ifb: float = 300.0,
    asimov_theta: ArrayLike | str | None = None,
    profile: Sequence[str | int] = (),
    dof: int | None = None,
    round_n_observed: bool = False,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> LimitResult:
    """Expected (Asimov) limits: p-values of every grid point for data generated at ``asimov_theta``.

    Args:
        likelihood: ``RateOnly()``, ``Histogram(...)``, ``ScoreHistogram(model)``,
            ``NeuralRatio(model)`` or ``Truth(process)``.
        events: weighted events (path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`): the
            Asimov data and the cross section σ(θ) (and the histogram templates unless the
            likelihood names its own ``templates``).
        grid: a :class:`LimitGrid` or scattered points (T, P).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        asimov_theta: θ of the Asimov data (array, benchmark name; default the origin).
        profile: parameters to profile (maximise over on the grid; regular grids only).
        dof: degrees of freedom of the χ² (default: the number of scanned, kept parameters).
        round_n_observed: round n_obs = L σ(θ_true) to an integer in the Poisson term.
        allow_outside: accept grid points outside the parameter ranges of the setup.
        chunk_size: events per chunk.
        progress: show progress bars.
    """
    scan = _ScanContext.build(events, grid, luminosity_ifb, allow_outside, chunk_size, progress)
    sample, comps, sigma_c = scan.sample, scan.components, scan.sigma_c
    th_true = resolve_theta(asimov_theta, scan.setup)
    lumi = scan.lumi_ipb
    sigma_true = float(factors(th_true, comps) @ sigma_c)
    if sigma_true <= 0:
        raise ConfigError(f"the cross section at the Asimov point {th_true.tolist()} is not positive")
    n_obs = lumi * sigma_true
    # the Asimov weights are normalised by their own sum (σ_c may be the generator's precise value)
    f_true = factors(th_true, comps)
    sigma_events = float(f_true @ sample.event_component_xsec(chunk_size=chunk_size))
    if sigma_events <= 0:
        raise ConfigError(f"the events' cross section at the Asimov point {th_true.tolist()} is not positive")
    data = AsimovData(sample, f_true, sigma_events, chunk_size, progress)
    return _scan(
        likelihood,
        data,
        scan,
        n_observed=n_obs,
        profile=profile,
        dof=dof,
        round_n_observed=round_n_observed,
        asimov_theta=th_true,
    )


def expected_limits_by_method(
    likelihoods: Mapping[str, LikelihoodModel], events: EventsLike, *, grid: LimitGrid | ArrayLike, **kwargs: Any
) -> dict[str, LimitResult]:
    """:func:`expected_limits` for several likelihood models on the same events and grid.

    Example (the five methods of the main job; ``plot.plot_contours`` draws the result)::

        results = infer.expected_limits_by_method(
            {"truth": infer.Truth(process), "ml": infer.NeuralRatio(alices),
             "sally": infer.ScoreHistogram(sally), "histogram": infer.Histogram(["pt_w", "mt_wh"]),
             "rate": infer.RateOnly()},
            "events.h5", grid=infer.LimitGrid([(-0.02, 0.02), (-0.15, 0.15)], 25), luminosity_ifb=300)
    """
    return {label: expected_limits(like, events, grid=grid, **kwargs) for label, like in likelihoods.items()}


def observed_limits(
    likelihood: LikelihoodModel,
    x_observed: ArrayLike | EventsLike,
    events: EventsLike,
    *,
    grid: LimitGrid | ArrayLike,
    luminosity_ifb: float = 300.0,
    n_observed: float | None = None,
    weights: ArrayLike | None = None,
    observables: Sequence[str] | None = None,
    profile: Sequence[str | int] = (),
    dof: int | None = None,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> LimitResult:
    """Observed limits: p-values of every grid point given observed events.

    Args:
        likelihood: the likelihood model (as in :func:`expected_limits`).
        x_observed: observed events (N, O) in the column order of ``observables`` (default: the
            simulation's observables), or an events file whose observations are the data.
        events: weighted simulation: σ(θ) and the histogram templates.
        grid: a :class:`LimitGrid` or scattered points (T, P).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        n_observed: number of observed events (default: the number of rows, or Σ weights).
        weights: optional per-event weights of the observed events.
        observables: column names of ``x_observed``.
        profile: as in :func:`expected_limits`.
        dof: as in :func:`expected_limits`.
        allow_outside: as in :func:`expected_limits`.
        chunk_size: as in :func:`expected_limits`.
        progress: as in :func:`expected_limits`.
    """
    scan = _ScanContext.build(events, grid, luminosity_ifb, allow_outside, chunk_size, progress)
    sample = scan.sample
    if isinstance(x_observed, np.ndarray) or (
        isinstance(x_observed, (list, tuple)) and len(x_observed) > 0 and not isinstance(x_observed, str)
    ):
        x = np.asarray(x_observed, dtype=np.float64)
        names = tuple(observables) if observables is not None else sample.observables
    else:
        obs_sample = as_view(x_observed)  # type: ignore[arg-type]
        x = np.concatenate([xx for xx, _ in obs_sample.component_chunks(chunk_size=chunk_size)])
        names = obs_sample.observables
    if x.ndim != 2 or x.shape[1] != len(names):
        raise ConfigError(f"observed events of shape {x.shape} do not match observables {names}")
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(x),) or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError("observed weights must be non-negative, one per event, with a positive sum")
    n_obs = float(w.sum()) if n_observed is None else float(n_observed)
    data = ObservedData(x, w / w.sum(), names, chunk_size)
    return _scan(
        likelihood,
        data,
        scan,
        n_observed=n_obs,
        profile=profile,
        dof=dof,
        round_n_observed=False,
        asimov_theta=None,
    )


def _lumi(luminosity_ifb: float) -> float:
    if not (np.isfinite(luminosity_ifb) and luminosity_ifb > 0):
        raise ConfigError(f"luminosity_ifb must be positive, got {luminosity_ifb}")
    return float(luminosity_ifb) * PB_PER_IFB


def _points(grid: Any, setup: Any, allow_outside: bool) -> tuple[NDArray[np.float64], LimitGrid | None]:
    points, grid_obj = as_points(grid, setup.n_parameters)
    if not allow_outside:
        check_in_ranges(points, setup.ranges, setup.parameter_names)
    return points, grid_obj


@dataclass(frozen=True)
class _ScanContext:
    """The simulation side of a grid scan (the same for expected and observed limits).

    Attributes:
        sample: the weighted simulation (:class:`~lhcgold.io.view.EventsView`).
        setup: its setup (parameters, morphing).
        components: the morphing components (C, P).
        points: the grid points (T, P).
        grid: the regular grid of ``points``, or None for scattered points.
        sigma_c: the component cross sections (C,) [pb].
        luminosity_ifb: integrated luminosity [fb⁻¹] (checked positive).
        chunk_size: events per chunk.
        progress: show progress bars.
    """

    sample: Any
    setup: Any
    components: NDArray[np.int64]
    points: NDArray[np.float64]
    grid: LimitGrid | None
    sigma_c: NDArray[np.float64]
    luminosity_ifb: float
    chunk_size: int
    progress: bool

    @classmethod
    def build(
        cls,
        events: EventsLike,
        grid: LimitGrid | ArrayLike,
        luminosity_ifb: float,
        allow_outside: bool,
        chunk_size: int,
        progress: bool,
    ) -> _ScanContext:
        """The context of a scan of ``grid`` over ``events`` (the luminosity checked positive)."""
        sample = as_view(events)
        setup = sample.setup
        points, grid_obj = _points(grid, setup, allow_outside)
        _lumi(luminosity_ifb)
        return cls(
            sample=sample,
            setup=setup,
            components=components_of(setup),
            points=points,
            grid=grid_obj,
            sigma_c=sample.component_xsec(chunk_size=chunk_size),
            luminosity_ifb=luminosity_ifb,
            chunk_size=chunk_size,
            progress=progress,
        )

    @property
    def lumi_ipb(self) -> float:
        """The integrated luminosity in pb⁻¹."""
        return float(self.luminosity_ifb) * PB_PER_IFB


def _scan(
    likelihood: LikelihoodModel,
    data: Any,
    scan: _ScanContext,
    *,
    n_observed: float,
    profile: Sequence[str | int],
    dof: int | None,
    round_n_observed: bool,
    asimov_theta: NDArray[np.float64] | None,
) -> LimitResult:
    if not hasattr(likelihood, "kinematic_log_likelihood"):
        raise ConfigError(
            f"{likelihood!r} is not a likelihood model (RateOnly, Histogram, ScoreHistogram, NeuralRatio, Truth)"
        )
    ctx = Context(
        thetas=scan.points,
        components=scan.components,
        data=data,
        simulation=scan.sample,
        chunk_size=scan.chunk_size,
        progress=scan.progress,
    )
    ll_kin = n_observed * np.asarray(likelihood.kinematic_log_likelihood(ctx), dtype=np.float64)
    if likelihood.include_rate:
        n = float(np.round(n_observed)) if round_n_observed else n_observed
        ll_rate = poisson_log_pmf(n, scan.lumi_ipb * (factors(scan.points, scan.components) @ scan.sigma_c))
    else:
        ll_rate = np.zeros(len(scan.points))
    ll = ll_kin + ll_rate
    if np.any(np.isnan(ll)):
        logger.warning(
            "%s: log-likelihood is NaN at %d grid points (treated as excluded)",
            likelihood.label,
            int(np.isnan(ll).sum()),
        )
        ll = np.where(np.isnan(ll), -np.inf, ll)

    names = scan.setup.parameter_names
    prof_idx = parameter_indices(profile, names) if profile else []
    fixed: dict[str, float] = {}
    if scan.grid is not None:
        keep = [i for i in scan.grid.scanned if i not in prof_idx]
        for i in range(len(names)):
            if i not in scan.grid.scanned:
                fixed[names[i]] = float(scan.grid.axes[i][0])
        for i in prof_idx:
            if i not in scan.grid.scanned:
                raise ConfigError(f"cannot profile {names[i]!r}: it is fixed on the grid")
    elif prof_idx:
        raise ConfigError("profiling needs a regular LimitGrid (maximisation over grid axes)")
    else:
        keep = list(range(len(names)))

    if not keep:
        raise ConfigError("nothing left to scan: every parameter is fixed or profiled")
    prof_values = None
    axes = None
    if scan.grid is not None:
        shape = scan.grid.shape
        ll_g = ll.reshape(shape)
        kin_g, rate_g = ll_kin.reshape(shape), np.broadcast_to(ll_rate, ll.shape).reshape(shape)
        drop = [i for i in range(len(names)) if i not in keep]  # profiled and fixed axes
        moved = np.moveaxis(ll_g, drop, list(range(len(keep), len(names)))).reshape([shape[i] for i in keep] + [-1])
        arg = np.argmax(moved, axis=-1)
        take = lambda a: np.take_along_axis(  # noqa: E731
            np.moveaxis(a, drop, list(range(len(keep), len(names)))).reshape([shape[i] for i in keep] + [-1]),
            arg[..., None],
            axis=-1,
        )[..., 0].ravel()
        ll, ll_kin_r, ll_rate_r = take(ll_g), take(kin_g), take(rate_g)
        if prof_idx:
            pts_g = scan.points.reshape(*shape, len(names))
            prof_values = np.stack([take(pts_g[..., i]) for i in prof_idx], axis=1)
        axes = tuple(scan.grid.axes[i] for i in keep)
        mesh = np.meshgrid(*axes, indexing="ij")
        pts_keep = np.stack([m.ravel() for m in mesh], axis=1) if keep else np.zeros((1, 0))
        ll_kin, ll_rate = ll_kin_r, ll_rate_r
    else:
        pts_keep = scan.points
        ll_rate = np.broadcast_to(ll_rate, ll.shape).copy()

    n_dof = len(keep) if dof is None else int(dof)
    ratio = ll - np.max(ll)
    p = asymptotic_p_values(-2.0 * ratio, n_dof) if np.isfinite(np.max(ll)) else np.zeros_like(ll)
    details: dict[str, Any] = {
        "n_points_evaluated": len(scan.points),
        "rounded_n_observed": bool(round_n_observed),
        "all_parameter_names": list(names),
    }
    details.update(_ratio_details(likelihood))
    res = LimitResult(
        method=likelihood.label,
        parameter_names=tuple(names[i] for i in keep),
        thetas=pts_keep,
        log_likelihood=ll,
        log_likelihood_kinematic=ll_kin,
        log_likelihood_rate=ll_rate,
        p_values=p,
        dof=n_dof,
        n_observed=n_observed,
        luminosity_ifb=float(scan.luminosity_ifb),
        asimov_theta=asimov_theta,
        grid_axes=axes,
        profiled=tuple(names[i] for i in prof_idx),
        profiled_values=prof_values,
        fixed=fixed,
        details=details,
    )
    return _with_closure(res)


def _ratio_details(likelihood: Any) -> dict[str, Any]:
    """The calibration of a ratio estimator (E_ref[r̂] over the evaluated points) for the result's details."""
    norm = likelihood.normalization() if callable(getattr(likelihood, "normalization", None)) else None
    if not hasattr(likelihood, "normalize"):
        return {}
    out: dict[str, Any] = {"ratio_normalized": norm is not None}
    if norm is not None:
        e = np.asarray(norm["expectation"], dtype=np.float64)
        out["ratio_normalization"] = {
            "reference": norm["reference"],
            "expectation": e.tolist(),
            "max_abs_deviation": float(np.max(np.abs(e - 1.0))),
        }
    return out


def _with_closure(res: LimitResult) -> LimitResult:
    """Attach the closure check on Asimov data (``details["closure"]``) and warn when it fails."""
    if res.asimov_theta is None or not np.isfinite(np.max(res.log_likelihood)):
        return res
    check = closure_check(res)
    if check is None:
        return res
    res.details["closure"] = check.to_dict()
    if not check.passed:
        logger.warning("%s", check.message())
    return res


def toy_p_values(
    likelihood: _HistogramBase | Any,
    events: EventsLike,
    *,
    grid: LimitGrid | ArrayLike,
    observed_q: ArrayLike,
    luminosity_ifb: float = 300.0,
    n_toys: int = 1000,
    points: Sequence[int] | None = None,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    rng: np.random.Generator | int | None = None,
) -> NDArray[np.float64]:
    """p-values from Poisson toys for binned models (RateOnly, Histogram, ScoreHistogram).

    For each selected grid point θ_j, toys n_k ~ Pois(L σ_k(θ_j)) are drawn in every bin and
    q_toy(θ_j) = −2 [log L(θ_j) − max_θ log L(θ)] is computed against the whole grid (binned
    Poisson likelihood, so the kinematic and rate terms together); p = P(q_toy ≥ q_obs).

    Args:
        likelihood: a binned model.
        events: the weighted simulation (templates and σ).
        grid: the scan points.
        observed_q: (T,) the q(θ) of the scan (e.g. ``result.q``).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        n_toys: toys per point.
        points: indices of the grid points to test (default: all; cost ∝ points × toys × grid).
        rng: random generator or seed.
    """
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    pts, _ = _points(grid, setup, allow_outside)
    lumi = _lumi(luminosity_ifb)
    q_obs = np.asarray(observed_q, dtype=np.float64)
    if q_obs.shape != (len(pts),):
        raise ConfigError(f"observed_q has shape {q_obs.shape}, expected ({len(pts)},)")
    gen = np.random.default_rng(rng)
    if isinstance(likelihood, RateOnly):
        mu = lumi * (factors(pts, comps) @ sample.component_xsec(chunk_size=chunk_size))[:, None]  # (T, 1)
    elif isinstance(likelihood, _HistogramBase):
        sigma_true = float(factors(pts[0], comps) @ sample.event_component_xsec(chunk_size=chunk_size))
        data = AsimovData(sample, factors(pts[0], comps), sigma_true, chunk_size)
        ctx = Context(thetas=pts, components=comps, data=data, simulation=sample, chunk_size=chunk_size)
        log_p, _, _ = likelihood.evaluate(ctx)
        sigma = lumi * (factors(pts, comps) @ sample.component_xsec(chunk_size=chunk_size))
        mu = np.exp(log_p) * sigma[:, None]  # (T, K)
        if not likelihood.include_rate:
            raise ConfigError("toy p-values need the rate term (include_rate=True)")
    else:
        raise ConfigError("toy p-values are implemented for RateOnly, Histogram and ScoreHistogram")
    with np.errstate(divide="ignore"):
        log_mu = np.log(mu)
    idx = range(len(pts)) if points is None else [int(i) for i in points]
    out = np.full(len(pts), np.nan)
    for j in idx:
        n = gen.poisson(mu[j], size=(n_toys, mu.shape[1])).astype(np.float64)  # (toys, K)
        with np.errstate(invalid="ignore"):
            ll = np.where(n[:, None, :] > 0, n[:, None, :] * log_mu[None, :, :], 0.0).sum(-1) - mu.sum(-1)[None]
        q = -2.0 * (ll[:, j] - ll.max(axis=1))
        out[j] = float(np.mean(q >= q_obs[j] - 1e-12))
    return out
