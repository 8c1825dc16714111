"""Ensemble band: the limits of every member and of the mean, their spread, Markdown and the plot."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from lhcgold import infer
from lhcgold.exceptions import ConfigError


@pytest.fixture(scope="module")
def ensemble_events(tmp_path_factory):
    """A one-parameter toy (dσ/dx ∝ (1 + θx)², x Gaussian) and an ensemble of three small SALLY nets."""
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta
    from lhcgold.ml import SALLY, Ensemble, TrainConfig

    from .conftest import make_setup, write_events

    d = tmp_path_factory.mktemp("ens")
    rng = np.random.default_rng(4)
    n = 3000
    x = rng.normal(size=(n, 1))
    setup = make_setup(["theta"], [(-1.0, 1.0)], np.array([[0], [1], [2]]), np.array([[0.0], [0.5], [-0.5]]))
    m = np.stack([np.ones(n), 2 * x[:, 0], x[:, 0] ** 2], axis=1) / n
    ev = write_events(d / "ev.h5", setup, ["x"], x, m)
    ens = Ensemble([SALLY(n_hidden=(8,)) for _ in range(3)])
    ts = augment.sample_local(ev, theta=BenchmarkTheta("b0"), n_samples=600, rng=1)
    ens.train(ts, config=TrainConfig(n_epochs=2, seed=1, validation_split=0.0), n_jobs=1)
    return ev, ens


def test_band_is_the_members_limits(ensemble_events):
    ev, ens = ensemble_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 41)
    make = lambda m: infer.ScoreHistogram(m, bins=6)  # noqa: E731
    band = infer.ensemble_limits(make, ens, ev, grid=grid, luminosity_ifb=0.02)
    assert len(band.members) == 3
    ends = []
    for member, res in zip(ens.members, band.members, strict=True):
        alone = infer.expected_limits(make(member), ev, grid=grid, luminosity_ifb=0.02)
        np.testing.assert_allclose(res.log_likelihood, alone.log_likelihood, rtol=1e-12)
        ends.append(infer.interpolated_interval(alone.thetas[:, 0], alone.q, chi2.ppf(0.68, 1)))
    s = band.summary(0.68)["theta"]
    np.testing.assert_allclose(s["members"], ends, rtol=1e-12)
    assert s["lower_std"] == pytest.approx(np.std([e[0] for e in ends], ddof=1), rel=1e-12)
    assert s["upper_mean"] == pytest.approx(np.mean([e[1] for e in ends]), rel=1e-12)
    # the mean model scores events with the members' averaged score
    xx = np.linspace(-2, 2, 7)[:, None]
    np.testing.assert_allclose(
        infer.EnsembleMean(ens).score(xx), np.mean([m.score(xx) for m in ens.members], axis=0), rtol=1e-12
    )
    d = band.mean.details["ensemble"]
    assert d["n_members"] == 3 and np.shape(d["member_p_values"]) == (3, 41)
    areas = band.areas(0.68)
    assert areas is not None and areas["std"] == pytest.approx(np.std(areas["members"], ddof=1))
    assert s["lower_std"] > 0 or s["upper_std"] > 0  # the members differ
    md = infer.report_sections(band.mean)
    assert md[0] == "### Finite-training-sample uncertainty (ensemble band)"
    assert any(f"{s['upper_mean']:.4g} ± {s['upper_std']:.4g}" in line for line in md)


def test_plot_band(ensemble_events, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lhcgold import plot

    ev, ens = ensemble_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    band = infer.ensemble_limits(infer.ScoreHistogram, ens, ev, grid=grid, luminosity_ifb=0.02)
    path = tmp_path / "band.json"
    band.mean.save(path)
    loaded = infer.LimitResult.load(path)  # the band survives a saved file
    fig, ax = plt.subplots()
    out = plot.plot_ensemble_band(loaded, ax=ax)
    assert len(out["members"]) == 3
    for line, member in zip(out["members"], band.members, strict=True):
        np.testing.assert_allclose(line.get_ydata(), member.q, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(out["mean"].get_ydata(), band.mean.q)
    env = plot.plot_ensemble_band(band, ax=ax, envelope=True)
    assert env["envelope"] and not env["members"]
    with pytest.raises(ConfigError, match="no ensemble band"):
        plot.plot_ensemble_band(band.members[0], ax=ax)
    plt.close(fig)


def test_bad_ensembles(ensemble_events):
    _, ens = ensemble_events
    with pytest.raises(ConfigError, match="at least 2 members"):
        infer.EnsembleMean(ens.members[:1])
    with pytest.raises(ConfigError, match="differ in family"):
        infer.EnsembleMean([ens.members[0], object()])
