"""Shared parts of the LHE and Delphes readers: observables, cuts and efficiencies in MadMiner's
calls, expressions translated into lhcgold's safe expression language, and the events file."""

from __future__ import annotations

import ast
import logging
import os
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...exceptions import ConfigError
from ...io.combine import combine_and_shuffle
from ...io.events import EventWriter
from ...io.setupfile import read_setup
from ...observables import BASE_NAMES, Cut, Efficiency, Observable, compile_analysis, compute, default_observables
from ...observables.objects import RecoEvents
from ...reconstruct import ReconstructionSample, _weight_columns
from ._h5 import read_extras
from .core import replace_file

logger = logging.getLogger(__name__)

_CASTS = {"float", "int", "bool"}
_MODULES = {"np", "numpy", "math"}


class _Translate(ast.NodeTransformer):
    """MadMiner's Python expressions -> lhcgold's: ``float(c)`` -> ``(1.0 * (c))``, ``np.abs`` -> ``abs``."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in _CASTS and len(node.args) == 1 and not node.keywords:
            if node.func.id == "bool":
                return node.args[0]
            return ast.BinOp(left=ast.Constant(1.0), op=ast.Mult(), right=node.args[0])
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id in _MODULES:
            return ast.copy_location(ast.Name(id=node.attr, ctx=ast.Load()), node)
        return node


def translate_expression(text: str) -> str:
    """A MadMiner observable or cut expression in lhcgold's expression language.

    MadMiner passes its expressions to Python's ``eval``; lhcgold parses them against a whitelist
    (never ``eval``). The common MadMiner idioms are rewritten: ``float(x > y)`` and ``int(...)``
    become ``1.0 * (...)``, ``bool(...)`` is dropped, ``np.``/``numpy.``/``math.`` prefixes are removed.

    Example:
        >>> translate_expression("j[0].deltaphi(j[1]) * (-1.0 + 2.0 * float(j[0].eta > j[1].eta))")
        'j[0].deltaphi(j[1]) * (-1.0 + 2.0 * (1.0 * (j[0].eta > j[1].eta)))'
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"expression {text!r} is not valid Python syntax: {exc.msg}") from None
    return ast.unparse(ast.fix_missing_locations(_Translate().visit(tree)))


def _definition(definition: str | Callable[..., Any]) -> str | Callable[..., Any]:
    if callable(definition):
        return definition
    if not isinstance(definition, str):
        raise ConfigError(f"a definition must be an expression string or a function, got {type(definition).__name__}")
    return translate_expression(definition)


