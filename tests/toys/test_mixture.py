"""The exact toy: closed forms against finite differences, numerical integration and sampling."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.exceptions import ConfigError
from lhcgold.physics.morphing import component_factors
from lhcgold.toys import GaussianMixtureToy, toy_setup

TOY = GaussianMixtureToy()
TH = np.array([0.4, -0.7])


def test_component_coefficients_reproduce_weights():
    thetas = np.random.default_rng(1).uniform(-1, 1, (20, 2))
    direct = TOY.norms * ((1 + thetas @ TOY.a.T) ** 2 + (thetas @ TOY.b.T) ** 2)
    poly = component_factors(thetas, TOY.components) @ TOY.component_coefficients().T
    np.testing.assert_allclose(poly, direct, rtol=1e-13)


def test_likelihood_is_normalised():
    g = np.linspace(-6, 6, 601)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx.ravel(), yy.ravel()], 1)
    integral = np.exp(TOY.log_likelihood(pts, TH)).sum() * (g[1] - g[0]) ** 2
    assert integral == pytest.approx(1.0, abs=1e-6)


def test_scores_match_finite_differences():
    x, k = TOY.simulate(TH, 50, rng=2)
    eps = 1e-6
    fd = np.stack(
        [(TOY.log_likelihood(x, TH + eps * e) - TOY.log_likelihood(x, TH - eps * e)) / (2 * eps) for e in np.eye(2)],
        1,
    )
    np.testing.assert_allclose(TOY.score(x, TH), fd, atol=1e-7)
    fdj = np.stack([(TOY.joint_log_ratio(k, TH + eps * e, TH - eps * e)) / (2 * eps) for e in np.eye(2)], 1)
    np.testing.assert_allclose(TOY.joint_score(k, TH), fdj, atol=1e-7)


def test_joint_ratio_has_unit_mean_under_theta1():
    # E_{θ1}[r(x,z|θ0,θ1)] = 1 for a normalised joint density
    x, k = TOY.simulate(np.zeros(2), 200_000, rng=3)
    r = np.exp(TOY.joint_log_ratio(k, TH, np.zeros(2)))
    assert r.mean() == pytest.approx(1.0, abs=0.01)


def test_simulated_class_frequencies():
    _, k = TOY.simulate(TH, 100_000, rng=4)
    freq = np.bincount(k, minlength=TOY.n_classes) / len(k)
    np.testing.assert_allclose(freq, TOY.class_probabilities(TH), atol=0.006)


def test_weighted_events_reweight_to_theta():
    x, m, k = TOY.weighted_events(200_000, rng=5)
    w = component_factors(TH, TOY.components) @ m.T
    frac = np.bincount(k, weights=w, minlength=4) / w.sum()
    np.testing.assert_allclose(frac, TOY.class_probabilities(TH), atol=0.006)


def test_setup_morphs_exactly():
    setup = toy_setup(TOY)
    assert setup.morpher.n_components == len(TOY.components)
    assert setup.benchmark_names[0] == "sm"


def test_bad_theta_shape():
    with pytest.raises(ConfigError):
        TOY.class_weights([0.1, 0.2, 0.3])
    with pytest.raises(ConfigError):
        GaussianMixtureToy(widths=-np.ones((4, 2)))
