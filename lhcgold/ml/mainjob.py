"""The estimators of the main job (``lhcgold run``): a training sample drawn, an estimator trained.

The card's ``augment:`` section sizes the training samples, its ``train:`` section the networks
(:class:`lhcgold.run.RunConfig` holds both, with the command line's overrides).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..run import RunConfig
    from ..stages import Stages

__all__ = ["train_estimator"]


def _training_set(
    st: Stages, kind: str, events: Path, cfg: RunConfig, seed: int, theta_ranges: Sequence[Sequence[float]] | None
) -> Any:
    from .. import augment
    from ..augment import BenchmarkTheta, Flat, Prior, RandomMorphing
    from ..io.events import EventFile

    ef = EventFile(events)
    split = {"partition": "train", "test_split": cfg.test_split, "rng": seed, "progress": st.progress}
    if kind == "local":
        return augment.sample_local(ef, theta=BenchmarkTheta("sm"), n_samples=cfg.n_train, **split)
    # train θ0 where the limits are computed (the limit grid), not over the parameters' whole range
    ranges = theta_ranges or [dict(cfg.grid).get(p.name, p.range) for p in ef.setup.parameters]
    prior = Prior(*[Flat(float(lo), float(hi)) for lo, hi in ranges])
    return augment.sample_ratio(
        ef, theta0=RandomMorphing(cfg.n_theta0, prior), theta1=BenchmarkTheta("sm"), n_samples=cfg.n_train, **split
    )


def train_estimator(
    st: Stages,
    name: str,
    kind: Literal["local", "ratio"],
    events: Path,
    cfg: RunConfig,
    seed: int,
    *,
    features: list[int] | None = None,
    theta_ranges: Sequence[Sequence[float]] | None = None,
) -> Path:
    """Draw the training sample of estimator ``name`` and train it (SALLY for ``"local"``, ALICES for
    ``"ratio"``), unless a resumed run has it already.

    Args:
        st: stage bookkeeping of the output directory (sample in ``samples/NAME.h5``, model in
            ``models/NAME``).
        name: the estimator's name.
        kind: ``"local"`` (score at the SM) or ``"ratio"`` (θ0 drawn over ``theta_ranges``, θ1 = SM).
        events: the events file (its training partition is used).
        cfg: sizes and network settings.
        seed: seed of the sample and of the training.
        features: observable indices the estimator sees (default: all).
        theta_ranges: θ0 ranges per parameter of a ratio estimator (default: ``cfg.grid``, else the
            parameters' ranges).

    Returns:
        The model directory.
    """
    from .. import augment
    from . import ALICES, SALLY, TrainConfig

    model_dir = st.out / "models" / name
    if not st.needed(model_dir / "manifest.json"):
        return model_dir
    with st.stage(f"augment {name}"):
        ts = _training_set(st, kind, events, cfg, seed, theta_ranges)
        augment.write_training_set(st.out / "samples" / f"{name}.h5", ts, overwrite=True)
    with st.stage(f"train {name}"):
        est_cls = SALLY if kind == "local" else ALICES
        est = est_cls(features=features, n_hidden=cfg.hidden, activation=cfg.activation)
        config = TrainConfig(
            n_epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            initial_lr=cfg.initial_lr,
            final_lr=cfg.final_lr,
            seed=seed,
            clip_gradient=cfg.clip_gradient,
        )
        est.train(ts, config=config, progress=st.progress)
        est.save(model_dir, overwrite=True)
    return model_dir
