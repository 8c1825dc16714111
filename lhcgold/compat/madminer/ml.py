"""MadMiner's estimator classes (``madminer.ml``) on lhcgold's estimators (:mod:`lhcgold.ml`, needs torch).

The network settings go to the constructor and the method to ``train``, as in MadMiner; training
data are arrays or ``.npy`` file names. Models are saved as lhcgold model directories (a
``manifest.json`` and the weights); models trained and saved by madminer itself are read for score
(SALLY, SALLINO) and ratio (CARL, ROLR, ALICE(S), CASCAL, RASCAL and their doubly parameterised
variants) estimators.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import ConfigError, EventFileError
from ...io.samples import TrainingSet
from ._madminer_models import is_madminer_ensemble, is_madminer_model, load_madminer_ensemble, load_madminer_model
from .core import replace_file

logger = logging.getLogger(__name__)

__all__ = [
    "Ensemble",
    "LikelihoodEstimator",
    "ParameterizedRatioEstimator",
    "ScoreEstimator",
    "load_estimator",
    "positional",
]


def _array(value: Any, name: str) -> NDArray[np.float64] | None:
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        if not Path(value).is_file():
            raise ConfigError(f"{name}: no such file {str(value)!r}")
        value = np.load(value)
    return np.asarray(value, dtype=np.float64)


def _arrays(values: dict[str, Any], suffix: str = "") -> dict[str, Any]:
    """MadMiner's training arguments (by name) as arrays, in order; a missing file names ``<name><suffix>``."""
    return {key: _array(value, key + suffix) for key, value in values.items()}


def _limit(arrays: dict[str, Any], n: int | None) -> dict[str, Any]:
    return arrays if n is None else {k: (None if v is None else v[:n]) for k, v in arrays.items()}


def _config(args: Mapping[str, Any]) -> Any:
    """lhcgold's TrainConfig from a ``train`` method's arguments (its ``locals()``), read by MadMiner's names;
    ``alpha`` is 1 where the method has none."""
    from ...ml import TrainConfig

    return TrainConfig(
        n_epochs=int(args["n_epochs"]),
        batch_size=int(args["batch_size"]),
        initial_lr=float(args["initial_lr"]),
        final_lr=float(args["final_lr"]),
        optimizer=args["optimizer"],
        validation_split=float(args["validation_split"] or 0.0),
        early_stopping=bool(args["early_stopping"]),
        patience=args["early_stopping_patience"],
        clip_gradient=args["clip_gradient"],
        alpha=float(args.get("alpha", 1.0)),
        seed=args["seed"],
    )


def load_estimator(filename: str | os.PathLike[str]) -> Any:
    """The lhcgold estimator (or ensemble) saved at ``filename`` by the compat classes or by lhcgold.

    Models saved by madminer itself (``<filename>_settings.json`` ...) are read too: score models
    (SALLY, SALLINO) and ratio models; madminer likelihood models are a clear error.

    Raises:
        ConfigError: ``filename`` holds a madminer model of a kind that cannot be read yet.
        EventFileError: no model there.
    """
    from ...ml import load_model

    path = Path(filename)
    if is_madminer_model(filename):
        return load_madminer_model(filename)
    if is_madminer_ensemble(filename):
        return load_madminer_ensemble(filename)
    if not path.is_dir():
        raise EventFileError(f"{str(filename)!r}: no model directory there")
    return load_model(path)


class _Positional:
    """A model trained on unnamed columns (MadMiner's arrays) reads the events' observables by position."""

    observables: tuple[str, ...] = ()

    def __init__(self, model: Any):
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def positional(model: Any) -> Any:
    """``model`` itself, or, when it was trained on unnamed columns (``x0, x1, ...``), a view of it that
    takes the events' observables in file order, as MadMiner does."""
    names = tuple(getattr(model, "observables", ()) or ())
    if names and names == tuple(f"x{i}" for i in range(len(names))):
        return _Positional(model)
    return model


