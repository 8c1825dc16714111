"""Models trained and saved by madminer itself (``<name>_settings.json``, ``<name>_state_dict.pt``,
``<name>_x_means.npy``, ``<name>_x_stds.npy``, and for θ-conditional models ``<name>_theta_means.npy``,
``<name>_theta_stds.npy``), read and evaluated as madminer 0.9.6 evaluates them:

* local score models (``estimator_type`` "score": SALLY, SALLINO), evaluated with numpy;
* parameterised ratio models ("parameterized_ratio": CARL, ROLR, ALICE, ALICES, CASCAL, RASCAL) and
  doubly parameterised ones ("double_parameterized_ratio"), evaluated with torch (the score
  t̂ = ∇_θ log r̂ by autograd, as madminer does).

Ensembles saved by madminer (a folder with ``ensemble.json``) are read as :class:`lhcgold.ml.Ensemble`;
likelihood (NDE, SCANDAL) models are a clear error."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import ConfigError, EventFileError

__all__ = [
    "is_madminer_ensemble",
    "load_madminer_ensemble",
    "MadMinerDoubleRatioModel",
    "MadMinerRatioModel",
    "MadMinerScoreModel",
    "is_madminer_model",
    "load_madminer_model",
]


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


def is_madminer_ensemble(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds an ensemble saved by madminer's ``Ensemble.save`` (``ensemble.json``)."""
    return Path(folder).is_dir() and (Path(folder) / "ensemble.json").is_file()


def is_madminer_model(filename: str | os.PathLike[str]) -> bool:
    """Whether ``filename`` names a model saved by madminer (``<filename>_settings.json``)."""
    return not Path(filename).is_dir() and Path(f"{filename}_settings.json").is_file()


class _MadMinerSettings:
    """What every madminer model reads from its ``<name>_settings.json``."""

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings
        self.n_observables = int(settings["n_observables"])
        self.n_parameters = int(settings["n_parameters"])
        feats = settings.get("features")
        self.features = None if feats in (None, "None") else [int(i) for i in feats]
        self.activation = str(settings.get("activation", "tanh"))


class MadMinerScoreModel(_MadMinerSettings):
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
        super().__init__(settings)
        self.n_hidden = tuple(int(h) for h in settings.get("n_hidden", ()))
        self._act = _activation(self.activation)
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
                h = self._act(h)
            if layer is not None:
                h = h @ layer[0].T + layer[1]
        return h


