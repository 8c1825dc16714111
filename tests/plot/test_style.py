"""HEP style: every plot type, rendered at toy size with Agg (default style and mplhep's), has a
non-empty label with its unit on every axis and no two overlapping tick labels on any axis; the
"lhcgold Simulation" label carries √s and the luminosity."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lhcgold import infer, plot

ROOT = Path(__file__).resolve().parents[2]
LABELS = {"ca": r"$c_a$ (toy coupling)", "cb": r"$c_b$ (toy coupling)", "u": r"$p_T^{u}$"}
UNITS = {"ca": "TeV$^{-2}$", "cb": "TeV$^{-2}$", "u": "GeV", "v": None}


def _tick_boxes(axis: Any, renderer: Any) -> list[Any]:
    lo, hi = sorted(axis.get_view_interval())
    boxes = []
    for tick, loc in zip(axis.get_major_ticks(), axis.get_majorticklocs()):
        if not (lo - 1e-9 * (hi - lo) <= loc <= hi + 1e-9 * (hi - lo)):
            continue
        for lab in (tick.label1, tick.label2):
            if lab.get_visible() and lab.get_text():
                boxes.append(lab.get_window_extent(renderer))
    return boxes


def _overlaps(boxes: list[Any]) -> list[tuple[int, int]]:
    bad = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > 0.5 and h > 0.5:
                bad.append((i, j))
    return bad


def check_figure(fig: Any) -> None:
    """No overlapping tick labels on any axis; every axis of a plot (and every colour bar) has a label."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        is_cbar = hasattr(ax, "_colorbar")
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            boxes = _tick_boxes(axis, renderer)
            assert not _overlaps(boxes), (name, [t.get_text() for t in axis.get_ticklabels()])
        if is_cbar:
            assert ax.get_ylabel() or ax.get_xlabel()
        else:
            assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), (ax.get_xlabel(), ax.get_ylabel())


def _limits(events: Any) -> dict[str, Any]:
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 11)
    kw = dict(grid=grid, luminosity_ifb=2.0, asimov_theta=[0.1, -0.1])
    return {
        "rate": infer.expected_limits(infer.RateOnly(), events, **kw),
        "histogram": infer.expected_limits(infer.Histogram(["u", "v"], bins=(4, 4)), events, **kw),
    }


def _draw_distributions(ax: Any, events: Any) -> None:
    plot.plot_distributions(events, "u", thetas=["b0", "b1"], bins=12, ax=ax, labels=LABELS, units=UNITS)
    assert ax.get_xlabel() == r"$p_T^{u}$ [GeV]" and ax.get_ylabel() == "σ per bin [pb]"


def _draw_density(ax: Any, events: Any) -> None:
    plot.plot_distributions(events, "u", thetas=["b0", "b3"], bins=12, density=True, ax=ax, units=UNITS)
    assert ax.get_xlabel() == "u [GeV]" and ax.get_ylabel() == "1/σ dσ/dx [1/GeV]"


def _draw_pvalue_map(ax: Any, events: Any) -> None:
    plot.plot_pvalue_map(_limits(events)["histogram"], ax=ax, labels=LABELS, units=UNITS)
    assert ax.get_xlabel() == r"$c_a$ (toy coupling) [TeV$^{-2}$]"


def _draw_contours(ax: Any, events: Any) -> None:
    plot.plot_contours(_limits(events), ax=ax, labels=LABELS, units=UNITS)
    assert ax.get_ylabel() == r"$c_b$ (toy coupling) [TeV$^{-2}$]"


def _draw_q_1d(ax: Any, events: Any) -> None:
    res = infer.expected_limits(
        infer.RateOnly(), events, grid=infer.LimitGrid([(-0.013, 0.017), 0.0], 31), luminosity_ifb=1.0
    )
    plot.plot_q_1d({"rate": res}, ax=ax, labels=LABELS, units=UNITS)


def _draw_fisher(ax: Any, events: Any) -> None:
    infos = {
        "truth": infer.truth_information(events, luminosity_ifb=1.0),
        "u": infer.histogram_information(events, "u", bins=10, luminosity_ifb=1.0),
    }
    plot.plot_fisher_ellipses(infos, ax=ax, labels=LABELS, units=UNITS)


def _draw_training(ax: Any, events: Any) -> None:
    loss = {"train_loss": list(np.linspace(1.0, 0.3, 37)), "val_loss": list(np.linspace(1.1, 0.4, 37))}
    plot.plot_training_history(loss, ax=ax)


def _draw_learning_curve(ax: Any, events: Any) -> None:
    plot.plot_learning_curve([1e3, 1e4, 1e5], [[3.0, 2.0, 1.5]], ax=ax, labels=["ALICES"], ylabel="68% CL area")