class _Estimator:
    """Shared parts: network settings, save and load, Fisher information of a sample."""

    _family = ""
    _kind = ""  # the TrainingSet kind it trains on

    def __init__(
        self,
        features: Sequence[int] | None = None,
        n_hidden: Sequence[int] = (100,),
        activation: str = "tanh",
        dropout_prob: float = 0.0,
    ):
        self.features = None if features is None else [int(i) for i in features]
        self.n_hidden = tuple(int(h) for h in n_hidden)
        self.activation = activation
        self.dropout_prob = float(dropout_prob)
        self.model: Any = None

    def _new(self, method: str) -> Any:
        from ...ml import estimator_class

        cls = estimator_class(method)
        if getattr(cls, "family", None) != self._family:
            raise ConfigError(f"method {method!r} does not train a {type(self).__name__}")
        return cls(
            features=self.features, n_hidden=self.n_hidden, activation=self.activation, dropout=self.dropout_prob
        )

    def _set(self, a: dict[str, Any], validation: bool = False) -> TrainingSet:
        """The training set of MadMiner's arrays ``a`` by argument name (x, theta, t_xz)."""
        return TrainingSet(self._kind, a["x"], theta0=a.get("theta"), t_xz=a.get("t_xz"))

    def _train(self, method: str, train: dict[str, Any], val: dict[str, Any] | None, args: Mapping[str, Any]) -> tuple:
        """The train methods' one path: the training set from ``train`` (MadMiner's training arguments by
        name; the first ``limit_samplesize`` events), the validation set from ``val`` (None: none), the
        config from the method's arguments ``args``, the fit; returns the train and validation losses."""
        data = self._set(_limit(_arrays(train), args["limit_samplesize"]))
        validation = None if val is None else self._set(_arrays(val, "_val"), validation=True)
        cfg = _config(args)
        self.model = self._new(method)
        hist = self.model.train(data, config=cfg, validation=validation)
        return np.asarray(hist.train_loss), np.asarray(hist.val_loss)

    def _fitted(self) -> Any:
        if self.model is None:
            raise ConfigError(f"{type(self).__name__}: train or load a model first")
        return self.model

    def save(self, filename: str | os.PathLike[str], save_model: bool = False) -> None:
        """Save as an lhcgold model directory ``filename`` (replaced if it exists)."""
        path = replace_file(filename)
        self._fitted().save(path, overwrite=True)

    def load(self, filename: str | os.PathLike[str]) -> None:
        """Load a model saved by :meth:`save` (or by lhcgold)."""
        model = load_estimator(filename)
        if getattr(model, "family", None) != self._family:
            raise ConfigError(
                f"{str(filename)!r} holds a {getattr(model, 'family', '?')} model, not a {type(self).__name__}"
            )
        self.model = model

    def calculate_fisher_information(
        self,
        x: Any,
        theta: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        n_events: float = 1,
        sum_events: bool = True,
    ) -> NDArray[np.float64]:
        """Fisher information n_events · Σ_i w_i t̂_i t̂_iᵀ / Σ_i w_i from the estimated score of events ``x``."""
        xx = _array(x, "x")
        t = self.evaluate_score(xx) if theta is None else self.evaluate_score(xx, theta)
        t = np.asarray(t[0] if isinstance(t, tuple) else t)
        t = t[0] if t.ndim == 3 else t
        w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=np.float64)
        w = w / w.sum()
        per_event = n_events * np.einsum("n,ni,nj->nij", w, t, t)
        return per_event.sum(axis=0) if sum_events else per_event

    def evaluate_score(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class ScoreEstimator(_Estimator):
    """Local score estimator t̂(x) (SALLY, SALLINO)."""

    _family = "score"
    _kind = "local"

    def train(
        self,
        method: str,
        x: Any,
        t_xz: Any,
        x_val: Any = None,
        t_xz_val: Any = None,
        optimizer: str = "amsgrad",
        n_epochs: int = 50,
        batch_size: int = 128,
        initial_lr: float = 0.001,
        final_lr: float = 0.0001,
        nesterov_momentum: float | None = None,
        validation_split: float | None = 0.25,
        early_stopping: bool = True,
        scale_inputs: bool = True,
        shuffle_labels: bool = False,
        limit_samplesize: int | None = None,
        memmap: bool = False,
        verbose: str = "some",
        n_workers: int = 8,
        clip_gradient: float | None = None,
        early_stopping_patience: int | None = None,
        *,
        seed: int | None = None,
    ) -> tuple:
        """Train on ``x`` and the joint score ``t_xz``; returns the train and validation losses per epoch."""
        if shuffle_labels:
            raise ConfigError("shuffle_labels is not supported")
        val = None if x_val is None else {"x": x_val, "t_xz": t_xz_val}
        return self._train(method, {"x": x, "t_xz": t_xz}, val, locals())

    def evaluate_score(
        self, x: Any, theta: ArrayLike | None = None, nuisance_mode: str = "auto"
    ) -> NDArray[np.float64]:
        """t̂(x), shape (n_events, n_parameters)."""
        return np.asarray(self._fitted().score(_array(x, "x")))

    def evaluate(self, *args: Any, **kwargs: Any) -> NDArray[np.float64]:
        return self.evaluate_score(*args, **kwargs)


def _theta1_beside(theta: Any, n: int, n_par: int) -> NDArray[np.float64]:
    """MadMiner's ratio training takes no θ1: read ``theta1_<name>.npy`` beside ``theta0_<name>.npy``."""
    if isinstance(theta, (str, os.PathLike)):
        p = Path(theta)
        other = p.with_name(re.sub(r"^theta0_", "theta1_", p.name))
        if other != p and other.is_file():
            return np.asarray(np.load(other), dtype=np.float64)
    logger.info("no theta1 given: the ratio reference is taken as the origin")
    return np.zeros((n, n_par))


class ParameterizedRatioEstimator(_Estimator):
    """Parameterised likelihood-ratio estimator r̂(x|θ) (CARL, ROLR, RASCAL, ALICE, ALICES, CASCAL)."""

    _family = "ratio"

    def train(
        self,
        method: str,
        x: Any,
        y: Any,
        theta: Any,
        r_xz: Any = None,
        t_xz: Any = None,
        x_val: Any = None,
        y_val: Any = None,
        theta_val: Any = None,
        r_xz_val: Any = None,
        t_xz_val: Any = None,
        alpha: float = 1.0,
        optimizer: str = "amsgrad",
        n_epochs: int = 50,
        batch_size: int = 128,
        initial_lr: float = 0.001,
        final_lr: float = 0.0001,
        nesterov_momentum: float | None = None,
        validation_split: float | None = 0.25,
        early_stopping: bool = True,
        scale_inputs: bool = True,
        shuffle_labels: bool = False,
        limit_samplesize: int | None = None,
        memmap: bool = False,
        verbose: str = "some",
        scale_parameters: bool = True,
        n_workers: int = 8,
        clip_gradient: float | None = None,
        early_stopping_patience: int | None = None,
        *,
        theta1: Any = None,
        seed: int | None = None,
    ) -> tuple:
        """Train on a ratio sample; returns the train and validation losses per epoch.

        ``theta1`` (an lhcgold addition) is the denominator; by default ``theta1_<name>.npy`` beside
        ``theta0_<name>.npy``, else the origin.
        """
        if shuffle_labels:
            raise ConfigError("shuffle_labels is not supported")
        th0 = _array(theta, "theta")
        th1 = _array(theta1, "theta1") if theta1 is not None else _theta1_beside(theta, len(th0), th0.shape[1])
        train = {"theta": th0, "theta1": th1, "x": x, "y": y, "r_xz": r_xz, "t_xz": t_xz}
        val = None
        if x_val is not None:  # θ1 of the validation events: the training θ1
            val = {"theta": theta_val, "x": x_val, "y": y_val, "theta1": th1[0], "r_xz": r_xz_val, "t_xz": t_xz_val}
        return self._train(method, train, val, locals())

    def _set(self, a: dict[str, Any], validation: bool = False) -> TrainingSet:
        """The ratio set of MadMiner's arrays (``validation``: θ1 is one point, for every event)."""
        theta1 = np.broadcast_to(a["theta1"], a["theta"].shape) if validation else a["theta1"]
        r = a["r_xz"]
        with np.errstate(divide="ignore"):
            log_r = None if r is None else np.log(r.reshape(-1))
        return TrainingSet(
            "ratio",
            a["x"],
            theta0=a["theta"],
            theta1=theta1,
            y=a["y"].reshape(-1),
            log_r_xz=log_r,
            t_xz=a["t_xz"],
        )

    def evaluate_log_likelihood_ratio(
        self, x: Any, theta: Any, test_all_combinations: bool = True, evaluate_score: bool = False
    ) -> tuple:
        """log r̂(x|θ) (n_thetas, n_events) for every θ and event (or pairwise), and the score if asked."""
        model = self._fitted()
        xx, thetas = _array(x, "x"), np.atleast_2d(_array(theta, "theta"))
        if test_all_combinations:
            log_r = np.atleast_2d(model.log_ratio(xx, thetas))
            score = np.stack([model.score(xx, t) for t in thetas]) if evaluate_score else None
        else:
            if len(thetas) != len(xx):
                raise ConfigError("test_all_combinations=False needs one theta per event")
            log_r = np.array([float(model.log_ratio(xx[i : i + 1], thetas[i])[0]) for i in range(len(xx))])
            score = (
                np.concatenate([model.score(xx[i : i + 1], thetas[i]) for i in range(len(xx))])
                if evaluate_score
                else None
            )
        return log_r, score

    def evaluate_score(self, x: Any, theta: Any, nuisance_mode: str = "keep") -> NDArray[np.float64]:
        """t̂(x|θ) = ∇_θ log r̂(x|θ): (n_thetas, n_events, n_parameters)."""
        model = self._fitted()
        xx = _array(x, "x")
        return np.stack([model.score(xx, t) for t in np.atleast_2d(_array(theta, "theta"))])

    def evaluate(self, *args: Any, **kwargs: Any) -> tuple:
        return self.evaluate_log_likelihood_ratio(*args, **kwargs)


class LikelihoodEstimator(_Estimator):
    """Conditional density estimator p̂(x|θ) (NDE, SCANDAL)."""

    _family = "likelihood"
    _kind = "density"

    def __init__(
        self,
        features: Sequence[int] | None = None,
        n_components: int = 1,
        n_mades: int = 5,
        activation: str = "tanh",
        batch_norm: Any = None,
    ):
        super().__init__(features=features, n_hidden=(100,), activation=activation)

    def train(
        self,
        method: str,
        x: Any,
        theta: Any,
        t_xz: Any = None,
        x_val: Any = None,
        theta_val: Any = None,
        t_xz_val: Any = None,
        alpha: float = 1.0,
        optimizer: str = "amsgrad",
        n_epochs: int = 50,
        batch_size: int = 128,
        initial_lr: float = 0.001,
        final_lr: float = 0.0001,
        nesterov_momentum: float | None = None,
        validation_split: float | None = 0.25,
        early_stopping: bool = True,
        scale_inputs: bool = True,
        shuffle_labels: bool = False,
        limit_samplesize: int | None = None,
        memmap: bool = False,
        verbose: str = "some",
        scale_parameters: bool = True,
        n_workers: int = 8,
        clip_gradient: float | None = None,
        early_stopping_patience: int | None = None,
        *,
        seed: int | None = None,
    ) -> tuple:
        """Train on a density sample; returns the train and validation losses per epoch."""
        val = None if x_val is None else {"x": x_val, "theta": theta_val, "t_xz": t_xz_val}
        return self._train(method, {"x": x, "theta": theta, "t_xz": t_xz}, val, locals())

    def evaluate_log_likelihood(
        self, x: Any, theta: Any, test_all_combinations: bool = True, evaluate_score: bool = False
    ) -> tuple:
        """log p̂(x|θ) (n_thetas, n_events); the score is not evaluated (None)."""
        if evaluate_score:
            raise ConfigError("evaluate_score=True is not supported for likelihood estimators")
        model = self._fitted()
        return np.atleast_2d(model.log_likelihood(_array(x, "x"), np.atleast_2d(_array(theta, "theta")))), None

    def evaluate_log_likelihood_ratio(
        self, x: Any, theta0: Any, theta1: Any, test_all_combinations: bool = True, evaluate_score: bool = False
    ) -> tuple:
        """log p̂(x|θ0) − log p̂(x|θ1)."""
        model = self._fitted()
        return np.atleast_2d(model.log_ratio(_array(x, "x"), _array(theta0, "theta0"), _array(theta1, "theta1"))), None


class Ensemble:
    """Several estimators of one kind, trained alike; predictions are averaged (madminer's ``Ensemble``).

    Args:
        estimators: estimators (compat classes), or None to add them later.
    """

    def __init__(self, estimators: Sequence[_Estimator] | None = None):
        self.estimators: list[_Estimator] = list(estimators or [])

    @property
    def n_estimators(self) -> int:
        return len(self.estimators)

    def add_estimator(self, estimator: _Estimator) -> None:
        self.estimators.append(estimator)

    def train_one(self, i: int, **kwargs: Any) -> tuple:
        """Train estimator ``i`` with ``kwargs`` (as its ``train``)."""
        return self.estimators[i].train(**kwargs)  # type: ignore[attr-defined]

    def train_all(self, **kwargs: Any) -> list[tuple]:
        """Train every estimator; a list-valued argument with one entry per estimator is split among them."""
        out = []
        for i in range(self.n_estimators):
            kw = {k: (v[i] if isinstance(v, list) and len(v) == self.n_estimators else v) for k, v in kwargs.items()}
            out.append(self.train_one(i, **kw))
        return out

    def _stack(self, fn: str, *args: Any, **kwargs: Any) -> NDArray[np.float64]:
        vals = []
        for e in self.estimators:
            v = getattr(e, fn)(*args, **kwargs)
            vals.append(np.asarray(v[0] if isinstance(v, tuple) else v))
        return np.stack(vals)

    def _mean_cov(self, vals: NDArray[np.float64], calculate_covariance: bool) -> tuple:
        mean = vals.mean(axis=0)
        if not calculate_covariance:
            return mean, None
        flat = vals.reshape(len(vals), -1)
        cov = np.cov(flat, rowvar=False) if len(vals) > 1 else np.zeros((flat.shape[1], flat.shape[1]))
        return mean, cov.reshape(mean.shape + mean.shape)

    def evaluate_score(self, estimator_weights: Any = None, calculate_covariance: bool = False, **kwargs: Any) -> tuple:
        """Mean score over the estimators (and its covariance)."""
        return self._mean_cov(self._stack("evaluate_score", **kwargs), calculate_covariance)

    def evaluate_log_likelihood_ratio(
        self, estimator_weights: Any = None, calculate_covariance: bool = False, **kwargs: Any
    ) -> tuple:
        """Mean log r̂ over the estimators (and its covariance)."""
        return self._mean_cov(self._stack("evaluate_log_likelihood_ratio", **kwargs), calculate_covariance)

    def calculate_fisher_information(
        self,
        x: Any,
        theta: Any = None,
        obs_weights: Any = None,
        estimator_weights: Any = None,
        n_events: float = 1,
        mode: str = "score",
        calculate_covariance: bool = True,
        sum_events: bool = True,
        epsilon_shift: float = 0.001,
    ) -> tuple:
        """Mean Fisher information over the estimators, and its covariance (P, P, P, P)."""
        if mode != "score":
            raise ConfigError("only mode='score' is supported")
        vals = self._stack(
            "calculate_fisher_information",
            x,
            theta=theta,
            weights=obs_weights,
            n_events=n_events,
            sum_events=sum_events,
        )
        return self._mean_cov(vals, calculate_covariance)

    def save(self, folder: str | os.PathLike[str], save_model: bool = False) -> None:
        """Save as one lhcgold ensemble directory (members inside)."""
        from ...ml import Ensemble as _Ensemble

        path = replace_file(folder)
        _Ensemble([e._fitted() for e in self.estimators]).save(path, overwrite=True)

    def load(self, folder: str | os.PathLike[str]) -> None:
        """Load an ensemble saved by :meth:`save`."""
        model = load_estimator(folder)
        members = getattr(model, "members", None)
        if members is None:
            raise ConfigError(f"{str(folder)!r} holds one estimator, not an ensemble")
        wrap = {"score": ScoreEstimator, "ratio": ParameterizedRatioEstimator, "likelihood": LikelihoodEstimator}
        self.estimators = []
        for m in members:
            e = wrap[m.family].__new__(wrap[m.family])
            _Estimator.__init__(e, features=m.features, n_hidden=m.n_hidden, activation=m.activation)
            e.model = m
            self.estimators.append(e)
