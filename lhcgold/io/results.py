"""Result files (Fisher information, limit scans): JSON or HDF5, written atomically.

Both formats hold the same plain dictionary (``to_dict()`` of the result object), tagged
with the result kind, a format version and the lhcgold version. JSON keeps non-finite
numbers as ``NaN`` / ``Infinity`` (Python's JSON dialect). In HDF5, numeric arrays become
datasets and everything else a JSON attribute.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..exceptions import EventFileError
from .atomic import atomic_path

FORMAT_VERSION = 1
_H5_SUFFIXES = (".h5", ".hdf5", ".hdf")


def _is_h5(path: str | Path) -> bool:
    return Path(path).suffix.lower() in _H5_SUFFIXES


def write_result(path: str | Path, kind: str, data: dict[str, Any], *, overwrite: bool = False) -> None:
    """Write a result dictionary to ``path`` (JSON, or HDF5 for .h5/.hdf5)."""
    header = {"lhcgold_result": kind, "format_version": FORMAT_VERSION, "lhcgold_version": __version__}
    with atomic_path(path, overwrite=overwrite) as tmp:
        if _is_h5(path):
            import h5py

            meta: dict[str, Any] = {}
            with h5py.File(tmp, "w") as f:
                for k, v in header.items():
                    f.attrs[k] = v
                for key, value in data.items():
                    arr = _numeric(value)
                    if arr is not None:
                        f.create_dataset(key, data=arr)
                    else:
                        meta[key] = value
                f.attrs["meta"] = json.dumps(meta)
        else:
            tmp.write_text(json.dumps({**header, "data": data}, indent=1))


def _numeric(value: Any) -> np.ndarray | None:
    if not isinstance(value, list) or not value:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def read_result(path: str | Path, kind: str) -> dict[str, Any]:
    """Read a result dictionary written by :func:`write_result`; EventFileError on a foreign file."""
    p = Path(path)
    if not p.is_file():
        raise EventFileError(f"result file {str(p)!r} does not exist")
    try:
        if _is_h5(p):
            import h5py

            with h5py.File(p, "r") as f:
                found = f.attrs.get("lhcgold_result")
                found = found.decode() if isinstance(found, bytes) else found
                if found != kind:
                    raise EventFileError(f"{str(p)!r} holds {found!r}, not a {kind!r} result")
                data = dict(json.loads(f.attrs["meta"]))
                for key in f.keys():
                    data[key] = f[key][()].tolist()
                return data
        doc = json.loads(p.read_text())
    except (OSError, ValueError, KeyError) as exc:
        raise EventFileError(f"cannot read result file {str(p)!r}: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("lhcgold_result") != kind:
        found = doc.get("lhcgold_result") if isinstance(doc, dict) else None
        raise EventFileError(f"{str(p)!r} holds {found!r}, not a {kind!r} result")
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise EventFileError(f"{str(p)!r} has result format {doc['format_version']}, newer than this lhcgold")
    return dict(doc["data"])
