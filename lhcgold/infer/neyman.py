r"""Toy-based (Neyman) confidence intervals and their coverage, for every likelihood model.

Toys are pseudo-experiments drawn from the weighted simulation at a grid point θ_j: a number of
events n ~ Pois(L σ(θ_j)), and n events resampled (with replacement) with probabilities
∝ w_i(θ_j), the events' weights morphed to θ_j. Each toy is scored with the likelihood model on
the whole grid,

.. math::
    \log L(\theta) = \sum_{i \in \rm toy} \log \hat p(x_i|\theta) + \log \mathrm{Pois}(n \mid L\,\sigma(\theta)),
    \qquad q(\theta) = -2\,[\log L(\theta) - \max_{\theta'} \log L(\theta')],

(the maximum over the grid points; the rate term only when the model includes it), exactly as
:func:`~lhcgold.infer.observed_limits` scores observed events. The per-event terms
log p̂(x_i|θ) are computed once for every simulated event and grid point, so a toy costs a sum.

* :func:`neyman_belt`: the distribution of q(θ_j) under θ_j at chosen grid points and its
  ``cl`` quantile, the critical value c_j; the Neyman interval of data with statistic q_obs is
  {θ_j : q_obs(θ_j) ≤ c_j} (:meth:`NeymanBelt.interval`).
* :func:`coverage`: the fraction of toys drawn at θ_true whose interval contains θ_true, with
  its binomial error, for the asymptotic (Wilks, q ≤ χ²_dof quantile) intervals and for the
  Neyman intervals (critical value from an independent toy set). With ``nuisances=`` (binned
  models), the coverage of the profiled intervals: Poisson counts per bin and auxiliary
  measurements of the nuisances, scored with the profile likelihood ratio
  (:mod:`lhcgold.infer.profiled_toys`).

Because q is maximised over the grid points, q(θ_true) = 0 exactly whenever a toy's best grid
point is θ_true; on a grid coarse against the resolution that atom reaches ``cl``, the toy critical
value is 0 and the coverage is the atom, conservative (:attr:`CoverageResult.grid_limited`).
Few events make q discrete in the same way. Both are the honest behaviour of a Neyman
construction with a discrete statistic, not errors; a finer grid removes the first.

Toys reuse the simulated events, so they describe the simulation's own distribution; the
effective number of events at θ_j should be much larger than a toy's n. Memory: one float per
grid point and simulated event.

Example:
    >>> from lhcgold import infer                                                 # doctest: +SKIP
    >>> cov = infer.coverage(infer.Histogram(["m_ll"], bins=10), "dy.h5", theta_true="sm",  # doctest: +SKIP
    ...                      grid=infer.LimitGrid([(-0.1, 0.1), 0.0], 101), luminosity_ifb=10, n_toys=500)
    >>> cov.wilks, cov.wilks_error                                               # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from . import _binning
from ._data import column_indices, components_of, factors, model_columns, resolve_theta
from .grid import LimitGrid, grid_index
from .likelihood import AsimovData, Context, NeuralRatio, RateOnly, Truth, _HistogramBase
from .limits import PB_PER_IFB, _lumi, _points, poisson_log_pmf
from .nuisance import Nuisance
from .profiled_toys import ProfiledToys

logger = logging.getLogger(__name__)

_TOY_BATCH_ELEMENTS = 4_000_000  # toys scored together: their event counts fill (N, batch) ≲ 32 MB

__all__ = ["CoverageResult", "NeymanBelt", "ToyEnsemble", "coverage", "neyman_belt"]


@dataclass(eq=False)
class ToyEnsemble:
    """Everything needed to draw toys and score them on a grid (built by :meth:`build`).

    Attributes:
        thetas: grid points (T, P).
        table: per-event kinematic log-likelihood terms log p̂(x_i|θ_t) (T, N).
        m: per-event component weights (N, C) (resampling probabilities at θ_t: m @ f[t]).
        f: morphing factors of the grid points (T, C).
        mu: expected number of events L σ(θ_t) (T,).
        include_rate: add the Poisson rate term.
        dof: scanned parameters (for the Wilks critical value).
        label: the likelihood model's label.
    """

    thetas: NDArray[np.float64]
    table: NDArray[np.float64]
    m: NDArray[np.float64]
    f: NDArray[np.float64]
    mu: NDArray[np.float64]
    include_rate: bool
    dof: int
    label: str
    _cdf: dict[int, NDArray[np.float64]] = field(default_factory=dict)
    _finite: tuple[NDArray[np.float64], NDArray[np.int64]] | None = None

    @classmethod
    def build(
        cls,
        likelihood: Any,
        events: EventsLike,
        *,
        grid: LimitGrid | ArrayLike,
        luminosity_ifb: float,
        allow_outside: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> ToyEnsemble:
        """Per-event log-likelihood table of the simulated events on the grid."""
        sample = as_view(events)
        setup = sample.setup
        comps = components_of(setup)
        points, grid_obj = _points(grid, setup, allow_outside)
        _lumi(luminosity_ifb)
        parts = list(sample.component_chunks(chunk_size=chunk_size))
        if not parts:
            raise ConfigError("the event sample is empty")
        x = np.concatenate([p[0] for p in parts])
        m = np.concatenate([p[1] for p in parts])
        f = factors(points, comps)
        table = _per_event_table(likelihood, x, m, sample, points, comps, chunk_size)
        mu = luminosity_ifb * PB_PER_IFB * (f @ sample.component_xsec(chunk_size=chunk_size))
        if np.any(mu <= 0):
            raise ConfigError("the cross section is not positive at some grid point")
        dof = len(grid_obj.scanned) if grid_obj is not None else setup.n_parameters
        return cls(
            points,
            table,
            m,
            f,
            mu,
            bool(getattr(likelihood, "include_rate", True)),
            dof,
            str(getattr(likelihood, "label", type(likelihood).__name__)),
        )

    def index_of(self, theta: NDArray[np.float64]) -> int:
        """Index of the grid point equal to ``theta`` (ConfigError if it is not on the grid)."""
        return grid_index(self.thetas, theta)

    def _cdf_at(self, j: int) -> NDArray[np.float64]:
        if j not in self._cdf:
            w = self.m @ self.f[j]
            if np.any(w < -1e-12 * np.abs(w).max()):
                raise ConfigError(
                    f"{int((w < 0).sum())} events have negative weight at theta "
                    f"{self.thetas[j].tolist()}; toys need non-negative weights"
                )
            c = np.cumsum(np.clip(w, 0.0, None))
            self._cdf[j] = c / c[-1]
        return self._cdf[j]

    def log_likelihoods(self, j: int, n_toys: int, gen: np.random.Generator) -> NDArray[np.float64]:
        """log L(θ_t) on the whole grid for ``n_toys`` toys drawn at grid point j: (n_toys, T)."""
        cdf = self._cdf_at(j)
        ns = gen.poisson(self.mu[j], size=n_toys)
        out = np.empty((n_toys, len(self.thetas)))
        n_sim = self.table.shape[1]
        batch = max(1, min(n_toys, _TOY_BATCH_ELEMENTS // max(n_sim, 1)))
        for s in range(0, n_toys, batch):
            counts = np.empty((n_sim, min(batch, n_toys - s)))
            for k in range(counts.shape[1]):
                idx = np.minimum(np.searchsorted(cdf, gen.random(int(ns[s + k])), side="right"), n_sim - 1)
                counts[:, k] = np.bincount(idx, minlength=n_sim)
            out[s : s + counts.shape[1]] = self._sum_table(counts).T
        if self.include_rate:
            out += np.stack([poisson_log_pmf(float(n), self.mu) for n in ns])
        return out

    def _sum_table(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        """Σ_i counts_ik log p̂(x_i|θ_t) (T, K): a product over the finite columns, non-finite ones summed apart."""
        if self._finite is None:
            ok = np.isfinite(self.table).all(axis=0)
            self._finite = (self.table if ok.all() else np.where(ok[None, :], self.table, 0.0), np.flatnonzero(~ok))
        finite_table, bad = self._finite
        out = finite_table @ counts
        for k in range(counts.shape[1]) if len(bad) else ():
            hit = bad[counts[bad, k] > 0]
            if len(hit):  # −inf (or NaN) terms of drawn events enter as a plain sum, as one event at a time would
                out[:, k] += (self.table[:, hit] * counts[hit, k]).sum(axis=1)
        return out

    def q_at(self, j: int, n_toys: int, gen: np.random.Generator) -> NDArray[np.float64]:
        """q(θ_j) of ``n_toys`` toys drawn at θ_j (n_toys,)."""
        ll = self.log_likelihoods(j, n_toys, gen)
        return -2.0 * (ll[:, j] - ll.max(axis=1))


def _per_event_table(
    likelihood: Any,
    x: NDArray[np.float64],
    m: NDArray[np.float64],
    sample: Any,
    points: NDArray[np.float64],
    comps: NDArray[np.int64],
    chunk_size: int,
) -> NDArray[np.float64]:
    """log p̂(x_i|θ_t) (T, N) up to θ-independent constants, as the model scores events."""
    names = sample.observables
    if isinstance(likelihood, RateOnly):
        return np.zeros((len(points), len(x)))
    if isinstance(likelihood, Truth):
        cols = None if not likelihood.observables else column_indices(likelihood.observables, names)
        fn = getattr(likelihood.process, "truth_components", None)
        fn = fn if callable(fn) else likelihood.process.components
        f = factors(points, comps)
        sigma = f @ likelihood.sigma_components()
        out = np.empty((len(points), len(x)))
        for s in range(0, len(x), chunk_size):
            xx = x[s : s + chunk_size]
            pc = np.asarray(fn(xx if cols is None else xx[:, cols]), dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[:, s : s + chunk_size] = np.log(f @ pc.T) - np.log(sigma)[:, None]
        return out
    if isinstance(likelihood, NeuralRatio):
        cols = model_columns(likelihood.ratio_model, names)
        xx = x if cols is None else x[:, cols]
        tb = max(1, min(likelihood.theta_batch, len(points)))
        return np.concatenate(
            [
                np.asarray(likelihood._evaluate(xx, points[s : s + tb]), dtype=np.float64)
                for s in range(0, len(points), tb)
            ]
        )
    if isinstance(likelihood, _HistogramBase):
        f0 = factors(points[0], comps)
        w0 = m @ f0
        data = AsimovData(sample, f0, float(w0.sum()), chunk_size)
        ctx = Context(thetas=points, components=comps, data=data, simulation=sample, chunk_size=chunk_size)
        log_p, _, edges = likelihood.evaluate(ctx)
        likelihood._prepare_summary(names)
        idx = np.concatenate(
            [
                _binning.bin_indices(likelihood._summary(x[s : s + chunk_size]), edges)
                for s in range(0, len(x), chunk_size)
            ]
        )
        return log_p[:, idx]  # type: ignore[no-any-return]
    raise ConfigError(
        f"toys are implemented for RateOnly, Histogram, ScoreHistogram, NeuralRatio and Truth, "
        f"not {type(likelihood).__name__}"
    )


@dataclass(frozen=True)
class NeymanBelt:
    """Toy critical values of q(θ) at grid points.

    Attributes:
        thetas: grid points (T, P).
        cl: confidence level.
        critical_values: toy ``cl`` quantile of q(θ_j) under θ_j (T,) (NaN where not computed).
        wilks_critical: the asymptotic critical value χ²_dof quantile.
        dof: scanned parameters.
        n_toys: toys per point.
        label: likelihood model.
    """

    thetas: NDArray[np.float64]
    cl: float
    critical_values: NDArray[np.float64]
    wilks_critical: float
    dof: int
    n_toys: int
    label: str

    def interval(self, q_observed: ArrayLike) -> NDArray[np.bool_]:
        """Grid points inside the Neyman interval of data with statistic ``q_observed`` (T,)."""
        q = np.asarray(q_observed, dtype=np.float64)
        if q.shape != self.critical_values.shape:
            raise ConfigError(f"q_observed has shape {q.shape}, expected {self.critical_values.shape}")
        if np.any(np.isnan(self.critical_values)):
            raise ConfigError("the belt has critical values at only some grid points; build it with points=None")
        return q <= self.critical_values


def _check_cl(cl: float, n_toys: int) -> None:
    if not 0 < cl < 1:
        raise ConfigError(f"cl must lie in (0, 1), got {cl}")
    if int(n_toys) < 10:
        raise ConfigError(f"n_toys must be >= 10, got {n_toys}")


def neyman_belt(
    likelihood: Any,
    events: EventsLike,
    *,
    grid: LimitGrid | ArrayLike,
    luminosity_ifb: float = 300.0,
    cl: float = 0.68,
    n_toys: int = 1000,
    points: Any = None,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    rng: np.random.Generator | int | None = None,
    ensemble: ToyEnsemble | None = None,
) -> NeymanBelt:
    """Toy critical values of q at the grid points (all, or the indices in ``points``).

    Args:
        likelihood: any likelihood model (RateOnly, Histogram, ScoreHistogram, NeuralRatio, Truth).
        events: the weighted simulation (toys are resampled from it).
        grid: the scan points; the maximum of log L is taken over them.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        cl: confidence level.
        n_toys: toys per grid point.
        points: grid-point indices to compute (default: all; the cost grows with points × toys × grid).
        rng: random generator or seed.
        ensemble: a prebuilt :class:`ToyEnsemble` (skips the per-event table).
    """
    _check_cl(cl, n_toys)
    gen = np.random.default_rng(rng)
    ens = ensemble or ToyEnsemble.build(
        likelihood, events, grid=grid, luminosity_ifb=luminosity_ifb, allow_outside=allow_outside, chunk_size=chunk_size
    )
    crit = np.full(len(ens.thetas), np.nan)
    for j in range(len(ens.thetas)) if points is None else [int(i) for i in points]:
        crit[j] = float(np.quantile(ens.q_at(j, int(n_toys), gen), cl))
    return NeymanBelt(ens.thetas, float(cl), crit, float(chi2.ppf(cl, ens.dof)), ens.dof, int(n_toys), ens.label)


_METHOD = (
    "toys: n ~ Poisson(L sigma(theta_true)) events resampled from the weighted simulation "
    "at theta_true; interval = grid points with q <= critical value"
)
_PROFILED_METHOD = (
    "toys: Poisson counts per bin at (theta_true, nu = 0) and auxiliary measurements nu_aux ~ N(0, 1); "
    "q = profile likelihood ratio (nu maximised at every grid point, constraint -|nu - nu_aux|^2/2); "
    "interval = grid points with q <= critical value; Neyman critical value from independent toys at "
    "(theta_true, nu_hat = 0)"
)


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of intervals at θ_true.

    Attributes:
        theta_true: the tested point (P,).
        cl: nominal confidence level.
        n_toys: toys in the coverage test.
        wilks: fraction of toys with q(θ_true) ≤ χ²_dof quantile (asymptotic intervals).
        neyman: fraction of toys with q(θ_true) ≤ the toy critical value (Neyman intervals).
        wilks_critical / neyman_critical: the two critical values.
        n_toys_belt: toys behind the Neyman critical value (independent of the coverage toys).
        q_true: q(θ_true) of every coverage toy (n_toys,).
        label: likelihood model.
        nuisance_names: the profiled nuisances (None: no nuisances, toys resampled from the events);
            a tuple: binned Poisson toys with auxiliary measurements, q the profile likelihood ratio
            (:mod:`lhcgold.infer.profiled_toys`).

    q is maximised over the grid points, so q(θ_true) = 0 exactly for every toy whose best grid
    point is θ_true: an atom of probability :attr:`best_fit_at_truth`. Where it reaches ``cl``
    (a grid coarse against the resolution) the toy critical value is 0, the Neyman interval is the
    best-fit grid point alone and its coverage is that atom, above ``cl`` (conservative, not wrong;
    no interval built from q can cover less). :attr:`grid_limited` flags it; a finer grid around
    θ_true restores the nominal coverage.
    """

    theta_true: NDArray[np.float64]
    cl: float
    n_toys: int
    wilks: float
    neyman: float
    wilks_critical: float
    neyman_critical: float
    n_toys_belt: int
    q_true: NDArray[np.float64]
    label: str
    nuisance_names: tuple[str, ...] | None = None

    @property
    def profiled(self) -> bool:
        """True when the nuisances were profiled (:attr:`nuisance_names` given)."""
        return self.nuisance_names is not None

    @property
    def best_fit_at_truth(self) -> float:
        """Fraction of the coverage toys whose best grid point is θ_true (q(θ_true) = 0)."""
        return float(np.mean(self.q_true <= 0.0))

    @property
    def grid_limited(self) -> bool:
        """True when the toy critical value is 0: the interval is the best grid point alone (see the class)."""
        return bool(self.neyman_critical <= 0.0)

    @property
    def wilks_error(self) -> float:
        """Binomial standard error of :attr:`wilks`."""
        return float(np.sqrt(max(self.wilks * (1 - self.wilks), 1e-300) / self.n_toys))

    @property
    def neyman_error(self) -> float:
        """Binomial standard error of :attr:`neyman`."""
        return float(np.sqrt(max(self.neyman * (1 - self.neyman), 1e-300) / self.n_toys))

    @property
    def expected_error(self) -> float:
        """Binomial standard error of a fraction ``cl`` over ``n_toys`` (the spread of exact coverage)."""
        return float(np.sqrt(self.cl * (1 - self.cl) / self.n_toys))

    def to_dict(self) -> dict[str, Any]:
        """The coverage as plain numbers (``coverage`` of a saved :class:`~lhcgold.infer.LimitResult`)."""
        out: dict[str, Any] = {
            "likelihood": self.label,
            "theta_true": self.theta_true.tolist(),
            "cl": self.cl,
            "n_toys": self.n_toys,
            "method": _PROFILED_METHOD if self.profiled else _METHOD,
            "wilks": {"coverage": self.wilks, "error": self.wilks_error, "critical_value": self.wilks_critical},
            "neyman": {
                "coverage": self.neyman,
                "error": self.neyman_error,
                "critical_value": self.neyman_critical,
                "n_toys_belt": self.n_toys_belt,
                "grid_limited": self.grid_limited,
            },
            "best_fit_at_truth": self.best_fit_at_truth,
            "nominal_error": self.expected_error,
        }
        if self.profiled:
            out["nuisances"] = list(self.nuisance_names or ())
        return out

    @property
    def description(self) -> str:
        """The likelihood label, with the profiled nuisances if any."""
        if not self.profiled:
            return self.label
        return (
            f"{self.label}, profiled over {len(self.nuisance_names or ())} nuisances {list(self.nuisance_names or ())}"
        )

    def summary(self) -> str:
        """One line: both coverages with their errors and critical values, and the toys' best-fit atom."""
        return (
            f"{self.description}: coverage of {100 * self.cl:.0f}% intervals at {self.theta_true.tolist()} from "
            f"{self.n_toys} toys: Wilks {self.wilks:.3f} ± {self.wilks_error:.3f} "
            f"(q ≤ {self.wilks_critical:.3f}), Neyman {self.neyman:.3f} ± {self.neyman_error:.3f} "
            f"(q ≤ {self.neyman_critical:.3f} from {self.n_toys_belt} toys); best fit on θ_true in "
            f"{self.best_fit_at_truth:.3f} of toys"
        )

    def grid_warning(self) -> str | None:
        """A sentence explaining grid-limited (conservative) coverage, or None."""
        if not self.grid_limited:
            return None
        return (
            f"the grid is too coarse for toy intervals at {self.theta_true.tolist()}: at least {self.cl:g} of the "
            f"belt toys ({self.best_fit_at_truth:.3f} of the coverage toys) have their best grid point on θ_true, "
            "so the Neyman critical value is 0, the interval is that single grid point and its coverage is the "
            "fraction of toys fitted there, conservative rather than nominal (Wilks over-covers too); refine the "
            "grid around θ_true (spacing well below the interval's half-width) for nominal coverage"
        )


