"""p-value maps and confidence-level contours of limit scans (several methods on one axes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from ._mpl import axes, color_cycle
from .style import axis_label, finish_axes

__all__ = ["plot_contours", "plot_pvalue_map", "plot_q_1d"]


def _as_mapping(results: Any) -> dict[str, Any]:
    if isinstance(results, Mapping):
        return dict(results)
    if hasattr(results, "p_values"):
        return {results.method: results}
    out: dict[str, Any] = {}
    for r in results:
        out[r.method if r.method not in out else f"{r.method} ({len(out)})"] = r
    return out


def _grid_2d(result: Any) -> tuple[np.ndarray, np.ndarray]:
    if result.grid_axes is None or len(result.grid_axes) != 2:
        raise ConfigError(
            f"{result.method}: a 2-D plot needs a result on a regular 2-D grid "
            f"(got parameters {result.parameter_names})"
        )
    return result.grid_axes[0], result.grid_axes[1]


def plot_pvalue_map(
    result: Any,
    *,
    ax: Any = None,
    log: bool = True,
    p_min: float = 1e-3,
    cmap: str = "viridis",
    colorbar: bool = True,
    show_best_fit: bool = True,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    hep_label: bool | Mapping[str, Any] = False,
) -> dict[str, Any]:
    """The p-value map of a 2-D scan as a colour mesh (log colour scale by default).

    ``labels``/``units`` give the axis text and unit per parameter name (default
    :data:`~lhcgold.plot.style.KNOWN_LABELS`, dimensionless); ``hep_label`` adds the "lhcgold
    Simulation" label (True, or :func:`~lhcgold.plot.hep_label` keywords) with the result's luminosity.

    Returns:
        {"mesh": QuadMesh, "colorbar": Colorbar | None, "best_fit": Line2D | None, "hep_label": ...}
    """
    import matplotlib.colors as mcolors

    ax = axes(ax)
    h = result.p_value_hist
    x_edges, y_edges = h.axes[0].edges, h.axes[1].edges
    p = np.clip(h.values(), p_min, 1.0)
    norm = mcolors.LogNorm(vmin=p_min, vmax=1.0) if log else mcolors.Normalize(vmin=0.0, vmax=1.0)
    mesh = ax.pcolormesh(x_edges, y_edges, p.T, norm=norm, cmap=cmap, shading="flat")
    cbar = (
        ax.figure.colorbar(mesh, ax=ax, label="expected p-value" if result.asimov_theta is not None else "p-value")
        if colorbar
        else None
    )
    bf = None
    if show_best_fit:
        (bf,) = ax.plot(
            *result.best_fit,
            marker="*",
            color="white",
            markeredgecolor="black",
            markersize=12,
            linestyle="none",
            label="best fit",
        )
    _parameter_axes(ax, result.parameter_names, labels, units)
    lab = finish_axes(ax, label=hep_label, luminosity_ifb=result.luminosity_ifb)
    return {"mesh": mesh, "colorbar": cbar, "best_fit": bf, "hep_label": lab}


def plot_contours(
    results: Any,
    *,
    cls: Sequence[float] = (0.68, 0.95),
    ax: Any = None,
    colors: Sequence[Any] | None = None,
    linestyles: Sequence[str] = ("-", "--", ":", "-."),
    show_best_fit: bool = True,
    truth: Sequence[float] | None = None,
    legend: bool = True,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    hep_label: bool | Mapping[str, Any] = False,
) -> dict[str, Any]:
    """Contours of several 2-D scans at the given confidence levels (p = 1 − CL).

    Args:
        results: one LimitResult, a sequence of them, or a mapping label -> LimitResult.
        cls: confidence levels; one line style each.
        ax: matplotlib axes (default: current).
        colors: one colour per result.
        linestyles: line style per confidence level.
        show_best_fit: mark each result's best fit.
        truth: mark this parameter point (e.g. the Asimov θ) with a cross.
        legend: draw a legend (one entry per method and per CL).
        labels: axis text per parameter name (default :data:`~lhcgold.plot.style.KNOWN_LABELS`).
        units: unit per parameter name (default: none, the amplitude couplings are dimensionless).
        hep_label: add the "lhcgold Simulation" label (True, or :func:`~lhcgold.plot.hep_label` keywords).

    Returns:
        {"contours": {label: QuadContourSet}, "best_fits": {label: Line2D}, "legend": Legend | None}
    """
    ax = axes(ax)
    res = _as_mapping(results)
    cols = color_cycle(len(res), colors)
    cls = sorted(cls)
    levels = sorted(1.0 - np.asarray(cls))
    styles = {lv: linestyles[i % len(linestyles)] for i, lv in enumerate(sorted(levels, reverse=True))}
    out: dict[str, Any] = {"contours": {}, "best_fits": {}, "legend": None}
    handles = []
    from matplotlib.lines import Line2D

    for (label, r), c in zip(res.items(), cols):
        x, y = _grid_2d(r)
        p = r.reshaped(r.p_values)
        cs = ax.contour(x, y, p.T, levels=levels, colors=[c], linestyles=[styles[lv] for lv in levels])
        out["contours"][label] = cs
        handles.append(Line2D([], [], color=c, label=label))
        if show_best_fit:
            (bf,) = ax.plot(*r.best_fit, marker="o", color=c, linestyle="none", markersize=5)
            out["best_fits"][label] = bf
    for cl in cls:
        handles.append(Line2D([], [], color="gray", linestyle=styles[1.0 - cl], label=f"{100 * cl:g}% CL"))
    if truth is not None:
        (t,) = ax.plot(*truth, marker="x", color="black", linestyle="none", markersize=8)
        out["truth"] = t
    first = next(iter(res.values()))
    _parameter_axes(ax, first.parameter_names, labels, units)
    if legend:
        out["legend"] = ax.legend(handles=handles, frameon=False)
    out["hep_label"] = finish_axes(ax, label=hep_label, luminosity_ifb=first.luminosity_ifb)
    return out


def plot_q_1d(
    results: Any,
    *,
    ax: Any = None,
    colors: Sequence[Any] | None = None,
    cls: Sequence[float] = (0.68, 0.95),
    legend: bool = True,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    hep_label: bool | Mapping[str, Any] = False,
) -> dict[str, Any]:
    """q(θ) = −2 Δlog L of 1-D scans, with horizontal lines at the χ²₁ thresholds of ``cls``.

    ``labels``/``units`` give the axis text and unit per parameter name (default
    :data:`~lhcgold.plot.style.KNOWN_LABELS`, dimensionless); ``hep_label`` adds the "lhcgold
    Simulation" label (True, or :func:`~lhcgold.plot.hep_label` keywords) with the result's luminosity.
    """
    from scipy.stats import chi2

    ax = axes(ax)
    res = _as_mapping(results)
    lines = {}
    for (label, r), c in zip(res.items(), color_cycle(len(res), colors)):
        if r.thetas.shape[1] != 1:
            raise ConfigError(f"{label}: plot_q_1d needs a 1-D scan, got parameters {r.parameter_names}")
        (lines[label],) = ax.plot(r.thetas[:, 0], r.q, color=c, label=label)
    thr = [ax.axhline(chi2.ppf(cl, 1), color="gray", linestyle=":", linewidth=1) for cl in cls]
    first = next(iter(res.values()))
    ax.set_xlabel(axis_label(first.parameter_names[0], labels=labels, units=units))
    ax.set_ylabel(r"$q(\theta) = -2\,\Delta\log L$")
    leg = ax.legend(frameon=False) if legend else None
    lab = finish_axes(ax, label=hep_label, luminosity_ifb=first.luminosity_ifb)
    return {"lines": lines, "thresholds": thr, "legend": leg, "hep_label": lab}


def _parameter_axes(
    ax: Any, names: Sequence[str], labels: Mapping[str, str] | None, units: Mapping[str, str | None] | None
) -> None:
    ax.set_xlabel(axis_label(names[0], labels=labels, units=units))
    ax.set_ylabel(axis_label(names[1], labels=labels, units=units))
