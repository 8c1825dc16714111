"""Joint ratio and joint score from component weights, against finite differences and closed forms."""

from __future__ import annotations

import numpy as np

from lhcgold.physics import gold
from lhcgold.physics.morphing import find_components


def _sample(rng, n=400):
    comps = find_components([2, 2], 2)
    # weights as |a + b.theta|^2 + |c.theta|^2 > 0: the polynomial coefficients of each event
    a = rng.uniform(0.5, 1.5, n)
    b = rng.normal(size=(n, 2))
    c = rng.normal(size=(n, 2))
    # components order: (0,0),(0,1),(0,2),(1,0),(1,1),(2,0)
    m = np.stack(
        [
            a**2,
            2 * a * b[:, 1],
            b[:, 1] ** 2 + c[:, 1] ** 2,
            2 * a * b[:, 0],
            2 * (b[:, 0] * b[:, 1] + c[:, 0] * c[:, 1]),
            b[:, 0] ** 2 + c[:, 0] ** 2,
        ],
        axis=1,
    )

    def direct(theta):  # the weight evaluated from the amplitudes, not from the components
        theta = np.asarray(theta)
        return (a + b @ theta) ** 2 + (c @ theta) ** 2

    return comps, m, direct


def test_event_weights_equal_direct_evaluation():
    rng = np.random.default_rng(1)
    comps, m, direct = _sample(rng)
    thetas = rng.normal(size=(5, 2))
    np.testing.assert_allclose(gold.event_weights(m, comps, thetas), np.stack([direct(t) for t in thetas]), rtol=1e-12)


def test_joint_score_equals_central_differences_of_log_density():
    rng = np.random.default_rng(2)
    comps, m, direct = _sample(rng)
    sigma_c = m.sum(axis=0)
    theta = np.array([0.3, -0.2])
    h = 1e-5

    def log_p(t):  # log of the normalised joint density, from the amplitudes
        w = direct(t)
        return np.log(w) - np.log(w.sum())

    fd = np.stack([(log_p(theta + h * e) - log_p(theta - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(gold.joint_score(m, comps, theta, sigma_c=sigma_c), fd, rtol=1e-6, atol=1e-8)


def test_joint_ratio_matches_densities_and_is_antisymmetric():
    rng = np.random.default_rng(3)
    comps, m, direct = _sample(rng)
    sigma_c = m.sum(axis=0)
    t0, t1 = np.array([0.5, 0.1]), np.array([-0.2, 0.4])
    expected = np.log(direct(t0) / direct(t0).sum()) - np.log(direct(t1) / direct(t1).sum())
    log_r = gold.joint_log_ratio(m, comps, t0, t1, sigma_c=sigma_c)
    np.testing.assert_allclose(log_r, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gold.joint_log_ratio(m, comps, t1, t0, sigma_c=sigma_c), -log_r, atol=1e-12)
    np.testing.assert_allclose(gold.joint_log_ratio(m, comps, t0, t0, sigma_c=sigma_c), 0.0, atol=1e-12)


def test_many_thetas_broadcast_like_single_ones():
    rng = np.random.default_rng(4)
    comps, m, _ = _sample(rng, n=50)
    sigma_c = m.sum(axis=0)
    thetas = rng.normal(size=(6, 2))
    many = gold.joint_score(m, comps, thetas, sigma_c=sigma_c)
    assert many.shape == (6, 50, 2)
    np.testing.assert_allclose(many[4], gold.joint_score(m, comps, thetas[4], sigma_c=sigma_c))
    ratios = gold.joint_log_ratio(m, comps, thetas, np.zeros(2), sigma_c=sigma_c)
    assert ratios.shape == (6, 50)
    np.testing.assert_allclose(ratios[2], gold.joint_log_ratio(m, comps, thetas[2], np.zeros(2), sigma_c=sigma_c))
    grads = gold.event_weight_gradients(m, comps, thetas)
    np.testing.assert_allclose(grads.sum(axis=1), gold.xsec_gradient(sigma_c, comps, thetas), rtol=1e-10)
