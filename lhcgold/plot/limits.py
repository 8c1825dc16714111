"""p-value maps and confidence-level contours of limit scans (several methods on one axes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from ._mpl import axes, color_cycle
from .style import axis_label, finish_axes, place_legend

__all__ = ["plot_contours", "plot_ensemble_band", "plot_pvalue_map", "plot_q_1d"]


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
    :func:`~lhcgold.plot.axis_label`'s labels, dimensionless); ``hep_label`` adds the "lhcgold
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
    legend: bool | str = True,
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
        legend: draw a legend (one entry per method and per CL); ``"outside"``: to the right of the axes.
        labels: axis text per parameter name (default: :func:`~lhcgold.plot.axis_label`'s).
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
    out["legend"] = place_legend(ax, legend, handles)
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
    :func:`~lhcgold.plot.axis_label`'s labels, dimensionless); ``hep_label`` adds the "lhcgold
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


def plot_ensemble_band(
    result: Any,
    *,
    cls: Sequence[float] = (0.68, 0.95),
    ax: Any = None,
    color: Any = None,
    envelope: bool = False,
    member_alpha: float = 0.4,
    label: str | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The finite-training-sample band of an ensemble's limits (:func:`lhcgold.infer.ensemble_limits`).

    Draws every member's contours (2-D) or q(θ) curves (1-D) as light thin lines, or with
    ``envelope`` the region where the members disagree (2-D: inside for some members, outside for
    others; 1-D: between the members' lowest and highest q), and the mean model's contours / curve
    on top.

    Args:
        result: the mean model's LimitResult carrying ``details["ensemble"]`` (also after saving
            and loading), or an :class:`lhcgold.infer.EnsembleBand`.
        cls: confidence levels (2-D contours).
        ax: matplotlib axes (default: current).
        color: one colour for the band and the mean (default: the first of the cycle).
        envelope: shade the members' envelope instead of drawing each member.
        member_alpha: opacity of the member lines / envelope.
        label: legend label of the mean (default: the result's method).
        labels: axis text per parameter name (as :func:`plot_contours`).
        units: unit per parameter name (as :func:`plot_contours`).

    Returns:
        {"mean": artist, "members": [artists], "envelope": [artists]}

    Raises:
        ConfigError: the result holds no ensemble band, or is neither 1-D nor a regular 2-D grid.
    """
    res = getattr(result, "mean", result)
    band = res.details.get("ensemble") if isinstance(res.details, Mapping) else None
    if not band or "member_p_values" not in band:
        raise ConfigError(f"{res.method}: the result carries no ensemble band (details['ensemble'])")
    ax = axes(ax)
    c = color if color is not None else color_cycle(1)[0]
    p_members = np.asarray(band["member_p_values"], dtype=np.float64)
    lab = label or f"{res.method} (mean of {len(p_members)})"
    out: dict[str, Any] = {"mean": None, "members": [], "envelope": []}
    if len(res.parameter_names) == 1:
        from scipy.stats import chi2

        x = res.thetas[:, 0]
        q_members = chi2.isf(np.clip(p_members, 1e-300, 1.0), res.dof)
        if envelope:
            out["envelope"].append(
                ax.fill_between(x, q_members.min(axis=0), q_members.max(axis=0), color=c, alpha=member_alpha, lw=0)
            )
        else:
            out["members"] = [ax.plot(x, q, color=c, alpha=member_alpha, lw=0.8)[0] for q in q_members]
        (out["mean"],) = ax.plot(x, res.q, color=c, lw=2, label=lab)
        ax.set_xlabel(axis_label(res.parameter_names[0], labels=labels, units=units))
        ax.set_ylabel(r"$q(\theta) = -2\,\Delta\log L$")
        finish_axes(ax)
        return out
    gx, gy = _grid_2d(res)
    levels = sorted(1.0 - np.asarray(cls))
    styles = ["--", "-", ":", "-."][: len(levels)]
    for lv in levels:
        if envelope:
            frac = np.mean(p_members >= lv, axis=0).reshape(res.grid_shape)
            out["envelope"].append(
                ax.contourf(gx, gy, frac.T, levels=[1e-9, 1 - 1e-9], colors=[c], alpha=member_alpha * 0.6)
            )
    if not envelope:
        for p in p_members:
            out["members"].append(
                ax.contour(
                    gx,
                    gy,
                    res.reshaped(p).T,
                    levels=levels,
                    colors=[c],
                    linestyles=styles,
                    linewidths=0.7,
                    alpha=member_alpha,
                )
            )
    out["mean"] = ax.contour(gx, gy, res.reshaped(res.p_values).T, levels=levels, colors=[c], linestyles=styles)
    _parameter_axes(ax, res.parameter_names, labels, units)
    finish_axes(ax)
    return out
