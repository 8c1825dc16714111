"""Make the madminer-trained reference models in this folder (run with madminer 0.9.6 importable).

    python make_reference.py OUTDIR

Trains tiny estimators with madminer's own classes on a fixed synthetic sample (2 parameters,
4 observables), saves them with madminer's ``Estimator.save`` and stores madminer's own evaluations
on fixed inputs in ``<name>_expected.npz`` (x, thetas, log r̂ or t̂ as madminer returns them), which
tests/compat/test_madminer_ratio_models.py compares lhcgold's reader against.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from madminer.ml import DoubleParameterizedRatioEstimator, ParameterizedRatioEstimator, ScoreEstimator


def sample(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    x = rng.normal(size=(n, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -2.0, 5.0]
    theta0 = rng.uniform(-1.0, 1.0, size=(n, 2))
    theta1 = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = rng.integers(0, 2, size=(n, 1)).astype(float)
    log_r = 0.3 * theta0[:, :1] * x[:, :1] - 0.2 * theta0[:, 1:] * x[:, 2:3]
    t = np.concatenate([0.3 * x[:, :1], -0.2 * x[:, 2:3]], axis=1)
    return {"x": x, "theta0": theta0, "theta1": theta1, "y": y, "r_xz": np.exp(log_r), "t_xz": t}


def main(out: Path) -> None:
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    d = sample(rng, 2000)
    out.mkdir(parents=True, exist_ok=True)
    x_eval = rng.normal(size=(40, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -2.0, 5.0]
    thetas = np.array([[0.0, 0.0], [0.5, -0.3], [-0.8, 0.9]])
    kw = {"n_epochs": 3, "batch_size": 128, "n_workers": 0, "verbose": "none"}

    for name, method, est in (
        ("alices", "alices", ParameterizedRatioEstimator(n_hidden=(12, 8), activation="tanh")),
        (
            "carl_dropout_features",
            "carl",
            ParameterizedRatioEstimator(features=[0, 2, 3], n_hidden=(10,), activation="relu", dropout_prob=0.1),
        ),
    ):
        est.train(method, d["x"], d["y"], d["theta0"], r_xz=d["r_xz"], t_xz=d["t_xz"], **kw)
        est.save(str(out / name))
        log_r, _ = est.evaluate_log_likelihood_ratio(x_eval, thetas, test_all_combinations=True)
        th_each = np.repeat(thetas[1:2], len(x_eval), axis=0)
        t_hat = est.evaluate_score(x_eval, th_each)
        np.savez(out / f"{name}_expected.npz", x=x_eval, thetas=thetas, log_r=log_r, t_theta=thetas[1], t_hat=t_hat)

    est2 = DoubleParameterizedRatioEstimator(n_hidden=(8, 8), activation="tanh")
    est2.train("carl", d["x"], d["y"], d["theta0"], d["theta1"], **kw)
    est2.save(str(out / "carl2"))
    log_r2, _, _ = est2.evaluate_log_likelihood_ratio(x_eval, thetas, thetas[::-1], test_all_combinations=True)
    np.savez(out / "carl2_expected.npz", x=x_eval, theta0=thetas, theta1=thetas[::-1], log_r=log_r2)

    sally = ScoreEstimator(n_hidden=(8,), activation="tanh")
    sally.train("sally", d["x"], d["t_xz"], **kw)
    sally.save(str(out / "sally"))
    np.savez(out / "sally_expected.npz", x=x_eval, t_hat=sally.evaluate_score(x_eval))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
