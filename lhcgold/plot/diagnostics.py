"""Reliability (calibration) curves of ratio estimators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._mpl import axes, color_cycle
from .style import finish_axes

__all__ = ["plot_calibration"]


def plot_calibration(
    calibrations: Any, *, ax: Any = None, min_weight: float = 1e-2, legend: bool = True
) -> dict[str, Any]:
    """Observed fraction of reference events vs the classifier output ŝ = 1/(1 + r̂), per θ.

    A perfectly calibrated ratio estimator lies on the diagonal.

    Args:
        calibrations: a :class:`lhcgold.infer.RatioCalibration` (or its ``to_dict()``), a sequence
            of them, or a mapping label -> calibration.
        ax: axes (default: the current axes).
        min_weight: bins with less than this fraction of the weight are not drawn (the default, 1 %,
            is the threshold of :attr:`~lhcgold.infer.RatioCalibration.max_deviation`).
        legend: draw a legend.

    Returns:
        {"lines": {label: Line2D}, "diagonal": Line2D}.
    """
    from ..infer.diagnostics import RatioCalibration

    if isinstance(calibrations, RatioCalibration) or (isinstance(calibrations, Mapping) and "observed" in calibrations):
        calibrations = {None: calibrations}
    elif not isinstance(calibrations, Mapping):
        calibrations = {None if len(calibrations) == 1 else i: c for i, c in enumerate(calibrations)}
    ax = axes(ax)
    out: dict[str, Any] = {"lines": {}}
    shown: list[Any] = []
    (out["diagonal"],) = ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="perfect calibration")
    for (label, cal), color in zip(calibrations.items(), color_cycle(len(calibrations))):
        c = cal if isinstance(cal, RatioCalibration) else RatioCalibration.from_dict(cal)
        pred, obs, w = (np.asarray(v, dtype=float) for v in (c.predicted, c.observed, c.weight))
        keep = np.isfinite(pred) & np.isfinite(obs) & (w >= min_weight)
        name = label if isinstance(label, str) else "θ = " + ", ".join(f"{v:.3g}" for v in c.theta)
        name = f"{name} (E[r̂] = {c.expectation:.4f})"
        (out["lines"][label],) = ax.plot(pred[keep], obs[keep], "o-", color=color, ms=3, label=name)
        shown.append(np.concatenate([pred[keep], obs[keep]]))
    lo, hi = _square_limits(np.concatenate(shown) if shown else np.zeros(0))
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(r"classifier output $\hat s = 1/(1+\hat r)$")
    ax.set_ylabel("observed fraction from the reference")
    if legend:
        ax.legend(fontsize=7)
    finish_axes(ax)
    return out


def _square_limits(values: Any) -> tuple[float, float]:
    """Equal x and y limits around the drawn points (padded by 20 %, at least 0.1 wide, inside [0, 1])."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    mid, half = 0.5 * (v.min() + v.max()), max(0.6 * (v.max() - v.min()), 0.05)
    lo, hi = max(0.0, mid - half), min(1.0, mid + half)
    return lo, hi
