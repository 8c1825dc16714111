r"""Inference that checks itself: closure, ratio calibration and Monte-Carlo uncertainties.

* :func:`closure_check`: on Asimov data generated at θ_true, the best fit should sit at θ_true
  (within the grid resolution) and θ_true should lie inside the 68% CL region. A method that
  fails either is biased (or its estimator is poor) and its limits must not be trusted.
  :func:`~lhcgold.infer.expected_limits` attaches the check to every result
  (``result.details["closure"]``).
* :func:`ratio_calibration`: for a ratio estimator r̂(x|θ) ≈ p(x|θ)/p(x|θ_ref), the identity
  E_ref[r̂(x|θ)] = 1 and the reliability curve of the implied classifier
  ŝ(x) = 1/(1 + r̂(x|θ)) (the probability that x came from θ_ref rather than θ, equal priors):
  events binned in ŝ should come from θ_ref in a fraction ŝ of the cases. Both are computed on
  weighted events, reweighted to θ and to θ_ref, so no extra sampling is needed.
* :func:`batch_spread`: Monte-Carlo uncertainty of any quantity computed from weighted events
  (a Fisher information, a contour area), from its spread over K disjoint subsets of the
  events (each scaled by K): the standard error of the full-sample value is
  std(subset values)/√K. :func:`contour_area` gives the area of a CL region on a regular grid.

Example::

    res = infer.expected_limits(infer.NeuralRatio(alices), sample, grid=grid, asimov_theta="sm")
    check = infer.closure_check(res)          # also in res.details["closure"]
    if not check.passed:
        print(check.message())
    cal = infer.ratio_calibration(alices, sample, theta=[0.01, 0.0])
    spread = infer.batch_spread(lambda s: infer.sally_information(s, sally, theta="sm").matrix, sample)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import RegularGridInterpolator
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, EventsView, as_view
from ._data import components_of, factors, model_columns
from .results import LimitResult

logger = logging.getLogger(__name__)

__all__ = [
    "ClosureCheck",
    "MCSpread",
    "RatioCalibration",
    "batch_spread",
    "closure_check",
    "contour_area",
    "ratio_calibration",
]


# ------------------------------------------------------------------------------------------------ closure
@dataclass(frozen=True)
class ClosureCheck:
    """Does a limit result on Asimov data recover the θ it was generated at?

    Attributes:
        method: the likelihood's label.
        parameter_names: the scanned parameters.
        theta_true: θ of the Asimov data (scanned parameters).
        best_fit: best grid point.
        offset_cells: |best fit − θ_true| per parameter, in grid cells (scattered points: NaN).
        q_true: q = −2 Δlog L at θ_true (interpolated on a regular grid, else the nearest point).
        p_true: p-value of θ_true.
        cl: confidence level of the region checked.
        tolerance_cells: allowed best-fit offset in grid cells.
        excluded: θ_true lies outside the ``cl`` region.
        best_fit_off: the best fit is more than ``tolerance_cells`` grid cells from θ_true.
    """

    method: str
    parameter_names: tuple[str, ...]
    theta_true: tuple[float, ...]
    best_fit: tuple[float, ...]
    offset_cells: tuple[float, ...]
    q_true: float
    p_true: float
    cl: float
    tolerance_cells: float
    excluded: bool
    best_fit_off: bool

    @property
    def passed(self) -> bool:
        return not (self.excluded or self.best_fit_off)

    def message(self) -> str:
        """One line saying what failed (empty when the check passed)."""
        if self.passed:
            return ""
        parts = []
        if self.excluded:
            parts.append(
                f"its {self.cl:.0%} CL region excludes the true point {list(self.theta_true)} (p = {self.p_true:.3g})"
            )
        if self.best_fit_off:
            parts.append(
                f"its best fit {[float(f'{v:.4g}') for v in self.best_fit]} is "
                f"{max(self.offset_cells):.1f} grid cells from the true point"
            )
        return f"closure failed for {self.method!r} on Asimov data: " + " and ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def closure_check(
    result: LimitResult, theta_true: ArrayLike | None = None, *, cl: float = 0.68, tolerance_cells: float = 1.0
) -> ClosureCheck | None:
    """Closure of a limit result at the point its Asimov data were generated at.

    Args:
        result: a limit result (Asimov data, or observed data with ``theta_true`` given).
        theta_true: the true point in the full parameter space (default ``result.asimov_theta``).
        cl: confidence level of the region that must contain θ_true.
        tolerance_cells: allowed distance of the best fit from θ_true, in grid cells per axis
            (the grid resolution; scattered points: not checked).

    Returns:
        None when there is no true point (observed data) or it lies outside the scanned grid.
    """
    if not 0 < cl < 1:
        raise ConfigError(f"cl must be in (0, 1), got {cl}")
    full = result.asimov_theta if theta_true is None else np.asarray(theta_true, dtype=np.float64)
    if full is None:
        return None
    true = _kept_coordinates(result, np.asarray(full, dtype=np.float64).reshape(-1))
    q = np.asarray(result.q, dtype=np.float64)
    best = np.asarray(result.best_fit, dtype=np.float64)
    if result.grid_axes is not None:
        axes = [np.asarray(a, dtype=np.float64) for a in result.grid_axes]
        if any(
            not (a.min() - 1e-12 * max(1.0, abs(a).max()) <= t <= a.max() + 1e-12 * max(1.0, abs(a).max()))
            for a, t in zip(axes, true)
        ):
            return None
        q_true = _interpolate(axes, result.reshaped(q), true)
        cells = tuple(float(abs(b - t) / _spacing(a)) for a, b, t in zip(axes, best, true))
    else:
        q_true = float(q[np.argmin(np.sum((result.thetas - true) ** 2, axis=1))])
        cells = tuple(float("nan") for _ in true)
    p_true = float(chi2.sf(max(q_true, 0.0), result.dof))
    return ClosureCheck(
        method=result.method,
        parameter_names=tuple(result.parameter_names),
        theta_true=tuple(float(v) for v in true),
        best_fit=tuple(float(v) for v in best),
        offset_cells=cells,
        q_true=float(q_true),
        p_true=p_true,
        cl=float(cl),
        tolerance_cells=float(tolerance_cells),
        excluded=bool(p_true < 1.0 - cl),
        best_fit_off=bool(any(c > tolerance_cells + 1e-9 for c in cells if np.isfinite(c))),
    )


def _kept_coordinates(result: LimitResult, full: NDArray[np.float64]) -> NDArray[np.float64]:
    """θ_true restricted to the result's scanned parameters."""
    names = result.details.get("all_parameter_names")
    if names is not None and len(names) == full.size:
        return np.array([full[list(names).index(n)] for n in result.parameter_names])
    if full.size == len(result.parameter_names):
        return full
    raise ConfigError(
        f"theta_true has {full.size} components; cannot match them to the scanned parameters {result.parameter_names}"
    )