def _torch_activation(name: str) -> Callable[[Any], Any]:
    """madminer 0.9.6's ``get_activation_function`` (with its "sigmoid" → ReLU), as torch functions."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    table: dict[str, Callable[[Any], Any]] = {
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.relu,
        "lrelu": F.leaky_relu,
        "rrelu": lambda a: F.rrelu(a, training=False),
        "elu": F.elu,
        "selu": torch.selu,
        "log_sigmoid": F.logsigmoid,
        "softplus": F.softplus,
    }
    if name not in table:
        raise ConfigError(f"madminer activation {name!r} is not supported; supported: {', '.join(table)}")
    return table[name]


class _MadMinerConditional(_MadMinerSettings):
    """Shared parts of madminer's θ-conditional ratio models: input scaling and the dense network.

    madminer's ``DenseSingleParameterizedRatioModel`` / ``DenseDoublyParameterizedRatioModel``: the
    input is concat(θ scaled [, θ1 scaled], x scaled and restricted to ``features``); an activation
    before every module but the first (dropout modules are the identity at evaluation); the last
    Linear gives one number.
    """

    family = ""
    observables: tuple[str, ...] = ()
    n_theta_inputs = 1

    def __init__(
        self,
        settings: dict[str, Any],
        layers: list[tuple[Any, Any] | None],
        scaling: dict[str, NDArray[np.float64] | None],
    ):
        super().__init__(settings)
        self.n_hidden = tuple(int(h) for h in settings["n_hidden"])
        self._act = _torch_activation(self.activation)
        self.layers = layers
        self.scaling = scaling
        self.theta_ref: NDArray[np.float64] | None = None  # madminer does not save the reference point
        n_in = self.n_observables + self.n_theta_inputs * self.n_parameters
        first = next(layer for layer in layers if layer is not None)
        if first[0].shape[1] != n_in:
            raise ConfigError(
                f"the madminer network takes {first[0].shape[1]} inputs; its settings say {self.n_observables} "
                f"observables and {self.n_parameters} parameters"
            )

    def _x(self, x: ArrayLike) -> Any:
        import torch

        h = np.atleast_2d(np.asarray(x, dtype=np.float64))
        mean, std = self.scaling["x_means"], self.scaling["x_stds"]
        if mean is not None and std is not None:
            if h.shape[1] != len(mean):
                raise ConfigError(f"x has {h.shape[1]} columns, the madminer model was scaled for {len(mean)}")
            h = (h - mean) / std
        if self.features is not None:
            h = h[:, self.features]
        if h.shape[1] != self.n_observables:
            raise ConfigError(f"x has {h.shape[1]} columns, the madminer model uses {self.n_observables}")
        return torch.as_tensor(h, dtype=torch.float64)

    def _thetas(self, theta: ArrayLike) -> tuple[NDArray[np.float64], bool]:
        th = np.asarray(theta, dtype=np.float64)
        single = th.ndim == 1
        th = np.atleast_2d(th)
        if th.ndim != 2 or th.shape[1] != self.n_parameters:
            raise ConfigError(f"theta of shape {np.shape(theta)} for a model of {self.n_parameters} parameters")
        return th, single

    def _scaled_theta(self, theta: Any) -> Any:
        import torch

        mean, std = self.scaling["theta_means"], self.scaling["theta_stds"]
        if mean is None or std is None:
            return theta
        return (theta - torch.as_tensor(mean, dtype=theta.dtype)) / torch.as_tensor(std, dtype=theta.dtype)

    def _f(self, *inputs: Any) -> Any:
        import torch

        h = torch.cat(inputs, dim=1)
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self._act(h)
            if layer is not None:
                h = h @ layer[0].T + layer[1]
        return h[:, 0]


class MadMinerRatioModel(_MadMinerConditional):
    """A madminer-trained ``ParameterizedRatioEstimator`` (CARL, ROLR, ALICE(S), CASCAL, RASCAL).

    log r̂(x|θ) = f(θ, x) against madminer's fixed reference (its ratio sample's θ1, which madminer
    does not save: ``theta_ref`` is None); same interface as lhcgold's parameterised ratio estimators.
    """

    family = "ratio"

    def _log_r(self, xs: Any, theta: Any) -> Any:
        return self._f(self._scaled_theta(theta), xs)

    def _grid(self, x: ArrayLike, theta: ArrayLike, *, grad: bool) -> tuple[NDArray[np.float64], Any, bool]:
        import torch

        xs = self._x(x)
        th, single = self._thetas(theta)
        out, scores = [], []
        for t in th:
            tt = torch.as_tensor(np.broadcast_to(t, (len(xs), self.n_parameters)).copy(), dtype=torch.float64)
            tt.requires_grad_(grad)
            with torch.enable_grad() if grad else torch.no_grad():
                lr = self._log_r(xs, tt)
                if grad:
                    (g,) = torch.autograd.grad(lr.sum(), tt)
                    scores.append(g.numpy())
            out.append(lr.detach().numpy())
        return np.asarray(out), (np.asarray(scores) if grad else None), single

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike | None = None) -> NDArray[np.float64]:
        """log r̂(x|θ0) (minus log r̂(x|θ1) if given): (N,) for one θ0, (T, N) for a grid (T, P)."""
        lr, _, single = self._grid(x, theta0, grad=False)
        if theta1 is not None:
            lr1, _, single1 = self._grid(x, theta1, grad=False)
            lr, single = lr - lr1, single and single1
        return lr[0] if single else lr

    def log_ratio_per_event(
        self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """log r̂(x_i|θ0_i) (minus θ1_i's): θ (N, P) or (P,); returns (N,)."""
        import torch

        xs = self._x(x)

        def one(theta: ArrayLike) -> NDArray[np.float64]:
            th = np.broadcast_to(np.asarray(theta, dtype=np.float64), (len(xs), self.n_parameters))
            with torch.no_grad():
                return np.asarray(self._log_r(xs, torch.as_tensor(th.copy(), dtype=torch.float64)).numpy())

        return one(theta0) if theta1 is None else one(theta0) - one(theta1)

    def score(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """t̂(x|θ) = ∇_θ log r̂(x|θ): (N, P) for θ (P,), (T, N, P) for a grid (T, P)."""
        _, t, single = self._grid(x, theta, grad=True)
        return t[0] if single else t  # type: ignore[no-any-return]


class MadMinerDoubleRatioModel(_MadMinerConditional):
    """A madminer-trained ``DoubleParameterizedRatioEstimator``: log r̂(x|θ0, θ1) = f(θ0, θ1, x) − f(θ1, θ0, x).

    madminer 0.9.6 trains these on standardised θ but evaluates them on raw θ (it does not apply the
    saved ``theta_means``/``theta_stds`` in ``evaluate_log_likelihood_ratio``). The default,
    ``theta_scaling=False``, reproduces madminer's numbers; set the attribute to True to evaluate the
    network on the θ scale it was trained on.
    """

    family = "double_ratio"
    n_theta_inputs = 2
    theta_scaling = False

    def _scaled_theta(self, theta: Any) -> Any:
        return super()._scaled_theta(theta) if self.theta_scaling else theta

    def log_ratio_per_event(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r̂(x_i|θ0_i, θ1_i): θ0, θ1 (N, P) or (P,); returns (N,)."""
        import torch

        xs = self._x(x)
        t0, t1 = (
            self._scaled_theta(
                torch.as_tensor(
                    np.broadcast_to(np.asarray(t, dtype=np.float64), (len(xs), self.n_parameters)).copy(),
                    dtype=torch.float64,
                )
            )
            for t in (theta0, theta1)
        )
        with torch.no_grad():
            return np.asarray((self._f(t0, t1, xs) - self._f(t1, t0, xs)).numpy())

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r̂(x|θ0, θ1) with θ0, θ1 each (P,) or (T, P) (broadcast): (N,) or (T, N)."""
        th0, s0 = self._thetas(theta0)
        th1, s1 = self._thetas(theta1)
        th0, th1 = np.broadcast_arrays(th0, th1)
        out = np.stack([self.log_ratio_per_event(x, a, b) for a, b in zip(th0, th1)])
        return out[0] if s0 and s1 else out


_CLASSES: dict[str, type[_MadMinerConditional]] = {
    "parameterized_ratio": MadMinerRatioModel,
    "double_parameterized_ratio": MadMinerDoubleRatioModel,
}


def _settings(filename: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        settings = json.loads(Path(f"{filename}_settings.json").read_text())
    except (OSError, ValueError) as exc:
        raise EventFileError(f"{filename}_settings.json: cannot read madminer's model settings: {exc}") from exc
    if not isinstance(settings, dict):
        raise EventFileError(f"{filename}_settings.json: not a madminer settings object")
    missing = [k for k in ("n_observables", "n_parameters", "n_hidden") if k not in settings]
    if missing:
        raise EventFileError(f"{filename}_settings.json: no {', '.join(missing)} (not a madminer >= 0.3 model)")
    return settings


def _layers(filename: str | os.PathLike[str], settings: dict[str, Any]) -> list[tuple[Any, Any] | None]:
    """The Linear layers ``layers.<i>`` of the state dict, None in place of each dropout module."""
    import torch

    try:
        state = torch.load(f"{filename}_state_dict.pt", map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:  # pickle errors of a truncated file are RuntimeErrors
        raise EventFileError(f"{filename}_state_dict.pt: cannot read madminer's weights: {exc}") from exc
    n_linear = len(settings["n_hidden"]) + 1
    dropout = float(settings.get("dropout_prob", 0.0) or 0.0) > 1e-9
    layers: list[tuple[Any, Any] | None] = []
    for k in range(n_linear):
        idx = 2 * k + 1 if dropout else k
        if dropout:
            layers.append(None)
        try:
            layers.append((state[f"layers.{idx}.weight"].double(), state[f"layers.{idx}.bias"].double()))
        except KeyError as exc:
            raise EventFileError(f"{filename}_state_dict.pt: no {exc.args[0]} for the settings' layers") from exc
    return layers


def _pair(filename: str | os.PathLike[str], a: str, b: str) -> tuple[NDArray[np.float64] | None, ...]:
    pa, pb = Path(f"{filename}_{a}.npy"), Path(f"{filename}_{b}.npy")
    if not (pa.is_file() and pb.is_file()):
        return None, None
    try:
        return np.asarray(np.load(pa), dtype=np.float64), np.asarray(np.load(pb), dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise EventFileError(f"{filename}: cannot read madminer's scaling {pa.name} / {pb.name}: {exc}") from exc


def load_madminer_model(filename: str | os.PathLike[str]) -> Any:
    """Read a model saved by madminer 0.9.6's ``Estimator.save(filename)``.

    Returns:
        A :class:`MadMinerScoreModel` (SALLY, SALLINO), :class:`MadMinerRatioModel` (CARL, ROLR,
        ALICE, ALICES, CASCAL, RASCAL) or :class:`MadMinerDoubleRatioModel` (their "2" variants).

    Raises:
        ConfigError: a likelihood (NDE, SCANDAL) model, or unsupported settings.
        EventFileError: missing or unreadable files.
    """
    settings = _settings(filename)
    kind = settings.get("estimator_type")
    if kind not in ("score", *_CLASSES):
        raise ConfigError(
            f"{str(filename)!r} is a madminer {kind!r} model; madminer-trained score (SALLY, SALLINO) and "
            "ratio (CARL, ROLR, ALICE(S), CASCAL, RASCAL and their doubly parameterised variants) models "
            "can be read: retrain this one with lhcgold.compat.madminer.ml"
        )
    layers = _layers(filename, settings)
    means, stds = _pair(filename, "x_means", "x_stds")
    if kind == "score":
        numpy_layers = [None if lay is None else (lay[0].numpy(), lay[1].numpy()) for lay in layers]
        return MadMinerScoreModel(settings, numpy_layers, means, stds)
    th_means, th_stds = _pair(filename, "theta_means", "theta_stds")
    scaling = {"x_means": means, "x_stds": stds, "theta_means": th_means, "theta_stds": th_stds}
    return _CLASSES[str(kind)](settings, layers, scaling)


def load_madminer_ensemble(folder: str | os.PathLike[str]) -> Any:
    """Read an ensemble saved by madminer's ``Ensemble.save(folder)`` (``ensemble.json`` and
    ``estimator_<i>_*`` files) as an :class:`lhcgold.ml.Ensemble` of the madminer-trained members.

    Raises:
        EventFileError: an unreadable ``ensemble.json`` or a missing member.
        ConfigError: members of a kind that cannot be read.
    """
    from ...ml.ensemble import Ensemble

    try:
        spec = json.loads((Path(folder) / "ensemble.json").read_text())
        n = int(spec["n_estimators"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EventFileError(f"{Path(folder) / 'ensemble.json'}: not a madminer ensemble description: {exc}") from exc
    if n < 1:
        raise EventFileError(f"{Path(folder) / 'ensemble.json'}: n_estimators must be >= 1, got {n}")
    members = []
    for i in range(n):
        base = Path(folder) / f"estimator_{i}"
        if not is_madminer_model(base):
            raise EventFileError(f"{folder}: member {i} of {n} is missing ({base.name}_settings.json)")
        members.append(load_madminer_model(base))
    return Ensemble(members)
