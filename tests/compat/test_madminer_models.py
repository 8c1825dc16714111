"""Local score models trained and saved by madminer (``<name>_settings.json``, ``_state_dict.pt``,
``_x_means.npy``, ``_x_stds.npy``, as madminer 0.9.6's ``Estimator.save`` writes them) are read and
evaluated as madminer evaluates them: checked against madminer's forward pass re-run in torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lhcgold.compat.madminer.ml import ScoreEstimator, load_estimator  # noqa: E402


def _madminer_sally(path: Path, *, dropout: float, features: list[int] | None, rng: np.random.Generator):
    """Files as madminer's ScoreEstimator.save writes them; returns madminer's forward pass (torch)."""
    n_obs_all = 4
    n_obs = n_obs_all if features is None else len(features)
    hidden = [7, 5]
    layers = torch.nn.ModuleList()
    last = n_obs
    for h in [*hidden, 2]:
        if dropout > 1e-9:
            layers.append(torch.nn.Dropout(dropout))
        layers.append(torch.nn.Linear(last, h))
        last = h
    module = torch.nn.Module()
    module.layers = layers
    torch.save(module.state_dict(), f"{path}_state_dict.pt")
    settings = {
        "n_observables": n_obs,
        "n_parameters": 2,
        "features": features,
        "n_hidden": hidden,
        "activation": "tanh",
        "dropout_prob": dropout,
        "estimator_type": "score",
        "nuisance_mode_default": "keep",
    }
    Path(f"{path}_settings.json").write_text(json.dumps(settings))
    means, stds = rng.normal(size=n_obs_all), rng.uniform(0.5, 2.0, size=n_obs_all)
    np.save(f"{path}_x_means.npy", means)
    np.save(f"{path}_x_stds.npy", stds)

    def forward(x: np.ndarray) -> np.ndarray:  # madminer: scale all columns, restrict features, then the loop
        xs = (x - means) / stds
        if features is not None:
            xs = xs[:, features]
        t = torch.tensor(xs, dtype=torch.float64)
        module.double().eval()
        with torch.no_grad():
            for i, layer in enumerate(module.layers):
                if i > 0:
                    t = torch.tanh(t)
                t = layer(t)
        return t.numpy()

    return forward


@pytest.mark.parametrize(("dropout", "features"), [(0.0, None), (0.1, [0, 2])])
def test_madminer_trained_sally_is_read(tmp_path: Path, dropout: float, features: list[int] | None) -> None:
    rng = np.random.default_rng(11)
    forward = _madminer_sally(tmp_path / "sally", dropout=dropout, features=features, rng=rng)
    x = rng.normal(size=(50, 4)) * 3.0
    model = load_estimator(tmp_path / "sally")
    np.testing.assert_allclose(model.score(x), forward(x), rtol=1e-6, atol=1e-9)
    est = ScoreEstimator()
    est.load(tmp_path / "sally")
    np.testing.assert_allclose(est.evaluate_score(x), forward(x), rtol=1e-6, atol=1e-9)
