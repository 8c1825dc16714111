"""Neyman construction in two parameters, checked against answers computed here without lhcgold's toys.

* A linear-Gaussian model (x ~ N(θ, 1) per coordinate, log L(θ) = −n|x̄ − θ|²/2 + const), run
  through :func:`lhcgold.infer.coverage` on a prebuilt :class:`ToyEnsemble`: on a fine grid
  q(θ_true) ~ χ²_dof, so the toy critical value is the χ²_dof quantile (2.296 in 2-D, 0.989 in
  1-D, at 68.27 %) and both coverages are 0.6827; on a coarse grid the best grid point is θ_true
  with probability E_n[(2Φ(Δ√n/2) − 1)^dof], a closed form, and the Neyman coverage is that atom.
* A discrete-count model (rate only, n ~ Pois(μ(θ)) on a 2-D grid): the exact distribution of
  q(θ_true) by summing the Poisson pmf over n, its exact Neyman critical value (the smallest c
  with P(q ≤ c) ≥ CL) and exact coverage P(q ≤ c).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2, norm, poisson

from lhcgold import infer
from lhcgold.exceptions import ConfigError
from lhcgold.infer.limits import poisson_log_pmf
from lhcgold.infer.neyman import ToyEnsemble

CL = 0.6827  # 1σ of a Gaussian in any number of dimensions for χ²_dof


def _grid_points(dims: int, spacing: float, half: int) -> np.ndarray:
    axis = spacing * np.arange(-half, half + 1)
    mesh = np.meshgrid(*([axis] * dims), indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


def _gaussian_ensemble(dims: int, spacing: float, half: int, mu: float, n_sim: int = 4000) -> ToyEnsemble:
    """x ~ N(θ, 1)^dims; the simulation at θ_true = 0 is a centred, whitened, ±-symmetric normal sample.

    The per-event table is the exact log density −|x − θ_t|²/2, so log L of a toy is −n|x̄ − θ|²/2 + const.
    One "component" per grid point: resampling weights m[:, t] = N(x|θ_t)/N(x|0).
    """
    z = np.random.default_rng(11).normal(size=(n_sim // 2, dims))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True).reshape(dims, dims))).T
    x = np.concatenate([z, -z])  # mean 0, covariance 1 exactly
    thetas = _grid_points(dims, spacing, half)
    table = -0.5 * ((x[None, :, :] - thetas[:, None, :]) ** 2).sum(axis=2)  # (T, N)
    m = np.exp(x @ thetas.T - 0.5 * (thetas**2).sum(axis=1)[None, :])  # (N, T)
    return ToyEnsemble(thetas, table, m, np.eye(len(thetas)), np.full(len(thetas), mu), False, dims, "gauss")


@pytest.mark.parametrize("dims", [1, 2])
def test_linear_gaussian_fine_grid_covers_exactly(dims):
    """q ~ χ²_dof: toy critical value = χ²_dof quantile, Wilks and Neyman coverage = 0.6827."""
    mu = 100.0  # x̄ has σ = 0.1; grid spacing 0.02: q shifts by ≤ n·dims·(0.01)² ≈ 0.02 (coverage by < 0.004)
    ens = _gaussian_ensemble(dims, 0.02, 20 if dims == 1 else 12, mu)
    cov = infer.coverage(None, None, grid=None, cl=CL, n_toys=2000, n_toys_belt=2000, rng=5, ensemble=ens)
    crit = chi2.ppf(CL, dims)
    # the toy quantile's spread: sqrt(p(1-p)/n) / pdf(crit)
    q_err = np.sqrt(CL * (1 - CL) / 2000) / chi2.pdf(crit, dims)
    assert abs(cov.neyman_critical - crit) < 4 * q_err + 0.02, cov.summary()
    assert abs(cov.wilks_critical - crit) < 1e-9
    assert abs(cov.wilks - CL) < 3 * cov.expected_error + 0.004, cov.summary()
    # the Neyman coverage scatters with its own toys and with the critical value's toys
    assert abs(cov.neyman - CL) < 3 * np.sqrt(2) * cov.expected_error, cov.summary()
    assert not cov.grid_limited and cov.best_fit_at_truth < 0.1


def test_linear_gaussian_2d_coarse_grid_coverage_is_the_best_fit_atom():
    """Spacing Δ = 0.32 ≫ σ(x̄) = 0.1: θ_true is the best grid point with probability E_n[(2Φ(Δ√n/2) − 1)²]."""
    mu, spacing = 100.0, 0.32
    ens = _gaussian_ensemble(2, spacing, 3, mu)
    n = np.arange(1, 400)
    atom = float(np.sum(poisson.pmf(n, mu) * (2 * norm.cdf(spacing * np.sqrt(n) / 2) - 1) ** 2))
    assert atom > CL + 0.05  # the premise: a grid too coarse for 68 % intervals
    cov = infer.coverage(None, None, grid=None, cl=CL, n_toys=2000, n_toys_belt=2000, rng=6, ensemble=ens)
    err = np.sqrt(atom * (1 - atom) / cov.n_toys)
    assert abs(cov.best_fit_at_truth - atom) < 3 * err, (cov.best_fit_at_truth, atom)
    assert cov.neyman_critical == 0.0 and cov.grid_limited
    assert cov.neyman == cov.best_fit_at_truth  # the interval is the best-fit grid point alone
    assert cov.wilks > CL + 3 * cov.expected_error  # over-covers on this grid too
    d = cov.to_dict()
    assert d["best_fit_at_truth"] == cov.best_fit_at_truth and d["neyman"]["grid_limited"] is True
    assert "too coarse" in cov.grid_warning()


def _exact_rate_neyman(mu_grid: np.ndarray, j: int, cl: float) -> tuple[float, float, float]:
    """(critical value, coverage, P(q < critical value)) of the rate-only statistic at grid point j by enumeration."""
    ns = np.arange(int(mu_grid[j] + 20 * np.sqrt(mu_grid[j]) + 20))
    ll = poisson.logpmf(ns[:, None], mu_grid[None, :])  # (n, T)
    q = -2 * (ll[:, j] - ll.max(axis=1))
    p = poisson.pmf(ns, mu_grid[j])
    order = np.argsort(q, kind="stable")
    cdf = np.cumsum(p[order])
    k = int(np.searchsorted(cdf, cl))  # first atom whose cumulative probability reaches cl
    c = q[order][k]
    return float(c), float(p[q <= c + 1e-9].sum()), float(p[q < c - 1e-9].sum())


def test_discrete_counts_2d_coverage_matches_enumeration(two_param_events):
    """Rate only on a 2-D grid: q(θ_true) is a function of n alone; toys reproduce the enumerated coverage."""
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 11)
    lumi = 0.01  # about 10 events: the atoms of q are far apart
    ens = ToyEnsemble.build(infer.RateOnly(), path, grid=grid, luminosity_ifb=lumi)
    th = np.array([0.0, 0.0])
    j = ens.index_of(th)
    c_exact, cov_exact, below = _exact_rate_neyman(ens.mu, j, CL)
    # premise: the cumulative probability steps past CL well away from it, so 4000 toys find the same atom
    assert below < CL - 0.03 and cov_exact > CL + 0.03, (below, cov_exact)
    cov = infer.coverage(
        infer.RateOnly(), path, grid=grid, theta_true=th, luminosity_ifb=lumi, cl=CL, n_toys=4000,
        n_toys_belt=4000, rng=9, ensemble=ens,
    )  # fmt: skip
    assert cov.neyman_critical == pytest.approx(c_exact, abs=1e-6)
    assert abs(cov.neyman - cov_exact) < 3 * np.sqrt(cov_exact * (1 - cov_exact) / cov.n_toys), (cov.neyman, cov_exact)
    assert cov.neyman > CL + 0.03 and not cov.grid_limited  # conservative by the counts' discreteness, not the grid
    assert cov.wilks_critical == pytest.approx(chi2.ppf(CL, 2))  # two scanned parameters: χ²₂


def test_toy_sums_equal_event_by_event_sums_with_infinite_terms():
    """Scoring toys through event counts gives the per-event sums, including −inf terms of drawn events."""
    rng = np.random.default_rng(3)
    n_sim, t = 300, 7
    table = rng.normal(size=(t, n_sim))
    table[2, 5] = -np.inf
    table[:, 17] = -np.inf
    m = rng.uniform(0.5, 1.5, size=(n_sim, 1))
    ens = ToyEnsemble(np.arange(t, dtype=float)[:, None], table, m, np.ones((t, 1)), np.full(t, 400.0), True, 1, "x")
    got = ens.log_likelihoods(0, 25, np.random.default_rng(8))
    gen = np.random.default_rng(8)  # the same draws, summed event by event
    cdf = np.cumsum(m[:, 0]) / m.sum()
    ns = gen.poisson(400.0, size=25)
    drew_17 = 0
    for k, n in enumerate(ns):
        idx = np.minimum(np.searchsorted(cdf, gen.random(int(n)), side="right"), n_sim - 1)
        want = table[:, idx].sum(axis=1) + poisson_log_pmf(float(n), ens.mu)
        np.testing.assert_allclose(got[k], want, rtol=1e-10)
        drew_17 += int(17 in idx)
        assert np.isneginf(got[k]).all() == (17 in idx)
    assert 0 < drew_17 < len(ns)  # both branches are exercised


def test_coverage_without_events_needs_an_ensemble():
    with pytest.raises(ConfigError, match="prebuilt ToyEnsemble"):
        infer.coverage(None, None, grid=None)
    ens = _gaussian_ensemble(1, 0.1, 3, 50.0, n_sim=200)
    with pytest.raises(ConfigError, match="shape"):
        infer.coverage(None, None, grid=None, theta_true=[0.0, 0.0], ensemble=ens)
