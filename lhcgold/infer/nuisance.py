r"""Nuisance parameters: normalisation and weight-variation systematics, profiled in limits and Fisher information.

Every nuisance ν_j has a unit Gaussian constraint (−½ ν_j² in log L) and changes each event's weight
with MadMiner's nuisance morphing (``madminer-h5-format.md`` §3.6),

.. math::
    w_i(\theta, \nu) = w_i(\theta)\,\exp\Big(\sum_j a_{ij}\,\nu_j + b_{ij}\,\nu_j^2\Big),

* :class:`Normalisation` (log-normal, relative uncertainty δ): a_ij = ln(1 + δ), b_ij = 0, so the
  rate scales by (1 + δ)^ν;
* :class:`WeightVariation` (scale, PDF, any per-event weight ratio r = w_var/w_nominal): one-sided
  a = ln r₊, b = 0; two-sided a = ½ ln(r₊/r₋), b = ½ ln(r₊ r₋), clipped to [−10, 10] (as MadMiner).

:func:`profile_limits` scans a grid for binned likelihoods (:class:`~lhcgold.infer.RateOnly`,
:class:`~lhcgold.infer.Histogram` and SALLY's :class:`~lhcgold.infer.ScoreHistogram`, whose bins are
the estimated score's): expected Poisson counts per bin
μ_k(θ, ν) = L Σ_{i∈k} w_i(θ, ν), Asimov data n_k = μ_k(θ_true, 0), and

.. math:: \log L(\theta,\nu) = \sum_k [n_k \log\mu_k - \mu_k] - \tfrac12|\nu|^2,

maximised over ν at every grid point (profiled) or at ν = 0 (unprofiled). Rates and shapes both come
from the event weights. Unbinned models (:class:`~lhcgold.infer.NeuralRatio`, :class:`~lhcgold.infer.Truth`)
are profiled with per-event nuisance factors on the nominal p̂(x|θ) (the parametric approach; see
:func:`profile_limits`). :func:`profiled_information` gives the Fisher information of the
same model in (θ, ν) (unbinned models: by finite differences) and its profiled block
I_θθ − I_θν I_νν⁻¹ I_νθ, with per-nuisance impacts; :func:`truth_profiled_information` that of the
parton-level (per-event weight) information of :func:`~lhcgold.infer.truth_information`.

Example:
    >>> from lhcgold import infer                                                 # doctest: +SKIP
    >>> res = profile_limits(infer.RateOnly(), "dy.h5", nuisances=[Normalisation("lumi", 0.05)],  # doctest: +SKIP
    ...                      grid=infer.LimitGrid([(-0.1, 0.1), 0.0], 201), luminosity_ifb=10)
    >>> res.interval(0.68, profiled=True)                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.stats import chi2

from ..exceptions import ConfigError, EventFileError
from ..io.lhe_weights import ratio_coefficients, read_nuisance_groups
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from . import _binning
from ._data import components_of, factor_gradients, factors, model_columns, resolve_theta
from .fisher import profile_information
from .grid import LimitGrid, as_points
from .likelihood import AsimovData, Context, Histogram, NeuralRatio, RateOnly, ScoreHistogram, _HistogramBase
from .limits import PB_PER_IFB, _lumi, _points

logger = logging.getLogger(__name__)

__all__ = [
    "Normalisation",
    "NuisanceInformation",
    "ProfileLimitResult",
    "WeightVariation",
    "interpolated_interval",
    "learned_variations",
    "nuisance_coefficients",
    "nuisances_from_file",
    "profile_limits",
    "profiled_information",
    "sally_profiled_information",
    "truth_profiled_information",
]


@dataclass(frozen=True)
class Normalisation:
    """Log-normal normalisation uncertainty: the rate scales by (1 + uncertainty)^ν."""

    name: str
    uncertainty: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.uncertainty) and self.uncertainty > 0):
            raise ConfigError(f"normalisation {self.name!r}: uncertainty must be > 0, got {self.uncertainty}")

    def coefficients(self, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return np.full(n, np.log1p(self.uncertainty)), np.zeros(n)


@dataclass(frozen=True, eq=False)
class WeightVariation:
    """A systematic given as per-event weight ratios w(ν = ±1)/w(ν = 0), in the events' order.

    Args:
        name: nuisance name.
        up: (N,) ratios at ν = +1.
        down: (N,) ratios at ν = −1 (None: one-sided).
    """

    name: str
    up: NDArray[np.float64]
    down: NDArray[np.float64] | None = None

    def coefficients(self, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        up = np.asarray(self.up, dtype=np.float64).reshape(-1)
        down = None if self.down is None else np.asarray(self.down, dtype=np.float64).reshape(-1)
        if len(up) != n or (down is not None and len(down) != n):
            raise ConfigError(f"variation {self.name!r} has {len(up)} ratios for {n} events")
        return ratio_coefficients(up, down)


Nuisance = Normalisation | WeightVariation


def nuisances_from_file(events: EventsLike, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[WeightVariation]:
    """The nuisance parameters stored in an events file (MadMiner layout, e.g. MG5 scale/PDF weights).

    The weight columns of their ±1 benchmarks divided by the reference benchmark's column
    (``benchmarks/is_reference``, default the first physics benchmark), streamed by the events
    view, in the order of ``events`` (a view or partition: its own events). A one-sided nuisance
    has ``down`` None. A file without nuisance parameters gives an empty list.

    Raises:
        EventFileError: the file or its nuisance groups are unreadable or inconsistent (the events
            reader only warns and ignores them; asked for the nuisances, this is an error).
    """
    import h5py

    view = as_view(events)
    try:
        with h5py.File(view.path, "r") as f:
            groups = read_nuisance_groups(f)
    except (OSError, KeyError, ValueError, EventFileError) as exc:
        raise EventFileError(f"cannot read the nuisance parameters of {view.path}: {exc}") from exc
    if groups is None:
        return []
    layout = view.file.nuisance
    if layout is None:
        raise EventFileError(f"{view.path}: the nuisance benchmarks have no weight columns after the physics ones")
    ups, downs = [], []
    for ch in view.iter_chunks(chunk_size=chunk_size):
        ups.append(ch.nuisance_up)
        downs.append(ch.nuisance_down)
    up = np.concatenate(ups) if ups else np.zeros((0, len(layout.nuisance_parameters)))
    down = np.concatenate(downs) if downs else np.zeros_like(up)
    return [
        WeightVariation(name, up[:, k], None if neg == "None" else down[:, k])
        for k, (name, _, _, neg) in enumerate(layout.nuisance_parameters)
    ]


def learned_variations(
    model: Any, events: EventsLike, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> list[WeightVariation]:
    """The nuisances of a trained :class:`~lhcgold.ml.NuisanceRatioEstimator`, evaluated on ``events``.

    Returns one :class:`WeightVariation` per learned nuisance whose per-event ratios are the learned
    r̂_k±(x_i) = p(x_i|ν_k = ±1)/p(x_i|ν = 0) (functions of the observables only), in the events'
    order: pass them as ``nuisances=`` to :func:`profile_limits` or :func:`profiled_information`
    instead of the stored per-event weight ratios, whose dependence on the latent history makes
    the data look more informative about ν than they are.

    When the events store the same nuisances, the learned shape is calibrated to their rate: each
    r̂_k± is scaled by Σ_i w_i r_ik± / Σ_i w_i r̂_k±(x_i), with w_i the weights at the model's
    reference θ, so that the variation of the total rate is the events' own and only the shape is
    learned.

    Raises:
        ConfigError: the model is not a nuisance ratio estimator, lacks an observable of the events,
            or names other nuisances than the events store.
    """
    names = tuple(getattr(model, "nuisances", ()))
    if not names or not hasattr(model, "ratios"):
        raise ConfigError(f"{type(model).__name__} is not a trained nuisance ratio estimator (method 'nuisance')")
    sample = as_view(events)
    stored = sample.nuisance_names
    if stored and stored != names:
        raise ConfigError(f"the model learned nuisances {names}, the events store {stored}")
    cols = model_columns(model, sample.observables)
    ref = model.theta_ref if model.theta_ref is not None else np.zeros(sample.setup.n_parameters)
    f_ref = factors(np.asarray(ref, dtype=np.float64), components_of(sample.setup))
    ups, downs, sums = [], [], np.zeros((4, len(names)))
    for ch in sample.iter_chunks(chunk_size=chunk_size):
        x = ch.observations
        up, down = model.ratios(x if cols is None else x[:, cols])
        ups.append(up)
        downs.append(down)
        if stored:
            w = ch.m @ f_ref
            sums += np.stack([w @ ch.nuisance_up, w @ ch.nuisance_down, w @ up, w @ down])
    if not ups:
        raise ConfigError("the event sample is empty")
    up_all, down_all = np.concatenate(ups), np.concatenate(downs)
    if stored and np.all(sums[2:] > 0):
        up_all, down_all = up_all * (sums[0] / sums[2]), down_all * (sums[1] / sums[3])
        logger.info("learned nuisance ratios calibrated to the events' rate by %s", (sums[:2] / sums[2:]).tolist())
    return [WeightVariation(n, up_all[:, k], down_all[:, k]) for k, n in enumerate(names)]


def nuisance_coefficients(nuisances: Sequence[Nuisance], n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(a, b) of shape (N, K) for N events and K nuisances."""
    if not nuisances:
        return np.zeros((n, 0)), np.zeros((n, 0))
    names = [nu.name for nu in nuisances]
    if len(set(names)) != len(names):
        raise ConfigError(f"nuisance names must be unique, got {names}")
    pairs = [nu.coefficients(n) for nu in nuisances]
    return np.stack([p[0] for p in pairs], axis=1), np.stack([p[1] for p in pairs], axis=1)


