"""The trainer: validation split, LR schedule, early stopping that restores the best weights.

Data are held as tensors on the training device and batched by index (no DataLoader
workers: on few cores they cost more than they save, see the peer benchmark).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from ..exceptions import ConfigError

__all__ = ["TrainConfig", "TrainingHistory", "fit", "resolve_device", "seed_everything"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Training options (MadMiner's defaults where it has one).

    Attributes:
        n_epochs: epochs.
        batch_size: samples per step.
        initial_lr / final_lr: exponential decay per epoch from one to the other.
        optimizer: "amsgrad", "adam" or "sgd".
        weight_decay: L2 penalty.
        validation_split: fraction held out for validation (0 disables validation).
        early_stopping: restore the weights of the epoch with the lowest validation loss.
        patience: stop after this many epochs without improvement (None: train all epochs).
        clip_gradient: max gradient norm (None: no clipping).
        alpha: weight of the score term.
        device: "auto" (CUDA when available), "cpu", "cuda", ...
        dtype: "float32" or "float64".
        seed: torch / numpy seed for the initialisation, split and batches (None: random).
        n_threads: torch intra-op threads while training (None: 1 for batches up to 1024 on CPU,
            where extra threads only add synchronisation cost (20x slowdowns on a loaded machine);
            torch's setting otherwise). Restored afterwards.
    """

    n_epochs: int = 50
    batch_size: int = 128
    initial_lr: float = 1e-3
    final_lr: float = 1e-4
    optimizer: Literal["amsgrad", "adam", "sgd"] = "amsgrad"
    weight_decay: float = 0.0
    validation_split: float = 0.25
    early_stopping: bool = True
    patience: int | None = None
    clip_gradient: float | None = None
    alpha: float = 1.0
    device: str = "auto"
    dtype: Literal["float32", "float64"] = "float32"
    seed: int | None = None
    n_threads: int | None = None

    def __post_init__(self) -> None:
        if self.n_epochs < 1:
            raise ConfigError(f"n_epochs must be >= 1, got {self.n_epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.validation_split < 1.0:
            raise ConfigError(f"validation_split must be in [0, 1), got {self.validation_split}")
        for name in ("initial_lr", "final_lr", "weight_decay", "alpha", "validation_split"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value}")
        if self.initial_lr <= 0 or self.final_lr <= 0:
            raise ConfigError(f"learning rates must be positive, got initial {self.initial_lr}, final {self.final_lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.clip_gradient is not None and not (math.isfinite(self.clip_gradient) and self.clip_gradient > 0):
            raise ConfigError(f"clip_gradient must be positive, got {self.clip_gradient}")
        if self.dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype must be float32 or float64, got {self.dtype!r}")
        resolve_device(self.device)
        if self.optimizer not in ("amsgrad", "adam", "sgd"):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; known: amsgrad, adam, sgd")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1, got {self.patience}")


@dataclass(frozen=True)
class TrainingHistory:
    """Per-epoch losses and what the trainer did."""

    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    learning_rate: tuple[float, ...]
    best_epoch: int
    stopped_early: bool
    wall_s: float
    device: str
    n_train: int
    n_val: int
    parts: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "learning_rate": list(self.learning_rate),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "wall_s": self.wall_s,
            "device": self.device,
            "n_train": self.n_train,
            "n_val": self.n_val,
        }


def resolve_device(device: str) -> torch.device:
    """The torch device for "auto", "cpu", "cuda", "cuda:1", "mps", ...

    Raises:
        ConfigError: an unknown device name, or a device this machine does not have.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {device!r} requested but CUDA is not available on this machine (use --device cpu or auto)"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ConfigError(f"device {device!r} requested but MPS is not available on this machine")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device {device!r} is not supported; use auto, cpu, cuda or cuda:N")
    return dev


def seed_everything(seed: int | None) -> None:
    """Seed torch (CPU and CUDA) — the one place lhcgold touches torch's global RNG."""
    if seed is not None:
        torch.manual_seed(int(seed))


LossFn = Callable[[dict[str, torch.Tensor]], tuple[torch.Tensor, dict[str, torch.Tensor]]]


def fit(
    model: torch.nn.Module,
    data: dict[str, np.ndarray],
    loss_fn: LossFn,
    config: TrainConfig,
    *,
    progress: bool = False,
    val_data: dict[str, np.ndarray] | None = None,
) -> TrainingHistory:
    """Train ``model`` in place on arrays ``data`` with ``loss_fn(batch) -> (loss, parts)``.

    Args:
        model: the network (moved to the device and dtype).
        data: named arrays with equal first dimension.
        loss_fn: batch of tensors -> scalar loss and named parts (for the history).
        config: options.
        progress: show a tqdm bar over epochs (stderr).
        val_data: explicit validation arrays (otherwise a random ``validation_split`` of ``data``).

    Returns:
        The history; the model holds the best-validation weights when early stopping is on.
    """
    device = resolve_device(config.device)
    threads_before = torch.get_num_threads()
    threads = config.n_threads
    if threads is None and device.type == "cpu" and config.batch_size <= 1024:
        threads = 1
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        return _fit(model, data, loss_fn, config, device, progress=progress, val_data=val_data)
    finally:
        torch.set_num_threads(threads_before)


