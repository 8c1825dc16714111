"""Estimators: parameterised ratio, doubly parameterised ratio, local score, likelihood.

Each estimator family is one class; the methods of the papers are subclasses that fix the
method (``ALICES(...)`` is a :class:`ParameterizedRatioEstimator` trained with the ALICES
loss). Any estimator trains on a :class:`~lhcgold.io.samples.TrainingSet`, evaluates on
numpy arrays (float64 out, batched under ``torch.no_grad``), and saves to a model directory.

Example:
    >>> from lhcgold.ml import ALICES, TrainConfig          # doctest: +SKIP
    >>> est = ALICES(n_hidden=(60, 60))                      # doctest: +SKIP
    >>> history = est.train(training_set, config=TrainConfig(n_epochs=10))  # doctest: +SKIP
    >>> est.log_ratio(x, theta_grid)      # (T, N)           # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError, unknown_name_error
from ..io.lhe_weights import ratio_coefficients
from ..io.models import write_model_dir
from ..io.samples import TrainingSet
from . import losses as L
from .methods import MethodSpec, check_training_set, get_method
from .nets import ACTIVATIONS, DoubleRatioNet, FlowNet, MorphingRatioNet, RatioNet, ScoreNet
from .trainer import TrainConfig, TrainingHistory, fit, resolve_device

__all__ = [
    "ALICE",
    "ALICE2",
    "ALICES",
    "ALICES2",
    "CARL",
    "CARL2",
    "CASCAL",
    "CASCAL2",
    "NDE",
    "ROLR",
    "ROLR2",
    "RASCAL",
    "RASCAL2",
    "SALLINO",
    "SALLY",
    "SCANDAL",
    "DoubleParameterizedRatioEstimator",
    "Estimator",
    "LikelihoodEstimator",
    "MorphingAwareRatioEstimator",
    "NuisanceRatioEstimator",
    "ParameterizedRatioEstimator",
    "ScoreEstimator",
    "estimator_class",
]

logger = logging.getLogger(__name__)
_EVAL_BATCH = 1 << 17
_MAX_WIDTH = 1 << 16  # wider layers are a typo, not a network (and would exhaust memory)


def _f64(a: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(a, dtype=np.float64)


class Estimator:
    """Base class: features, architecture, scaling, training, evaluation plumbing, saving.

    Args:
        method: the method name (fixed by the paper-named subclasses).
        features: indices of the observables to use (default all).
        n_hidden: hidden layer widths.
        activation: activation name (tanh, relu, elu, ...).
        dropout: dropout probability.
    """

    family: ClassVar[str] = ""
    default_method: ClassVar[str | None] = None

    def __init__(
        self,
        method: str | None = None,
        *,
        features: Sequence[int] | None = None,
        n_hidden: Sequence[int] = (100,),
        activation: str = "tanh",
        dropout: float = 0.0,
    ):

        name = method or self.default_method
        if name is None:
            raise ConfigError(f"{type(self).__name__} needs a method")
        self.spec: MethodSpec = get_method(name)
        if self.spec.family != self.family:
            raise ConfigError(f"method {name!r} trains a {self.spec.family} estimator, not {type(self).__name__}")
        if activation not in ACTIVATIONS:
            raise unknown_name_error("activation", activation, ACTIVATIONS)
        self.features = None if features is None else [int(i) for i in features]
        if self.features is not None and (not self.features or min(self.features) < 0):
            raise ConfigError(f"features must be non-negative observable indices, got {list(features or [])}")
        self.n_hidden = tuple(int(h) for h in n_hidden)
        if any(h < 1 or h > _MAX_WIDTH for h in self.n_hidden):
            raise ConfigError(f"hidden layer widths must be integers in [1, {_MAX_WIDTH}], got {list(self.n_hidden)}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ConfigError(f"dropout must lie in [0, 1), got {dropout}")
        self.activation = activation
        self.dropout = float(dropout)
        self.net: torch.nn.Module | None = None
        self.observables: tuple[str, ...] = ()
        self.parameters: tuple[str, ...] = ()
        self.n_observables = 0
        self.n_parameters = 0
        self.history: TrainingHistory | None = None
        self.theta_ref: NDArray[np.float64] | None = None
        self.alpha = 1.0

    @property
    def method(self) -> str:
        return self.spec.name

    # ---------------------------------------------------------------- construction
    def _build(self) -> torch.nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _extra_manifest(self) -> dict[str, Any]:
        return {}

    def _check_fitted(self) -> torch.nn.Module:
        if self.net is None:
            raise ConfigError(f"{type(self).__name__} is not trained (call train() or load_model())")
        return self.net

    def _x(self, x: ArrayLike, *, full: bool = True) -> NDArray[np.float64]:
        self._check_fitted()
        xx = _f64(x)
        if xx.ndim == 1:
            xx = xx[:, None]
        if xx.ndim != 2:
            raise ConfigError(f"x must have shape (N, O), got {xx.shape}")
        if full and self.features is not None and xx.shape[1] != self.n_observables:
            xx = xx[:, self.features]
        if xx.shape[1] != self.n_observables:
            raise ConfigError(f"x has {xx.shape[1]} columns, the estimator uses {self.n_observables}")
        if len(xx) == 0:
            raise ConfigError("x is empty")
        if not np.all(np.isfinite(xx)):
            raise ConfigError(f"x contains {int((~np.isfinite(xx)).sum())} NaN or infinite values")
        return xx

    def _theta(self, theta: ArrayLike, name: str = "theta") -> tuple[NDArray[np.float64], bool]:
        th = _f64(theta)
        single = th.ndim == 1
        th = np.atleast_2d(th)
        if th.shape[1] != self.n_parameters:
            raise ConfigError(f"{name} must have {self.n_parameters} components, got shape {th.shape}")
        if not np.all(np.isfinite(th)):
            raise ConfigError(f"{name} contains NaN or infinite values")
        return th, single

    # ---------------------------------------------------------------- training
    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        raise NotImplementedError  # pragma: no cover

    def train(
        self,
        data: TrainingSet,
        *,
        config: TrainConfig | None = None,
        progress: bool = False,
        validation: TrainingSet | None = None,
    ) -> TrainingHistory:
        """Train on a training set.

        Raises:
            ConfigError: the set lacks what the method needs, is empty, or holds NaN/inf.
        """
        cfg = config or TrainConfig()
        if len(data) == 0:
            raise ConfigError("the training set is empty")
        check_training_set(self.spec, data.kind, data.gold, data.y is not None)
        x = data.x
        if self.features is not None:
            if max(self.features) >= x.shape[1] or min(self.features) < 0:
                raise ConfigError(f"features {self.features} out of range for {x.shape[1]} observables")
        self.observables = tuple(data.observables) or tuple(f"x{i}" for i in range(x.shape[1]))
        if self.features is not None:
            self.observables = tuple(self.observables[i] for i in self.features)
        self.n_observables = len(self.observables)
        self.parameters = tuple(data.parameters) or tuple(
            f"theta{i}" for i in range((data.theta0 if data.theta0 is not None else data.t_xz).shape[1])
        )  # type: ignore[union-attr]
        self.n_parameters = len(self.parameters)
        self.alpha = cfg.alpha
        arrays = self._training_arrays(data)
        val_arrays = self._training_arrays(validation) if validation is not None else None
        for name, arr in arrays.items():
            if not np.all(np.isfinite(arr)):
                raise ConfigError(
                    f"training data {name!r} contains {int((~np.isfinite(arr)).sum())} NaN or infinite values"
                )
        if cfg.seed is not None:
            torch.manual_seed(cfg.seed)
        self.net = self._build()
        self._init_scaling(arrays)
        self.history = fit(self.net, arrays, self._loss, cfg, progress=progress, val_data=val_arrays)
        self.net.to("cpu")
        return self.history

    def _init_scaling(self, arrays: dict[str, NDArray[np.float64]]) -> None:
        net = self._check_fitted()
        x = arrays["x"]
        std = x.std(axis=0)
        net.x_mean.copy_(torch.as_tensor(x.mean(axis=0)))
        net.x_std.copy_(torch.as_tensor(np.where(std > 1e-12 * np.maximum(np.abs(x).max(0), 1.0), std, 1.0)))
        th = arrays.get("theta0")
        if th is not None and self._scale_parameters:
            if "theta1" in arrays and self.family == "double_ratio":
                th = np.concatenate([th, arrays["theta1"]])
            s = th.std(axis=0)
            net.theta_mean.copy_(torch.as_tensor(th.mean(axis=0)))
            net.theta_std.copy_(torch.as_tensor(np.where(s > 0, s, 1.0)))

    _scale_parameters: ClassVar[bool] = True

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError  # pragma: no cover

    # ---------------------------------------------------------------- evaluation helpers
    def _device(self) -> torch.device:
        return next(self._check_fitted().parameters()).device

    def _batched(self, fn: Any, arrays: Sequence[NDArray[np.float64]], *, grad: bool = False) -> NDArray[np.float64]:
        net = self._check_fitted()
        net.eval()
        dev = self._device()
        dtype = next(net.parameters()).dtype
        outs = []
        n = len(arrays[0])
        for lo in range(0, n, _EVAL_BATCH):
            ts = [torch.tensor(a[lo : lo + _EVAL_BATCH], dtype=dtype, device=dev) for a in arrays]
            if grad:
                out = fn(*ts)
            else:
                with torch.no_grad():
                    out = fn(*ts)
            outs.append(out.detach().cpu().double().numpy())
        return np.concatenate(outs)

    # ---------------------------------------------------------------- persistence
    def manifest(self) -> dict[str, Any]:
        """What ``save`` writes to manifest.json (besides versions)."""
        return {
            "class": type(self).__name__,
            "family": self.family,
            "method": self.method,
            "observables": list(self.observables),
            "parameters": list(self.parameters),
            "features": self.features,
            "n_hidden": list(self.n_hidden),
            "activation": self.activation,
            "dropout": self.dropout,
            "alpha": self.alpha,
            "theta_ref": None if self.theta_ref is None else self.theta_ref.tolist(),
            "extra": self._extra_manifest(),
            "scaling": {
                k: v.detach().cpu().double().numpy().tolist()
                for k, v in self._check_fitted().named_buffers()
                if k in ("x_mean", "x_std", "theta_mean", "theta_std", "t_scale")
            },
            "history": None if self.history is None else self.history.to_dict(),
        }

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to a model directory (manifest.json + weights.pt), atomically."""

        return write_model_dir(path, self.manifest(), self._check_fitted().state_dict(), overwrite=overwrite)

    @classmethod
    def _from_manifest(cls, man: dict[str, Any]) -> Estimator:
        est = cls.__new__(cls)
        Estimator.__init__(
            est,
            man["method"],
            features=man.get("features"),
            n_hidden=man["n_hidden"],
            activation=man["activation"],
            dropout=man.get("dropout", 0.0),
        )
        est.observables = tuple(man["observables"])
        est.parameters = tuple(man["parameters"])
        est.n_observables, est.n_parameters = len(est.observables), len(est.parameters)
        est.alpha = man.get("alpha", 1.0)
        est.theta_ref = None if man.get("theta_ref") is None else np.asarray(man["theta_ref"], dtype=np.float64)
        est._load_extra(man.get("extra", {}))
        est.net = est._build()
        return est

    def _load_extra(self, extra: dict[str, Any]) -> None:
        pass

    def to(self, device: str) -> Estimator:
        """Move the network (e.g. to "cuda" for fast evaluation); returns self."""
        self._check_fitted().to(resolve_device(device))
        return self


