"""Histogram binning shared by the histogram Fisher information and the histogram likelihoods.

A binning is one array of edges per axis. Bin indices follow the "clamped" convention:
values below the first edge fall into the first bin and values above the last edge into the
last bin, so the outer bins are overflow bins and no event is ever lost. Adaptive binning
puts equal weighted fractions (equal cross sections) into every bin.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError

#: ``bins`` as users give it: one int for every axis, one int or edge array per axis.
BinsLike = int | Sequence[int | ArrayLike]


def normalize_bins(bins: BinsLike | None, n_axes: int) -> list[int | NDArray[np.float64]]:
    """One entry (bin count or edges) per axis, with madminer's defaults for ``None``.

    Defaults: 25 bins for one axis, 8 × 8 for two, 5 per axis beyond.
    """
    if bins is None:
        default = 25 if n_axes == 1 else (8 if n_axes == 2 else 5)
        return [default] * n_axes
    if isinstance(bins, (int, np.integer)):
        out: list[int | NDArray[np.float64]] = [int(bins)] * n_axes
    else:
        seq = list(bins)  # type: ignore[arg-type]
        if n_axes == 1 and len(seq) > 1 and all(np.ndim(b) == 0 and not isinstance(b, (int, np.integer)) for b in seq):
            seq = [np.asarray(seq, dtype=np.float64)]  # a flat edge list for a single axis
        if len(seq) != n_axes:
            raise ConfigError(f"bins has {len(seq)} entries for {n_axes} histogram axes")
        out = [int(b) if isinstance(b, (int, np.integer)) else np.asarray(b, dtype=np.float64) for b in seq]
    for i, b in enumerate(out):
        if isinstance(b, int):
            if b < 1:
                raise ConfigError(f"bins[{i}] must be >= 1, got {b}")
        else:
            if b.ndim != 1 or b.size < 2 or not np.all(np.isfinite(b)) or np.any(np.diff(b) <= 0):
                raise ConfigError(
                    f"bins[{i}]: edges must be a finite, strictly increasing 1-D array with at least 2 entries"
                )
    return out


def weighted_quantiles(
    x: NDArray[np.float64], q: ArrayLike, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Weighted quantiles with the midpoint rule (equals ``np.percentile`` for unit weights).

    Negative weights (possible after morphing) are treated as zero.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ConfigError("cannot compute an adaptive binning from zero events")
    w = np.ones_like(x) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws) - 0.5 * ws
    cw -= cw[0]
    if cw[-1] <= 0:
        raise ConfigError("cannot compute an adaptive binning: the weights sum to zero")
    cw /= cw[-1]
    return np.interp(np.asarray(q, dtype=np.float64), cw, xs)


def adaptive_edges(
    x: NDArray[np.float64], n_bins: int, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Edges of ``n_bins`` bins with equal weighted content (outer edges = min and max of x).

    Ties in x can make quantiles coincide; duplicate edges are removed (fewer bins).
    """
    edges = weighted_quantiles(x, np.linspace(0.0, 1.0, n_bins + 1), weights)
    keep = np.concatenate([[True], np.diff(edges) > 1e-12 * max(1.0, float(np.max(np.abs(edges))))])
    edges = edges[keep]
    if edges.size < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def madminer_adaptive_edges(
    x: NDArray[np.float64], n_bins: int, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """MadMiner 0.9.6 ``Histo._adaptive_binning``: weighted quantiles from 0.1 % to 99.9 %.

    Reproduced exactly (same quantile convention, zero-width bins of width <= 1e-9 removed)
    so that lhcgold's histogram likelihoods can be compared with MadMiner's bin by bin.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    order = np.argsort(x)
    xs, ws = x[order], w[order]
    cw = np.cumsum(ws) - 0.5 * ws
    cw -= cw[0]
    cw /= cw[-1]
    edges = np.interp(np.linspace(0.001, 0.999, n_bins + 1), cw, xs)
    widths = np.array(list(edges[1:] - edges[:-1]) + [1.0])
    return edges[widths > 1.0e-9]


def bin_indices(x: NDArray[np.float64], edges: Sequence[NDArray[np.float64]]) -> NDArray[np.int64]:
    """Flat bin index of every row of x (n, D) with clamping into the outer bins."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    shape = tuple(len(e) - 1 for e in edges)
    idx = np.zeros(len(x), dtype=np.int64)
    for d, e in enumerate(edges):
        i = np.searchsorted(e[1:-1], x[:, d], side="right")
        idx = idx * shape[d] + i
    return idx


def inside(x: NDArray[np.float64], edges: Sequence[NDArray[np.float64]]) -> NDArray[np.bool_]:
    """Rows of x that lie within the outer edges on every axis (``np.histogramdd``'s range)."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    ok = np.ones(len(x), dtype=bool)
    for d, e in enumerate(edges):
        ok &= (x[:, d] >= e[0]) & (x[:, d] <= e[-1])
    return ok


def n_bins_total(edges: Sequence[NDArray[np.float64]]) -> int:
    return int(np.prod([len(e) - 1 for e in edges]))