def _fit(
    model: torch.nn.Module,
    data: dict[str, np.ndarray],
    loss_fn: LossFn,
    config: TrainConfig,
    device: torch.device,
    *,
    progress: bool,
    val_data: dict[str, np.ndarray] | None,
) -> TrainingHistory:
    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    seed_everything(config.seed)
    gen = np.random.default_rng(config.seed)
    n = len(next(iter(data.values())))
    if val_data is None and config.validation_split > 0:
        perm = gen.permutation(n)
        n_val = int(round(config.validation_split * n))
        if n - n_val < 1 or n_val < 1:
            raise ConfigError(f"{n} samples are too few for validation_split={config.validation_split}")
        val_idx, tr_idx = perm[:n_val], perm[n_val:]
        val_data = {k: v[val_idx] for k, v in data.items()}
        data = {k: v[tr_idx] for k, v in data.items()}

    def to_t(d: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(np.ascontiguousarray(v), dtype=dtype, device=device) for k, v in d.items()}

    tr = to_t(data)
    va = to_t(val_data) if val_data is not None else None
    n_tr = len(next(iter(tr.values())))
    n_va = 0 if va is None else len(next(iter(va.values())))
    model.to(device=device)
    for p in model.parameters():
        p.data = p.data.to(dtype)
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(params, lr=config.initial_lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.Adam(
            params,
            lr=config.initial_lr,
            weight_decay=config.weight_decay,
            amsgrad=config.optimizer == "amsgrad",
        )
    n_ep = config.n_epochs
    lrs = [config.initial_lr * (config.final_lr / config.initial_lr) ** (e / max(n_ep - 1, 1)) for e in range(n_ep)]

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_ep, unit="epoch", desc=type(model).__name__, leave=False)
    t0 = time.perf_counter()
    hist_tr: list[float] = []
    hist_va: list[float] = []
    parts_hist: dict[str, list[float]] = {}
    best = math.inf
    best_state = copy.deepcopy(model.state_dict())
    best_epoch = -1
    stale = 0
    stopped = False
    tgen = torch.Generator(device="cpu")
    if config.seed is not None:
        tgen.manual_seed(int(config.seed))
    for epoch in range(n_ep):
        for g in opt.param_groups:
            g["lr"] = lrs[epoch]
        model.train()
        perm_t = torch.randperm(n_tr, generator=tgen).to(device)
        total, count = 0.0, 0
        for lo in range(0, n_tr, config.batch_size):
            idx = perm_t[lo : lo + config.batch_size]
            batch = {k: v[idx] for k, v in tr.items()}
            loss, _ = loss_fn(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"training loss is {loss.item()} at epoch {epoch}: lower the learning "
                    "rate or check the training data"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip_gradient is not None:
                torch.nn.utils.clip_grad_norm_(params, config.clip_gradient)
            opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        hist_tr.append(total / count)
        if va is not None:
            model.eval()
            v_total, v_parts = _evaluate_loss(loss_fn, va, config.batch_size * 64)
            hist_va.append(v_total)
            for k, v in v_parts.items():
                parts_hist.setdefault(k, []).append(v)
            score_now = v_total
        else:
            score_now = hist_tr[-1]
        if score_now < best:
            best, best_epoch, stale = score_now, epoch, 0
            best_state = copy.deepcopy(model.state_dict())  # a copy, not a reference (MadMiner bug #4)
        else:
            stale += 1
        if bar is not None:
            bar.set_postfix(train=f"{hist_tr[-1]:.4g}", val=f"{hist_va[-1]:.4g}" if hist_va else "-")
            bar.update(1)
        logger.debug(
            "epoch %d: train %.6g val %s lr %.3g",
            epoch + 1,
            hist_tr[-1],
            f"{hist_va[-1]:.6g}" if hist_va else "-",
            lrs[epoch],
        )
        if config.patience is not None and stale >= config.patience:
            stopped = True
            logger.info("early stopping after epoch %d (best epoch %d)", epoch + 1, best_epoch + 1)
            break
    if bar is not None:
        bar.close()
    if config.early_stopping and best_epoch >= 0:
        model.load_state_dict(best_state)
    model.eval()
    return TrainingHistory(
        tuple(hist_tr),
        tuple(hist_va),
        tuple(lrs[: len(hist_tr)]),
        best_epoch,
        stopped,
        time.perf_counter() - t0,
        str(device),
        n_tr,
        n_va,
        {k: tuple(v) for k, v in parts_hist.items()},
    )


def _evaluate_loss(loss_fn: LossFn, data: dict[str, torch.Tensor], batch: int) -> tuple[float, dict[str, float]]:
    n = len(next(iter(data.values())))
    total = 0.0
    parts: dict[str, float] = {}
    for lo in range(0, n, batch):
        b = {k: v[lo : lo + batch] for k, v in data.items()}
        loss, p = loss_fn(b)  # may need autograd for score terms: no torch.no_grad here
        m = len(next(iter(b.values())))
        total += float(loss.detach()) * m
        for k, v in p.items():
            parts[k] = parts.get(k, 0.0) + float(v.detach()) * m
    return total / n, {k: v / n for k, v in parts.items()}