# ==================================================================================== ratios
class ParameterizedRatioEstimator(Estimator):
    """r̂(x|θ) = p(x|θ)/p(x|θ_ref), θ_ref the fixed denominator of the ratio sample.

    Methods: carl, rolr, alice, alices, rascal, cascal.
    """

    family = "ratio"

    def _build(self) -> torch.nn.Module:
        return RatioNet(self.n_observables, self.n_parameters, self.n_hidden, self.activation, self.dropout)

    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        check_training_set(self.spec, ts.kind, ts.gold, ts.y is not None)
        if ts.theta0 is None or ts.theta1 is None:
            raise ConfigError(f"method {self.method!r} needs theta0 and theta1 (a ratio sample)")
        ref = ts.theta1[0]
        if not np.allclose(ts.theta1, ref, rtol=0, atol=1e-12):
            raise ConfigError(
                f"{type(self).__name__} needs one fixed denominator theta1; this sample has "
                "several: use a doubly parameterised method (e.g. 'alices2')"
            )
        self.theta_ref = np.asarray(ref, dtype=np.float64)
        x = ts.x if self.features is None else ts.x[:, self.features]
        out = {"x": x, "theta0": ts.theta0}
        if ts.y is not None:
            out["y"] = ts.y
        if ts.log_r_xz is not None:
            out["log_r_xz"] = ts.log_r_xz
        if ts.t_xz is not None and self.spec.score_term:
            out["t_xz"] = ts.t_xz
        return out

    def _base(self, lr: torch.Tensor, b: dict[str, torch.Tensor]) -> torch.Tensor:
        base = self.spec.base
        if base == "carl":
            return L.carl_loss(lr, b["y"])
        if base == "alice":
            return L.alice_loss(lr, b["log_r_xz"])
        return L.rolr_loss(lr, b["y"], b["log_r_xz"])

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        net = self._check_fitted()
        th = b["theta0"]
        if self.spec.score_term:
            th = th.clone().requires_grad_(True)
        lr = net(b["x"], th)
        base = self._base(lr, b)
        if not self.spec.score_term:
            return base, {"base": base}
        (t_hat,) = torch.autograd.grad(lr.sum(), th, create_graph=True)
        scale = net.theta_std.to(t_hat.dtype)
        y = b.get("y")
        w = (1.0 - y) if y is not None else None
        sc = L.score_mse(t_hat * scale, b["t_xz"] * scale, w)
        return base + self.alpha * sc, {"base": base, "score": sc}

    # ------------------------------------------------------------ evaluation
    def _log_r(self, x: NDArray[np.float64], th: NDArray[np.float64]) -> NDArray[np.float64]:
        """log r̂(x|θ_t) vs the reference, for every θ_t and every x: (T, N)."""
        net = self._check_fitted()
        n, t = len(x), len(th)
        xs = np.broadcast_to(x[None], (t, n, x.shape[1])).reshape(t * n, -1)
        ths = np.repeat(th, n, axis=0)
        return self._batched(lambda a, b: net(a, b), [xs, ths]).reshape(t, n)

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike | None = None) -> NDArray[np.float64]:
        """log r̂(x|θ0, θ1) for every θ0 (and θ1) and every event.

        Args:
            x: observables (N, O) (all columns of the sample; ``features`` are applied).
            theta0: (P,) or a grid (T, P).
            theta1: None (the training reference θ_ref) or (P,) / (T, P) broadcast against θ0.

        Returns:
            (N,) for a single θ0 (and θ1), else (T, N).
        """
        xx = self._x(x)
        th0, s0 = self._theta(theta0, "theta0")
        out = self._log_r(xx, th0)
        single = s0
        if theta1 is not None:
            th1, s1 = self._theta(theta1, "theta1")
            single = s0 and s1
            out = out - self._log_r(xx, th1)
        return out[0] if single else out

    def log_ratio_per_event(
        self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """log r̂(x_i|θ0_i, θ1_i), one parameter point per event: θ (N, P) or (P,); returns (N,)."""
        net = self._check_fitted()
        xx = self._x(x)
        th0 = np.broadcast_to(self._theta(theta0, "theta0")[0], (len(xx), self.n_parameters))
        out = self._batched(lambda a, b: net(a, b), [xx, th0])
        if theta1 is not None:
            th1 = np.broadcast_to(self._theta(theta1, "theta1")[0], (len(xx), self.n_parameters))
            out = out - self._batched(lambda a, b: net(a, b), [xx, th1])
        return out

    def score(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """t̂(x|θ) = ∇_θ log r̂(x|θ): (N, P) for θ (P,), (T, N, P) for a grid (T, P)."""
        net = self._check_fitted()
        xx = self._x(x)
        th, single = self._theta(theta)
        n, t = len(xx), len(th)
        xs = np.broadcast_to(xx[None], (t, n, xx.shape[1])).reshape(t * n, -1)
        ths = np.repeat(th, n, axis=0)

        def grad(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            b = b.clone().requires_grad_(True)
            with torch.enable_grad():
                (g,) = torch.autograd.grad(net(a, b).sum(), b)
            return g

        out = self._batched(grad, [xs, ths], grad=True).reshape(t, n, self.n_parameters)
        return out[0] if single else out


class MorphingAwareRatioEstimator(ParameterizedRatioEstimator):
    """A ratio estimator built on the morphing structure (MadMiner's morphing-aware model).

    Args:
        components: morphing exponents (C, P).
        morphing_matrix: (C, B) matrix giving the basis weights W_b(θ) = Σ_c f_c(θ) M[c, b].
        method: any ratio method (default "alices").
    """

    _scale_parameters = False

    def __init__(
        self,
        method: str | None = "alice",
        *,
        components: ArrayLike | None = None,
        morphing_matrix: ArrayLike | None = None,
        basis: ArrayLike | None = None,
        **kwargs: Any,
    ):
        super().__init__(method, **kwargs)
        if components is None or morphing_matrix is None:
            raise ConfigError(
                "MorphingAwareRatioEstimator needs components and morphing_matrix "
                "(use MorphingAwareRatioEstimator.from_setup(setup))"
            )
        self.components = np.asarray(components, dtype=np.int64)
        self.morphing_matrix = np.asarray(morphing_matrix, dtype=np.float64)
        self.basis = None if basis is None else np.asarray(basis, dtype=np.float64)

    @classmethod
    def from_setup(cls, setup: Any, method: str = "alice", **kwargs: Any) -> MorphingAwareRatioEstimator:
        """From a :class:`~lhcgold.config.Setup` with morphing."""
        m = setup.morpher
        return cls(method, components=m.components, morphing_matrix=m.matrix, basis=m.basis, **kwargs)

    def _reference_index(self) -> int:
        if self.basis is None or self.theta_ref is None:
            return -1
        d = np.linalg.norm(self.basis - self.theta_ref[None], axis=1)
        return int(np.argmin(d)) if d.min() < 1e-9 else -1

    def _build(self) -> torch.nn.Module:
        return MorphingRatioNet(
            self.n_observables,
            self.n_parameters,
            self.n_hidden,
            self.activation,
            torch.as_tensor(self.components),
            torch.as_tensor(self.morphing_matrix),
            self.dropout,
            reference_index=self._reference_index(),
        )

    def _extra_manifest(self) -> dict[str, Any]:
        return {
            "components": self.components.tolist(),
            "morphing_matrix": self.morphing_matrix.tolist(),
            "basis": None if self.basis is None else self.basis.tolist(),
        }

    def _load_extra(self, extra: dict[str, Any]) -> None:
        self.components = np.asarray(extra["components"], dtype=np.int64)
        self.morphing_matrix = np.asarray(extra["morphing_matrix"], dtype=np.float64)
        self.basis = None if extra.get("basis") is None else np.asarray(extra["basis"], dtype=np.float64)


class DoubleParameterizedRatioEstimator(Estimator):
    """r̂(x|θ0, θ1), antisymmetric by construction.

    Methods: carl2, rolr2, alice2, alices2, rascal2, cascal2.
    """

    family = "double_ratio"

    def _build(self) -> torch.nn.Module:
        return DoubleRatioNet(self.n_observables, self.n_parameters, self.n_hidden, self.activation, self.dropout)

    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        check_training_set(self.spec, ts.kind, ts.gold, ts.y is not None)
        if ts.theta0 is None or ts.theta1 is None:
            raise ConfigError(f"method {self.method!r} needs theta0 and theta1")
        x = ts.x if self.features is None else ts.x[:, self.features]
        out = {"x": x, "theta0": ts.theta0, "theta1": ts.theta1}
        for k in ("y", "log_r_xz"):
            if getattr(ts, k) is not None:
                out[k] = getattr(ts, k)
        if self.spec.score_term:
            out["t_xz"], out["t_xz1"] = ts.t_xz, ts.t_xz1  # type: ignore[assignment]
        return out

    _base = ParameterizedRatioEstimator._base

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        net = self._check_fitted()
        th0, th1 = b["theta0"], b["theta1"]
        if self.spec.score_term:
            th0 = th0.clone().requires_grad_(True)
            th1 = th1.clone().requires_grad_(True)
        lr = net(b["x"], th0, th1)
        base = self._base(lr, b)
        if not self.spec.score_term:
            return base, {"base": base}
        g0, g1 = torch.autograd.grad(lr.sum(), [th0, th1], create_graph=True)
        scale = net.theta_std.to(lr.dtype)
        y = b.get("y")
        w0 = (1.0 - y) if y is not None else None
        sc = L.score_mse(g0 * scale, b["t_xz"] * scale, w0) + L.score_mse(-g1 * scale, b["t_xz1"] * scale, y)
        return base + self.alpha * sc, {"base": base, "score": sc}

    def log_ratio_per_event(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r̂(x_i|θ0_i, θ1_i) with one pair per event: θ0, θ1 (N, P) or (P,); returns (N,)."""
        net = self._check_fitted()
        xx = self._x(x)
        th0 = np.broadcast_to(self._theta(theta0, "theta0")[0], (len(xx), self.n_parameters))
        th1 = np.broadcast_to(self._theta(theta1, "theta1")[0], (len(xx), self.n_parameters))
        return self._batched(lambda a, b, c: net(a, b, c), [xx, th0, th1])

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r̂(x|θ0,θ1): θ0, θ1 each (P,) or (T, P) (broadcast); (N,) or (T, N)."""
        net = self._check_fitted()
        xx = self._x(x)
        th0, s0 = self._theta(theta0, "theta0")
        th1, s1 = self._theta(theta1, "theta1")
        th0, th1 = np.broadcast_arrays(th0, th1)
        n, t = len(xx), len(th0)
        xs = np.broadcast_to(xx[None], (t, n, xx.shape[1])).reshape(t * n, -1)
        out = self._batched(lambda a, b, c: net(a, b, c), [xs, np.repeat(th0, n, 0), np.repeat(th1, n, 0)])
        out = out.reshape(t, n)
        return out[0] if (s0 and s1) else out


# ==================================================================================== score
class ScoreEstimator(Estimator):
    """Local score t̂(x) ≈ t(x|θ_ref) (SALLY, SALLINO)."""

    family = "score"
    _scale_parameters = False

    def _build(self) -> torch.nn.Module:
        return ScoreNet(self.n_observables, self.n_parameters, self.n_hidden, self.activation, self.dropout)

    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        check_training_set(self.spec, ts.kind, ts.gold, ts.y is not None)
        if ts.theta0 is not None:
            ref = ts.theta0[0]
            if not np.allclose(ts.theta0, ref, rtol=0, atol=1e-12):
                raise ConfigError(
                    "a local score estimator needs a sample at one theta (sample_local with a "
                    "single BenchmarkTheta or Point)"
                )
            self.theta_ref = np.asarray(ref, dtype=np.float64)
        x = ts.x if self.features is None else ts.x[:, self.features]
        return {"x": x, "t_xz": cast(NDArray[np.float64], ts.t_xz)}

    def _init_scaling(self, arrays: dict[str, NDArray[np.float64]]) -> None:
        super()._init_scaling(arrays)
        s = arrays["t_xz"].std(axis=0)
        self._check_fitted().t_scale.copy_(torch.as_tensor(np.where(s > 0, s, 1.0)))

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = L.score_mse(self._check_fitted()(b["x"]), b["t_xz"])
        return loss, {"score": loss}

    def score(self, x: ArrayLike, theta: ArrayLike | None = None) -> NDArray[np.float64]:
        """t̂(x) at the reference point: (N, P). ``theta`` is accepted for symmetry and ignored."""
        net = self._check_fitted()
        return self._batched(lambda a: net(a), [self._x(x)])


# ==================================================================================== likelihood
class LikelihoodEstimator(Estimator):
    """Conditional density p̂(x|θ) with a zuko neural spline flow (NDE, SCANDAL).

    Args:
        transforms: number of autoregressive spline transforms.
        bins: spline bins.
    """

    family = "likelihood"

    def __init__(self, method: str | None = None, *, transforms: int = 3, bins: int = 8, **kwargs: Any):
        super().__init__(method, **kwargs)
        self.transforms = int(transforms)
        self.bins = int(bins)

    def _build(self) -> torch.nn.Module:
        return FlowNet(self.n_observables, self.n_parameters, self.n_hidden, self.transforms, self.bins)

    def _extra_manifest(self) -> dict[str, Any]:
        return {"transforms": self.transforms, "bins": self.bins}

    def _load_extra(self, extra: dict[str, Any]) -> None:
        self.transforms = int(extra.get("transforms", 3))
        self.bins = int(extra.get("bins", 8))

    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        check_training_set(self.spec, ts.kind, ts.gold, ts.y is not None)
        if ts.theta0 is None:
            raise ConfigError("a likelihood estimator needs theta per sample")
        x = ts.x if self.features is None else ts.x[:, self.features]
        out = {"x": x, "theta0": ts.theta0}
        if self.spec.score_term:
            out["t_xz"] = ts.t_xz  # type: ignore[assignment]
        return out

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        net = self._check_fitted()
        th = b["theta0"]
        if self.spec.score_term:
            th = th.clone().requires_grad_(True)
        lp = net(b["x"], th)
        nll = L.nll_loss(lp)
        if not self.spec.score_term:
            return nll, {"nll": nll}
        (t_hat,) = torch.autograd.grad(lp.sum(), th, create_graph=True)
        scale = net.theta_std.to(lp.dtype)
        sc = L.score_mse(t_hat * scale, b["t_xz"] * scale)
        return nll + self.alpha * sc, {"nll": nll, "score": sc}

    def log_likelihood(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """log p̂(x|θ): (N,) for θ (P,), (T, N) for a grid."""
        net = self._check_fitted()
        xx = self._x(x)
        th, single = self._theta(theta)
        n, t = len(xx), len(th)
        xs = np.broadcast_to(xx[None], (t, n, xx.shape[1])).reshape(t * n, -1)
        out = self._batched(lambda a, b: net(a, b), [xs, np.repeat(th, n, 0)]).reshape(t, n)
        return out[0] if single else out

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log p̂(x|θ0) − log p̂(x|θ1)."""
        return self.log_likelihood(x, theta0) - self.log_likelihood(x, theta1)


# ==================================================================================== paper names
class CARL(ParameterizedRatioEstimator):
    """Calibrated ratio classifier (cross-entropy on labels)."""

    default_method = "carl"


class ROLR(ParameterizedRatioEstimator):
    """Regression on the joint likelihood ratio."""

    default_method = "rolr"


class ALICE(ParameterizedRatioEstimator):
    """Cross-entropy with the joint ratio as soft label."""

    default_method = "alice"


class ALICES(ParameterizedRatioEstimator):
    """ALICE plus the joint-score regression term."""

    default_method = "alices"


class RASCAL(ParameterizedRatioEstimator):
    """ROLR plus the joint-score regression term."""

    default_method = "rascal"


class CASCAL(ParameterizedRatioEstimator):
    """CARL plus the joint-score regression term."""

    default_method = "cascal"


class CARL2(DoubleParameterizedRatioEstimator):
    default_method = "carl2"


class ROLR2(DoubleParameterizedRatioEstimator):
    default_method = "rolr2"


class ALICE2(DoubleParameterizedRatioEstimator):
    default_method = "alice2"


class ALICES2(DoubleParameterizedRatioEstimator):
    default_method = "alices2"


class RASCAL2(DoubleParameterizedRatioEstimator):
    default_method = "rascal2"


class CASCAL2(DoubleParameterizedRatioEstimator):
    default_method = "cascal2"


class SALLY(ScoreEstimator):
    """Score approximates likelihood locally."""

    default_method = "sally"


class SALLINO(ScoreEstimator):
    """SALLY with a one-dimensional histogram of t̂·Δθ at inference."""

    default_method = "sallino"


class NDE(LikelihoodEstimator):
    """Neural density estimation (maximum likelihood)."""

    default_method = "nde"


class SCANDAL(LikelihoodEstimator):
    """NDE plus the joint-score regression term."""

    default_method = "scandal"


# ==================================================================================== nuisances
class NuisanceRatioEstimator(Estimator):
    r"""Per-nuisance ratio factors r̂_k±(x) ≈ p(x|θ_ref, ν_k = ±1)/p(x|θ_ref, ν = 0) (the parametric approach).

    Trained on a sample drawn at one θ with ``nuisances=True``: the network's 2K outputs are
    log r̂, and the loss is the mean squared error between r̂ and the joint ratios
    w(x,z|ν_k = ±1)/w(x,z|0) of the sample, whose minimiser is E[r(x,z)|x] = p(x|ν)/p(x|0): the
    ratio of the observable densities even when the variation depends on latent z. The learned
    ratios define MadMiner's morphing g(x, ν) = exp(Σ_k a_k(x) ν_k + b_k(x) ν_k²) through
    :meth:`coefficients`, and :func:`lhcgold.infer.learned_variations` turns them into nuisances
    for :func:`~lhcgold.infer.profile_limits` and :func:`~lhcgold.infer.profiled_information`.
    The rate part of a variation is not learned: it is Σ_i w_i r_i of the events.
    """

    family = "nuisance"
    default_method = "nuisance"
    _scale_parameters = False

    def __init__(self, method: str | None = None, **kwargs: Any):
        super().__init__(method, **kwargs)
        self.nuisances: tuple[str, ...] = ()

    def _build(self) -> torch.nn.Module:
        return ScoreNet(self.n_observables, 2 * len(self.nuisances), self.n_hidden, self.activation, self.dropout)

    def _training_arrays(self, ts: TrainingSet) -> dict[str, NDArray[np.float64]]:
        check_training_set(self.spec, ts.kind, ts.gold, ts.y is not None)
        if ts.theta0 is not None:
            if not np.allclose(ts.theta0, ts.theta0[0], rtol=0, atol=1e-12):
                raise ConfigError("a nuisance ratio estimator needs a sample at one theta (sample_local at a Point)")
            self.theta_ref = np.asarray(ts.theta0[0], dtype=np.float64)
        self.nuisances = tuple(ts.nuisances)
        x = ts.x if self.features is None else ts.x[:, self.features]
        return {
            "x": x,
            "r": np.concatenate([cast(NDArray[np.float64], ts.nu_up), cast(NDArray[np.float64], ts.nu_down)], 1),
        }

    def _loss(self, b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        r_hat = torch.exp(torch.clamp(self._check_fitted()(b["x"]), -10.0, 10.0))
        loss = ((r_hat - b["r"]) ** 2).sum(dim=1).mean()
        return loss, {"ratio_mse": loss}

    def _extra_manifest(self) -> dict[str, Any]:
        return {"nuisances": list(self.nuisances)}

    def _load_extra(self, extra: dict[str, Any]) -> None:
        self.nuisances = tuple(extra.get("nuisances", ()))

    def ratios(self, x: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(r̂₊, r̂₋), each (N, K): the learned p(x|ν_k = ±1)/p(x|ν = 0)."""
        net = self._check_fitted()
        out = np.exp(np.clip(self._batched(lambda a: net(a), [self._x(x)]), -10.0, 10.0))
        k = len(self.nuisances)
        return out[:, :k], out[:, k:]

    def coefficients(self, x: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """MadMiner's morphing coefficients (a, b), each (N, K), of the learned ratios."""
        return ratio_coefficients(*self.ratios(x))


_CLASSES: dict[str, type[Estimator]] = {
    c.__name__: c
    for c in (
        ParameterizedRatioEstimator,
        MorphingAwareRatioEstimator,
        DoubleParameterizedRatioEstimator,
        ScoreEstimator,
        LikelihoodEstimator,
        CARL,
        ROLR,
        ALICE,
        ALICES,
        RASCAL,
        CASCAL,
        CARL2,
        ROLR2,
        ALICE2,
        ALICES2,
        RASCAL2,
        CASCAL2,
        SALLY,
        SALLINO,
        NDE,
        SCANDAL,
        NuisanceRatioEstimator,
    )
}


def estimator_class(name: str) -> type[Estimator]:
    """The estimator class for a class name (manifest) or a method name ("alices" -> ALICES)."""
    if name in _CLASSES:
        return _CLASSES[name]
    spec = get_method(name)
    return _CLASSES[spec.class_name]
