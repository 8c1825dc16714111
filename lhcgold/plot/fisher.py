"""Fisher-information ellipses of several methods in one parameter plane."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._mpl import axes, color_cycle
from .style import axis_label, finish_axes, place_legend

__all__ = ["plot_fisher_ellipses"]


def plot_fisher_ellipses(
    infos: Any,
    *,
    parameters: Sequence[str | int] = (0, 1),
    cl: float | None = 0.68,
    distance: float = 1.0,
    center: Sequence[float] | None = None,
    profile: bool = True,
    ax: Any = None,
    colors: Sequence[Any] | None = None,
    linestyles: Sequence[str] | None = None,
    legend: bool | str = True,
    n_points: int = 400,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    hep_label: bool | Mapping[str, Any] = False,
) -> dict[str, Any]:
    """Ellipses Δθᵀ I Δθ = d² (d² from ``cl`` for 2 dof, or ``distance``²), one per information matrix.

    Args:
        infos: a FisherInformation, a sequence of them, or a mapping label -> FisherInformation.
        parameters: the plane (two names or indices).
        cl: confidence level (None: use ``distance``).
        center: centre of the ellipses (default: each information's θ in that plane).
        profile: profile the other parameters (True) or fix them (False).
        labels: axis text per parameter name (e.g. the card's meaning; default
            :func:`~lhcgold.plot.axis_label`'s).
        units: unit per parameter name (e.g. {"cwww": "TeV$^{-2}$"}; default none for the
            dimensionless amplitude couplings).
        hep_label: add the "lhcgold Simulation" label (True, or :func:`~lhcgold.plot.hep_label`
            keywords); the luminosity of the first information is filled in.
        legend: draw a legend (True), none (False), or ``"outside"``, to the right of the axes.

    Directions without information (e.g. a CP-odd parameter in a CP-even histogram, or the
    rate alone) give unbounded ellipses: drawn as two parallel lines (the axis limits are kept
    to the bounded ellipses).

    Returns:
        {"lines": {label: Line2D}, "legend": Legend | None, "hep_label": the label's artists | None}
    """
    ax = axes(ax)
    if isinstance(infos, Mapping):
        items = dict(infos)
    elif hasattr(infos, "matrix"):
        items = {infos.method: infos}
    else:
        items = {i.method: i for i in infos}
    cols = color_cycle(len(items), colors)
    styles = list(linestyles) if linestyles is not None else ["-"] * len(items)
    lines = {}
    bounded = []
    for (label, info), c, ls in zip(items.items(), cols, styles):
        pts = info.ellipse(
            center=center, parameters=parameters, cl=cl, distance=distance, profile=profile, n_points=n_points
        )
        is_band = bool(np.isnan(pts).any())
        (lines[label],) = ax.plot(
            pts[:, 0], pts[:, 1], color=c, linestyle=ls, label=label, scalex=not is_band, scaley=not is_band
        )
        if not is_band:
            bounded.append(pts)
    if bounded:
        allp = np.concatenate(bounded)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        pad = 0.1 * (hi - lo)
        ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    first = next(iter(items.values()))
    names = [first.parameter_names[p] if isinstance(p, int) else p for p in parameters]
    ax.set_xlabel(axis_label(names[0], labels=labels, units=units))
    ax.set_ylabel(axis_label(names[1], labels=labels, units=units))
    leg = place_legend(ax, legend)
    lab = finish_axes(ax, label=hep_label, luminosity_ifb=getattr(first, "luminosity_ifb", None))
    return {"lines": lines, "legend": leg, "hep_label": lab}
