"""The plots of the main job (``lhcgold run``): limit contours, 1-D scans, p-value maps, Fisher
ellipses, ratio calibration, observable distributions and training histories (``OUT/plots/*.png``).

Axis labels and the observables drawn come from the card's process
(:class:`lhcgold.processes.ProcessDefaults`: ``labels``, ``plot_observables``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..io.atomic import atomic_path
from ..stages import slug
from . import (
    plot_calibration,
    plot_contours,
    plot_distributions,
    plot_fisher_ellipses,
    plot_pvalue_map,
    plot_training_history,
)
from ._mpl import pyplot
from .style import axis_label

__all__ = ["MainJobPlots", "plot_main_job"]


@dataclass(frozen=True)
class MainJobPlots:
    """What the plots of the main job need to know beyond the output directory's files.

    Attributes:
        parameters: parameter names (axis order).
        luminosity_ifb: integrated luminosity of the limits [fb⁻¹].
        labels: axis text (symbol, meaning) per parameter or observable name, without the unit.
        units: unit per parameter or observable name (None: dimensionless; names left out get
            :func:`lhcgold.plot.style.default_unit`'s guess).
        observables: observables whose distributions are drawn (those present in the events).
    """

    parameters: tuple[str, ...]
    luminosity_ifb: float
    labels: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str | None] = field(default_factory=dict)
    observables: tuple[str, ...] = ()

    @property
    def axis(self) -> dict[str, Any]:
        """``labels=``/``units=`` keywords of the plot functions."""
        return {"labels": dict(self.labels), "units": dict(self.units)}

    def text(self, name: str) -> str:

        return axis_label(name, **self.axis)


def _savefig(fig: Any, path: Path) -> Path:
    """Save a figure atomically (PNG) and close it."""

    fig.tight_layout()
    with atomic_path(path, overwrite=True) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    pyplot().close(fig)
    return path


def _contours(out: Path, spec: MainJobPlots, limits: Mapping[str, Any]) -> Path:

    fig, axs = pyplot().subplots(1, 2, figsize=(14, 5.2))
    zero = [0.0] * len(spec.parameters)
    for ax, level in zip(axs, ("detector", "parton")):
        chosen = {k: v for k, v in limits.items() if ("parton" in k) == (level == "parton")}
        plot_contours(chosen, ax=ax, truth=zero, legend="outside", **spec.axis)
        ax.set_title(f"{level} level, {spec.luminosity_ifb:g} fb$^{{-1}}$")
    return _savefig(fig, out / "plots" / "contours.png")


def _scans(out: Path, spec: MainJobPlots, methods: Sequence[str]) -> Path:
    from ..infer import LimitResult

    names = spec.parameters
    fig, axs = pyplot().subplots(1, len(names), figsize=(6 * len(names), 4.5))
    for k, (ax, name) in enumerate(zip(np.atleast_1d(axs), names)):
        for label in methods:
            res = LimitResult.load(out / "limits" / f"{slug(label)}_{name}.json")
            th = np.asarray(res.thetas)
            xk = th[:, k] if th.shape[1] > 1 else th[:, 0]
            order = np.argsort(xk)
            ax.plot(xk[order], res.q[order] - np.min(res.q), label=label, ls="--" if "parton" in label else "-")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.axhline(3.84, color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 8)
        ax.set_xlabel(spec.text(name))
        ax.set_ylabel(r"$q = -2\Delta\log L$ (others at the SM)")
        ax.legend(fontsize=8)
    return _savefig(fig, out / "plots" / "scans.png")


def _pvalue_maps(out: Path, spec: MainJobPlots, limits: Mapping[str, Any]) -> Path:

    fig, axs = pyplot().subplots(1, 2, figsize=(12, 5))
    for ax, (label, title) in zip(axs, (("ml", "ml (ALICES)"), ("truth (parton)", "truth (parton level)"))):
        plot_pvalue_map(limits[label], ax=ax, **spec.axis)
        ax.set_title(f"p-value, {title}")
    return _savefig(fig, out / "plots" / "pvalue_maps.png")


def _distributions(out: Path, spec: MainJobPlots) -> Path | None:
    from ..io.events import EventFile

    events = out / "events.h5"
    available = EventFile(events).observables
    shown = [o for o in spec.observables if o in available][:4]
    if not shown:
        return None
    fig, axs = pyplot().subplots(1, len(shown), figsize=(4.2 * len(shown), 4))
    for ax, obs in zip(np.atleast_1d(axs), shown):
        plot_distributions(events, obs, ax=ax, density=True, bins=30, **spec.axis)
    return _savefig(fig, out / "plots" / "distributions.png")


def _fisher(out: Path, spec: MainJobPlots, information: Mapping[str, Any]) -> Path:
    from ..infer import FisherInformation

    names = spec.parameters
    infos = {
        k: FisherInformation(
            matrix=np.asarray(v),
            parameter_names=names,
            theta=np.zeros(len(names)),
            luminosity_ifb=spec.luminosity_ifb,
            method=k,
        )
        for k, v in information.items()
    }
    fig, ax = pyplot().subplots(figsize=(8, 5))
    plot_fisher_ellipses(infos, ax=ax, legend="outside", **spec.axis)
    ax.set_title("Fisher information at the SM (68% CL)")
    return _savefig(fig, out / "plots" / "fisher.png")


def _calibration(out: Path, spec: MainJobPlots, cals: Sequence[Mapping[str, Any]]) -> Path | None:

    if not cals:
        return None
    fig, ax = pyplot().subplots(figsize=(6, 5))
    labels = ["θ = (" + ", ".join(f"{n} {v:.3g}" for n, v in zip(spec.parameters, c["theta"])) + ")" for c in cals]
    plot_calibration(dict(zip(labels, cals)), ax=ax)
    ax.set_title("ALICES reliability curves (SM vs θ)")
    return _savefig(fig, out / "plots" / "calibration.png")


def _training(out: Path, models: Sequence[str]) -> Path:

    fig, axs = pyplot().subplots(1, len(models), figsize=(13 / 3 * len(models), 4))
    for ax, name in zip(np.atleast_1d(axs), models):
        manifest = json.loads((out / "models" / name / "manifest.json").read_text())
        plot_training_history(manifest["history"], ax=ax)
        ax.set_title(f"training: {name}")
    return _savefig(fig, out / "plots" / "training.png")


def plot_main_job(
    out: Path,
    spec: MainJobPlots,
    summary: Mapping[str, Any],
    *,
    models: Sequence[str] = ("sally", "alices", "sally_parton"),
) -> list[Path]:
    """Draw every plot of a main-job output directory ``out`` into ``out/plots``.

    Args:
        out: the output directory (its ``limits/``, ``events.h5`` and ``models/`` are read).
        spec: parameters, luminosity, labels and observables.
        summary: the run's summary (``limits``, ``fisher``, ``diagnostics``).
        models: estimators whose training history is drawn.

    Returns:
        The files written.
    """
    from ..infer import LimitResult

    methods = list(summary["limits"])
    limits = {label: LimitResult.load(out / "limits" / f"{slug(label)}_2d.json") for label in methods}
    cals = (summary.get("diagnostics") or {}).get("ratio", {}).get("calibration", [])
    paths = [
        _contours(out, spec, limits),
        _scans(out, spec, methods),
        _pvalue_maps(out, spec, limits),
        _distributions(out, spec),
        _fisher(out, spec, summary["fisher"]["information"]),
        _calibration(out, spec, cals),
        _training(out, models),
    ]
    return [p for p in paths if p is not None]
