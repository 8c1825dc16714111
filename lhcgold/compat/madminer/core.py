"""``MadMiner``: parameters, benchmarks, morphing and systematics, saved in MadMiner's setup layout.

The same calls as madminer 0.9.6's ``madminer.core.MadMiner``; the setup is built with lhcgold's
morphing (:mod:`lhcgold.physics.morphing`) and written with lhcgold's writer plus MadMiner's nuisance
benchmarks and systematics, which :meth:`MadMiner.load` reads back (they are never dropped).
Running MadGraph (``run``, ``run_multiple``) is lhcgold's ``generate`` stage instead.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ...config import Benchmark, Parameter, Setup
from ...exceptions import ConfigError, MorphingError
from ...io.atomic import atomic_path
from ...io.h5common import _TRANSFORM, _parse_transform, write_setup_groups, writer_attrs
from ...io.setupfile import read_setup
from ...physics.morphing import Morpher, find_components, optimize_basis
from ._h5 import BenchmarkInfo, Extras, Systematic, read_extras, write_extras

logger = logging.getLogger(__name__)

__all__ = ["MadMiner"]


def _clean_name(name: str) -> str:
    return name.replace(" ", "_").replace("-", "_")


def replace_file(filename: str | os.PathLike[str]) -> Path:
    """MadMiner's ``save`` replaces an existing file: do so atomically, and say so in the log."""
    path = Path(filename)
    if path.exists():
        logger.warning("replacing the existing file %s (MadMiner's save semantics)", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class MadMiner:
    """Parameters, benchmarks, morphing and systematics of an analysis (madminer's ``MadMiner``)."""

    def __init__(self) -> None:
        self.parameters: OrderedDict[str, Parameter] = OrderedDict()
        self.benchmarks: OrderedDict[str, BenchmarkInfo] = OrderedDict()
        self.systematics: OrderedDict[str, Systematic] = OrderedDict()
        self.nuisance_parameters: dict[str, Any] = {}
        self.morpher: Morpher | None = None
        self.default_benchmark: str | None = None
        self._components: np.ndarray | None = None
        self._matrix: np.ndarray | None = None

    # ------------------------------------------------------------------ parameters and benchmarks
    def add_parameter(
        self,
        lha_block: str,
        lha_id: int,
        parameter_name: str | None = None,
        param_card_transform: str | None = None,
        morphing_max_power: int = 2,
        parameter_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        """Add a parameter of interest (a param_card entry ``lha_block``/``lha_id``)."""
        name = _clean_name(parameter_name or f"parameter_{len(self.parameters)}")
        if name in self.parameters:
            raise ConfigError(f"parameter {name!r} exists already")
        if param_card_transform and _TRANSFORM.match(param_card_transform) is None:
            raise ConfigError(
                f"param_card_transform {param_card_transform!r}: only linear transforms 'a*theta+b' are supported"
            )
        scale, offset = _parse_transform(param_card_transform) if param_card_transform else (1.0, 0.0)
        self.parameters[name] = Parameter(
            name=name,
            lha_block=str(lha_block),
            lha_id=int(lha_id),
            max_power=int(morphing_max_power),
            range=(float(parameter_range[0]), float(parameter_range[1])),
            card_scale=scale,
            card_offset=offset,
        )
        self._drop_morphing()

    def set_parameters(self, parameters: Mapping[str, Any] | Sequence[tuple]) -> None:
        """Replace all parameters: a list of ``add_parameter`` argument tuples, or a dict of them."""
        self.parameters = OrderedDict()
        items = parameters.values() if isinstance(parameters, Mapping) else parameters
        for p in items:
            if isinstance(p, Parameter):
                self.parameters[p.name] = p
            else:
                self.add_parameter(*p)
        self._drop_morphing()

    def add_benchmark(
        self, parameter_values: Mapping[str, float], benchmark_name: str | None = None, verbose: bool = True
    ) -> None:
        """Add a named parameter point (its name is the weight name in the event files)."""
        unknown = [k for k in parameter_values if k not in self.parameters]
        if unknown:
            raise ConfigError(
                f"benchmark {benchmark_name!r}: unknown parameters {unknown}; known: {list(self.parameters)}"
            )
        name = benchmark_name or f"benchmark_{len(self.benchmarks)}"
        if name in self.benchmarks:
            raise ConfigError(f"benchmark {name!r} exists already")
        values = {p: float(parameter_values.get(p, 0.0)) for p in self.parameters}
        self.benchmarks[name] = BenchmarkInfo(name, values)
        if self.default_benchmark is None:
            self.default_benchmark = name
        if verbose:
            logger.info("added benchmark %s: %s", name, values)

    def set_benchmarks(
        self, benchmarks: Mapping[str, Mapping[str, float]] | Sequence[Mapping[str, float]], verbose: bool = True
    ) -> None:
        """Replace all benchmarks (a dict name -> values, or a list of values)."""
        self.benchmarks = OrderedDict()
        self.default_benchmark = None
        items = benchmarks.items() if isinstance(benchmarks, Mapping) else ((None, v) for v in benchmarks)
        for name, values in items:
            self.add_benchmark(values, name, verbose=verbose)
        self._drop_morphing()

    # ------------------------------------------------------------------ morphing
    def set_morphing(
        self,
        max_overall_power: int = 4,
        n_bases: int = 1,
        include_existing_benchmarks: bool = True,
        n_trials: int = 100,
        n_test_thetas: int = 100,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        """Components and a morphing basis; missing basis points are found by a (seeded) random search.

        The basis is the first C physics benchmarks. With more existing benchmarks than components,
        all of them form a least-squares basis (lhcgold's over-determined morphing).
        """
        if n_bases != 1:
            raise ConfigError("only n_bases=1 is supported (as in MadMiner)")
        if not self.parameters:
            raise MorphingError("add parameters before setting up the morphing")
        params = list(self.parameters.values())
        components = find_components([p.max_power for p in params], max_overall_power)
        ranges = np.array([p.range for p in params], dtype=np.float64)
        physics = [b for b in self.benchmarks.values() if not b.is_nuisance]
        existing = (
            np.array([[b.values[p.name] for p in params] for b in physics])
            if include_existing_benchmarks and physics
            else np.zeros((0, len(params)))
        )
        if existing.shape[0] >= components.shape[0]:
            basis = existing
        else:
            basis = optimize_basis(
                components, ranges, fixed=existing, n_trials=n_trials, n_test_thetas=n_test_thetas, rng=rng
            ).basis
        kept = physics if include_existing_benchmarks else []
        new = OrderedDict((b.name, b) for b in kept)
        for k, point in enumerate(basis[len(kept) :], start=len(kept)):
            name = f"morphing_basis_vector_{k}"
            new[name] = BenchmarkInfo(name, {p.name: float(v) for p, v in zip(params, point)})
        if not include_existing_benchmarks:
            new.update((b.name, b) for b in physics if b.name not in new)
        new.update((b.name, b) for b in self.benchmarks.values() if b.is_nuisance)
        self.benchmarks = new
        self.morpher = Morpher(components, basis)
        self._components, self._matrix = components, self.morpher.matrix
        logger.info(
            "morphing: %d components, %d basis benchmarks, condition number %.3g",
            components.shape[0],
            basis.shape[0],
            self.morpher.condition_number,
        )

    def _drop_morphing(self) -> None:
        self.morpher = None
        self._components = self._matrix = None

    def finite_differences(self, epsilon: float = 0.01) -> None:
        """Not supported: lhcgold's gold needs a morphing setup (call :meth:`set_morphing`)."""
        raise ConfigError("finite-difference benchmarks are not supported by lhcgold; use set_morphing()")

    # ------------------------------------------------------------------ systematics
    def add_systematics(
        self,
        effect: str,
        systematic_name: str | None = None,
        norm_variation: float = 1.1,
        scale: str = "mu",
        scale_variations: Sequence[float] = (0.5, 1.0, 2.0),
        pdf_variation: str = "CT10",
    ) -> None:
        """Declare a source of systematic uncertainty (``norm``, ``scale`` or ``pdf``), kept in the setup file."""
        if effect not in ("norm", "scale", "pdf"):
            raise ConfigError(f"unknown systematic effect {effect!r}; known: norm, scale, pdf")
        name = _clean_name(systematic_name or f"{effect}_{len(self.systematics)}")
        value = {
            "norm": str(norm_variation),
            "scale": ",".join(str(v) for v in scale_variations),
            "pdf": str(pdf_variation),
        }[effect]
        self.systematics[name] = Systematic(name, effect, value, scale if effect == "scale" else "None")

    # ------------------------------------------------------------------ files
    def setup(self) -> Setup:
        """The lhcgold :class:`~lhcgold.config.Setup` of the physics parameters and benchmarks."""
        names = list(self.parameters)
        physics = [Benchmark(b.name, dict(b.values)) for b in self.benchmarks.values() if not b.is_nuisance]
        if not physics:
            raise ConfigError("add at least one benchmark")
        return Setup(
            parameters=tuple(self.parameters[n] for n in names),
            benchmarks=tuple(physics),
            components=self._components,
            morphing_matrix=self._matrix,
        )

    def save(self, filename: str | os.PathLike[str]) -> None:
        """Write the setup file (MadMiner's layout: madminer and lhcgold both read it)."""
        setup = self.setup()
        extras = Extras(
            benchmarks=list(self.benchmarks.values()),
            systematics=dict(self.systematics),
            nuisance_parameters=dict(self.nuisance_parameters),
        )
        path = replace_file(filename)
        with atomic_path(path, overwrite=True) as tmp, h5py.File(tmp, "w") as f:
            write_setup_groups(f, setup)
            write_extras(f, extras, list(self.parameters))
            f.attrs.update(writer_attrs({"content": "setup", "writer_api": "lhcgold.compat.madminer"}))
        logger.info("saved setup to %s", path)

    def load(self, filename: str | os.PathLike[str], disable_morphing: bool = False) -> None:
        """Read a setup (or events) file, MadMiner's or lhcgold's, with its nuisance benchmarks and systematics."""
        setup = read_setup(filename)
        extras = read_extras(filename)
        self.parameters = OrderedDict((p.name, p) for p in setup.parameters)
        self.benchmarks = OrderedDict((b.name, b) for b in extras.benchmarks)
        self.default_benchmark = next((b.name for b in extras.benchmarks if not b.is_nuisance), None)
        self.systematics = OrderedDict(extras.systematics)
        self.nuisance_parameters = dict(extras.nuisance_parameters)
        if setup.has_morphing and not disable_morphing:
            self._components, self._matrix = setup.components, setup.morphing_matrix
            self.morpher = setup.morpher
        else:
            self._drop_morphing()

    # ------------------------------------------------------------------ MadGraph
    def run(self, *args: Any, **kwargs: Any) -> None:
        """Not available: generate with ``lhcgold generate`` (embedded LO generator) or run MG5_aMC
        yourself, then give the LHE files to :class:`~lhcgold.compat.madminer.lhe.LHEReader`."""
        raise ConfigError(
            "MadMiner.run() drives MadGraph, which lhcgold.compat does not do: generate events "
            "with `lhcgold generate` or with MG5_aMC directly (reweighting to the benchmarks' "
            "names), then pass the LHE files to LHEReader.add_sample()"
        )

    run_multiple = run
    reweight_existing_sample = run
