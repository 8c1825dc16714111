"""lhcgold.ml estimators through the inference protocols (score(x), log_ratio(x, thetas), observables)."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.exceptions import ConfigError


@pytest.fixture(scope="module")
def sally_model():
    pytest.importorskip("torch")
    from lhcgold.io.samples import TrainingSet
    from lhcgold.ml import SALLY, TrainConfig

    # toy dσ/dx = (1 + θx)² on [-1, 1]; at θ = 0, x is uniform and the joint score is exactly t = 2x
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4000, 1))
    ts = TrainingSet(
        kind="local", x=x, theta0=np.zeros((4000, 1)), t_xz=2 * x, observables=("x",), parameters=("theta",)
    )
    est = SALLY(n_hidden=(16,))
    est.train(ts, config=TrainConfig(n_epochs=15, batch_size=64, seed=1, initial_lr=1e-2, final_lr=1e-3))
    return est


@pytest.mark.slow
def test_trained_sally_through_fisher_and_limits(sally_model, quad_events):
    path, _ = quad_events
    lumi = 0.05
    info = infer.sally_information(path, sally_model, theta=[0.0], luminosity_ifb=lumi).matrix
    truth = infer.truth_information(path, theta=[0.0], luminosity_ifb=lumi).matrix
    assert info[0, 0] == pytest.approx(truth[0, 0], rel=0.05)  # the estimator learns t(x) = 2x
    grid = infer.LimitGrid([(-1.0, 1.0)], 11)
    res = infer.expected_limits(infer.ScoreHistogram(sally_model, bins=8), path, grid=grid, luminosity_ifb=lumi)
    ref = infer.expected_limits(infer.Histogram(["x"], bins=8), path, grid=grid, luminosity_ifb=lumi)
    # a monotonic score gives the same histogram as x itself
    np.testing.assert_allclose(res.q, ref.q, rtol=0.05, atol=0.05)


@pytest.mark.slow
def test_trained_model_on_other_observables(sally_model, two_param_events):
    path, _ = two_param_events
    with pytest.raises(ConfigError, match="trained on observables"):
        infer.expected_limits(infer.ScoreHistogram(sally_model), path, grid=infer.LimitGrid([(-1, 1), (-1, 1)], 3))


@pytest.fixture(scope="module")
def alices_model():
    pytest.importorskip("torch")
    from lhcgold.io.samples import TrainingSet
    from lhcgold.ml import ALICES, TrainConfig

    rng = np.random.default_rng(3)
    n = 6000

    def sample(th):  # x ~ (1 + θx)² / σ(θ) on [-1, 1] by accept-reject, one x per θ
        out = np.empty(len(th))
        todo = np.arange(len(th))
        while todo.size:
            x = rng.uniform(-1, 1, todo.size)
            ok = rng.uniform(0, 4, todo.size) < (1 + th[todo] * x) ** 2
            out[todo[ok]] = x[ok]
            todo = todo[~ok]
        return out

    th0 = rng.uniform(-1, 1, n)
    y = rng.integers(0, 2, n).astype(float)  # y = 1: drawn at θ1 = 0
    x = np.where(y == 1, sample(np.zeros(n)), sample(th0))
    sig = 2 + 2 * th0**2 / 3
    log_r = np.log((1 + th0 * x) ** 2 / sig) - np.log(0.5)
    t = 2 * x / (1 + th0 * x) - (4 * th0 / 3) / sig
    ts = TrainingSet(
        kind="ratio",
        x=x[:, None],
        theta0=th0[:, None],
        theta1=np.zeros((n, 1)),
        y=y,
        log_r_xz=log_r,
        t_xz=t[:, None],
        observables=("x",),
        parameters=("theta",),
    )
    est = ALICES(n_hidden=(32, 32))
    est.train(ts, config=TrainConfig(n_epochs=12, batch_size=128, seed=1, initial_lr=3e-3, final_lr=3e-4))
    return est


@pytest.mark.slow
def test_trained_alices_through_limits(alices_model, quad_events):
    path, _ = quad_events
    # away from θ = ±1, where p(x|θ) has a zero at the edge that a smooth network cannot follow
    grid = infer.LimitGrid([(-0.4, 0.8)], 13)
    lumi = 0.05
    res = infer.expected_limits(
        infer.NeuralRatio(alices_model), path, grid=grid, luminosity_ifb=lumi, asimov_theta=[0.5]
    )

    class Toy:
        observables = ("x",)

        def truth_components(self, x):
            return np.stack([np.ones(len(x)), 2 * x[:, 0], x[:, 0] ** 2], axis=1)

        def xsec_components(self):
            return np.array([2.0, 0.0, 2.0 / 3.0])

    truth = infer.expected_limits(infer.Truth(Toy()), path, grid=grid, luminosity_ifb=lumi, asimov_theta=[0.5])
    assert abs(res.best_fit[0] - 0.5) <= 0.2
    # the learned likelihood ratio follows the exact q(θ) (loosely: 12 epochs of training)
    assert np.all(np.abs(res.q - truth.q) <= 1.0 + 0.3 * truth.q)
    info = infer.ml_information(path, alices_model, theta=[0.0], luminosity_ifb=lumi).matrix
    exact = infer.truth_information(path, theta=[0.0], luminosity_ifb=lumi).matrix
    assert info[0, 0] == pytest.approx(exact[0, 0], rel=0.25)