def _spacing(axis: NDArray[np.float64]) -> float:
    return float(np.min(np.diff(np.sort(axis)))) if len(axis) > 1 else np.inf


def _interpolate(axes: list[NDArray[np.float64]], values: NDArray[np.float64], point: NDArray[np.float64]) -> float:

    v = np.where(np.isfinite(values), values, 1e300)
    if any(len(a) < 2 for a in axes):
        return float(v[tuple(int(np.argmin(np.abs(a - p))) for a, p in zip(axes, point))])
    return float(RegularGridInterpolator(axes, v, method="linear")(point[None])[0])


# ------------------------------------------------------------------------------------------------ ratio calibration
@dataclass(frozen=True)
class RatioCalibration:
    """E_ref[r̂] and the reliability curve of a ratio estimator at one numerator point θ.

    Attributes:
        theta: the numerator point θ.
        reference: the denominator θ_ref.
        expectation: E_ref[r̂(x|θ)] (1 for a perfect estimator).
        expectation_error: its Monte-Carlo standard error.
        bin_edges: edges of the ŝ bins.
        predicted: weighted mean of ŝ = 1/(1 + r̂) per bin (NaN for empty bins).
        observed: fraction of the (equal-prior) weight in the bin that comes from θ_ref.
        weight: fraction of the total weight per bin.
        max_deviation: max |observed − predicted| over bins holding ≥ 1% of the weight.
    """

    theta: tuple[float, ...]
    reference: tuple[float, ...]
    expectation: float
    expectation_error: float
    bin_edges: tuple[float, ...]
    predicted: tuple[float, ...]
    observed: tuple[float, ...]
    weight: tuple[float, ...]
    max_deviation: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RatioCalibration:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def ratio_calibration(
    model: Any,
    events: EventsLike,
    theta: ArrayLike,
    *,
    reference: ArrayLike | None = None,
    bins: int = 10,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RatioCalibration:
    """E_ref[r̂(x|θ)] and the reliability curve of ŝ = 1/(1 + r̂(x|θ)), on weighted events.

    Args:
        model: a ratio estimator with ``log_ratio(x, thetas (T, P)) -> (T, N)`` against θ_ref.
        events: weighted events (path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`) that are not
            the training events.
        theta: the numerator point θ.
        reference: θ_ref (default ``model.theta_ref``).
        bins: number of equal-width ŝ bins in [0, 1].
        chunk_size: events per chunk.
    """
    sample = as_view(events)
    comps = components_of(sample.setup)
    th = np.asarray(theta, dtype=np.float64).reshape(-1)
    ref_val = reference if reference is not None else getattr(model, "theta_ref", None)
    if ref_val is None:
        raise ConfigError("ratio_calibration needs the ratio's reference point (reference= or model.theta_ref)")
    ref = np.asarray(ref_val, dtype=np.float64).reshape(-1)
    if th.shape != ref.shape or th.size != comps.shape[1]:
        raise ConfigError(f"theta and reference need {comps.shape[1]} components, got {th.size} and {ref.size}")
    if bins < 1:
        raise ConfigError(f"bins must be >= 1, got {bins}")
    f_th, f_ref = factors(th, comps), factors(ref, comps)
    cols = model_columns(model, sample.observables)
    edges = np.linspace(0.0, 1.0, bins + 1)
    acc = np.zeros((4, bins))  # w_ref, w_θ, Σ ŝ·(w_ref + w_θ) [normalised later]
    sums = np.zeros(4)  # Σ w_ref, Σ w_θ, Σ w_ref r, Σ w_ref r²
    for x, m in sample.component_chunks(chunk_size=chunk_size):
        lr = np.asarray(model.log_ratio(x if cols is None else x[:, cols], th[None]), dtype=np.float64).reshape(-1)
        w_ref, w_th = m @ f_ref, m @ f_th
        ok = np.isfinite(lr)
        lr, w_ref, w_th = lr[ok], w_ref[ok], w_th[ok]
        r = np.exp(lr)
        s_hat = 1.0 / (1.0 + r)
        k = np.clip(np.searchsorted(edges, s_hat, side="right") - 1, 0, bins - 1)
        acc[0] += np.bincount(k, weights=w_ref, minlength=bins)
        acc[1] += np.bincount(k, weights=w_th, minlength=bins)
        acc[2] += np.bincount(k, weights=s_hat * w_ref, minlength=bins)
        acc[3] += np.bincount(k, weights=s_hat * w_th, minlength=bins)
        sums += [w_ref.sum(), w_th.sum(), (w_ref * r).sum(), (w_ref * r * r).sum()]
    if sums[0] <= 0 or sums[1] <= 0:
        raise ConfigError("the events have no positive cross section at theta or at the reference")
    expect = sums[2] / sums[0]
    # standard error of a weighted mean (effective sample size from the weights)
    var = max(sums[3] / sums[0] - expect**2, 0.0)
    n_eff = _n_eff(sample, f_ref, chunk_size)
    a_ref, a_th = acc[0] / sums[0], acc[1] / sums[1]  # equal priors: each hypothesis normalised to one
    tot = a_ref + a_th
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.where(tot > 0, a_ref / tot, np.nan)
        predicted = np.where(tot > 0, (acc[2] / sums[0] + acc[3] / sums[1]) / tot, np.nan)
    weight = tot / tot.sum()
    big = (weight >= 0.01) & np.isfinite(observed)
    return RatioCalibration(
        theta=tuple(th.tolist()),
        reference=tuple(ref.tolist()),
        expectation=float(expect),
        expectation_error=float(np.sqrt(var / max(n_eff, 1.0))),
        bin_edges=tuple(edges.tolist()),
        predicted=tuple(predicted.tolist()),
        observed=tuple(observed.tolist()),
        weight=tuple(weight.tolist()),
        max_deviation=float(np.max(np.abs(observed - predicted)[big])) if big.any() else float("nan"),
    )


def _n_eff(sample: EventsView, f: NDArray[np.float64], chunk_size: int) -> float:
    s1 = s2 = 0.0
    for _, m in sample.component_chunks(chunk_size=chunk_size):
        w = m @ f
        s1, s2 = s1 + float(w.sum()), s2 + float((w * w).sum())
    return s1 * s1 / s2 if s2 > 0 else 0.0


# ------------------------------------------------------------------------------------------------ MC spread
@dataclass(frozen=True)
class MCSpread:
    """Monte-Carlo uncertainty from K disjoint subsets of the events.

    Attributes:
        batch_values: the quantity on each subset (weights scaled by K), shape (K, ...).
        mean: their mean.
        std_error: standard error of the full-sample value, std(batch values)/√K.
        n_batches: K.
    """

    batch_values: NDArray[np.float64]
    mean: NDArray[np.float64]
    std_error: NDArray[np.float64]
    n_batches: int

    def relative_error(self, value: ArrayLike) -> NDArray[np.float64]:
        """std_error / |value| (NaN where value is 0)."""
        v = np.abs(np.asarray(value, dtype=np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v > 0, self.std_error / v, np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_values": np.asarray(self.batch_values).tolist(),
            "mean": np.asarray(self.mean).tolist(),
            "std_error": np.asarray(self.std_error).tolist(),
            "n_batches": self.n_batches,
        }


def batch_spread(
    compute: Callable[[EventsView], ArrayLike], events: EventsLike, *, n_batches: int = 5, align: int | None = None
) -> MCSpread:
    """Spread of ``compute(subset)`` over ``n_batches`` disjoint, contiguous subsets of the events.

    Each subset's weights are scaled by ``n_batches`` so that it estimates the same quantity as
    the whole sample (cross sections, information); the standard error of the full-sample value
    is the subsets' standard deviation divided by √K.

    Args:
        compute: the quantity from a :class:`~lhcgold.io.view.EventsView` (e.g. a Fisher matrix).
        events: weighted events (path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`).
        n_batches: K ≥ 2.
        align: put the subset boundaries on multiples of ``align`` events from the sample's start
            (so that subsets read the same chunks as the whole sample, e.g. for caches keyed by
            chunk), when there are enough events for that.
    """
    if n_batches < 2:
        raise ConfigError(f"n_batches must be >= 2, got {n_batches}")
    sample = as_view(events)
    n = sample.n_events
    if n < n_batches:
        raise ConfigError(f"{n} events cannot be split into {n_batches} subsets")
    bounds = np.linspace(0, n, n_batches + 1).round().astype(int)
    if align and align > 0:
        aligned = np.minimum((bounds // align) * align, n)
        aligned[-1] = n
        if np.all(np.diff(aligned) > 0):
            bounds = aligned
    bounds = bounds + sample.start
    values = np.stack(
        [
            np.asarray(
                compute(EventsView(sample.file, int(a), int(b), weight_scale=sample.weight_scale * n_batches)),
                dtype=np.float64,
            )
            for a, b in zip(bounds[:-1], bounds[1:])
        ]
    )
    return MCSpread(
        batch_values=values,
        mean=values.mean(axis=0),
        std_error=values.std(axis=0, ddof=1) / np.sqrt(n_batches),
        n_batches=int(n_batches),
    )


def contour_area(result: LimitResult, cl: float = 0.68) -> float:
    """Area (volume) of the region p ≥ 1 − cl on a regular grid: points inside × cell volume."""
    if result.grid_axes is None:
        raise ConfigError("contour_area needs a result on a regular grid")
    cell = float(np.prod([_spacing(np.asarray(a)) for a in result.grid_axes if len(a) > 1]))
    return float(np.count_nonzero(np.asarray(result.p_values) >= 1.0 - cl) * cell)
