"""Setup files: parameters, benchmarks and morphing in MadMiner's HDF5 layout."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import h5py

from ..config import Setup
from .atomic import atomic_path
from .h5common import open_h5, read_setup_groups, write_setup_groups, writer_attrs

__all__ = ["read_setup", "write_setup"]


def write_setup(
    path: str | os.PathLike[str], setup: Setup, *, overwrite: bool = False, attrs: Mapping[str, Any] | None = None
) -> None:
    """Write a setup file atomically (madminer's ``MadMiner.load`` reads it).

    Args:
        path: output file.
        setup: what to write.
        overwrite: replace an existing file.
        attrs: extra root attributes (seed, card hash, ...).
    """
    with atomic_path(path, overwrite=overwrite) as tmp, h5py.File(tmp, "w") as f:
        write_setup_groups(f, setup)
        f.attrs.update(writer_attrs({"content": "setup", **(attrs or {})}))


def read_setup(path: str | os.PathLike[str]) -> Setup:
    """Read the setup from a setup or events file, ours or MadMiner's.

    Raises:
        EventFileError: missing, truncated or foreign file.
    """
    with open_h5(path) as f:
        return read_setup_groups(f, str(path))
