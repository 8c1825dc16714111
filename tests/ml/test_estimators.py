"""Estimator API: shapes, autograd scores, persistence, early stopping, ensembles, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.io.samples import TrainingSet
from lhcgold.ml import (
    ALICES,
    CARL,
    METHODS,
    SALLY,
    Ensemble,
    TrainConfig,
    fit,
    get_method,
    load_model,
)

QUICK = TrainConfig(n_epochs=2, seed=0, batch_size=256)


@pytest.fixture(scope="module")
def alices(ratio_set):
    est = ALICES(n_hidden=(16,))
    est.train(ratio_set.subset(slice(0, 4000)), config=QUICK)
    return est


def test_registry():
    assert get_method("ALICES").requires == frozenset({"r_xz", "t_xz"})
    assert get_method("sally").family == "score" and get_method("scandal").family == "likelihood"
    assert {s.class_name for s in METHODS.values()} >= {
        "SALLY",
        "RASCAL",
        "ALICES",
        "CARL",
        "NDE",
        "SCANDAL",
    }
    with pytest.raises(ConfigError, match="did you mean .*'alices'"):
        get_method("alicse")


def test_log_ratio_shapes_and_reference(alices, test_points):
    x = test_points[0][:30]
    grid = np.array([[0.1, 0.2], [0.0, 0.0], [-0.5, 0.3]])
    one = alices.log_ratio(x, grid[0])
    many = alices.log_ratio(x, grid)
    assert one.shape == (30,) and many.shape == (3, 30)
    np.testing.assert_allclose(many[0], one, atol=1e-6)
    both = alices.log_ratio(x, grid, theta1=grid[0])
    np.testing.assert_allclose(both, many - many[0], atol=1e-6)
    np.testing.assert_allclose(alices.theta_ref, [0.0, 0.0])


def test_score_is_gradient_of_log_ratio(alices, test_points):
    x = test_points[0][:20]
    th = np.array([0.3, -0.4])
    alices.net.double()  # float64 for a clean finite difference
    try:
        eps = 1e-6
        fd = np.stack(
            [(alices.log_ratio(x, th + eps * e) - alices.log_ratio(x, th - eps * e)) / (2 * eps) for e in np.eye(2)],
            axis=1,
        )
        np.testing.assert_allclose(alices.score(x, th), fd, atol=1e-6)
        assert alices.score(x, np.stack([th, th])).shape == (2, 20, 2)
    finally:
        alices.net.float()


def test_save_load_round_trip(alices, tmp_path, test_points):
    path = alices.save(tmp_path / "model")
    man = json.loads((path / "manifest.json").read_text())
    assert man["method"] == "alices" and man["class"] == "ALICES" and man["parameters"] == ["a", "b"]
    assert set(man["scaling"]) == {"x_mean", "x_std", "theta_mean", "theta_std"}
    assert {"lhcgold", "torch", "numpy"} <= set(man["versions"])
    torch.load(path / "weights.pt", weights_only=True)  # plain tensors only
    back = load_model(path)
    x = test_points[0][:10]
    np.testing.assert_array_equal(back.log_ratio(x, [0.2, 0.1]), alices.log_ratio(x, [0.2, 0.1]))
    with pytest.raises(EventFileError, match="exists"):
        alices.save(path)
    alices.save(path, overwrite=True)
    with pytest.raises(EventFileError, match="not a model directory"):
        load_model(tmp_path / "nothing")


def test_sally_save_load(local_set, tmp_path):
    est = SALLY(n_hidden=(8,))
    h = est.train(local_set.subset(slice(0, 2000)), config=QUICK)
    assert len(h.train_loss) == 2 and len(h.val_loss) == 2
    assert h.learning_rate[0] == pytest.approx(1e-3) and h.learning_rate[-1] == pytest.approx(1e-4)
    back = load_model(est.save(tmp_path / "sally"))
    x = local_set.x[:5]
    np.testing.assert_array_equal(back.score(x), est.score(x))
    assert est.score(x).shape == (5, 2)


def test_early_stopping_restores_best_weights():
    """Training pushes w up while the validation loss w² grows: the best epoch is the first."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)

    def loss_fn(b):
        w = model.weight[0, 0]
        loss = (b["a"] * w + b["c"] * w**2).mean()
        return loss, {}

    n = 64
    train = {"a": -np.ones((n,)), "c": np.zeros((n,))}
    val = {"a": np.zeros((8,)), "c": np.ones((8,))}
    cfg = TrainConfig(n_epochs=5, batch_size=16, initial_lr=0.01, final_lr=0.01, optimizer="sgd", seed=0)
    h = fit(model, train, loss_fn, cfg, val_data=val)
    assert h.best_epoch == 0 and h.val_loss[0] < h.val_loss[-1]
    w = float(model.weight.detach()[0, 0])
    assert w**2 == pytest.approx(h.val_loss[0], rel=1e-5)  # the epoch-1 weights, not the last ones
    h2 = fit(
        model,
        train,
        loss_fn,
        TrainConfig(n_epochs=20, batch_size=16, initial_lr=0.01, final_lr=0.01, optimizer="sgd", patience=2),
        val_data=val,
    )
    assert h2.stopped_early and len(h2.train_loss) == 3


