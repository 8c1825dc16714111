"""Plot functions: ax in, artists out; drawn content checked against the inputs."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold import infer, plot


def test_plot_does_not_import_matplotlib_eagerly():
    import subprocess
    import sys

    code = "import sys, lhcgold.plot, lhcgold.infer; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_distributions_per_benchmark(events_2p):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot.plot_distributions(events_2p, "u", thetas=["b0", "b1", [0.5, -0.5]], bins=20, range=(0, 5), ax=ax)
    assert set(out["hists"]) == {"b0", "b1", "ca=0.5, cb=-0.5"}
    # the histogram at b0 holds the b0 weights: total = σ(b0) (within range [0, 5])
    from lhcgold.io.events import EventFile

    ch = EventFile(events_2p).read()
    inside = ch.observations[:, 0] < 5
    assert out["hists"]["b0"].sum().value == pytest.approx(ch.weights[inside, 0].sum(), rel=1e-10)
    assert len(ax.get_legend().get_texts()) == 3
    ratio = plot.plot_distributions(events_2p, "v", thetas=["b0", "b3"], bins=10, range=(-1, 1), ratio_to="b0")
    assert ratio["artists"]


def test_pvalue_map_and_contours_of_several_methods(events_2p, tmp_path):
    import matplotlib.pyplot as plt

    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 21)
    kw = dict(grid=grid, luminosity_ifb=2.0, asimov_theta=[0.1, -0.1])
    res = {
        "rate": infer.expected_limits(infer.RateOnly(), events_2p, **kw),
        "histogram": infer.expected_limits(infer.Histogram(["u", "v"], bins=(5, 5)), events_2p, **kw),
    }
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    m = plot.plot_pvalue_map(res["histogram"], ax=a1)
    np.testing.assert_allclose(
        m["mesh"].get_array().reshape(21, 21).T, np.clip(res["histogram"].reshaped(res["histogram"].p_values), 1e-3, 1)
    )
    c = plot.plot_contours(res, ax=a2, truth=[0.1, -0.1])
    assert set(c["contours"]) == {"rate", "histogram"}
    assert np.allclose(sorted(c["contours"]["rate"].levels), [0.05, 0.32])
    labels = [t.get_text() for t in c["legend"].get_texts()]
    assert labels == ["rate", "histogram", "68% CL", "95% CL"]
    fig.savefig(tmp_path / "limits.png")


def test_fisher_ellipses_and_training_plots(events_2p):
    import matplotlib.pyplot as plt

    infos = {
        "truth": infer.truth_information(events_2p, luminosity_ifb=1.0),
        "rate": infer.rate_information(events_2p, luminosity_ifb=1.0),
        "u": infer.histogram_information(events_2p, "u", bins=10, luminosity_ifb=1.0),
    }
    fig, ax = plt.subplots()
    out = plot.plot_fisher_ellipses(infos, ax=ax, cl=None, distance=1.0)
    xy = out["lines"]["truth"].get_xydata()
    mat = infos["truth"].matrix
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", xy, mat, xy), 1.0, rtol=1e-8)
    hist_ = plot.plot_training_history({"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.4]}, ax=ax)
    assert hist_["lines"]["val_loss"].get_linestyle() == "--"
    lc = plot.plot_learning_curve(
        [1e3, 1e4, 1e5], [[3.0, 2.0, 1.5]], errors=[[0.3, 0.2, 0.1]], labels=["ALICES"], reference=1.2, ax=ax
    )
    assert lc["reference"] is not None and len(lc["lines"]) == 1


def test_q_1d_and_errors(events_2p):
    import matplotlib.pyplot as plt

    res = infer.expected_limits(
        infer.RateOnly(), events_2p, grid=infer.LimitGrid([(-1.0, 1.0), 0.0], 11), luminosity_ifb=1.0
    )
    fig, ax = plt.subplots()
    out = plot.plot_q_1d({"rate": res}, ax=ax)
    np.testing.assert_allclose(out["lines"]["rate"].get_ydata(), res.q)
    from lhcgold.exceptions import ConfigError

    with pytest.raises(ConfigError, match="2-D"):
        plot.plot_contours(res, ax=ax)


def test_outside_legend_zoomed_calibration_and_loss_axis(events_2p):
    """legend="outside" puts the legend right of the axes; reliability curves zoom on the bins holding
    ≥ 1 % of the weight (a 0.1 % bin at ŝ = 0.9 is left out); a loss moving by 0.1 % gets a linear axis,
    one falling by a decade a log axis."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    info = {"truth": infer.truth_information(events_2p, luminosity_ifb=1.0)}
    out = plot.plot_fisher_ellipses(info, ax=ax, legend="outside")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert out["legend"].get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    cal = {
        "theta": [0.1, 0.0],
        "reference": [0.0, 0.0],
        "expectation_error": 0.001,
        "predicted": [0.48, 0.5, 0.9],
        "observed": [0.47, 0.51, 0.6],
        "weight": [0.5, 0.499, 0.001],
        "expectation": 1.0,
        "bin_edges": [0.0, 0.49, 0.51, 1.0],
        "max_deviation": 0.01,
    }
    fig2, ax2 = plt.subplots()
    drawn = plot.plot_calibration(cal, ax=ax2)
    (line,) = drawn["lines"].values()
    np.testing.assert_allclose(line.get_xdata(), [0.48, 0.5])
    lo, hi = ax2.get_xlim()
    assert 0.0 <= lo < 0.47 and 0.51 < hi < 0.9 and ax2.get_ylim() == (lo, hi)
    fig3, (a, b) = plt.subplots(1, 2)
    plot.plot_training_history({"train_loss": [0.6945, 0.6940, 0.6938]}, ax=a)
    plot.plot_training_history({"train_loss": [95.0, 20.0, 5.0]}, ax=b)
    assert a.get_yscale() == "linear" and b.get_yscale() == "log"
    for f in (fig, fig2, fig3):
        plt.close(f)
