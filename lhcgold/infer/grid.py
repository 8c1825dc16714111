"""Parameter grids for limits: regular grids (with fixed parameters) or scattered points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._renamed import module_getattr as _module_getattr
from ..config.point import ParameterPoint
from ..exceptions import ConfigError

RangeLike = float | tuple[float, float] | Sequence[float]


@dataclass(frozen=True, eq=False)
class LimitGrid:
    """A regular grid over the parameters, in MadMiner's point order (``meshgrid(indexing="ij")``).

    Args:
        ranges: one entry per parameter: ``(low, high)`` for a scanned parameter, or a single
            number for a parameter fixed at that value.
        resolutions: points per scanned parameter (an int for all, or one per parameter; the
            entries of fixed parameters are ignored).

    Example:
        >>> g = LimitGrid([(-1.0, 1.0), 0.0], resolutions=3)
        >>> g.points.tolist()
        [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]
    """

    ranges: tuple[RangeLike, ...]
    resolutions: int | tuple[int, ...] = 25

    def __post_init__(self) -> None:
        ranges = tuple(self.ranges)
        if not ranges:
            raise ConfigError("a grid needs at least one parameter")
        res = self.resolutions
        res_t = (int(res),) * len(ranges) if isinstance(res, (int, np.integer)) else tuple(int(r) for r in res)
        if len(res_t) != len(ranges):
            raise ConfigError(f"{len(res_t)} resolutions for {len(ranges)} parameters")
        axes = []
        for i, (r, n) in enumerate(zip(ranges, res_t)):
            if np.ndim(r) == 0:
                v = float(r)  # type: ignore[arg-type]
                if not np.isfinite(v):
                    raise ConfigError(f"grid: fixed value of parameter {i} is not finite")
                axes.append(np.array([v]))
                continue
            lo, hi = (float(v) for v in r)  # type: ignore[union-attr]
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ConfigError(f"grid: range of parameter {i} must be finite with low < high, got {r}")
            if n < 2:
                raise ConfigError(f"grid: resolution of parameter {i} must be >= 2, got {n}")
            a = np.linspace(lo, hi, n)
            a[np.abs(a) < 1e-12 * (hi - lo)] = 0.0  # a point meant to be 0 (the SM) is exactly 0
            axes.append(a)
        object.__setattr__(self, "ranges", ranges)
        object.__setattr__(self, "resolutions", res_t)
        object.__setattr__(self, "_axes", tuple(axes))

    @property
    def axes(self) -> tuple[NDArray[np.float64], ...]:
        """One 1-D array of values per parameter (length 1 for fixed parameters)."""
        return self._axes  # type: ignore[attr-defined,no-any-return]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def scanned(self) -> tuple[int, ...]:
        """Indices of the scanned (non-fixed) parameters."""
        return tuple(i for i, a in enumerate(self.axes) if np.ndim(self.ranges[i]) != 0)

    @property
    def n_parameters(self) -> int:
        return len(self.axes)

    @property
    def points(self) -> NDArray[np.float64]:
        """(T, P) parameter points, first parameter slowest."""
        mesh = np.meshgrid(*self.axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def parameter_points(self, names: Sequence[str]) -> tuple[ParameterPoint, ...]:
        """The grid's points as :class:`~lhcgold.config.ParameterPoint` of ``names`` (the setup's
        parameters, in order), in the order of :attr:`points`.

        Raises:
            ConfigError: ``names`` does not have one name per grid parameter.
        """
        names = tuple(names)
        if len(names) != self.n_parameters:
            raise ConfigError(f"the grid has {self.n_parameters} parameters, got names {names}")
        return tuple(ParameterPoint.from_array(row, names) for row in self.points)


def as_points(grid: LimitGrid | ArrayLike, n_parameters: int) -> tuple[NDArray[np.float64], LimitGrid | None]:
    """(T, P) points and the LimitGrid (None for scattered points), with shape checks."""
    if isinstance(grid, LimitGrid):
        if grid.n_parameters != n_parameters:
            raise ConfigError(f"the grid has {grid.n_parameters} parameters, the setup {n_parameters}")
        return grid.points, grid
    pts = np.asarray(grid, dtype=np.float64)
    if pts.ndim == 1 and n_parameters == 1:
        pts = pts[:, None]
    if pts.ndim != 2 or pts.shape[1] != n_parameters or len(pts) == 0:
        raise ConfigError(f"points must have shape (T, {n_parameters}), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ConfigError("points must be finite")
    return pts, None


def check_in_ranges(points: NDArray[np.float64], ranges: NDArray[np.float64], names: Sequence[str]) -> None:
    """ConfigError if a point lies outside the parameter ranges of the setup (morphing validity)."""
    lo, hi = ranges[:, 0], ranges[:, 1]
    tol = 1e-9 * (hi - lo)
    bad = (points < lo - tol) | (points > hi + tol)
    if np.any(bad):
        p = int(np.argmax(bad.any(axis=0)))
        vals = points[bad[:, p], p]
        raise ConfigError(
            f"grid point(s) outside the range of parameter {names[p]!r} [{lo[p]:g}, {hi[p]:g}]: "
            f"e.g. {vals[0]:g}; the morphing is only validated there (pass allow_outside=True to override)"
        )


def grid_index(points: NDArray[np.float64], theta: NDArray[np.float64]) -> int:
    """Index of the grid point equal to ``theta`` (ConfigError if it is not on the grid)."""
    d = np.max(np.abs(points - theta[None, :]), axis=1)
    j = int(np.argmin(d))
    scale = max(1.0, float(np.max(np.abs(points))))
    if d[j] > 1e-9 * scale:
        raise ConfigError(f"theta {theta.tolist()} is not a grid point (nearest {points[j].tolist()})")
    return j


__getattr__ = _module_getattr("lhcgold.infer.grid")