def coverage(
    likelihood: Any,
    events: EventsLike | None,
    *,
    grid: LimitGrid | ArrayLike,
    theta_true: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    cl: float = 0.68,
    n_toys: int = 500,
    n_toys_belt: int = 1000,
    allow_outside: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    rng: np.random.Generator | int | None = None,
    ensemble: ToyEnsemble | ProfiledToys | None = None,
    nuisances: Sequence[Nuisance] | None = None,
) -> CoverageResult:
    """Coverage at θ_true (a grid point; default the origin) of Wilks and Neyman intervals.

    Arguments as :func:`neyman_belt`; ``n_toys`` toys test the coverage, ``n_toys_belt``
    independent toys set the Neyman critical value at θ_true (their ``cl`` quantile). ``events``
    may be None when ``ensemble`` is given (then ``theta_true`` is an array or None). A grid coarse
    against the resolution makes the coverage conservative (:attr:`CoverageResult.grid_limited`,
    logged as a warning).

    With ``nuisances`` (:class:`~lhcgold.infer.Normalisation`, :class:`~lhcgold.infer.WeightVariation`;
    binned models only: RateOnly, Histogram, ScoreHistogram), the coverage of the *profiled*
    intervals: toys at (θ_true, ν = 0) are Poisson counts per bin and auxiliary measurements
    ν_aux ~ N(0, 1) (constraint −½|ν − ν_aux|²), scored with the profile likelihood ratio
    q(θ) = −2[max_ν log L(θ, ν) − max_{θ', ν} log L(θ', ν)] over the grid
    (:class:`~lhcgold.infer.profiled_toys.ProfiledToys`). The Neyman critical value comes from
    independent toys at (θ_true, ν̂ = 0), ν̂ the nuisances fitted to the Asimov data at θ_true (the
    profile construction at the expected data). An empty list gives the same binned toys without
    nuisances. Unbinned models (NeuralRatio, Truth) with nuisances raise a ConfigError.
    """
    _check_cl(cl, n_toys)
    _check_cl(cl, n_toys_belt)
    if events is None and ensemble is None:
        raise ConfigError("coverage needs the events or a prebuilt ToyEnsemble (ensemble=)")
    gen = np.random.default_rng(rng)
    if nuisances is not None and isinstance(ensemble, ToyEnsemble):
        raise ConfigError("nuisances= needs a ProfiledToys ensemble (or none), not a ToyEnsemble")
    ens: ToyEnsemble | ProfiledToys
    if ensemble is not None:
        ens = ensemble
    elif nuisances is not None:
        ens = ProfiledToys.build(
            likelihood, events, nuisances=nuisances, grid=grid, luminosity_ifb=luminosity_ifb,
            allow_outside=allow_outside, chunk_size=chunk_size,
        )  # fmt: skip
    else:
        ens = ToyEnsemble.build(
            likelihood, events, grid=grid, luminosity_ifb=luminosity_ifb, allow_outside=allow_outside,
            chunk_size=chunk_size,
        )  # fmt: skip
    if events is None:  # a hand-built ensemble: θ_true as an array (default the origin)
        th = np.zeros(ens.thetas.shape[1]) if theta_true is None else np.asarray(theta_true, dtype=np.float64)
        if th.shape != (ens.thetas.shape[1],):
            raise ConfigError(f"theta_true must have shape ({ens.thetas.shape[1]},), got {th.shape}")
    else:
        th = resolve_theta(theta_true, as_view(events).setup)
    j = ens.index_of(th)
    crit_toys = float(np.quantile(ens.q_at(j, int(n_toys_belt), gen), cl))
    q = ens.q_at(j, int(n_toys), gen)
    crit_wilks = float(chi2.ppf(cl, ens.dof))
    res = CoverageResult(
        th,
        float(cl),
        int(n_toys),
        float(np.mean(q <= crit_wilks)),
        float(np.mean(q <= crit_toys)),
        crit_wilks,
        crit_toys,
        int(n_toys_belt),
        q,
        ens.label,
        ens.nuisance_names if isinstance(ens, ProfiledToys) else None,
    )
    logger.info("%s", res.summary())
    if res.grid_limited:
        logger.warning("%s", res.grid_warning())
    return res
