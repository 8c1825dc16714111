"""``DataAnalyzer``: what MadMiner's analysis classes know about an events file, nuisance benchmarks included."""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
from numpy.typing import NDArray

from ...io.events import EventFile
from ...io.h5common import open_h5
from ._h5 import BenchmarkInfo, read_extras

__all__ = ["DataAnalyzer"]


class DataAnalyzer:
    """The setup, observables and event counts of a MadMiner or lhcgold events file.

    Nuisance benchmarks and parameters are read (``benchmarks`` lists them with ``is_nuisance``;
    ``nuisance_parameters``, ``systematics``; :meth:`weights` returns their weight columns too);
    sampling, Fisher information and limits use the physics benchmarks.

    Args:
        filename: the events file.
        disable_morphing: ignore the morphing setup.
        include_nuisance_parameters: keep the nuisance parameters (MadMiner's flag).
    """

    def __init__(
        self, filename: str | os.PathLike[str], disable_morphing: bool = False, include_nuisance_parameters: bool = True
    ):
        self.madminer_filename = str(filename)
        self.events = EventFile(filename)
        self.setup = self.events.setup
        extras = read_extras(filename)
        self.parameters = OrderedDict((p.name, p) for p in self.setup.parameters)
        self.benchmarks: OrderedDict[str, BenchmarkInfo] = OrderedDict((b.name, b) for b in extras.benchmarks)
        self.benchmark_is_nuisance = [b.is_nuisance for b in extras.benchmarks]
        self.systematics = OrderedDict(extras.systematics)
        self.nuisance_parameters = (
            OrderedDict(extras.nuisance_parameters) if include_nuisance_parameters else OrderedDict()
        )
        self.observables = OrderedDict(zip(self.events.observables, self.events.definitions))
        self.morpher = None if disable_morphing or not self.setup.has_morphing else self.setup.morpher

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def n_benchmarks(self) -> int:
        return len(self.benchmarks)

    @property
    def n_benchmarks_phys(self) -> int:
        return sum(1 for b in self.benchmarks.values() if not b.is_nuisance)

    @property
    def n_nuisance_parameters(self) -> int:
        return len(self.nuisance_parameters)

    @property
    def n_observables(self) -> int:
        return len(self.observables)

    @property
    def n_samples(self) -> int:
        return self.events.n_events

    def weights(self, start: int = 0, stop: int | None = None) -> NDArray[np.float64]:
        """All weight columns (physics and nuisance benchmarks) of events ``[start, stop)`` [pb]."""
        with open_h5(self.events.path) as f:
            return np.asarray(f["samples/weights"][start:stop], dtype=np.float64)

    def weighted_events(
        self, start: int = 0, stop: int | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Observations (n, O) and all weight columns (n, B) of events ``[start, stop)``."""
        chunk = self.events.read(start, stop)
        return chunk.observations, self.weights(start, stop)
