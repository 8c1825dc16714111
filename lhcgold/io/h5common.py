"""Shared pieces of the HDF5 layout (MadMiner v0.9.3+ plus lhcgold attributes)."""

from __future__ import annotations

import datetime
import platform
import re
from collections.abc import Mapping, Sequence
from typing import Any

import h5py
import numpy as np

from .._version import __version__
from ..config import Benchmark, Parameter, Setup
from ..exceptions import EventFileError

#: Version of lhcgold's additions to the MadMiner layout (attributes, ``lhcgold/`` group).
FORMAT_VERSION = "1.0"
EMPTY_EXPR = "None"  # MadMiner's placeholder for "no expression"


def encode_strings(values: Sequence[str]) -> np.ndarray:
    """Fixed-length ASCII (S256) as MadMiner writes and expects."""
    return np.array([str(v).encode("ascii", "ignore")[:256] for v in values], dtype="S256").reshape(len(values))


def decode_strings(ds: h5py.Dataset) -> list[str]:
    return [v.decode("ascii") if isinstance(v, bytes) else str(v) for v in ds[()]]


def writer_attrs(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "lhcgold_format_version": FORMAT_VERSION,
        "lhcgold_version": __version__,
        "writer": f"lhcgold {__version__} (python {platform.python_version()}, h5py {h5py.__version__})",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    for key, value in (extra or {}).items():
        attrs[key] = "None" if value is None else value
    return attrs


def write_setup_groups(f: h5py.File, setup: Setup) -> None:
    """Write parameters/, benchmarks/ and morphing/ exactly as MadMiner v0.9.3+ does."""
    for group in ("parameters", "benchmarks", "morphing"):
        if group in f:
            del f[group]
    p = setup.parameters
    f["parameters/names"] = encode_strings([q.name for q in p])
    f["parameters/lha_blocks"] = encode_strings([q.lha_block or "lhcgold" for q in p])
    f["parameters/lha_ids"] = np.array([q.lha_id for q in p], dtype=np.int64)
    f["parameters/max_power"] = np.array([q.max_power for q in p], dtype=np.int64)
    f["parameters/val_ranges"] = np.array([q.range for q in p], dtype=np.float64).reshape(len(p), 2)
    f["parameters/transforms"] = encode_strings([q.transform for q in p])
    b = setup.benchmarks
    f["benchmarks/names"] = encode_strings([q.name for q in b])
    f["benchmarks/values"] = setup.benchmark_values.astype(np.float64)
    f["benchmarks/is_nuisance"] = np.zeros(len(b), dtype=np.int64)
    ref = np.zeros(len(b), dtype=np.int64)
    if len(b):
        ref[0] = 1
    f["benchmarks/is_reference"] = ref
    if setup.components is not None and setup.morphing_matrix is not None:
        f["morphing/components"] = setup.components.astype(np.int64)
        f["morphing/morphing_matrix"] = setup.morphing_matrix.astype(np.float64)


_TRANSFORM = re.compile(r"^\s*(?:([-+0-9.eE]+)\s*\*\s*)?theta\s*(?:([-+])\s*([0-9.eE+-]+))?\s*$")


def _parse_transform(text: str) -> tuple[float, float]:
    """card_scale, card_offset from MadMiner's transform expression (identity if unknown)."""
    m = _TRANSFORM.match(text)
    if not m:
        return 1.0, 0.0
    scale = float(m.group(1)) if m.group(1) else 1.0
    offset = float(m.group(3)) * (-1.0 if m.group(2) == "-" else 1.0) if m.group(3) else 0.0
    return scale, offset


def read_setup_groups(f: h5py.File, source: str) -> Setup:
    """Rebuild a :class:`Setup` from an open file (ours or MadMiner's)."""
    required = [
        "parameters/names",
        "parameters/lha_blocks",
        "parameters/lha_ids",
        "parameters/max_power",
        "parameters/val_ranges",
        "parameters/transforms",
        "benchmarks/names",
        "benchmarks/values",
    ]
    missing = [k for k in required if k not in f]
    if missing:
        raise EventFileError(f"{source}: not a MadMiner/lhcgold file (missing {', '.join(missing)})")
    try:
        names = decode_strings(f["parameters/names"])
        blocks = decode_strings(f["parameters/lha_blocks"])
        ids = f["parameters/lha_ids"][()]
        powers = f["parameters/max_power"][()]
        ranges = np.asarray(f["parameters/val_ranges"][()], dtype=np.float64)
        transforms = decode_strings(f["parameters/transforms"])
        n_p = len(names)
        if not (len(blocks) == len(ids) == len(powers) == len(transforms) == n_p) or ranges.shape != (n_p, 2):
            raise EventFileError(f"{source}: inconsistent parameter datasets")
        params = []
        for i, name in enumerate(names):
            scale, offset = _parse_transform(transforms[i])
            params.append(
                Parameter(
                    name=name,
                    lha_block="" if blocks[i] == "lhcgold" else blocks[i],
                    lha_id=int(ids[i]),
                    max_power=int(np.ravel(powers[i])[0]),
                    range=(float(ranges[i, 0]), float(ranges[i, 1])),
                    card_scale=scale,
                    card_offset=offset,
                )
            )
        bnames = decode_strings(f["benchmarks/names"])
        bvalues = np.asarray(f["benchmarks/values"][()], dtype=np.float64)
        if bvalues.shape != (len(bnames), n_p):
            raise EventFileError(
                f"{source}: benchmarks/values has shape {bvalues.shape}, expected ({len(bnames)}, {n_p})"
            )
        nuisance = f["benchmarks/is_nuisance"][()] if "benchmarks/is_nuisance" in f else np.zeros(len(bnames))
        benchmarks = tuple(
            Benchmark(n, dict(zip(names, map(float, v)))) for n, v, nu in zip(bnames, bvalues, nuisance) if not nu
        )
        components = matrix = None
        if "morphing/components" in f and "morphing/morphing_matrix" in f:
            components = np.asarray(f["morphing/components"][()], dtype=np.int64).reshape(-1, n_p)
            matrix = np.asarray(f["morphing/morphing_matrix"][()], dtype=np.float64)
        return Setup(parameters=tuple(params), benchmarks=benchmarks, components=components, morphing_matrix=matrix)
    except EventFileError:
        raise
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise EventFileError(f"{source}: cannot read the setup: {exc}") from exc


def open_h5(path: Any, mode: str = "r") -> h5py.File:
    """h5py.File with our error for missing, truncated or non-HDF5 files."""
    try:
        return h5py.File(path, mode)
    except FileNotFoundError:
        raise EventFileError(f"{str(path)!r} not found") from None
    except OSError as exc:
        raise EventFileError(f"{str(path)!r} is not a readable HDF5 file (truncated or foreign?): {exc}") from exc
