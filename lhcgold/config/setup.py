"""``Setup``: what a setup file holds (parameters, benchmarks, morphing)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ..exceptions import MorphingError, unknown_name_error
from ..physics.morphing import Morpher
from .card import Benchmark, Parameter, ParameterSpace


@dataclass(frozen=True, eq=False)
class Setup(ParameterSpace):
    """Parameters, benchmarks and morphing of an analysis (the ``setup.h5`` content).

    Attributes:
        parameters: the theory parameters, in θ-axis order.
        benchmarks: physics benchmarks; the morphing basis is the first C of them.
        components: morphing exponents (C, P), or None without morphing.
        morphing_matrix: (C, C) matrix on the first C benchmarks, or None.
    """

    parameters: tuple[Parameter, ...]
    benchmarks: tuple[Benchmark, ...]
    components: NDArray[np.int64] | None = None
    morphing_matrix: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if (self.components is None) != (self.morphing_matrix is None):
            raise MorphingError("components and morphing_matrix come together")
        if self.components is not None and self.morphing_matrix is not None:
            c = self.components.shape[0]
            if self.morphing_matrix.shape[0] != c or self.morphing_matrix.shape[1] > len(self.benchmarks):
                raise MorphingError(
                    f"morphing matrix of shape {self.morphing_matrix.shape} does not fit "
                    f"{c} components and {len(self.benchmarks)} benchmarks"
                )
            if self.components.shape[1] != len(self.parameters):
                raise MorphingError(
                    f"components have {self.components.shape[1]} parameters, setup has {len(self.parameters)}"
                )

    @property
    def has_morphing(self) -> bool:
        return self.components is not None

    @cached_property
    def morpher(self) -> Morpher:
        """The morpher on the basis (the first C benchmarks, or all for least-squares setups)."""
        if self.components is None or self.morphing_matrix is None:
            raise MorphingError("this setup has no morphing (run `lhcgold setup` with a morphing section)")
        n_basis = self.morphing_matrix.shape[1]
        return Morpher(self.components, self.benchmark_values[:n_basis])

    def benchmark_index(self, name: str) -> int:
        try:
            return self.benchmark_names.index(name)
        except ValueError:
            raise unknown_name_error("benchmark", name, self.benchmark_names) from None

    def theta_of(self, name: str) -> NDArray[np.float64]:
        """θ of a named benchmark."""
        return self.benchmark_values[self.benchmark_index(name)]
