"""Models trained and saved by madminer itself (``<name>_settings.json``, ``<name>_state_dict.pt``,
``<name>_x_means.npy``, ``<name>_x_stds.npy``). Local score models (SALLY, SALLINO) are read and
evaluated as madminer 0.9.6 evaluates them; other kinds are a clear error for now."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import ConfigError, EventFileError

__all__ = ["MadMinerScoreModel", "is_madminer_model", "load_madminer_model"]


def _activation(name: str) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    relu = lambda a: np.maximum(a, 0.0)  # noqa: E731
    table: dict[str, Callable[[NDArray[np.float64]], NDArray[np.float64]]] = {
        "tanh": np.tanh,
        "relu": relu,
        "sigmoid": relu,  # madminer 0.9.6 maps "sigmoid" to ReLU; its models were trained that way
        "elu": lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0.0))),
        "softplus": lambda a: np.logaddexp(0.0, a),
        "lrelu": lambda a: np.where(a > 0, a, 0.01 * a),
        "log_sigmoid": lambda a: -np.logaddexp(0.0, -a),
    }
    if name not in table:
        raise ConfigError(f"madminer activation {name!r} is not supported; supported: {', '.join(table)}")
    return table[name]


def is_madminer_model(filename: str | os.PathLike[str]) -> bool:
    """Whether ``filename`` names a model saved by madminer (``<filename>_settings.json``)."""
    return not Path(filename).is_dir() and Path(f"{filename}_settings.json").is_file()


class MadMinerScoreModel:
    """A madminer-trained local score model (``DenseLocalScoreModel``), evaluated with numpy.

    Attributes:
        family: "score".
        observables: empty (madminer models take the observables by position).
        features: the observable columns the model uses (None: all).
    """

    family = "score"
    observables: tuple[str, ...] = ()

    def __init__(
        self,
        settings: dict[str, Any],
        layers: list[tuple[NDArray[np.float64], NDArray[np.float64]] | None],
        x_means: NDArray[np.float64] | None,
        x_stds: NDArray[np.float64] | None,
    ):
        self.settings = settings
        self.n_observables = int(settings["n_observables"])
        self.n_parameters = int(settings["n_parameters"])
        feats = settings.get("features")
        self.features = None if feats in (None, "None") else [int(i) for i in feats]
        self.activation = _activation(str(settings.get("activation", "tanh")))
        self.layers = layers  # None marks a dropout layer (the identity at evaluation)
        self.x_means, self.x_stds = x_means, x_stds

    def score(self, x: ArrayLike, theta: ArrayLike | None = None) -> NDArray[np.float64]:
        """t̂(x), (n_events, n_parameters): scaling of all columns, then ``features``, then the network."""
        h = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.x_means is not None and self.x_stds is not None:
            h = (h - self.x_means) / self.x_stds
        if self.features is not None:
            h = h[:, self.features]
        if h.shape[1] != self.n_observables:
            raise ConfigError(f"x has {h.shape[1]} columns, the madminer model uses {self.n_observables}")
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self.activation(h)
            if layer is not None:
                h = h @ layer[0].T + layer[1]
        return h


def load_madminer_model(filename: str | os.PathLike[str]) -> MadMinerScoreModel:
    """Read a model saved by madminer's ``Estimator.save(filename)`` (local score models).

    Raises:
        ConfigError: another kind of madminer model (not readable yet) or unsupported settings.
        EventFileError: missing or unreadable files.
    """
    try:
        settings = json.loads(Path(f"{filename}_settings.json").read_text())
    except (OSError, ValueError) as exc:
        raise EventFileError(f"{filename}_settings.json: cannot read madminer's model settings: {exc}") from exc
    kind = settings.get("estimator_type")
    if kind != "score":
        raise ConfigError(
            f"{str(filename)!r} is a madminer {kind!r} model; reading madminer-trained models is "
            "supported for local score models (SALLY, SALLINO) only: retrain it with "
            "lhcgold.compat.madminer.ml"
        )
    import torch

    try:
        state = torch.load(f"{filename}_state_dict.pt", map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise EventFileError(f"{filename}_state_dict.pt: cannot read madminer's weights: {exc}") from exc
    n_linear = len(settings["n_hidden"]) + 1
    dropout = float(settings.get("dropout_prob", 0.0)) > 1e-9
    layers: list[tuple[NDArray[np.float64], NDArray[np.float64]] | None] = []
    for k in range(n_linear):
        idx = 2 * k + 1 if dropout else k
        if dropout:
            layers.append(None)
        try:
            w = state[f"layers.{idx}.weight"].double().numpy()
            b = state[f"layers.{idx}.bias"].double().numpy()
        except KeyError as exc:
            raise EventFileError(f"{filename}_state_dict.pt: no {exc.args[0]} for the settings' layers") from exc
        layers.append((w, b))
    means = stds = None
    if Path(f"{filename}_x_means.npy").is_file() and Path(f"{filename}_x_stds.npy").is_file():
        means, stds = np.load(f"{filename}_x_means.npy"), np.load(f"{filename}_x_stds.npy")
    return MadMinerScoreModel(settings, layers, means, stds)
