"""Coverage of profiled intervals: per-toy profile likelihoods against closed forms and scipy, and the
coverage of a counting experiment with a normalisation uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import wrightomega
from scipy.stats import chi2

from lhcgold import infer
from lhcgold.exceptions import ConfigError
from lhcgold.infer.profiled_toys import ProfiledToys


def _rate(thetas: np.ndarray, lumi_ifb: float) -> np.ndarray:
    """quad_events: σ(θ) = 2 + 2θ²/3 pb."""
    return 1000 * lumi_ifb * (2 + 2 * thetas**2 / 3)


def _closed_form_profile(mu: np.ndarray, n: float, aux: float, delta: float) -> np.ndarray:
    """max_ν n log(μ e^{κν}) − μ e^{κν} − ½(ν − ν_aux)² (κ = ln(1 + δ)) in closed form.

    Stationarity κ(n − μ e^{κν}) = ν − ν_aux; with u = κν and v = κ²n + κν_aux − u:
    v e^v = κ²μ e^{κ²n + κν_aux}, v = ω(log(κ²μ) + κ²n + κν_aux) (Wright omega).
    """
    k = np.log1p(delta)
    c = k * k * n + k * aux
    u = c - np.real(wrightomega(np.log(k * k * mu) + c))
    return n * (np.log(mu) + u) - mu * np.exp(u) - 0.5 * (u / k - aux) ** 2


def test_rate_normalisation_toys_match_closed_form(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(0.2, 0.8)], 25)
    toys = ProfiledToys.build(
        infer.RateOnly(), path, nuisances=[infer.Normalisation("lumi", 0.1)], grid=grid, luminosity_ifb=0.5
    )
    counts = np.array([[1000.0], [1100.0], [950.0], [1210.0]])
    aux = np.array([[0.0], [1.3], [-0.7], [2.5]])
    ll, nu_hat = toys.log_likelihoods(counts, aux)
    mu = _rate(grid.points[:, 0], 0.5)
    for i in range(len(counts)):
        expect = _closed_form_profile(mu, counts[i, 0], aux[i, 0], 0.1)
        np.testing.assert_allclose(ll[i], expect, rtol=0, atol=1e-8)
    j = toys.index_of(np.array([0.5]))
    expect_q = [
        -2 * (e[j] - e.max())
        for e in (_closed_form_profile(mu, c[0], a[0], 0.1) for c, a in zip(counts, aux, strict=True))
    ]
    np.testing.assert_allclose(toys.q(j, counts, aux), expect_q, atol=1e-7)
    # more observed events pull the normalisation up at fixed θ
    assert nu_hat[1, j, 0] > nu_hat[0, j, 0]


@pytest.mark.parametrize("n_shape", [1, 2])
def test_shape_variation_toys_match_scipy(quad_events, n_shape):
    """A histogram with a normalisation and two-sided per-event variations (b ≠ 0; one: the interpolated
    bin sums, two: the exact per-event sums): every grid point's profile of a few toys against a
    Nelder-Mead maximisation of the model written out here."""
    path, info = quad_events
    x, gw = info["nodes"], info["gw"]
    ups, downs = [1 + 0.1 * x + 0.05 * x**2, 1.05 + 0.02 * x**3], [1 - 0.08 * x, 0.97 - 0.01 * x]
    nus = [infer.Normalisation("norm", 0.05)] + [
        infer.WeightVariation(f"shape{s}", ups[s], downs[s]) for s in range(n_shape)
    ]
    edges = np.array([-1.0, -0.3, 0.2, 0.6, 1.0])
    grid = infer.LimitGrid([(0.2, 0.8)], 7)
    toys = ProfiledToys.build(infer.Histogram(["x"], bins=[edges]), path, nuisances=nus, grid=grid, luminosity_ifb=0.5)
    assert (toys._kernel.cheb is not None) == (n_shape == 1)  # both ways of summing are checked
    counts, aux = toys.draw(toys.index_of(np.array([0.5])), 3, np.random.default_rng(2))
    ll = toys.log_likelihoods(counts, aux)[0]
    bins = np.searchsorted(edges, x) - 1
    a = np.stack([0.5 * np.log(u / d) for u, d in zip(ups[:n_shape], downs[:n_shape], strict=True)], 1)
    b = np.stack([0.5 * np.log(u * d) for u, d in zip(ups[:n_shape], downs[:n_shape], strict=True)], 1)
    k = np.log1p(0.05)
    for i in range(len(counts)):
        for t, th in enumerate(grid.points[:, 0]):
            w = gw * (1 + th * x) ** 2

            def neg(v, i=i, w=w):
                g = np.exp(k * v[0] + a @ v[1:] + b @ v[1:] ** 2)
                mu = 500 * np.bincount(bins, w * g, minlength=4)
                return -(np.sum(counts[i] * np.log(mu) - mu) - 0.5 * np.sum((v - aux[i]) ** 2))

            opts = {"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000, "maxfev": 20000}
            r = minimize(neg, aux[i], method="Nelder-Mead", options=opts)
            assert -r.fun == pytest.approx(ll[i, t], abs=1e-7)


def test_profiled_coverage_of_a_counting_experiment(quad_events):
    """10⁴ expected events with a 2 % normalisation uncertainty: the profiled 68.27 % Wilks intervals cover
    within 3 binomial σ; without the auxiliary measurements' spread they would cover ~0.97."""
    path, _ = quad_events
    grid = infer.LimitGrid([(0.2, 0.8)], 121)
    nus = [infer.Normalisation("lumi", 0.02)]
    kw = {"grid": grid, "theta_true": [0.5], "luminosity_ifb": 5.0, "cl": 0.6827, "rng": 3}
    cov = infer.coverage(infer.RateOnly(), path, n_toys=600, n_toys_belt=600, nuisances=nus, **kw)
    assert cov.profiled and cov.nuisance_names == ("lumi",)
    assert abs(cov.wilks - 0.6827) < 3 * cov.expected_error, cov.summary()
    assert abs(cov.neyman - 0.6827) < 3 * cov.expected_error + 0.02, cov.summary()
    assert cov.wilks_error == pytest.approx(np.sqrt(cov.wilks * (1 - cov.wilks) / 600))
    # the same toys, reproduced and rescored: without drawing the auxiliary measurement (ν_aux = 0)
    # the counts vary by √n only while the profiled interval is √(n + (δn)²) wide: ~0.97 coverage
    toys = ProfiledToys.build(infer.RateOnly(), path, nuisances=nus, grid=grid, luminosity_ifb=5.0)
    j = toys.index_of(np.array([0.5]))
    gen = np.random.default_rng(3)
    toys.draw(j, 600, gen)  # the belt toys come first
    counts, aux = toys.draw(j, 600, gen)
    np.testing.assert_allclose(toys.q(j, counts, aux), cov.q_true, atol=1e-9)
    assert np.std(aux) == pytest.approx(1.0, abs=0.1)
    assert np.mean(toys.q(j, counts, np.zeros_like(aux)) <= chi2.ppf(0.6827, 1)) > 0.93


