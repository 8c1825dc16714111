"""Model directories: ``manifest.json`` (what the model is) + ``weights.pt`` (torch state dict).

Weights load with ``torch.load(weights_only=True)``: no pickled code is ever executed.
Directories are written atomically (a temporary sibling directory renamed into place).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..exceptions import EventFileError, MissingDependencyError

__all__ = ["MODEL_FORMAT", "read_model_dir", "write_model_dir"]

MODEL_FORMAT = "lhcgold-model"
MODEL_FORMAT_VERSION = 1


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("torch", "ml") from exc
    return torch


def _versions() -> dict[str, str]:
    torch = _torch()
    return {
        "lhcgold": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def write_model_dir(
    path: str | os.PathLike[str],
    manifest: dict[str, Any],
    state_dict: dict[str, Any],
    *,
    overwrite: bool = False,
    members: dict[str, tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> Path:
    """Write a model directory atomically.

    Args:
        path: target directory.
        manifest: JSON-serialisable description (format keys and versions are added).
        state_dict: the torch state dict (may be empty for ensembles).
        overwrite: replace an existing directory.
        members: for ensembles, sub-directory name -> (manifest, state dict).

    Raises:
        EventFileError: the target exists and ``overwrite`` is false.
    """
    torch = _torch()
    target = Path(path)
    if target.exists() and not overwrite:
        raise EventFileError(
            f"{str(target)!r} exists; refusing to overwrite it (pass overwrite=True)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _write_one(tmp, manifest, state_dict, torch)
        for name, (man, sd) in (members or {}).items():
            (tmp / name).mkdir()
            _write_one(tmp / name, man, sd, torch)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise
    return target


def _write_one(
    folder: Path, manifest: dict[str, Any], state_dict: dict[str, Any], torch: Any
) -> None:
    man = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        **manifest,
        "versions": _versions(),
    }
    (folder / "manifest.json").write_text(json.dumps(man, indent=1, default=_default))
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, folder / "weights.pt")


def read_model_dir(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read (manifest, state dict) from a model directory.

    Raises:
        EventFileError: missing directory, manifest or weights, or a foreign/newer format.
    """
    torch = _torch()
    folder = Path(path)
    man_path = folder / "manifest.json"
    if not man_path.is_file():
        raise EventFileError(f"{str(folder)!r} is not a model directory (no manifest.json)")
    try:
        man = json.loads(man_path.read_text())
    except json.JSONDecodeError as exc:
        raise EventFileError(f"{man_path}: invalid JSON: {exc}") from exc
    if man.get("format") != MODEL_FORMAT:
        raise EventFileError(f"{man_path}: not an lhcgold model manifest")
    if int(man.get("format_version", 0)) > MODEL_FORMAT_VERSION:
        raise EventFileError(
            f"{man_path}: model format {man['format_version']} is newer than this lhcgold reads"
        )
    wpath = folder / "weights.pt"
    if not wpath.is_file():
        raise EventFileError(f"{str(folder)!r}: weights.pt is missing")
    try:
        state = torch.load(wpath, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise EventFileError(f"{wpath}: cannot load weights: {exc}") from exc
    return man, state


def _default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
