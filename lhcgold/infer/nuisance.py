r"""Nuisance parameters: normalisation and weight-variation systematics, profiled in limits and Fisher information.

Every nuisance ν_j has a unit Gaussian constraint (−½ ν_j² in log L) and changes each event's weight
with MadMiner's nuisance morphing (``madminer-h5-format.md`` §3.6),

.. math::
    w_i(\theta, \nu) = w_i(\theta)\,\exp\Big(\sum_j a_{ij}\,\nu_j + b_{ij}\,\nu_j^2\Big),

* :class:`Normalisation` (log-normal, relative uncertainty δ): a_ij = ln(1 + δ), b_ij = 0, so the
  rate scales by (1 + δ)^ν;
* :class:`WeightVariation` (scale, PDF, any per-event weight ratio r = w_var/w_nominal): one-sided
  a = ln r₊, b = 0; two-sided a = ½ ln(r₊/r₋), b = ½ ln(r₊ r₋), clipped to [−10, 10] (as MadMiner).

:func:`profile_limits` scans a grid for binned likelihoods (:class:`~lhcgold.infer.RateOnly` and
:class:`~lhcgold.infer.Histogram`): expected Poisson counts per bin
μ_k(θ, ν) = L Σ_{i∈k} w_i(θ, ν), Asimov data n_k = μ_k(θ_true, 0), and

.. math:: \log L(\theta,\nu) = \sum_k [n_k \log\mu_k - \mu_k] - \tfrac12|\nu|^2,

maximised over ν at every grid point (profiled) or at ν = 0 (unprofiled). Rates and shapes both come
from the event weights. :func:`profiled_information` gives the Fisher information of the same
binned model in (θ, ν) and its profiled block I_θθ − I_θν I_νν⁻¹ I_νθ, with per-nuisance impacts.

Example:
    >>> from lhcgold import infer                                                 # doctest: +SKIP
    >>> res = profile_limits(infer.RateOnly(), "dy.h5", nuisances=[Normalisation("lumi", 0.05)],  # doctest: +SKIP
    ...                      grid=infer.LimitGrid([(-0.1, 0.1), 0.0], 201), luminosity_ifb=10)
    >>> res.interval(0.68, profiled=True)                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from . import _binning
from ._data import components_of, factor_gradients, factors, resolve_theta
from .fisher import profile_information
from .grid import LimitGrid
from .likelihood import AsimovData, Context, Histogram, RateOnly
from .limits import PB_PER_IFB, _lumi, _points

logger = logging.getLogger(__name__)

__all__ = [
    "Normalisation",
    "NuisanceInformation",
    "ProfileLimitResult",
    "WeightVariation",
    "nuisance_coefficients",
    "nuisances_from_file",
    "profile_limits",
    "profiled_information",
]

_CLIP = 10.0


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
        with np.errstate(divide="ignore", invalid="ignore"):
            if down is None:
                a, b = np.log(up), np.zeros(n)
            else:
                a, b = 0.5 * np.log(up / down), 0.5 * np.log(up * down)
        clean = lambda v: np.clip(np.where(np.isfinite(v), v, 0.0), -_CLIP, _CLIP)  # noqa: E731
        return clean(a), clean(b)


Nuisance = Normalisation | WeightVariation


def nuisances_from_file(path: str | Any) -> list[WeightVariation]:
    """The nuisance parameters stored in an events file (MadMiner layout, e.g. MG5 scale/PDF weights).

    Reads ``nuisance_parameters/*`` and the weight columns of their ±1 benchmarks, divided by the
    reference benchmark's column (``benchmarks/is_reference``, default the first physics benchmark),
    in file order. A file without nuisance parameters gives an empty list.

    Raises:
        EventFileError: the file or its nuisance groups are unreadable or inconsistent.
    """
    import h5py

    from ..exceptions import EventFileError
    from ..io.h5common import decode_strings

    try:
        with h5py.File(path, "r") as f:
            if "nuisance_parameters/names" not in f:
                return []
            names = decode_strings(f["nuisance_parameters/names"])
            pos = decode_strings(f["nuisance_parameters/benchmark_positive"])
            neg = decode_strings(f["nuisance_parameters/benchmark_negative"])
            bench = decode_strings(f["benchmarks/names"])
            is_nuis = f["benchmarks/is_nuisance"][()] if "benchmarks/is_nuisance" in f else np.zeros(len(bench))
            is_ref = f["benchmarks/is_reference"][()] if "benchmarks/is_reference" in f else np.zeros(len(bench))
            ref = int(np.flatnonzero(is_ref)[0]) if np.any(is_ref) else int(np.flatnonzero(is_nuis == 0)[0])
            w = f["samples/weights"]
            missing = [b for b in pos + [n for n in neg if n != "None"] if b not in bench]
            if missing:
                raise EventFileError(f"{path}: nuisance benchmarks {missing} are not in benchmarks/names")
            w_ref = w[:, ref]
            with np.errstate(divide="ignore", invalid="ignore"):
                return [
                    WeightVariation(
                        name, w[:, bench.index(p)] / w_ref, None if n == "None" else w[:, bench.index(n)] / w_ref
                    )
                    for name, p, n in zip(names, pos, neg, strict=True)
                ]
    except (OSError, KeyError, ValueError, IndexError) as exc:
        if isinstance(exc, EventFileError):
            raise
        raise EventFileError(f"cannot read the nuisance parameters of {path}: {exc}") from exc


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
    parts = list(sample.component_chunks(chunk_size=chunk_size))
    if not parts:
        raise ConfigError("the event sample is empty")
    x = np.concatenate([p[0] for p in parts])
    m = np.concatenate([p[1] for p in parts])
    if isinstance(likelihood, RateOnly):
        bins, n_bins = np.zeros(len(x), dtype=np.int64), 1
    elif isinstance(likelihood, Histogram):
        f0 = factors(points[0], comps)
        data = AsimovData(sample, f0, float((m @ f0).sum()), chunk_size)
        ctx = Context(thetas=points, components=comps, data=data, simulation=sample, chunk_size=chunk_size)
        _, _, edges = likelihood.evaluate(ctx)
        likelihood._prepare_summary(sample.observables)
        bins = _binning.bin_indices(likelihood._summary(x), edges)
        n_bins = _binning.n_bins_total(edges)
    else:
        raise ConfigError(
            f"nuisance profiling is implemented for RateOnly and Histogram, not {type(likelihood).__name__}"
        )
    a, b = nuisance_coefficients(nuisances, len(x))
    return _Binned(bins, n_bins, m, a, b, lumi)


def _log_l(
    model: _Binned, n_obs: NDArray[np.float64], f: NDArray[np.float64], nu: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    """log L(θ, ν) and its ν-gradient."""
    mu, d = model.mu_and_grad(f, nu)
    if np.any(mu <= 0):
        return -np.inf, np.zeros_like(nu)
    ll = float(np.sum(n_obs * np.log(mu) - mu) - 0.5 * nu @ nu)
    grad = (n_obs / mu - 1.0) @ d - nu
    return ll, grad


def _profile_nu(
    model: _Binned, n_obs: NDArray[np.float64], f: NDArray[np.float64], start: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64]]:
    if start.size == 0:
        return _log_l(model, n_obs, f, start)[0], start

    def neg(nu: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        ll, g = _log_l(model, n_obs, f, nu)
        return (-ll, -g) if np.isfinite(ll) else (1e300, np.zeros_like(nu))

    res = minimize(neg, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 500})
    return -float(res.fun), np.asarray(res.x)


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
    """

    thetas: NDArray[np.float64]
    nuisance_names: tuple[str, ...]
    log_likelihood_fixed: NDArray[np.float64]
    log_likelihood_profiled: NDArray[np.float64]
    nu_hat: NDArray[np.float64]
    dof: int
    n_observed: float
    asimov_theta: NDArray[np.float64]

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


def profile_limits(
    likelihood: RateOnly | Histogram,
    events: EventsLike,
    *,
    nuisances: Sequence[Nuisance],
    grid: LimitGrid | ArrayLike,
    luminosity_ifb: float = 300.0,
    asimov_theta: ArrayLike | str | None = None,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> ProfileLimitResult:
    """Expected (Asimov) limits with the nuisances profiled and fixed (see the module docstring).

    Args:
        likelihood: ``RateOnly()`` or ``Histogram(...)`` (its binning is reused).
        events: weighted events (rates, shapes and the Asimov data); the ratio arrays of
            :class:`WeightVariation` follow their order.
        nuisances: :class:`Normalisation` / :class:`WeightVariation` objects.
        grid: a :class:`LimitGrid` or points (T, P).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        asimov_theta: θ of the Asimov data (default the origin).
    """
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    points, grid_obj = _points(grid, setup, allow_outside)
    _lumi(luminosity_ifb)
    model = _binned(likelihood, sample, points, comps, nuisances, luminosity_ifb * PB_PER_IFB, chunk_size)
    th_true = resolve_theta(asimov_theta, setup)
    k = model.k
    n_obs = model.mu(factors(th_true, comps), np.zeros(k))
    f_all = factors(points, comps)
    ll_fixed = np.array([_log_l(model, n_obs, f, np.zeros(k))[0] for f in f_all])
    ll_prof = np.empty(len(points))
    nu_hat = np.zeros((len(points), k))
    start = np.zeros(k)
    for t in range(len(points)):  # warm start from the previous (neighbouring) grid point
        ll_prof[t], nu_hat[t] = _profile_nu(model, n_obs, f_all[t], start)
        start = nu_hat[t] if np.all(np.isfinite(nu_hat[t])) else np.zeros(k)
    ll_prof = np.maximum(ll_prof, ll_fixed)  # the profile is never below ν = 0
    dof = len(grid_obj.scanned) if grid_obj is not None else setup.n_parameters
    return ProfileLimitResult(
        points, tuple(nu.name for nu in nuisances), ll_fixed, ll_prof, nu_hat, dof, float(n_obs.sum()), th_true
    )


@dataclass(frozen=True)
class NuisanceInformation:
    """Fisher information of a binned model in (θ, ν), profiled, with per-nuisance impacts.

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
    likelihood: RateOnly | Histogram,
    events: EventsLike,
    *,
    nuisances: Sequence[Nuisance],
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NuisanceInformation:
    """Fisher information I_ab = Σ_k ∂_a μ_k ∂_b μ_k / μ_k (+ δ_ab for ν) at (θ, ν = 0), and its profile."""
    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    th = resolve_theta(theta, setup)
    model = _binned(likelihood, sample, th[None, :], comps, nuisances, luminosity_ifb * PB_PER_IFB, chunk_size)
    k = model.k
    mu, d_nu = model.mu_and_grad(factors(th, comps), np.zeros(k))
    g = factor_gradients(th, comps)  # (P, C)
    d_th = np.stack([model.mu(g[p], np.zeros(k)) for p in range(len(th))], axis=1)  # linear in f
    d = np.concatenate([d_th, d_nu], axis=1)
    ok = mu > 0
    full = (d[ok] / mu[ok, None]).T @ d[ok]
    n_p = len(th)
    full[n_p:, n_p:] += np.eye(k)
    keep = list(range(n_p))
    prof = profile_information(full, keep)
    names = tuple(nu.name for nu in nuisances)
    cov_all = np.diag(np.linalg.pinv(prof))
    impacts = {}
    for j, name in enumerate(names):
        others = [i for i in range(n_p + k) if i != n_p + j]
        sub = full[np.ix_(others, others)]
        cov_wo = np.diag(np.linalg.pinv(profile_information(sub, keep)))
        impacts[name] = np.sqrt(np.clip(cov_all - cov_wo, 0.0, None))
    logger.info("profiled information: %s", {n: v.tolist() for n, v in impacts.items()})
    return NuisanceInformation(full, prof, full[:n_p, :n_p], impacts, tuple(setup.parameter_names), names)
