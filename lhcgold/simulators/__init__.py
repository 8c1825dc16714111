"""Generic simulators with exact gold, and the adapter for user simulators.

:class:`GaltonBoard` (exact likelihood by dynamic programming) and :class:`LotkaVolterra`
(stochastic predator–prey process; joint score from the latent event history) follow the
"mining gold" paper. :class:`FunctionSimulator` wraps any Python function that returns x with
its joint log ratio and joint score. :func:`sample_ratio`, :func:`sample_local`,
:func:`sample_density` and :func:`sample_test` draw the same :class:`~lhcgold.io.samples.TrainingSet` s that
:mod:`lhcgold.augment` makes from collider events, so every :mod:`lhcgold.ml` estimator trains on them.
"""

from __future__ import annotations

from .base import FunctionSimulator, GoldBatch, Simulator
from .galton import GaltonBoard
from .lotka_volterra import LotkaVolterra
from .sampling import sample_density, sample_local, sample_ratio, sample_test

__all__ = [
    "FunctionSimulator",
    "GaltonBoard",
    "GoldBatch",
    "LotkaVolterra",
    "Simulator",
    "sample_local",
    "sample_density",
    "sample_ratio",
    "sample_test",
]
