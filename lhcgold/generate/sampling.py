"""Adaptive sampling of an embedded process: VEGAS warm-up, channel selection, weighted events.

Used by :mod:`lhcgold.generate.embedded`; exposed for tests and benchmarks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..processes.base import Batch, EmbeddedProcess
from .vegas import VegasMap

__all__ = ["Sampler", "estimate_xsec", "select_channels"]

logger = logging.getLogger(__name__)
Array = NDArray[np.float64]


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def select_channels(batch: Batch, rng: np.random.Generator) -> tuple[NDArray[np.intp], Array]:
    """Pick one channel per point with probability ∝ proposal; returns (channel, m_c (N, C)).

    The returned component weights are the chosen channel's divided by its selection
    probability, so they are unbiased for the channel sum.
    """
    prop = batch.proposal
    tot = prop.sum(axis=1)
    n, k = prop.shape
    # points where the proposal vanishes: fall back to uniform selection
    p: NDArray[np.float64] = np.where(tot[:, None] > 0, prop / np.where(tot > 0, tot, 1.0)[:, None], 1.0 / k)
    cum = np.cumsum(p, axis=1)
    r = np.asarray(rng.random(n))
    ch = np.minimum((cum < r[:, None]).sum(axis=1), k - 1)
    sel_p = p[np.arange(n), ch]
    m = batch.comps[np.arange(n), ch] / np.where(sel_p > 0, sel_p, np.inf)[:, None]
    return ch, m


@dataclass
class Sampler:
    """A process with a (trained) VEGAS map."""

    process: EmbeddedProcess
    vmap: VegasMap

    @classmethod
    def adapted(
        cls,
        process: EmbeddedProcess,
        *,
        n_iterations: int = 5,
        n_points: int = 20_000,
        n_bins: int = 50,
        rng: np.random.Generator | int | None = None,
    ) -> Sampler:
        """Train a VEGAS map on the θ-independent proposal of ``process``."""
        gen = _rng(rng)
        vmap = VegasMap(process.dim, n_bins=n_bins)
        for it in range(n_iterations):
            u, jac, bins = vmap.sample(n_points, gen)
            b = process.evaluate(u)
            fj = b.proposal.sum(axis=1) * jac
            mean = fj.mean()
            logger.debug("vegas iteration %d: proposal integral %.6g ± %.2g", it, mean, fj.std() / np.sqrt(n_points))
            vmap.adapt(bins, fj)
        return cls(process, vmap)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[Batch, NDArray[np.intp], Array]:
        """n weighted points: (batch, channel, component weights per point (N, C) [pb])."""
        u, jac, _ = self.vmap.sample(n, rng)
        b = self.process.evaluate(u)
        b.comps *= jac[:, None, None]
        b.proposal *= jac[:, None]
        ch, m = select_channels(b, rng)
        return b, ch, m


def estimate_xsec(
    process: EmbeddedProcess,
    *,
    n_points: int = 400_000,
    rng: np.random.Generator | int | None = 0,
    n_adapt: int = 5,
    batch: int = 100_000,
) -> tuple[Array, Array]:
    """(σ_c, δσ_c) [pb] from the channel-summed components (no channel sampling noise)."""
    gen = _rng(rng)
    s = Sampler.adapted(process, n_iterations=n_adapt, rng=gen)
    s1 = np.zeros(process.n_components)
    s2 = np.zeros(process.n_components)
    done = 0
    while done < n_points:
        k = min(batch, n_points - done)
        u, jac, _ = s.vmap.sample(k, gen)
        b = process.evaluate(u)
        m = b.comps.sum(axis=1) * jac[:, None]
        s1 += m.sum(axis=0)
        s2 += (m * m).sum(axis=0)
        done += k
    mean = s1 / n_points
    var = np.maximum(s2 / n_points - mean**2, 0.0)
    return mean, np.sqrt(var / n_points)
