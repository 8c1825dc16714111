"""Lotka–Volterra: gold from the event history against Monte Carlo and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.simulators import LotkaVolterra
from lhcgold.simulators.lotka_volterra import summary_statistics

pytestmark = pytest.mark.slow  # ~10 s of Gillespie steps in all

N = 300


@pytest.fixture(scope="module")
def lv():
    return LotkaVolterra()


@pytest.fixture(scope="module")
def at_reference(lv):
    th = lv.reference
    return lv.simulate_gold(np.tile(th, (N, 1)), theta0=th, theta1=th + [0.1, -0.1, 0.05, 0.1], rng=11)


def test_joint_score_has_zero_mean(at_reference):
    ok = at_reference.valid  # runs past max_events (prey explosions) are dropped: rare
    assert ok.mean() > 0.97
    t = at_reference.t_xz[ok]
    z = t.mean(axis=0) / (t.std(axis=0) / np.sqrt(len(t)))
    assert np.all(np.abs(z) < 4), z


def test_joint_ratio_has_unit_mean_under_denominator(lv):
    th1 = lv.reference
    th0 = th1 + np.array([0.02, -0.03, 0.02, 0.02])
    out = lv.simulate_gold(np.tile(th1, (N, 1)), theta0=th0, theta1=th1, rng=12)
    r = np.exp(out.log_r_xz[out.valid])
    assert abs(r.mean() - 1) < 4 * r.std() / np.sqrt(len(r))


def test_joint_score_is_derivative_of_joint_log_ratio(lv, at_reference):
    """t_j = ∂/∂θ_j log p(x,z|θ): central differences of log r along each axis."""
    n, H = at_reference.latent["n"][:20], at_reference.latent["H"][:20]
    th = lv.reference
    h = 1e-6

    def logp(theta):  # log p(x,z|θ) up to a θ-independent constant, written from the rates
        return (n * theta).sum(axis=1) - (np.exp(theta) * H).sum(axis=1)

    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fd = (logp(th + e) - logp(th - e)) / (2 * h)
        np.testing.assert_allclose(at_reference.t_xz[:20, j], fd, rtol=1e-6, atol=1e-4)


def test_series_and_summaries(lv, at_reference):
    ok = at_reference.valid
    series = at_reference.latent["series"]
    assert series.shape == (N, lv.n_times, 2)
    series = series[ok]
    np.testing.assert_array_equal(series[:, 0], np.tile([50, 100], (len(series), 1)))
    # event counts reproduce the final recorded populations
    n = at_reference.latent["n"][ok]
    final = np.array([50, 100]) + np.column_stack([n[:, 0] - n[:, 1], n[:, 2] - n[:, 3]])
    assert np.all(np.abs(final - series[:, -1]) <= 60)  # the last record is up to 0.2 time units old
    s = series[0]
    assert at_reference.x[0, 0] == pytest.approx(s[:, 0].mean())
    assert at_reference.x[0, 3] == pytest.approx(np.log(s[:, 1].var(ddof=1) + 1))
    c = np.corrcoef(s[:, 0], s[:, 1])[0, 1]
    assert at_reference.x[0, 8] == pytest.approx(c, rel=1e-12)
    assert np.all(summary_statistics(np.ones((1, 10, 2)))[0, 4:] == 0)  # constant series


def test_runaway_runs_are_flagged():
    lv = LotkaVolterra(max_events=50)
    out = lv.simulate_gold(np.tile(lv.reference, (3, 1)), theta0=lv.reference, theta1=lv.reference, rng=1)
    assert not out.valid.any()
