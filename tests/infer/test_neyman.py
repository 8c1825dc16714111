"""Toy-based Neyman intervals and coverage: exact Poisson coverage, and embedded Drell-Yan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2, poisson

from lhcgold import infer
from lhcgold.exceptions import ConfigError
from lhcgold.infer.limits import poisson_log_pmf
from lhcgold.infer.neyman import ToyEnsemble

CARD = Path(__file__).resolve().parents[2] / "cards" / "dy.yaml"


def _exact_rate_coverage(mu_grid: np.ndarray, j: int, cl: float) -> float:
    """P(q(θ_j) ≤ χ²₁(cl)) under n ~ Pois(μ_j), summing the Poisson pmf over n (no toys)."""
    crit = chi2.ppf(cl, 1)
    ns = np.arange(int(mu_grid[j] + 20 * np.sqrt(mu_grid[j]) + 20))
    ll = np.array([poisson_log_pmf(float(n), mu_grid) for n in ns])  # (n, T)
    q = -2 * (ll[:, j] - ll.max(axis=1))
    return float(poisson.pmf(ns, mu_grid[j])[q <= crit].sum())


def test_rate_only_coverage_matches_exact_poisson_sum(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 81)
    lumi = 0.02  # σ(0) = 2 pb → 40 expected events
    ens = ToyEnsemble.build(infer.RateOnly(), path, grid=grid, luminosity_ifb=lumi)
    j = ens.index_of(np.array([0.5]))
    exact = _exact_rate_coverage(ens.mu, j, 0.68)
    cov = infer.coverage(
        infer.RateOnly(),
        path,
        grid=grid,
        theta_true=[0.5],
        luminosity_ifb=lumi,
        n_toys=4000,
        n_toys_belt=4000,
        rng=3,
        ensemble=ens,
    )
    assert abs(cov.wilks - exact) < 3 * np.sqrt(exact * (1 - exact) / cov.n_toys)
    assert abs(cov.neyman - 0.68) < 3 * cov.expected_error + 0.02  # discrete q: the quantile steps
    # toys carry n ~ Pois(μ_j): their log L at θ_j averages E[log Pois(n|μ_j)]
    ll = ens.log_likelihoods(j, 4000, np.random.default_rng(5))[:, j]
    n = np.arange(200)
    expect = float((poisson.pmf(n, ens.mu[j]) * poisson.logpmf(n, ens.mu[j])).sum())
    assert abs(ll.mean() - expect) < 4 * ll.std() / np.sqrt(len(ll))


def test_toys_resample_the_morphed_weights(two_param_events):
    """A toy histogram of an observable follows the weights morphed to the toy's θ."""
    path, info = two_param_events
    th = np.array([1.0, -0.5])
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 5)
    ens = ToyEnsemble.build(infer.RateOnly(), path, grid=grid, luminosity_ifb=1.0)
    j = ens.index_of(th)
    cdf = ens._cdf_at(j)
    idx = np.searchsorted(cdf, np.random.default_rng(1).random(200_000), side="right")
    w = info["weights"](th)
    np.testing.assert_allclose(np.mean(info["x"][idx, 0]), (w @ info["x"][:, 0]) / w.sum(), rtol=0.01)


def test_belt_and_interval(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    belt = infer.neyman_belt(infer.Histogram(["x"], bins=4), path, grid=grid, luminosity_ifb=0.05, n_toys=200, rng=1)
    assert belt.critical_values.shape == (21,) and np.all(belt.critical_values >= 0)
    res = infer.expected_limits(
        infer.Histogram(["x"], bins=4), path, grid=grid, luminosity_ifb=0.05, asimov_theta=[0.0]
    )
    inside = belt.interval(res.q)
    assert inside[10] and not inside.all()


@pytest.mark.parametrize(
    "kwargs,match",
    [({"theta_true": [0.33]}, "not a grid point"), ({"cl": 1.5}, "cl must"), ({"n_toys": 3}, "n_toys")],
)
def test_bad_input(quad_events, kwargs, match):
    path, _ = quad_events
    with pytest.raises(ConfigError, match=match):
        infer.coverage(infer.RateOnly(), path, grid=infer.LimitGrid([(-1.0, 1.0)], 11), luminosity_ifb=0.02, **kwargs)


@pytest.fixture(scope="module")
def dy(tmp_path_factory):
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, build_process, generate

    card = load_card(CARD)
    path = tmp_path_factory.mktemp("dy") / "dy.h5"
    generate(card, n_events=20_000, rng=1).write_events(path)
    return path, TruthModel(build_process(card))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["truth", "histogram"])
def test_drell_yan_coverage_at_sm(dy, method):
    """Coverage of 68 % intervals in C_LL at the SM, 500 toys of ~2600 events (30 fb⁻¹): within 2σ.

    Neyman intervals cover for both methods. Wilks (χ²₁) intervals cover for the truth; for the
    5 × 4 histogram at this luminosity they under-cover (0.618 ± 0.022 with this seed, toy critical
    value 1.41 instead of 0.99), so only the truth's Wilks coverage is asserted.
    """
    path, tm = dy
    like = infer.Truth(tm) if method == "truth" else infer.Histogram(["m_ll", "cos_theta_star"], bins=(5, 4))
    grid = infer.LimitGrid([(-0.05, 0.05), 0.0], 101)
    cov = infer.coverage(
        like, path, grid=grid, theta_true="sm", luminosity_ifb=30.0, n_toys=500, n_toys_belt=1000, rng=7
    )
    two_sigma = 2 * cov.expected_error
    assert abs(cov.neyman - 0.68) < two_sigma, cov.summary()
    if method == "truth":
        assert abs(cov.wilks - 0.68) < two_sigma, cov.summary()
