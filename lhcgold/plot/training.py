"""Training history and learning curves of estimators."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._mpl import axes, color_cycle
from .style import finish_axes

__all__ = ["plot_learning_curve", "plot_training_history"]


def _history_dict(history: Any) -> dict[str, np.ndarray]:
    if isinstance(history, Mapping):
        d = dict(history)
    elif hasattr(history, "to_dict"):
        d = dict(history.to_dict())
    else:
        d = {k: v for k, v in vars(history).items() if not k.startswith("_")}
    out = {}
    for k, v in d.items():
        arr = np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple, np.ndarray)) else None
        if arr is not None and arr.ndim == 1 and arr.size:
            out[k] = arr
    return out


def plot_training_history(
    history: Any,
    *,
    keys: Sequence[str] | None = None,
    ax: Any = None,
    log: bool = True,
    colors: Sequence[Any] | None = None,
    legend: bool = True,
) -> dict[str, Any]:
    """Loss curves per epoch: training (solid) and validation (dashed) series.

    Args:
        history: mapping name -> per-epoch values (e.g. {"train_loss": [...], "val_loss": [...]}) or an
            object with such attributes / ``to_dict()``.
        keys: which series (default: the series whose name contains "loss", else all 1-D series).
            A ``best_epoch`` (0-based) entry is marked with a dotted vertical line.
        log: logarithmic y axis where the values are positive and span a factor of 10 or more.

    Returns:
        {"lines": {key: Line2D}, "legend": Legend | None}
    """
    ax = axes(ax)
    data = _history_dict(history)
    if keys is None:
        losses = [k for k in data if "loss" in k]
        keys = losses or list(data)
    keys = list(keys)
    lines = {}
    for k, c in zip(keys, color_cycle(len(keys), colors)):
        y = data[k]
        ls = "--" if k.startswith(("val", "valid")) else "-"
        (lines[k],) = ax.plot(np.arange(1, len(y) + 1), y, color=c, linestyle=ls, label=k)
    if log and _spans_decades([np.asarray(data[k], dtype=float) for k in keys]):
        ax.set_yscale("log")
    best = history.get("best_epoch") if isinstance(history, Mapping) else getattr(history, "best_epoch", None)
    if isinstance(best, (int, np.integer)) and best >= 0:
        lines["best_epoch"] = ax.axvline(int(best) + 1, color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    leg = ax.legend(frameon=False) if legend else None
    finish_axes(ax)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    return {"lines": lines, "legend": leg}


def plot_learning_curve(
    n_train: Sequence[float],
    values: Any,
    *,
    errors: Any = None,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    colors: Sequence[Any] | None = None,
    ylabel: str = "metric",
    reference: float | None = None,
    reference_label: str = "truth",
    logx: bool = True,
    legend: bool = True,
) -> dict[str, Any]:
    """A metric (e.g. expected limit width, Fisher determinant, test loss) against training-set size.

    Args:
        n_train: training-set sizes (S,).
        values: (S,) or (M, S) for M methods.
        errors: same shape as values (error bars, e.g. from an ensemble), optional.
        labels: one per method.
        reference: horizontal line (e.g. the truth value).

    Returns:
        {"lines": [ErrorbarContainer | Line2D], "reference": Line2D | None, "legend": Legend | None}
    """
    ax = axes(ax)
    n = np.asarray(n_train, dtype=np.float64)
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    e = None if errors is None else np.atleast_2d(np.asarray(errors, dtype=np.float64))
    labels = list(labels) if labels is not None else [None] * len(v)
    lines = []
    for i, c in enumerate(color_cycle(len(v), colors)):
        if e is not None:
            lines.append(ax.errorbar(n, v[i], yerr=e[i], color=c, marker="o", label=labels[i], capsize=2))
        else:
            lines.append(ax.plot(n, v[i], color=c, marker="o", label=labels[i])[0])
    ref = ax.axhline(reference, color="black", linestyle=":", label=reference_label) if reference is not None else None
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("training samples")
    ax.set_ylabel(ylabel)
    leg = ax.legend(frameon=False) if legend and (any(labels) or ref is not None) else None
    finish_axes(ax)
    return {"lines": lines, "reference": ref, "legend": leg}


def _spans_decades(curves: Any) -> bool:
    """Whether positive curves span a factor of 10 or more (a log axis helps); a loss that moves by
    0.1 % (e.g. a cross-entropy near ln 2) reads better on a linear axis."""
    vals = np.concatenate([c[np.isfinite(c)] for c in curves]) if curves else np.zeros(0)
    return bool(vals.size and np.all(vals > 0) and vals.max() >= 10.0 * vals.min())
