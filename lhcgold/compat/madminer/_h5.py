"""What MadMiner keeps in its HDF5 files beyond lhcgold's setup: nuisance benchmarks, systematics
and nuisance parameters. Read and written here so that they are never dropped."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import h5py
import numpy as np

from ...exceptions import EventFileError
from ...io.h5common import decode_strings, encode_strings, open_h5


@dataclass(frozen=True)
class BenchmarkInfo:
    """One row of ``benchmarks/``: a physics or a nuisance benchmark.

    Attributes:
        name: the benchmark (weight) name.
        values: parameter values by name (zeros for nuisance benchmarks).
        is_nuisance: the benchmark only describes a systematic variation.
        is_reference: the physics benchmark the nuisance weights are rescaled to.
    """

    name: str
    values: dict[str, float]
    is_nuisance: bool = False
    is_reference: bool = False


@dataclass(frozen=True)
class NuisanceParameter:
    """A nuisance parameter: its systematic and the benchmarks of its +1 and -1 variations."""

    name: str
    systematic: str
    benchmark_pos: str | None
    benchmark_neg: str | None


@dataclass(frozen=True)
class Systematic:
    """A source of systematic uncertainty as MadMiner declares it (``norm``, ``scale`` or ``pdf``)."""

    name: str
    type: str
    value: str
    scale: str


@dataclass
class Extras:
    """The benchmark table with nuisance rows, systematics and nuisance parameters of a file."""

    benchmarks: list[BenchmarkInfo] = field(default_factory=list)
    systematics: dict[str, Systematic] = field(default_factory=dict)
    nuisance_parameters: dict[str, NuisanceParameter] = field(default_factory=dict)

    @property
    def nuisance_benchmarks(self) -> list[BenchmarkInfo]:
        return [b for b in self.benchmarks if b.is_nuisance]


def _none(text: str) -> str | None:
    return None if text in ("", "None") else text


def read_extras(path: str | os.PathLike[str]) -> Extras:
    """The full benchmark table (physics and nuisance rows), systematics and nuisance parameters.

    Raises:
        EventFileError: missing, foreign or inconsistent file.
    """
    with open_h5(path) as f:
        try:
            pnames = decode_strings(f["parameters/names"])
            names = decode_strings(f["benchmarks/names"])
            values = np.asarray(f["benchmarks/values"][()], dtype=np.float64).reshape(len(names), len(pnames))
            nuis = (
                np.asarray(f["benchmarks/is_nuisance"][()]).reshape(-1)
                if "benchmarks/is_nuisance" in f
                else np.zeros(len(names))
            )
            ref = (
                np.asarray(f["benchmarks/is_reference"][()]).reshape(-1)
                if "benchmarks/is_reference" in f
                else np.zeros(len(names))
            )
            out = Extras(
                benchmarks=[
                    BenchmarkInfo(n, dict(zip(pnames, map(float, v))), bool(u), bool(r))
                    for n, v, u, r in zip(names, values, nuis, ref)
                ]
            )
            if "systematics/names" in f:
                cols = [decode_strings(f[f"systematics/{k}"]) for k in ("names", "types", "values", "scales")]
                out.systematics = {n: Systematic(n, t, v, s) for n, t, v, s in zip(*cols)}
            if "nuisance_parameters/names" in f:
                cols = [
                    decode_strings(f[f"nuisance_parameters/{k}"])
                    for k in ("names", "systematics", "benchmark_positive", "benchmark_negative")
                ]
                out.nuisance_parameters = {n: NuisanceParameter(n, s, _none(p), _none(m)) for n, s, p, m in zip(*cols)}
        except (KeyError, ValueError, TypeError) as exc:
            raise EventFileError(f"{path}: cannot read MadMiner's benchmarks and systematics: {exc}") from exc
    return out


def write_extras(f: h5py.File, extras: Extras, parameter_names: Sequence[str]) -> None:
    """Append the nuisance benchmarks to ``benchmarks/`` and write ``systematics/`` and
    ``nuisance_parameters/`` (MadMiner's layout), after lhcgold wrote the physics setup."""
    nuisance = extras.nuisance_benchmarks
    if nuisance:
        names = decode_strings(f["benchmarks/names"]) + [b.name for b in nuisance]
        values = np.vstack([f["benchmarks/values"][()]] + [[0.0] * len(parameter_names)] * len(nuisance))
        is_nuis = np.concatenate([f["benchmarks/is_nuisance"][()], np.ones(len(nuisance), dtype=np.int64)])
        is_ref = np.concatenate([f["benchmarks/is_reference"][()], np.zeros(len(nuisance), dtype=np.int64)])
        refs = [b.name for b in extras.benchmarks if b.is_reference and not b.is_nuisance]
        if refs and refs[0] in names:
            is_ref[:] = 0
            is_ref[names.index(refs[0])] = 1
        for key in ("names", "values", "is_nuisance", "is_reference"):
            del f[f"benchmarks/{key}"]
        f["benchmarks/names"] = encode_strings(names)
        f["benchmarks/values"] = values.astype(np.float64)
        f["benchmarks/is_nuisance"] = is_nuis.astype(np.int64)
        f["benchmarks/is_reference"] = is_ref.astype(np.int64)
    if extras.systematics:
        sy = list(extras.systematics.values())
        for key, attr in (("names", "name"), ("types", "type"), ("values", "value"), ("scales", "scale")):
            f[f"systematics/{key}"] = encode_strings([str(getattr(s, attr)) for s in sy])
    if extras.nuisance_parameters:
        nps = list(extras.nuisance_parameters.values())
        f["nuisance_parameters/names"] = encode_strings([n.name for n in nps])
        f["nuisance_parameters/systematics"] = encode_strings([n.systematic for n in nps])
        f["nuisance_parameters/benchmark_positive"] = encode_strings([str(n.benchmark_pos) for n in nps])
        f["nuisance_parameters/benchmark_negative"] = encode_strings([str(n.benchmark_neg) for n in nps])
