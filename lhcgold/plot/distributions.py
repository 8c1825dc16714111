"""Weighted distributions of observables at several parameter points (benchmarks or any θ)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from ..io.view import as_view
from ._mpl import axes, color_cycle, mplhep
from .style import axis_label, default_unit, finish_axes

__all__ = ["distribution_hists", "plot_distributions"]


def _thetas(setup: Any, thetas: Any) -> dict[str, np.ndarray]:
    if thetas is None:
        return {b.name: np.asarray(b.vector(setup.parameter_names)) for b in setup.benchmarks}
    if isinstance(thetas, Mapping):
        return {str(k): np.asarray(v, dtype=np.float64) for k, v in thetas.items()}
    out = {}
    for t in thetas:
        if isinstance(t, str):
            out[t] = np.asarray(setup.theta_of(t))
        else:
            arr = np.asarray(t, dtype=np.float64)
            out[", ".join(f"{n}={v:g}" for n, v in zip(setup.parameter_names, arr))] = arr
    return out


def distribution_hists(
    events: Any,
    observable: str,
    *,
    thetas: Any = None,
    bins: int | Sequence[float] = 40,
    range: tuple[float, float] | None = None,
    luminosity_ifb: float | None = None,
    chunk_size: int = 100_000,
) -> dict[str, Any]:
    """Weighted histograms (``hist.Hist``, Weight storage) of one observable at several θ, streamed.

    Args:
        events: events file (path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`).
        observable: observable name.
        thetas: None (every benchmark), a list of benchmark names / θ arrays, or a mapping label -> θ.
        bins: number of bins or edges.
        range: histogram range for an int ``bins`` (default: the 0.5–99.5 % quantiles of the
            events at the first θ).
        luminosity_ifb: if given, contents are expected events (σ × L), otherwise cross sections [pb].
    """
    import hist

    from ..infer._data import column_indices, components_of, factors

    sample = as_view(events)
    setup = sample.setup
    comps = components_of(setup)
    col = column_indices([observable], sample.observables)[0]
    ths = _thetas(setup, thetas)
    if not ths:
        raise ConfigError("no parameter points to plot")
    f = np.stack([factors(t, comps) for t in ths.values()])  # (K, C)
    if isinstance(bins, int):
        if range is None:
            xs, ws = [], []
            for x, m in sample.component_chunks(chunk_size=chunk_size):
                xs.append(x[:, col])
                ws.append(m @ f[0])
            from ..infer._binning import weighted_quantiles

            lo, hi = weighted_quantiles(np.concatenate(xs), [0.005, 0.995], np.concatenate(ws))
            range = (float(lo), float(hi)) if hi > lo else (float(lo) - 0.5, float(hi) + 0.5)
        axis = hist.axis.Regular(bins, *range, name=observable, label=observable)
    else:
        axis = hist.axis.Variable(np.asarray(bins, dtype=np.float64), name=observable, label=observable)
    scale = 1000.0 * luminosity_ifb if luminosity_ifb is not None else 1.0
    hists = {label: hist.Hist(axis, storage=hist.storage.Weight()) for label in ths}
    for x, m in sample.component_chunks(chunk_size=chunk_size):
        w = (m @ f.T) * scale  # (n, K)
        for k, label in enumerate(ths):
            hists[label].fill(x[:, col], weight=w[:, k])
    return hists


def plot_distributions(
    events: Any,
    observable: str,
    *,
    thetas: Any = None,
    bins: int | Sequence[float] = 40,
    range: tuple[float, float] | None = None,
    density: bool = False,
    luminosity_ifb: float | None = None,
    ax: Any = None,
    colors: Sequence[Any] | None = None,
    log: bool = False,
    legend: bool = True,
    ratio_to: str | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str | None] | None = None,
    hep_label: bool | Mapping[str, Any] = False,
) -> dict[str, Any]:
    """Weighted distributions of one observable per benchmark / θ (mplhep step histograms).

    Args:
        events: as in :func:`distribution_hists`.
        observable: as in :func:`distribution_hists`.
        thetas: as in :func:`distribution_hists`.
        bins: as in :func:`distribution_hists`.
        range: as in :func:`distribution_hists`.
        luminosity_ifb: as in :func:`distribution_hists`.
        density: normalise every histogram to unit area (shapes only).
        ax: matplotlib axes (default: current).
        log: logarithmic y axis.
        ratio_to: label of the histogram to divide all by (plots ratios instead of distributions).
        labels: axis text per observable name (default: :func:`~lhcgold.plot.axis_label`'s).
        units: unit per observable name (default: :func:`~lhcgold.plot.style.default_unit`).
        hep_label: add the "lhcgold Simulation" label (True, or :func:`~lhcgold.plot.hep_label` keywords;
            the luminosity is filled in when given).

    Returns:
        {"artists": {label: mplhep artist}, "hists": {label: hist.Hist}, "legend": Legend | None,
        "hep_label": the label's artists | None}
    """
    hep = mplhep()
    ax = axes(ax)
    hists = distribution_hists(events, observable, thetas=thetas, bins=bins, range=range, luminosity_ifb=luminosity_ifb)
    artists = {}
    ref = None
    if ratio_to is not None:
        if ratio_to not in hists:
            raise ConfigError(f"ratio_to={ratio_to!r} is not among {list(hists)}")
        ref = hists[ratio_to].values()
    for (label, h), c in zip(hists.items(), color_cycle(len(hists), colors)):
        vals = h.values()
        err = np.sqrt(h.variances())
        if ref is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                vals, err = vals / ref, err / ref
        elif density:
            area = np.sum(vals * np.diff(h.axes[0].edges))
            vals, err = vals / area, err / area
        artists[label] = hep.histplot(vals, h.axes[0].edges, yerr=err, ax=ax, label=label, color=c, histtype="step")
    ax.set_xlabel(axis_label(observable, labels=labels, units=units))
    ax.set_ylabel(_y_label(observable, units, ratio_to=ratio_to, density=density, luminosity_ifb=luminosity_ifb))
    if log:
        ax.set_yscale("log")
    leg = ax.legend(frameon=False) if legend else None
    lab = finish_axes(ax, label=hep_label, luminosity_ifb=luminosity_ifb)
    return {"artists": artists, "hists": hists, "legend": leg, "hep_label": lab}


def _y_label(
    observable: str,
    units: Mapping[str, str | None] | None,
    *,
    ratio_to: str | None,
    density: bool,
    luminosity_ifb: float | None,
) -> str:
    if ratio_to is not None:
        return f"ratio to {ratio_to}"
    unit = units[observable] if units is not None and observable in units else default_unit(observable)
    if density:
        return f"1/σ dσ/dx [1/{unit}]" if unit else "1/σ dσ/dx"
    return "events per bin" if luminosity_ifb is not None else "σ per bin [pb]"
