"""Training sets with gold drawn from a :class:`~lhcgold.simulators.base.Simulator`.

The same :class:`~lhcgold.io.samples.TrainingSet` kinds, conventions and θ specifications as
:mod:`lhcgold.augment` (``Point``, ``Points``, ``ThetaGrid``, ``Prior``, ``RandomMorphing`` and
``BenchmarkTheta("reference")``), so every estimator of :mod:`lhcgold.ml` trains on them unchanged.
Instead of reweighting a fixed event sample, every sample is a fresh simulation.

Example:
    >>> from lhcgold.augment import Flat, Prior, BenchmarkTheta
    >>> ts = sample_ratio(GaltonBoard(), theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("reference"),
    ...                   n_samples=100, rng=1)
    >>> ts.kind, ts.x.shape, sorted(ts.gold)
    ('ratio', (100, 1), ['r_xz', 't_xz'])
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..augment.thetas import Point, Points, ThetaSpec, resolve
from ..exceptions import ConfigError
from ..io.samples import TrainingSet
from .base import GoldBatch, Simulator
from .galton import GaltonBoard  # noqa: F401  (doctest namespace)

__all__ = ["sample_density", "sample_local", "sample_ratio", "sample_test"]

log = logging.getLogger(__name__)


def _points(sim: Simulator, spec: ThetaSpec | Any, n: int, gen: np.random.Generator) -> NDArray[np.float64]:
    """Per-sample θ (n, P) from a θ specification (an array is taken as a point or points)."""
    if not isinstance(spec, (Point, Points)) and isinstance(spec, (list, tuple, np.ndarray)):
        arr = np.asarray(spec, dtype=np.float64)
        spec = Point(arr) if arr.ndim == 1 else Points(arr)
    thetas, counts, _ = resolve(
        spec,
        n_samples=n,
        parameter_names=sim.parameters,
        benchmark_names=("reference",),
        benchmark_values=np.atleast_2d(sim.reference),
        ranges=sim.ranges,
        rng=gen,
    )
    out = np.repeat(thetas, counts, axis=0)
    return out[gen.permutation(len(out))]


def _run(
    sim: Simulator,
    theta: NDArray[np.float64],
    theta0: NDArray[np.float64],
    theta1: NDArray[np.float64],
    gen: np.random.Generator,
    batch_size: int,
) -> tuple[GoldBatch, NDArray[np.bool_]]:
    parts = [
        sim.simulate_gold(
            theta[lo : lo + batch_size],
            theta0=theta0[lo : lo + batch_size],
            theta1=theta1[lo : lo + batch_size],
            rng=gen,
        )
        for lo in range(0, len(theta), batch_size)
    ]
    batch = GoldBatch(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.log_r_xz for p in parts]),
        np.concatenate([p.t_xz for p in parts]),
        np.concatenate([p.valid for p in parts]),  # type: ignore[misc]
    )
    keep = batch.valid & np.isfinite(batch.log_r_xz) & np.all(np.isfinite(batch.t_xz), axis=1)
    if not np.all(keep):
        log.warning("dropped %d of %d simulations (unfinished or non-finite gold)", int((~keep).sum()), len(keep))
    return batch, keep


def _check_n(n_samples: int, minimum: int = 1) -> int:
    if int(n_samples) < minimum:
        raise ConfigError(f"n_samples must be >= {minimum}, got {n_samples}")
    return int(n_samples)


def sample_ratio(
    sim: Simulator,
    *,
    theta0: ThetaSpec | Any,
    theta1: ThetaSpec | Any,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 100_000,
) -> TrainingSet:
    """Ratio sample: half simulated at θ0 (y = 0), half at θ1 (y = 1).

    Every sample carries log r(x,z|θ0,θ1) and t(x,z|θ0) (the ``"ratio"`` kind of
    :func:`lhcgold.augment.sample_ratio`: CARL, ROLR, RASCAL, ALICE, ALICES, CASCAL).

    Args:
        sim: the simulator.
        theta0: numerator points (a θ specification or an array of points).
        theta1: denominator points (e.g. ``BenchmarkTheta("reference")``).
        n_samples: total number of samples (>= 2).
        rng: random generator or seed.
        batch_size: simulations per vectorised call.
    """
    n = _check_n(n_samples, 2)
    gen = np.random.default_rng(rng)
    halves = []
    for y, n_half in ((0, n // 2), (1, n - n // 2)):
        th0, th1 = _points(sim, theta0, n_half, gen), _points(sim, theta1, n_half, gen)
        batch, keep = _run(sim, th0 if y == 0 else th1, th0, th1, gen, batch_size)
        halves.append((batch, keep, th0, th1, np.full(n_half, float(y))))
    x = np.concatenate([h[0].x[h[1]] for h in halves])
    perm = gen.permutation(len(x))
    return TrainingSet(
        kind="ratio",
        x=x[perm],
        theta0=np.concatenate([h[2][h[1]] for h in halves])[perm],
        theta1=np.concatenate([h[3][h[1]] for h in halves])[perm],
        y=np.concatenate([h[4][h[1]] for h in halves])[perm],
        log_r_xz=np.concatenate([h[0].log_r_xz[h[1]] for h in halves])[perm],
        t_xz=np.concatenate([h[0].t_xz[h[1]] for h in halves])[perm],
        observables=sim.observables,
        parameters=sim.parameters,
        metadata={"simulator": type(sim).__name__, "n_requested": n},
    )


def _single(
    sim: Simulator, theta: ThetaSpec | Any, n_samples: int, kind: str, rng: Any, batch_size: int
) -> TrainingSet:
    gen = np.random.default_rng(rng)
    th = _points(sim, theta, _check_n(n_samples), gen)
    batch, keep = _run(sim, th, th, th, gen, batch_size)
    return TrainingSet(
        kind=kind,
        x=batch.x[keep],
        theta0=th[keep],
        t_xz=None if kind == "test" else batch.t_xz[keep],
        observables=sim.observables,
        parameters=sim.parameters,
        metadata={"simulator": type(sim).__name__, "n_requested": int(n_samples)},
    )


def sample_local(
    sim: Simulator,
    *,
    theta: ThetaSpec | Any,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 100_000,
) -> TrainingSet:
    """Local sample: x simulated at one θ with the joint score t(x,z|θ) (SALLY, SALLINO)."""
    return _single(sim, theta, n_samples, "local", rng, batch_size)


def sample_density(
    sim: Simulator,
    *,
    theta: ThetaSpec | Any,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 100_000,
) -> TrainingSet:
    """Density sample: x simulated at θ drawn from ``theta``, with t(x,z|θ) (NDE, SCANDAL)."""
    return _single(sim, theta, n_samples, "density", rng, batch_size)


def sample_test(
    sim: Simulator,
    *,
    theta: ThetaSpec | Any,
    n_samples: int,
    rng: np.random.Generator | int | None = None,
    batch_size: int = 100_000,
) -> TrainingSet:
    """Test sample: x simulated at ``theta`` (no gold)."""
    return _single(sim, theta, n_samples, "test", rng, batch_size)
