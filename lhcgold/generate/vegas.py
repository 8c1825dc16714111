"""A small vectorised VEGAS grid: adaptive, separable importance sampling on the unit hypercube.

Why our own instead of the ``vegas`` package: the generator needs only the separable VEGAS
map (no stratification, no gvar error propagation), must draw from a ``numpy.random.Generator``
for reproducibility (SPEC 7 ``rng=``), must freeze the map for the production run and hand
back per-point Jacobians for weighted events; this is ~80 lines of numpy and adds no compiled
dependency. Adaptation follows Lepage (J. Comput. Phys. 27 (1978) 192): per dimension, bins
receive the accumulated ⟨(f·J)²⟩, smoothed and damped (α), and the map is redrawn so that every
bin carries the same share.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["VegasMap"]


class VegasMap:
    """Separable piecewise-linear map of [0,1]^d onto itself.

    Args:
        dim: number of dimensions.
        n_bins: bins per dimension.
        alpha: damping exponent of the adaptation (0: no adaptation; 1.5 is VEGAS's default).
    """

    def __init__(self, dim: int, *, n_bins: int = 50, alpha: float = 1.5):
        self.dim = int(dim)
        self.n_bins = int(n_bins)
        self.alpha = float(alpha)
        self.edges = np.tile(np.linspace(0.0, 1.0, self.n_bins + 1), (self.dim, 1))

    def map(self, y: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
        """Map uniform points y (N, d) to x (N, d); returns (x, jacobian (N,), bin indices (N, d))."""
        yn = y * self.n_bins
        ib = np.minimum(yn.astype(np.intp), self.n_bins - 1)
        frac = yn - ib
        d = np.arange(self.dim)[None, :]
        lo = self.edges[d, ib]
        width = self.edges[d, ib + 1] - lo
        x = lo + frac * width
        jac = np.prod(width * self.n_bins, axis=1)
        return x, jac, ib

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
        """n points: (x, jacobian, bins)."""
        return self.map(rng.random((n, self.dim)))

    def adapt(self, bins: NDArray[np.intp], fj: NDArray[np.float64]) -> None:
        """Redraw the map from sampled bins (N, d) and integrand × Jacobian values (N,)."""
        if self.alpha <= 0:
            return
        f2 = fj * fj
        if not np.any(f2 > 0):
            return
        new = np.empty_like(self.edges)
        for k in range(self.dim):
            acc = np.bincount(bins[:, k], weights=f2, minlength=self.n_bins)
            cnt = np.bincount(bins[:, k], minlength=self.n_bins)
            acc = np.where(cnt > 0, acc / np.maximum(cnt, 1), 0.0)
            # smooth with neighbours
            sm = acc.copy()
            sm[1:-1] = (acc[:-2] + 6.0 * acc[1:-1] + acc[2:]) / 8.0
            sm[0] = (7.0 * acc[0] + acc[1]) / 8.0
            sm[-1] = (acc[-2] + 7.0 * acc[-1]) / 8.0
            tot = sm.sum()
            if tot <= 0:
                new[k] = self.edges[k]
                continue
            r = sm / tot
            with np.errstate(divide="ignore", invalid="ignore"):
                wgt = np.where(r > 0, ((r - 1.0) / np.log(np.where(r > 0, r, 0.5))) ** self.alpha, 0.0)
            wgt = np.where(np.isfinite(wgt), wgt, 1.0)
            wgt = wgt + 1e-3 * wgt.mean()  # keep every bin alive
            cum = np.concatenate([[0.0], np.cumsum(wgt)])
            cum /= cum[-1]
            targets = np.linspace(0.0, 1.0, self.n_bins + 1)
            new[k] = np.interp(targets, cum, self.edges[k])
            new[k, 0], new[k, -1] = 0.0, 1.0
        self.edges = new