def test_coverage_result_records_the_nuisances(quad_events):
    path, _ = quad_events
    kw = {"grid": infer.LimitGrid([(-1.0, 1.0)], 11), "theta_true": [0.4], "luminosity_ifb": 0.02}
    cov = infer.coverage(
        infer.RateOnly(), path, n_toys=20, n_toys_belt=20, rng=1, nuisances=[infer.Normalisation("n", 0.1)], **kw
    )
    d = cov.to_dict()
    assert d["nuisances"] == ["n"] and "auxiliary measurements" in d["method"]
    assert "profiled over 1 nuisances ['n']" in cov.summary()
    plain = infer.coverage(infer.RateOnly(), path, n_toys=20, n_toys_belt=20, rng=1, **kw)
    assert "nuisances" not in plain.to_dict() and not plain.profiled


def test_unbinned_models_are_refused(quad_events):
    path, _ = quad_events

    class Process:
        def components(self, x):
            return np.ones((len(x), 3))

        sigma_c = np.ones(3)

    with pytest.raises(ConfigError, match="Truth .unbinned. is not supported yet"):
        infer.coverage(
            infer.Truth(Process()),
            path,
            grid=infer.LimitGrid([(-1.0, 1.0)], 11),
            luminosity_ifb=0.02,
            nuisances=[infer.Normalisation("n", 0.1)],
        )


def test_nuisances_with_an_unprofiled_ensemble_are_refused(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 11)
    ens = infer.neyman.ToyEnsemble.build(infer.RateOnly(), path, grid=grid, luminosity_ifb=0.02)
    with pytest.raises(ConfigError, match="needs a ProfiledToys ensemble"):
        infer.coverage(
            infer.RateOnly(),
            path,
            grid=grid,
            luminosity_ifb=0.02,
            ensemble=ens,
            nuisances=[infer.Normalisation("n", 0.1)],
        )