class _Reader:
    """Observables, cuts, efficiencies and the events file written by ``analyse_*`` and ``save``."""

    def __init__(self, filename: str | os.PathLike[str]):
        self.filename = str(filename)
        self.setup = read_setup(filename)
        extras = read_extras(filename)
        if extras.systematics or extras.nuisance_benchmarks:
            logger.warning("%s declares systematics; this reader writes the physics benchmarks' weights only", filename)
        self.benchmark_names = self.setup.benchmark_names
        self.samples: list[ReconstructionSample] = []
        self.observables: OrderedDict[str, Observable] = OrderedDict()
        self.cuts: list[Cut] = []
        self.efficiencies: list[Efficiency] = []
        self._workdir: str | None = None
        self._result: Path | None = None

    # ------------------------------------------------------------------ observables and cuts
    def add_observable(
        self, name: str, definition: str | Callable[..., Any], required: bool = False, default: float | None = None
    ) -> None:
        """An observable from an expression (MadMiner's syntax, see :func:`translate_expression`)."""
        if name in self.observables:
            raise ConfigError(f"observable {name!r} exists already")
        self.observables[name] = Observable(name, _definition(definition), default=default, required=required)

    def add_observable_from_function(
        self, name: str, fn: Callable[..., Any], required: bool = False, default: float | None = None
    ) -> None:
        """An observable from a function of a whole chunk of events.

        Unlike MadMiner (one call per event with lists of particles), ``fn`` receives a
        :class:`~lhcgold.observables.objects.RecoEvents` chunk and returns one value per event.
        """
        if not callable(fn):
            raise ConfigError(f"observable {name!r}: fn must be callable")
        self.add_observable(name, fn, required=required, default=default)

    def add_default_observables(
        self,
        n_leptons_max: int = 2,
        n_photons_max: int = 2,
        n_jets_max: int = 2,
        include_met: bool = True,
        include_visible_sum: bool = True,
        include_numbers: bool = True,
        include_charge: bool = True,
    ) -> None:
        """pT, eta, phi of the hardest leptons, photons and jets, MET and multiplicities."""
        for ob in default_observables(
            n_leptons=n_leptons_max,
            n_photons=n_photons_max,
            n_jets=n_jets_max,
            include_met=include_met,
            include_numbers=include_numbers,
        ):
            self.observables[ob.name] = ob
        if include_visible_sum:
            for attr in ("pt", "eta", "phi", "m"):
                self.observables[f"{attr}_visible"] = Observable(f"{attr}_visible", f"visible.{attr}")

    def add_cut(self, definition: str | Callable[..., Any], required: bool = False) -> None:
        """A selection: events where the expression is false (or cannot be computed) are dropped."""
        self.cuts.append(Cut(_definition(definition)))

    def add_efficiency(self, definition: str | Callable[..., Any], default: float = 1.0) -> None:
        """A per-event efficiency multiplying the weights."""
        self.efficiencies.append(Efficiency(_definition(definition), default=default))

    def reset_observables(self) -> None:
        self.observables = OrderedDict()

    def reset_cuts(self) -> None:
        self.cuts = []

    def reset_efficiencies(self) -> None:
        self.efficiencies = []

    # ------------------------------------------------------------------ output
    def _new_output(self) -> Path:
        if not self.samples:
            raise ConfigError("no samples: call add_sample() first")
        if not self.observables:
            raise ConfigError("no observables: call add_observable() first")
        if self._workdir is None:
            self._workdir = tempfile.mkdtemp(prefix="lhcgold-madminer-")
            weakref.finalize(self, shutil.rmtree, self._workdir, True)
        out = Path(self._workdir) / "analysed.h5"
        if out.exists():
            out.unlink()
        return out

    def _internal(self) -> list[Observable]:
        """The observables under names that do not clash with lhcgold's object collections (``met`` ...)."""
        return [
            Observable(f"{o.name}_", o.definition, default=o.default, required=o.required)
            if o.name in BASE_NAMES
            else o
            for o in self.observables.values()
        ]

    def _analyse(self, chunks: Callable[[ReconstructionSample], Iterator[RecoEvents]], stage: str) -> None:
        """Observables, cuts and weights of every sample's chunks into the working events file."""
        out = self._new_output()
        obs = self._internal()
        compiled = compile_analysis(obs, cuts=self.cuts, efficiencies=self.efficiencies)
        definitions = [o.definition if isinstance(o.definition, str) else "None" for o in obs]
        n_read = n_written = 0
        with EventWriter(
            out,
            self.setup,
            list(self.observables),
            definitions=definitions,
            overwrite=True,
            negative_weights="warn",
            attrs={"lhcgold_stage": stage},
        ) as writer:
            for sample in self.samples:
                cols: Any = None
                sampling = 0
                for reco in chunks(sample):
                    if cols is None:
                        cols, sampling = _weight_columns(reco.weight_names, self.benchmark_names, sample, reco)
                    res = compute(reco, obs, cuts=self.cuts, efficiencies=self.efficiencies, compiled=compiled)
                    writer.append(res.values, res.weights[:, cols] * sample.k_factor, sampling_benchmarks=sampling)
                    n_read += len(reco)
                    n_written += len(res.values)
        self._result = out
        logger.info("analysed %d events, %d pass the cuts", n_read, n_written)

    def save(
        self,
        filename_out: str | os.PathLike[str],
        shuffle: bool = True,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        """Write the analysed events (setup, observables, weights) in MadMiner's layout."""

        if self._result is None:
            raise ConfigError("nothing to save: run the analysis first")
        path = replace_file(filename_out)
        combine_and_shuffle([self._result], path, shuffle=shuffle, rng=rng, overwrite=True)
        logger.info("saved %s", path)


def sample_of(
    path: str | os.PathLike[str],
    sampled_from_benchmark: str | None,
    is_background: bool,
    k_factor: float,
    systematics: Sequence[str] | None,
    lhe: str | os.PathLike[str] | None = None,
) -> ReconstructionSample:
    """An lhcgold :class:`~lhcgold.reconstruct.ReconstructionSample` from MadMiner's ``add_sample`` arguments."""
    if systematics:
        raise ConfigError("systematics in add_sample() are not supported yet: nuisance weights are not computed")
    if not Path(path).is_file():
        raise ConfigError(f"{str(path)!r}: no such file")
    return ReconstructionSample(
        path, sampled_from=sampled_from_benchmark, is_background=bool(is_background), k_factor=float(k_factor), lhe=lhe
    )