class _Binned:
    """Per-event bins, component weights and nuisance coefficients of a binned likelihood.

    Nuisances with the same a for every event and b = 0 (normalisations) factor out of the event
    sums; only the others need the per-event exponential.
    """

    def __init__(
        self,
        bins: NDArray[np.int64],
        n_bins: int,
        m: NDArray[np.float64],
        a: NDArray[np.float64],
        b: NDArray[np.float64],
        lumi: float,
    ):
        self.bins, self.n_bins, self.m, self.lumi = bins, n_bins, m, lumi
        self.k = a.shape[1]
        self.glob = (
            np.array([bool(np.all(a[:, j] == a[0, j]) and np.all(b[:, j] == 0)) for j in range(self.k)], dtype=bool)
            if len(a)
            else np.ones(self.k, dtype=bool)
        )
        self.kappa = a[0, self.glob] if len(a) else np.zeros(int(self.glob.sum()))
        self.a_loc, self.b_loc = a[:, ~self.glob], b[:, ~self.glob]
        self.s_kc = np.stack([np.bincount(bins, weights=m[:, c], minlength=n_bins) for c in range(m.shape[1])], 1)
        self._f: NDArray[np.float64] | None = None
        self._mf = np.zeros(len(m))

    def _weights(self, f: NDArray[np.float64]) -> NDArray[np.float64]:
        if self._f is None or not np.array_equal(f, self._f):
            self._f, self._mf = f.copy(), self.m @ f
        return self._mf

    def mu_and_grad(
        self, f: NDArray[np.float64], nu: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Expected counts per bin μ_k (K,) and ∂μ_k/∂ν_j (K, J)."""
        g = float(np.exp(self.kappa @ nu[self.glob]))
        d = np.zeros((self.n_bins, self.k))
        if self.a_loc.shape[1] == 0:
            base = self.s_kc @ f
        else:
            nl = nu[~self.glob]
            w = self._weights(f) * np.exp(self.a_loc @ nl + self.b_loc @ (nl * nl))
            base = np.bincount(self.bins, weights=w, minlength=self.n_bins)
            dw = w[:, None] * (self.a_loc + 2.0 * self.b_loc * nl[None, :])
            d[:, ~self.glob] = (
                np.stack(
                    [np.bincount(self.bins, weights=dw[:, j], minlength=self.n_bins) for j in range(dw.shape[1])], 1
                )
                * g
            )
        mu = g * base
        d[:, self.glob] = mu[:, None] * self.kappa[None, :]
        return self.lumi * mu, self.lumi * d

    def mu(self, f: NDArray[np.float64], nu: NDArray[np.float64]) -> NDArray[np.float64]:
        """Expected counts per bin (K,) at factors f (C,) and nuisances ν."""
        return self.mu_and_grad(f, nu)[0]


def _binned(
    likelihood: Any,
    sample: Any,
    points: NDArray[np.float64],
    comps: NDArray[np.int64],
    nuisances: Sequence[Nuisance],
    lumi: float,
    chunk_size: int,
) -> _Binned:
    """The binned model of RateOnly (one bin), Histogram and ScoreHistogram (their own binning)."""
    x, m = _events(sample, chunk_size)
    if isinstance(likelihood, RateOnly):
        bins, n_bins = np.zeros(len(x), dtype=np.int64), 1
    elif isinstance(likelihood, _HistogramBase):
        f0 = factors(points[0], comps)
        data = AsimovData(sample, f0, float((m @ f0).sum()), chunk_size)
        ctx = Context(thetas=points, components=comps, data=data, simulation=sample, chunk_size=chunk_size)
        _, _, edges = likelihood.evaluate(ctx)
        likelihood._prepare_summary(sample.observables)
        bins = np.concatenate(
            [
                _binning.bin_indices(likelihood._summary(x[s : s + chunk_size]), edges)
                for s in range(0, len(x), chunk_size)
            ]
        )
        n_bins = _binning.n_bins_total(edges)
    else:
        raise ConfigError(
            f"binned nuisance profiling is implemented for RateOnly, Histogram and ScoreHistogram, "
            f"not {type(likelihood).__name__}"
        )
    a, b = nuisance_coefficients(nuisances, len(x))
    return _Binned(bins, n_bins, m, a, b, lumi)


def _events(sample: Any, chunk_size: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    parts = list(sample.component_chunks(chunk_size=chunk_size))
    if not parts:
        raise ConfigError("the event sample is empty")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@dataclass(eq=False)
class _Extended:
    """The unbinned (per-event factor) terms: A = Σ ŵ a, B = Σ ŵ b, the ν = 0 kinematic log L per grid
    point, and optionally the model's own normalisation weights u (T, N) with per-event a, b (N, K)."""

    a_lin: NDArray[np.float64]
    b_quad: NDArray[np.float64]
    ll_kin: NDArray[np.float64]
    u: NDArray[np.float64] | None = None
    a: NDArray[np.float64] | None = None
    b: NDArray[np.float64] | None = None

    def log_norm(self, t: int, nu: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        """log Z(θ_t, ν)/Z(θ_t, 0) with Z = Σ_i u_ti g_i(ν), and its ν-gradient."""
        assert self.u is not None and self.a is not None and self.b is not None
        u = self.u[t]
        w = u * np.exp(self.a @ nu + self.b @ (nu * nu))
        z, z0 = float(w.sum()), float(u.sum())
        if not (z > 0 and z0 > 0):
            return np.nan, np.zeros_like(nu)
        return float(np.log(z / z0)), (w @ (self.a + 2.0 * self.b * nu[None, :])) / z


@dataclass(eq=False)
class _Problem:
    r"""log L(θ_t, ν) and its ν-gradient at every grid point.

    Binned (``extended`` None): Σ_k n_k log μ_k(θ, ν) − μ_k(θ, ν) − ½|ν|².
    Unbinned (``extended``), the per-event factor model of :func:`profile_limits`:
    ℓ_kin(θ_t) + n (A·ν + B·ν²) − n log[Z(θ_t, ν)/Z(θ_t, 0)] + n log μ(θ_t, ν) − μ(θ_t, ν) − ½|ν|², μ the
    one-bin total; without the model's own Z, Z(θ, ν) ∝ μ(θ, ν) and the two middle terms are n log μ(θ_t, 0).
    """

    model: _Binned
    f_all: NDArray[np.float64]
    n_obs: NDArray[np.float64]
    extended: _Extended | None = None

    def log_l(self, t: int, nu: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        mu, d = self.model.mu_and_grad(self.f_all[t], nu)
        if self.extended is None:
            ok = mu > 0  # empty bins (no template, no data) add nothing
            if np.any(~ok & (self.n_obs > 0)):
                return -np.inf, np.zeros_like(nu)
            safe = np.where(ok, mu, 1.0)
            ll = float(np.sum(np.where(ok, self.n_obs * np.log(safe), 0.0) - mu) - 0.5 * nu @ nu)
            return ll, (np.where(ok, self.n_obs / safe, 0.0) - 1.0) @ d - nu
        ext = self.extended
        n, mu_t, d_t = float(self.n_obs.sum()), float(mu.sum()), d.sum(axis=0)
        if not (mu_t > 0 and np.isfinite(ext.ll_kin[t])):
            return -np.inf, np.zeros_like(nu)
        ll = ext.ll_kin[t] + n * (ext.a_lin @ nu + ext.b_quad @ (nu * nu)) - mu_t - 0.5 * nu @ nu
        grad = n * (ext.a_lin + 2.0 * ext.b_quad * nu) - d_t - nu
        if ext.u is None:
            mu0 = float(self.model.mu(self.f_all[t], np.zeros_like(nu)).sum())
            ll += n * np.log(mu0)
        else:
            lz, dlz = ext.log_norm(t, nu)
            ll += n * (np.log(mu_t) - lz)
            grad = grad + n * (d_t / mu_t - dlz)
        if not np.isfinite(ll):
            return -np.inf, np.zeros_like(nu)
        return float(ll), grad

    def profile(self, t: int, start: NDArray[np.float64], free: NDArray[np.bool_]) -> tuple[float, NDArray[np.float64]]:
        """max over the free ν (the others at 0) of log L(θ_t, ν), and the maximising ν."""
        nu = np.where(free, start, 0.0)
        if not np.any(free):
            return self.log_l(t, nu)[0], nu

        def neg(v: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            full = np.zeros(len(free))
            full[free] = v
            ll, g = self.log_l(t, full)
            return (-ll, -g[free]) if np.isfinite(ll) else (1e300, np.zeros_like(v))

        res = minimize(
            neg, nu[free], jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 500}
        )
        nu[free] = res.x
        return -float(res.fun), nu

    def scan(self, free: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Profile at every grid point (warm start from the previous point): log L (T,), ν̂ (T, K)."""
        k = len(free)
        ll = np.empty(len(self.f_all))
        nu_hat = np.zeros((len(self.f_all), k))
        start = np.zeros(k)
        for t in range(len(self.f_all)):
            ll[t], nu_hat[t] = self.profile(t, start, free)
            start = nu_hat[t] if np.all(np.isfinite(nu_hat[t])) else np.zeros(k)
        fixed = np.array([self.log_l(t, np.zeros(k))[0] for t in range(len(self.f_all))])
        return np.maximum(ll, fixed), nu_hat  # the profile is never below ν = 0


def _unbinned_problem(
    likelihood: Any,
    sample: Any,
    points: NDArray[np.float64],
    comps: NDArray[np.int64],
    nuisances: Sequence[Nuisance],
    lumi: float,
    th_true: NDArray[np.float64],
    chunk_size: int,
) -> _Problem:
    """Per-event nuisance factors on an unbinned model (NeuralRatio, Truth): see :func:`profile_limits`."""
    if not hasattr(likelihood, "kinematic_log_likelihood"):
        raise ConfigError(f"{likelihood!r} is not a likelihood model (RateOnly, Histogram, ScoreHistogram, ...)")
    if not getattr(likelihood, "include_rate", True):
        raise ConfigError("nuisance profiling of an unbinned model needs its rate term (include_rate=True)")
    x, m = _events(sample, chunk_size)
    a, b = nuisance_coefficients(nuisances, len(x))
    model = _Binned(np.zeros(len(x), dtype=np.int64), 1, m, a, b, lumi)
    f_true = factors(th_true, comps)
    w_true = m @ f_true
    sigma_true = float(w_true.sum())
    if sigma_true <= 0:
        raise ConfigError(f"the events' cross section at the Asimov point {th_true.tolist()} is not positive")
    n_obs = lumi * sigma_true
    data = AsimovData(sample, f_true, sigma_true, chunk_size)
    ctx = Context(thetas=points, components=comps, data=data, simulation=sample, chunk_size=chunk_size)
    ll_kin = n_obs * np.asarray(likelihood.kinematic_log_likelihood(ctx), dtype=np.float64)
    ll_kin = np.where(np.isfinite(ll_kin), ll_kin, -np.inf)
    w_hat = w_true / sigma_true
    ext = _Extended(w_hat @ a, w_hat @ b, ll_kin)
    ref = likelihood.reference_point(comps.shape[1]) if isinstance(likelihood, NeuralRatio) else None
    if ref is not None and likelihood.normalize:
        # the estimator's own density p_ref(x) r̃(x|θ) g(x, ν) is normalised over the reference sample
        ext.u, ext.a, ext.b = _reference_weights(likelihood, x, m, sample, points, comps, ref, chunk_size), a, b
    return _Problem(model, factors(points, comps), np.array([n_obs]), ext)


def _reference_weights(
    likelihood: NeuralRatio,
    x: NDArray[np.float64],
    m: NDArray[np.float64],
    sample: Any,
    points: NDArray[np.float64],
    comps: NDArray[np.int64],
    ref: NDArray[np.float64],
    chunk_size: int,
) -> NDArray[np.float64]:
    """u_ti = w_i(θ_ref) r̃(x_i|θ_t) (T, N), r̃ relative to θ_ref as the calibrated ratio (non-finite: 0)."""
    cols = model_columns(likelihood.ratio_model, sample.observables)
    xx = x if cols is None else x[:, cols]
    ctx = Context(thetas=points, components=comps, data=None, simulation=sample, chunk_size=chunk_size)
    tb = max(1, min(likelihood.theta_batch, len(points)))
    step = max(1, likelihood.max_elements // tb)
    lr = np.concatenate([likelihood._log_ratios(xx[s : s + step], ctx, ref, tb) for s in range(0, len(xx), step)], 1)
    w_ref = m @ factors(ref, comps)
    with np.errstate(over="ignore", invalid="ignore"):
        u = np.where(np.isfinite(lr), w_ref[None, :] * np.exp(lr), 0.0)
    return np.where(np.isfinite(u), u, 0.0)


@dataclass(frozen=True)
class ProfileLimitResult:
    """Grid scan with and without profiling the nuisances.

    Attributes:
        thetas: grid points (T, P).
        nuisance_names: K names.
        log_likelihood_fixed / log_likelihood_profiled: log L at ν = 0 / maximised over ν (T,).
        nu_hat: the profiled ν at every grid point (T, K).
        dof: scanned parameters (Wilks).
        n_observed: Asimov events.
        asimov_theta: θ of the Asimov data.
        parameter_names: names of the P parameters.
        scanned: indices of the scanned parameters (the others fixed on the grid).
        log_likelihood_without: per nuisance, log L profiled over all the *other* nuisances with this
            one fixed at 0 (T,) (``impacts=True``; empty otherwise).
    """

    thetas: NDArray[np.float64]
    nuisance_names: tuple[str, ...]
    log_likelihood_fixed: NDArray[np.float64]
    log_likelihood_profiled: NDArray[np.float64]
    nu_hat: NDArray[np.float64]
    dof: int
    n_observed: float
    asimov_theta: NDArray[np.float64]
    parameter_names: tuple[str, ...] = ()
    scanned: tuple[int, ...] = ()
    log_likelihood_without: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    @property
    def q_fixed(self) -> NDArray[np.float64]:
        return -2.0 * (self.log_likelihood_fixed - self.log_likelihood_fixed.max())

    @property
    def q_profiled(self) -> NDArray[np.float64]:
        return -2.0 * (self.log_likelihood_profiled - self.log_likelihood_profiled.max())

    def p_values(self, *, profiled: bool = True) -> NDArray[np.float64]:
        return chi2.sf(self.q_profiled if profiled else self.q_fixed, self.dof)

    def interval(self, cl: float = 0.68, *, profiled: bool = True, axis: int = 0) -> tuple[float, float]:
        """(lowest, highest) grid value of parameter ``axis`` inside the ``cl`` region."""
        inside = (self.q_profiled if profiled else self.q_fixed) <= chi2.ppf(cl, self.dof)
        vals = self.thetas[inside, axis]
        return float(vals.min()), float(vals.max())

    def half_width(
        self, cl: float = 0.68, *, axis: int = 0, without: str | None = None, profiled: bool = True
    ) -> float:
        """Half-width of the ``cl`` interval of parameter ``axis``, its ends interpolated between grid points.

        The region {q ≤ χ²_dof quantile} is projected on the axis (q minimised over the other
        points with the same value), and the crossings are interpolated linearly. ``without``: the
        scan with that nuisance fixed at 0 (the others profiled).
        """
        if without is not None:
            ll = self.log_likelihood_without[without]
            q = -2.0 * (ll - ll.max())
        else:
            q = self.q_profiled if profiled else self.q_fixed
        lo, hi = interpolated_interval(self.thetas[:, axis], q, float(chi2.ppf(cl, self.dof)))
        return 0.5 * (hi - lo)

    def impacts(self, cl: float = 0.68, *, axis: int = 0) -> dict[str, float]:
        """Per nuisance: sqrt(h²(all profiled) − h²(this one fixed)) with h the interval half-width."""
        h_all = self.half_width(cl, axis=axis)
        return {
            n: float(np.sqrt(max(h_all**2 - self.half_width(cl, axis=axis, without=n) ** 2, 0.0)))
            for n in self.log_likelihood_without
        }


def interpolated_interval(values: ArrayLike, q: ArrayLike, threshold: float) -> tuple[float, float]:
    """(lower, upper) end of {v : min q(v) ≤ threshold}, interpolated linearly between grid values.

    ``values`` (T,) may repeat (a multi-dimensional grid): q is minimised over equal values first.
    An end at the border of the grid stays at the border.
    """
    v = np.asarray(values, dtype=np.float64)
    qq = np.asarray(q, dtype=np.float64)
    axis_vals, inv = np.unique(v, return_inverse=True)
    proj = np.full(len(axis_vals), np.inf)
    np.minimum.at(proj, inv, np.where(np.isnan(qq), np.inf, qq))
    inside = np.flatnonzero(proj <= threshold)
    if inside.size == 0:
        return float("nan"), float("nan")
    i, j = int(inside[0]), int(inside[-1])

    def cross(a: int, b: int) -> float:  # a inside, b outside
        qa, qb = proj[a], proj[b]
        if not np.isfinite(qb):
            return float(axis_vals[a])
        return float(axis_vals[a] + (threshold - qa) / (qb - qa) * (axis_vals[b] - axis_vals[a]))

    lo = cross(i, i - 1) if i > 0 else float(axis_vals[0])
    hi = cross(j, j + 1) if j < len(axis_vals) - 1 else float(axis_vals[-1])
    return lo, hi


def profile_limits(
    likelihood: Any,
    events: EventsLike,
    *,
    nuisances: Sequence[Nuisance],
    grid: LimitGrid | ArrayLike,
    luminosity_ifb: float = 300.0,
    asimov_theta: ArrayLike | str | None = None,
    impacts: bool = False,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ProfileLimitResult:
    r"""Expected (Asimov) limits with the nuisances profiled and fixed (see the module docstring).

    Binned models (``RateOnly``, ``Histogram``, ``ScoreHistogram`` — SALLY's score histogram, its
    bins from the score estimator) use the Poisson counts of their bins. Unbinned models
    (``NeuralRatio``, ``Truth``) use per-event nuisance factors g_i(ν) = exp(Σ_j a_ij ν_j + b_ij ν_j²)
    on top of the nominal model (the parametric approach), as an extended likelihood of the
    Asimov events,

    .. math:: \log L(\theta,\nu) = n \sum_i \hat w_i [\log \hat p(x_i|\theta) + \log g_i(\nu)]
              + n \log \mu(\theta) - \mu(\theta,\nu) - \tfrac12|\nu|^2,
              \quad \mu(\theta,\nu) = L \sum_i w_i(\theta) g_i(\nu),

    with ŵ_i the Asimov weights at θ_true. The factor g_i is the weight ratio of the simulated
    event; it is the ratio of the observable density p(x|θ,ν)/p(x|θ,0) only when the variation
    depends on the observables alone (a normalisation, or a scale variation when x fixes the
    partons' momentum fractions). Otherwise the data look more informative about ν than they are
    and the profiled intervals are slightly too narrow (conservative in neither direction for θ).

    Args:
        likelihood: ``RateOnly()``, ``Histogram(...)``, ``ScoreHistogram(...)`` (binning reused),
            ``NeuralRatio(...)`` or ``Truth(...)``.
        events: weighted events (rates, shapes and the Asimov data); the ratio arrays of
            :class:`WeightVariation` follow their order.
        nuisances: :class:`Normalisation` / :class:`WeightVariation` objects.
        grid: a :class:`LimitGrid` or points (T, P).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        asimov_theta: θ of the Asimov data (default the origin).
        impacts: also scan with each nuisance fixed at 0 in turn (``log_likelihood_without``,
            :meth:`ProfileLimitResult.impacts`); K more scans.
    """
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    points, grid_obj = _points(grid, setup, allow_outside)
    lumi = _lumi(luminosity_ifb)
    th_true = resolve_theta(asimov_theta, setup)
    if isinstance(likelihood, (RateOnly, _HistogramBase)):
        model = _binned(likelihood, sample, points, comps, nuisances, lumi, chunk_size)
        problem = _Problem(model, factors(points, comps), model.mu(factors(th_true, comps), np.zeros(model.k)))
    else:
        problem = _unbinned_problem(likelihood, sample, points, comps, nuisances, lumi, th_true, chunk_size)
    k = problem.model.k
    ll_fixed = np.array([problem.log_l(t, np.zeros(k))[0] for t in range(len(points))])
    ll_prof, nu_hat = problem.scan(np.ones(k, dtype=bool))
    names = tuple(nu.name for nu in nuisances)
    without = {}
    if impacts:
        for j, name in enumerate(names):
            without[name] = problem.scan(np.arange(k) != j)[0]
    scanned = tuple(grid_obj.scanned) if grid_obj is not None else tuple(range(setup.n_parameters))
    return ProfileLimitResult(
        points,
        names,
        ll_fixed,
        ll_prof,
        nu_hat,
        len(scanned),
        float(problem.n_obs.sum()),
        th_true,
        tuple(setup.parameter_names),
        scanned,
        without,
    )


@dataclass(frozen=True)
class NuisanceInformation:
    """Fisher information of a likelihood model in (θ, ν), profiled, with per-nuisance impacts.

    Attributes:
        full: (P+K, P+K) information including the unit constraints of ν.
        profiled: (P, P) information on θ with ν profiled: I_θθ − I_θν I_νν⁻¹ I_νθ.
        fixed: (P, P) information on θ with ν fixed (I_θθ).
        impacts: per nuisance, (P,) the quadrature increase of the θ uncertainties it causes:
            sqrt(σ²(all profiled) − σ²(all but this one profiled)).
        parameter_names / nuisance_names: labels.
    """

    full: NDArray[np.float64]
    profiled: NDArray[np.float64]
    fixed: NDArray[np.float64]
    impacts: dict[str, NDArray[np.float64]]
    parameter_names: tuple[str, ...]
    nuisance_names: tuple[str, ...]


def profiled_information(
    likelihood: RateOnly | Histogram | ScoreHistogram | NeuralRatio | Any,
    events: EventsLike,
    *,
    nuisances: Sequence[Nuisance],
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    grid: LimitGrid | ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NuisanceInformation:
    """Fisher information I_ab = Σ_k ∂_a μ_k ∂_b μ_k / μ_k (+ δ_ab for ν) at (θ, ν = 0), and its profile.

    Binned models as above; unbinned models (``NeuralRatio``, ``Truth``): minus the Hessian of the
    Asimov log-likelihood of :func:`profile_limits` at (θ, 0), by central differences in θ (steps of
    10⁻³ of each parameter's range) and in ν (the ν-gradient is exact).

    Args:
        grid: the scan's grid, so that adaptive bins (``binning="grid"``) are those of
            :func:`profile_limits` on it (default: bins adapted at θ alone).
    """
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    th = resolve_theta(theta, setup)
    n_p = len(th)
    if isinstance(likelihood, (RateOnly, _HistogramBase)):
        pts = th[None, :] if grid is None else as_points(grid, setup.n_parameters)[0]  # they set adaptive bins
        model = _binned(likelihood, sample, pts, comps, nuisances, luminosity_ifb * PB_PER_IFB, chunk_size)
        k = model.k
        mu, d_nu = model.mu_and_grad(factors(th, comps), np.zeros(k))
        g = factor_gradients(th, comps)  # (P, C)
        d_th = np.stack([model.mu(g[p], np.zeros(k)) for p in range(len(th))], axis=1)  # linear in f
        d = np.concatenate([d_th, d_nu], axis=1)
        ok = mu > 0
        full = (d[ok] / mu[ok, None]).T @ d[ok]
        full[n_p:, n_p:] += np.eye(k)
    else:
        full = _unbinned_information(likelihood, sample, th, comps, nuisances, luminosity_ifb, chunk_size)
        k = full.shape[0] - n_p
    return _with_impacts(full, n_p, tuple(nu.name for nu in nuisances), tuple(setup.parameter_names))


def _with_impacts(
    full: NDArray[np.float64], n_p: int, names: tuple[str, ...], parameter_names: tuple[str, ...]
) -> NuisanceInformation:
    """The profiled block of the (θ, ν) information ``full`` and each nuisance's impact."""
    keep = list(range(n_p))
    prof = profile_information(full, keep)
    cov_all = np.diag(np.linalg.pinv(prof))
    impacts = {}
    for j, name in enumerate(names):
        others = [i for i in range(len(full)) if i != n_p + j]
        sub = full[np.ix_(others, others)]
        cov_wo = np.diag(np.linalg.pinv(profile_information(sub, keep)))
        impacts[name] = np.sqrt(np.clip(cov_all - cov_wo, 0.0, None))
    logger.info("profiled information: %s", {n: v.tolist() for n, v in impacts.items()})
    return NuisanceInformation(full, prof, full[:n_p, :n_p], impacts, parameter_names, names)


def truth_profiled_information(
    events: EventsLike,
    *,
    nuisances: Sequence[Nuisance],
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = False,
) -> NuisanceInformation:
    r"""The parton-level information of :func:`~lhcgold.infer.truth_information` in (θ, ν), profiled.

    Every event is its own bin: with the weights w_i(θ, ν) of the module docstring,

    .. math:: I_{ab} = L \sum_i \partial_a w_i\, \partial_b w_i / w_i \;(+\,\delta_{ab}\text{ for } \nu),
              \qquad \partial_{\nu_j} w_i = a_{ij} w_i \text{ at } \nu = 0,

    so its θθ block (``fixed``) is :func:`~lhcgold.infer.truth_information`'s matrix. Events with
    w_i(θ) ≤ 0 are skipped, as there. The ratio arrays of :class:`WeightVariation` follow the order
    of ``events`` (a partition: its own events).

    Example:
        >>> info = truth_profiled_information("dy.h5", nuisances=[Normalisation("lumi", 0.05)])  # doctest: +SKIP
        >>> info.profiled, info.impacts["lumi"]                                                 # doctest: +SKIP
    """
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    th = resolve_theta(theta, setup)
    lumi = _lumi(luminosity_ifb)
    f, df = factors(th, comps), factor_gradients(th, comps)
    a, _ = nuisance_coefficients(nuisances, sample.n_events)
    n_p, k = len(th), a.shape[1]
    full = np.zeros((n_p + k, n_p + k))
    pos = 0
    for _, m in sample.component_chunks(chunk_size=chunk_size, progress=progress):
        w = m @ f
        d = np.concatenate([m @ df.T, w[:, None] * a[pos : pos + len(m)]], axis=1)  # (n, P + K)
        pos += len(m)
        ok = w > 0
        full += (d[ok] / w[ok, None]).T @ d[ok]
    if pos == 0:
        raise ConfigError("the event sample is empty")
    full = lumi * full
    full[n_p:, n_p:] += np.eye(k)
    return _with_impacts(full, n_p, tuple(nu.name for nu in nuisances), tuple(setup.parameter_names))


def sally_profiled_information(
    events: EventsLike,
    score_model: Any,
    *,
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    normalisations: Sequence[Normalisation] = (),
    systematics: bool = True,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NuisanceInformation:
    r"""Fisher information of a SALLY over (θ, ν), profiled: the estimated score t̂(x) = (t̂_θ, t̂_ν).

    The score model is trained on :meth:`~lhcgold.io.samples.TrainingSet.with_nuisance_score`
    samples, so its parameters are the events' parameters followed by the nuisances they store.
    With w_i the weights at θ,

    .. math:: I = L \sum_i w_i\, \hat t_i \hat t_i^T + L\, \nabla\sigma \nabla\sigma^T/\sigma
              + \mathrm{diag}(0, 1),

    where ∂σ/∂ν_k = Σ_i w_i a_ik comes from the stored nuisance ratios (MadMiner's morphing) and
    the unit matrix is the constraint of every ν. A :class:`Normalisation` adds a nuisance with no
    shape (t_ν = 0) and ∂σ/∂ν = σ ln(1 + δ). With ``systematics=False`` the stored nuisances are
    left out (fixed) and only the model's θ components are used, so that a plain SALLY can profile
    normalisations.

    Raises:
        ConfigError: the model's parameters are not the events' parameters and nuisances.
    """
    sample = as_view(events)
    setup = sample.setup
    names = sample.nuisance_names if systematics else ()
    expected = tuple(setup.parameter_names) + names
    got = tuple(getattr(score_model, "parameters", ()))
    if got[: len(expected)] != expected or (systematics and len(got) != len(expected)):
        raise ConfigError(
            f"the score model estimates {got or 'unnamed components'}, not {expected}: train SALLY on "
            "sample_local(..., nuisances=True).with_nuisance_score() of these events"
        )
    lumi = _lumi(luminosity_ifb)
    comps = components_of(setup)
    th = resolve_theta(theta, setup)
    f, g_th = factors(th, comps), factor_gradients(th, comps)
    cols = model_columns(score_model, sample.observables)
    n_p, n_s = len(th), len(expected)
    shape, grad, sigma = np.zeros((n_s, n_s)), np.zeros(n_s), 0.0
    for ch in sample.iter_chunks(chunk_size=chunk_size):
        x = ch.observations if cols is None else ch.observations[:, cols]
        t = np.asarray(score_model.score(x), dtype=np.float64)[:, :n_s]
        if t.shape != (len(x), n_s) or not np.all(np.isfinite(t)):
            raise ConfigError(f"the score model gave shape {t.shape} or non-finite values for {len(x)} events")
        w = ch.m @ f
        shape += (t * w[:, None]).T @ t
        a = ratio_coefficients(ch.nuisance_up, ch.nuisance_down)[0] if names else np.zeros((len(x), 0))
        grad += np.concatenate([ch.m @ g_th.T, w[:, None] * a], axis=1).sum(axis=0)
        sigma += float(w.sum())
    if sigma <= 0:
        raise ConfigError(f"the cross section at theta={th.tolist()} is not positive")
    k_n = len(normalisations)
    full = np.zeros((n_s + k_n, n_s + k_n))
    full[:n_s, :n_s] = lumi * shape
    grad_all = np.concatenate([grad, sigma * np.array([np.log1p(n.uncertainty) for n in normalisations])])
    full += lumi * np.outer(grad_all, grad_all) / sigma
    full[n_p:, n_p:] += np.eye(n_s + k_n - n_p)
    return _with_impacts(
        0.5 * (full + full.T), n_p, names + tuple(n.name for n in normalisations), tuple(setup.parameter_names)
    )


def _unbinned_information(
    likelihood: Any,
    sample: Any,
    th: NDArray[np.float64],
    comps: NDArray[np.int64],
    nuisances: Sequence[Nuisance],
    luminosity_ifb: float,
    chunk_size: int,
) -> NDArray[np.float64]:
    """−∂²log L over (θ, ν) at (θ, 0) of the per-event factor model, Asimov data at θ."""
    n_p = len(th)
    h = 1e-3 * np.array([hi - lo for lo, hi in sample.setup.ranges], dtype=np.float64)
    shifts = [np.zeros(n_p)]
    for a in range(n_p):
        shifts += [h[a] * e for e in (np.eye(n_p)[a], -np.eye(n_p)[a])]
    for a in range(n_p):
        for b in range(a + 1, n_p):
            shifts += [h[a] * sa * np.eye(n_p)[a] + h[b] * sb * np.eye(n_p)[b] for sa in (1, -1) for sb in (1, -1)]
    points = th[None, :] + np.array(shifts)
    lumi = luminosity_ifb * PB_PER_IFB
    problem = _unbinned_problem(likelihood, sample, points, comps, nuisances, lumi, th, chunk_size)
    k = problem.model.k
    zero = np.zeros(k)
    vals = [problem.log_l(t, zero) for t in range(len(points))]
    ll = np.array([v[0] for v in vals])
    grad = np.array([v[1] for v in vals])  # exact ν-gradients (T, K)
    if not np.all(np.isfinite(ll)):
        raise ConfigError(f"the log-likelihood is not finite around theta {th.tolist()}")
    hess = np.zeros((n_p + k, n_p + k))
    for a in range(n_p):
        hess[a, a] = (ll[1 + 2 * a] - 2 * ll[0] + ll[2 + 2 * a]) / h[a] ** 2
        hess[a, n_p:] = hess[n_p:, a] = (grad[1 + 2 * a] - grad[2 + 2 * a]) / (2 * h[a])
    i = 1 + 2 * n_p
    for a in range(n_p):
        for b in range(a + 1, n_p):
            pp, pm, mp, mm = ll[i : i + 4]
            hess[a, b] = hess[b, a] = (pp - pm - mp + mm) / (4 * h[a] * h[b])
            i += 4
    eps = 1e-4
    for j in range(k):
        e = np.zeros(k)
        e[j] = eps
        hess[n_p:, n_p + j] = (problem.log_l(0, e)[1] - problem.log_l(0, -e)[1]) / (2 * eps)
    hess[n_p:, n_p:] = 0.5 * (hess[n_p:, n_p:] + hess[n_p:, n_p:].T)
    return -hess