def _draw_calibration(ax: Any, events: Any) -> None:
    s = np.linspace(0.05, 0.95, 10)
    cal = {
        "theta": (0.1, 0.2),
        "reference": (0.0, 0.0),
        "expectation": 1.001,
        "expectation_error": 0.002,
        "bin_edges": tuple(np.linspace(0, 1, 11)),
        "predicted": tuple(s),
        "observed": tuple(s + 0.01),
        "weight": tuple(np.full(10, 0.1)),
        "max_deviation": 0.01,
    }
    plot.plot_calibration(cal, ax=ax)


DRAW: dict[str, Callable[[Any, Any], None]] = {
    "distributions": _draw_distributions,
    "density": _draw_density,
    "pvalue_map": _draw_pvalue_map,
    "contours": _draw_contours,
    "q_1d": _draw_q_1d,
    "fisher": _draw_fisher,
    "training": _draw_training,
    "learning_curve": _draw_learning_curve,
    "calibration": _draw_calibration,
}


@pytest.mark.parametrize("style", [None, "ROOT", "ATLAS"])
@pytest.mark.parametrize("kind", list(DRAW))
def test_every_plot_type_has_labelled_axes_and_no_overlapping_ticks(kind: str, style: str | None, events_2p) -> None:
    import contextlib

    import matplotlib.pyplot as plt

    ctx = plot.hep_style(style) if style else contextlib.nullcontext()
    with ctx:
        fig, axs = plt.subplots(1, 2, figsize=(4.5, 3) if style is None else (12, 6), layout="constrained")
        for ax in axs:  # side by side, as in the report
            DRAW[kind](ax, events_2p)
        check_figure(fig)
    plt.close(fig)


@pytest.mark.parametrize("style", ["ROOT", "ATLAS", "CMS"])
def test_hep_label_carries_simulation_sqrt_s_and_luminosity(style: str, events_2p) -> None:
    import matplotlib.pyplot as plt

    with plot.hep_style(style):
        fig, ax = plt.subplots(layout="constrained")
        out = plot.plot_fisher_ellipses(
            {"truth": infer.truth_information(events_2p, luminosity_ifb=300.0)},
            ax=ax,
            hep_label={"sqrt_s_tev": 13},
        )
        parts = [t for t in out["hep_label"] if t is not None and t.get_text()]
        check_figure(fig)
        boxes = [t.get_window_extent(fig.canvas.get_renderer()) for t in parts]
    joined = " ".join(t.get_text() for t in parts)
    assert "lhcgold" in joined and "Simulation" in joined
    assert "300 fb$^{-1}$ (13 TeV)" in joined
    assert not _overlaps(boxes), [t.get_text() for t in parts]
    plt.close(fig)


def test_axis_label_defaults_and_overrides() -> None:
    assert plot.axis_label("pt_h") == r"$p_T^{H}$ [GeV]"
    assert plot.axis_label("mt_wh") == r"$m_T^{WH}$ [GeV]"
    assert plot.axis_label("phi_star") == r"$\phi^*$ [rad]"
    assert plot.axis_label("cos_theta_star") == r"$\cos\theta^*$"
    assert plot.axis_label("a3") == r"$a_3$ (CP-odd $HWW$)"
    assert plot.axis_label("cwww") == r"$c_{WWW}/\Lambda^2$ [TeV$^{-2}$]"
    assert plot.axis_label("x7") == "x7"
    assert plot.axis_label("a3", labels={"a3": "A"}, units={"a3": "TeV$^{-2}$"}) == "A [TeV$^{-2}$]"
    assert plot.axis_label("pt_h", units={"pt_h": None}) == r"$p_T^{H}$"


def test_axis_label_falls_back_to_the_process_registry() -> None:
    # names that only the processes label (their ProcessDefaults.labels), units from default_unit
    assert plot.axis_label("m_zh") == r"$m_{ZH}$ [GeV]"
    assert plot.axis_label("y_ll") == r"$y_{\ell\ell}$"
    assert plot.axis_label("C_RR").startswith(r"$C_{RR}$ (")
    # WH and ZH label a3 differently: the first process by name (wh) gives the fallback
    assert plot.axis_label("a3") == r"$a_3$ (CP-odd $HWW$)"
    # KNOWN_LABELS keeps only names no process labels, and still serves them
    assert not set(plot.style.KNOWN_LABELS) & set(plot.style.registry_labels())
    assert plot.axis_label("m_wh") == r"$m_{WH}$ [GeV]"


def test_axis_label_loads_neither_torch_nor_matplotlib() -> None:
    code = (
        "import sys; from lhcgold.plot.style import axis_label; axis_label('a3'); "
        "print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_unknown_style_is_a_clear_error() -> None:
    from lhcgold.exceptions import ConfigError

    with pytest.raises(ConfigError, match="unknown mplhep style 'NOPE'"):
        with plot.hep_style("NOPE"):
            pass
