"""Training sets from simulators, the function adapter, and training through lhcgold.ml."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.augment import BenchmarkTheta, Flat, Prior
from lhcgold.exceptions import ConfigError
from lhcgold.simulators import FunctionSimulator, GaltonBoard, sample_local, sample_ratio, sample_test


def _gauss(theta, *, theta0, theta1, rng):
    """x ~ N(θ, 1) in 2-D: the latent is x itself, so joint = true quantities."""
    x = theta + rng.standard_normal(theta.shape)
    log_r = -0.5 * (((x - theta0) ** 2) - ((x - theta1) ** 2)).sum(axis=1)
    return x, log_r, x - theta0


@pytest.fixture
def gauss():
    return FunctionSimulator(_gauss, parameters=("a", "b"), observables=("x0", "x1"), ranges=[(-2, 2), (-2, 2)])


def test_ratio_sample_layout_and_labels(gauss):
    ts = sample_ratio(gauss, theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("reference"), n_samples=4001, rng=1)
    assert ts.kind == "ratio" and len(ts) == 4001 and ts.parameters == ("a", "b")
    assert ts.y.sum() == 2001
    np.testing.assert_array_equal(ts.theta1, 0.0)
    # y = 0 rows are drawn at θ0, y = 1 rows at θ1 = 0
    d0 = ts.x[ts.y == 0] - ts.theta0[ts.y == 0]
    assert abs(d0.mean()) < 0.1 and abs(d0.std() - 1) < 0.05
    assert abs(ts.x[ts.y == 1].mean()) < 0.1
    np.testing.assert_allclose(ts.t_xz, ts.x - ts.theta0)
    np.testing.assert_allclose(ts.log_r_xz, (ts.x * ts.theta0).sum(1) - 0.5 * (ts.theta0**2).sum(1))


def test_local_and_test_samples(gauss):
    ts = sample_local(gauss, theta=[0.5, -0.5], n_samples=10, rng=2)
    assert ts.kind == "local" and ts.t_xz.shape == (10, 2)
    np.testing.assert_array_equal(ts.theta0, np.tile([0.5, -0.5], (10, 1)))
    assert sample_test(gauss, theta=[0.0, 0.0], n_samples=5, rng=2).t_xz is None


def test_adapter_rejects_bad_functions():
    with pytest.raises(ConfigError, match="callable"):
        FunctionSimulator(3, parameters=("a",), observables=("x",), ranges=[(0, 1)])
    bad = FunctionSimulator(lambda th, **_: (th, th[:, 0]), parameters=("a",), observables=("x",), ranges=[(0, 1)])
    with pytest.raises(ConfigError, match="must return"):
        bad.simulate(np.zeros(1), 3)
    wrong = FunctionSimulator(
        lambda th, **_: (np.zeros((len(th), 2)), np.zeros(len(th)), np.zeros((len(th), 1))),
        parameters=("a",),
        observables=("x",),
        ranges=[(0, 1)],
    )
    with pytest.raises(ConfigError, match="expected"):
        wrong.simulate(np.zeros(1), 3)
    with pytest.raises(ConfigError, match="outside the parameter range"):
        sample_ratio(GaltonBoard(), theta0=[2.0], theta1=[0.0], n_samples=4)


def test_invalid_runs_are_dropped():
    def flaky(th, *, theta0, theta1, rng):
        n = len(th)
        return np.zeros((n, 1)), np.zeros(n), np.zeros((n, 1)), np.arange(n) % 2 == 0

    sim = FunctionSimulator(flaky, parameters=("a",), observables=("x",), ranges=[(0, 1)])
    assert len(sample_ratio(sim, theta0=[0.5], theta1=[0.0], n_samples=10, rng=1)) == 6


@pytest.mark.slow
def test_galton_trains_through_ml_api():
    """ALICES learns the Galton board's exact log r far better than a constant."""
    pytest.importorskip("torch")
    from lhcgold.ml import TrainConfig, estimator_class

    board = GaltonBoard()
    ts = sample_ratio(board, theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("reference"), n_samples=10_000, rng=3)
    est = estimator_class("alices")(n_hidden=(32, 32))
    est.train(ts, config=TrainConfig(n_epochs=5, seed=1, batch_size=128, initial_lr=3e-3, final_lr=3e-4))
    th0 = np.array([0.6])
    x = board.simulate(th0, 2000, rng=4)
    truth = board.log_ratio(x, th0, board.reference)
    mse = np.mean((est.log_ratio(x, th0) - truth) ** 2)
    assert mse < 0.1 * truth.var(), (mse, truth.var())