def test_missing_gold_and_wrong_kinds(ratio_set, local_set):
    with pytest.raises(ConfigError, match="needs r_xz in the training set"):
        ALICES().train(local_set, config=QUICK)
    with pytest.raises(ConfigError, match="trains on local or density"):
        SALLY().train(ratio_set, config=QUICK)
    no_score = TrainingSet(
        kind="ratio",
        x=ratio_set.x,
        theta0=ratio_set.theta0,
        theta1=ratio_set.theta1,
        y=ratio_set.y,
        log_r_xz=ratio_set.log_r_xz,
    )
    with pytest.raises(ConfigError, match="needs t_xz"):
        ALICES().train(no_score, config=QUICK)
    varying = TrainingSet(
        kind="ratio",
        x=ratio_set.x[:10],
        theta0=ratio_set.theta0[:10],
        theta1=ratio_set.theta0[:10],
        y=ratio_set.y[:10],
    )
    with pytest.raises(ConfigError, match="doubly parameterised"):
        CARL().train(varying, config=QUICK)


def test_bad_data(ratio_set, alices):
    bad = ratio_set.subset(slice(0, 100))
    x = bad.x.copy()
    x[3, 1] = np.nan
    nan_set = TrainingSet(
        kind="ratio",
        x=x,
        theta0=bad.theta0,
        theta1=bad.theta1,
        y=bad.y,
        log_r_xz=bad.log_r_xz,
        t_xz=bad.t_xz,
    )
    with pytest.raises(ConfigError, match="NaN"):
        ALICES().train(nan_set, config=QUICK)
    with pytest.raises(ConfigError, match="empty"):
        ALICES().train(ratio_set.subset(slice(0, 0)), config=QUICK)
    with pytest.raises(ConfigError, match="NaN"):
        alices.log_ratio(x, [0.0, 0.0])
    with pytest.raises(ConfigError, match="2 components"):
        alices.log_ratio(bad.x, [0.0, 0.0, 1.0])
    with pytest.raises(ConfigError, match="not trained"):
        ALICES().log_ratio(bad.x, [0.0, 0.0])
    with pytest.raises(ConfigError):
        TrainConfig(validation_split=1.5)


def test_ensemble_sequential(ratio_set, tmp_path, test_points):
    ens = Ensemble([CARL(n_hidden=(8,)) for _ in range(2)])
    hs = ens.train(ratio_set.subset(slice(0, 2000)), config=QUICK, n_jobs=1)
    assert len(hs) == 2
    x = test_points[0][:10]
    mean, std = ens.log_ratio(x, [0.3, 0.3])
    assert mean.shape == (10,) and np.all(std > 0)  # different seeds -> different members
    back = load_model(ens.save(tmp_path / "ens"))
    np.testing.assert_allclose(back.log_ratio(x, [0.3, 0.3])[0], mean, rtol=1e-6)


@pytest.mark.slow
def test_ensemble_parallel(ratio_set):
    ens = Ensemble([CARL(n_hidden=(8,)) for _ in range(2)])
    ens.train(ratio_set.subset(slice(0, 2000)), config=QUICK, n_jobs=2)
    assert all(m.history is not None for m in ens.members)


@pytest.mark.gpu
def test_trains_and_evaluates_on_gpu(ratio_set):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    est = ALICES(n_hidden=(16,))
    h = est.train(ratio_set.subset(slice(0, 4000)), config=TrainConfig(n_epochs=2, device="cuda", seed=0))
    assert h.device.startswith("cuda")
    est.to("cuda")
    assert est.log_ratio(ratio_set.x[:100], np.zeros((3, 2))).shape == (3, 100)


def test_import_lhcgold_does_not_import_torch():
    code = (
        "import sys, lhcgold, lhcgold.augment, lhcgold.ml, lhcgold.ml.methods, lhcgold.toys, "
        "lhcgold.cli.augment, lhcgold.cli.train; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
