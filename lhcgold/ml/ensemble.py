"""Ensembles of estimators: trained in parallel processes where cores allow; mean ± std."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError, EventFileError
from ..io.models import member_dir, read_model_dir, write_model_dir
from ..io.samples import TrainingSet
from .estimators import Estimator, estimator_class
from .trainer import TrainConfig, TrainingHistory

__all__ = ["Ensemble", "load_estimator", "load_model"]

logger = logging.getLogger(__name__)


def _train_member(est: Estimator, data: TrainingSet, config: TrainConfig, threads: int) -> Estimator:

    torch.set_num_threads(max(1, threads))
    est.train(data, config=config)
    return est


class Ensemble:
    """Several estimators of one family, averaged.

    Args:
        members: the (untrained or trained) estimators, all of the same family.
    """

    def __init__(self, members: Sequence[Estimator]):
        if not members:
            raise ConfigError("an ensemble needs at least one estimator")
        fams = {m.family for m in members}
        if len(fams) != 1:
            raise ConfigError(f"ensemble members must share one family, got {sorted(fams)}")
        self.members = list(members)

    @property
    def family(self) -> str:
        return self.members[0].family

    def train(
        self,
        data: TrainingSet,
        *,
        config: TrainConfig | None = None,
        n_jobs: int | None = None,
        progress: bool = False,
    ) -> list[TrainingHistory]:
        """Train every member (seeds config.seed + i).

        ``n_jobs`` processes (default: one per core, at most one per member).
        """
        cfg = config or TrainConfig()
        cfgs = [replace(cfg, seed=None if cfg.seed is None else cfg.seed + i) for i in range(len(self.members))]
        cores = os.cpu_count() or 1
        jobs = min(len(self.members), cores if n_jobs is None else max(1, n_jobs))
        if jobs <= 1:
            for m, c in zip(self.members, cfgs, strict=True):
                m.train(data, config=c, progress=progress)
        else:
            threads = max(1, cores // jobs)
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
                futures = [
                    pool.submit(_train_member, m, data, c, threads) for m, c in zip(self.members, cfgs, strict=True)
                ]
                self.members = [f.result() for f in futures]
        return [m.history for m in self.members if m.history is not None]

    def _stack(self, name: str, *args: Any, **kwargs: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        vals = np.stack([getattr(m, name)(*args, **kwargs) for m in self.members])
        return vals.mean(axis=0), vals.std(axis=0, ddof=1) if len(vals) > 1 else np.zeros(vals.shape[1:])

    def log_ratio(
        self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and standard deviation over members of log r̂."""
        if theta1 is None:
            return self._stack("log_ratio", x, theta0)
        return self._stack("log_ratio", x, theta0, theta1)

    def score(self, x: ArrayLike, theta: ArrayLike | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Mean and standard deviation over members of t̂."""
        return self._stack("score", x, theta) if theta is not None else self._stack("score", x)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:

        members = {f"member_{i}": (m.manifest(), m._check_fitted().state_dict()) for i, m in enumerate(self.members)}
        man = {
            "class": "Ensemble",
            "family": self.family,
            "n_members": len(self.members),
            "members": list(members),
        }
        return write_model_dir(path, man, {}, overwrite=overwrite, members=members)


def load_model(path: str | Path) -> Any:
    """Load an estimator (or an :class:`Ensemble`) from a model directory.

    Raises:
        EventFileError: missing or malformed manifest, tampered weights, an ensemble member
            outside the directory, or weights that do not fit the manifest.
    """

    man, state = read_model_dir(path)
    if man.get("class") == "Ensemble":
        names = man.get("members")
        if not isinstance(names, list) or not names:
            raise EventFileError(
                f"{Path(path) / 'manifest.json'}: an ensemble manifest needs a non-empty 'members' list"
            )
        members = []
        for name in names:
            sub = member_dir(path, name)
            if (Path(sub) / "manifest.json").is_file() and _is_ensemble(sub):
                raise EventFileError(f"{sub}: an ensemble member is itself an ensemble")
            members.append(load_model(sub))
        try:
            return Ensemble(members)
        except ConfigError as exc:
            raise EventFileError(f"{path}: {exc}") from exc
    try:
        cls = estimator_class(man["class"])
    except (KeyError, TypeError, ConfigError) as exc:
        raise EventFileError(f"{path}: unknown estimator class {man.get('class')!r}") from exc
    try:
        est = cls._from_manifest(man)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise EventFileError(f"{Path(path) / 'manifest.json'}: malformed model manifest: {what}") from exc
    net = est._check_fitted()
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise EventFileError(f"{path}: weights do not match the manifest: {str(exc).splitlines()[0]}") from exc
    net.eval()
    return est


def _is_ensemble(folder: str | Path) -> bool:

    try:
        man = json.loads((Path(folder) / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(man, dict) and man.get("class") == "Ensemble"


def load_estimator(path: str | Path) -> Estimator:
    """Load one estimator; an ensemble directory is refused with a hint to pass one member.

    Raises:
        EventFileError: as :func:`load_model`, or ``path`` holds an ensemble.
    """
    model = load_model(path)
    if isinstance(model, Ensemble):
        raise EventFileError(
            f"{str(path)!r} is an ensemble of {len(model.members)} {model.family} estimators; this needs one "
            f"estimator: pass a member directory (e.g. {str(Path(path) / 'member_0')!r})"
        )
    return model  # type: ignore[no-any-return]
