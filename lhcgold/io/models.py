"""Model directories: ``manifest.json`` (what the model is) + ``weights.pt`` (torch state dict).

Weights load with ``torch.load(weights_only=True)``: no pickled code is ever executed, and
their sha256 (``weights_sha256`` in the manifest) is checked before loading, so a tampered or
damaged ``weights.pt`` is refused. Ensemble members are sub-directories named in the manifest;
a member path must stay inside the model directory.

Directories are written atomically (a temporary sibling directory renamed into place). Only an
lhcgold model directory is ever replaced (``overwrite=True``); of two processes writing the
same new directory at once, one wins and the other gets an :class:`EventFileError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..exceptions import EventFileError, MissingDependencyError

__all__ = ["MODEL_FORMAT", "check_replaceable_model_dir", "member_dir", "read_model_dir", "write_model_dir"]

logger = logging.getLogger(__name__)

MODEL_FORMAT = "lhcgold-model"
#: 2: the manifest holds ``weights_sha256`` (required from this version on).
MODEL_FORMAT_VERSION = 2


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
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise EventFileError(f"{str(target)!r} exists; refusing to overwrite it (pass overwrite=True)")
        check_replaceable_model_dir(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _write_one(tmp, manifest, state_dict, torch)
        for name, (man, sd) in (members or {}).items():
            (tmp / name).mkdir()
            _write_one(tmp / name, man, sd, torch)
        _move_into_place(tmp, target, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
        raise
    return target


def _move_into_place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Rename the finished directory onto ``target``: a model directory appears whole or not at all."""
    if not (target.exists() or target.is_symlink()):
        try:
            # rename(2) onto a missing name is atomic; onto a non-empty directory it fails: the
            # other writer of a race has won, and its output stays as it is
            os.rename(tmp, target)
            return
        except OSError as exc:
            if not target.exists():
                raise
            if not overwrite:
                raise EventFileError(
                    f"{str(target)!r} appeared while writing (another process?); refusing to overwrite it"
                ) from exc
    elif not overwrite:
        raise EventFileError(f"{str(target)!r} appeared while writing (another process?); refusing to overwrite it")
    check_replaceable_model_dir(target)
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old.tmp", dir=target.parent))
    try:
        os.replace(target, old / "model")
        os.rename(tmp, target)
    except OSError as exc:
        raise EventFileError(
            f"{str(target)!r}: cannot replace the model directory (another process writing it?): {exc.strerror or exc}"
        ) from exc
    finally:
        shutil.rmtree(old, ignore_errors=True)


def check_replaceable_model_dir(path: str | os.PathLike[str]) -> None:
    """``path`` is an lhcgold model directory that ``overwrite`` may replace.

    Anything else (a file, a symlink, a user's directory, a model of another program) is refused:
    ``--overwrite`` never deletes what lhcgold did not write.

    Raises:
        EventFileError: naming the path and why it is not replaced.
    """
    p = Path(path)
    if p.is_symlink():
        raise EventFileError(f"{str(p)!r} is a symbolic link; refusing to replace it")
    if not p.is_dir():
        raise EventFileError(f"{str(p)!r} is a file, not an lhcgold model directory; refusing to replace it")
    if not any(p.iterdir()):
        return  # an empty directory (made by a workflow manager, say): nothing to lose
    man = p / "manifest.json"
    try:
        fmt = json.loads(man.read_text()).get("format") if man.is_file() else None
    except (OSError, ValueError, AttributeError):
        fmt = None
    if fmt != MODEL_FORMAT:
        raise EventFileError(
            f"{str(p)!r} is not an lhcgold model directory (no valid manifest.json); "
            "refusing to replace it: remove it yourself or choose another output"
        )
    allowed = {"manifest.json", "weights.pt"} | {m.name for m in p.iterdir() if _is_member_dir(m)}
    foreign = sorted(e.name for e in p.iterdir() if e.name not in allowed)
    if foreign:
        raise EventFileError(
            f"{str(p)!r} holds files lhcgold did not write ({', '.join(foreign[:5])}); refusing to replace it"
        )


def _is_member_dir(p: Path) -> bool:
    return p.is_dir() and not p.is_symlink() and (p / "manifest.json").is_file() and p.name.startswith("member_")


def member_dir(folder: str | os.PathLike[str], name: Any) -> Path:
    """The directory of an ensemble member named in a manifest; it must lie inside ``folder``.

    Raises:
        EventFileError: an absolute path, ``..``, a symlink out of the directory, or not a string.
    """
    base = Path(folder)
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise EventFileError(f"{base / 'manifest.json'}: invalid ensemble member name {name!r}")
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or "\\" in name:
        raise EventFileError(
            f"{base / 'manifest.json'}: ensemble member path {name!r} leaves the model directory; refusing it"
        )
    path = base / rel
    try:
        inside = path.resolve(strict=False).is_relative_to(base.resolve(strict=True))
    except OSError as exc:
        raise EventFileError(f"{base}: cannot resolve ensemble member {name!r}: {exc}") from exc
    if not inside:
        raise EventFileError(
            f"{base / 'manifest.json'}: ensemble member {name!r} points outside the model "
            "directory (symbolic link?); refusing it"
        )
    return path


def _write_one(folder: Path, manifest: dict[str, Any], state_dict: dict[str, Any], torch: Any) -> None:
    man = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        **manifest,
        "versions": _versions(),
    }
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, folder / "weights.pt")
    man["weights_sha256"] = _sha256(folder / "weights.pt")
    (folder / "manifest.json").write_text(json.dumps(man, indent=1, default=_default))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventFileError(f"{man_path}: invalid JSON: {exc}") from exc
    if not isinstance(man, dict):
        raise EventFileError(f"{man_path}: not an lhcgold model manifest (a JSON object is expected)")
    if man.get("format") != MODEL_FORMAT:
        raise EventFileError(f"{man_path}: not an lhcgold model manifest")
    version = man.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise EventFileError(f"{man_path}: format_version must be an integer, got {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise EventFileError(f"{man_path}: model format {man['format_version']} is newer than this lhcgold reads")
    wpath = folder / "weights.pt"
    if not wpath.is_file():
        raise EventFileError(f"{str(folder)!r}: weights.pt is missing")
    expected = man.get("weights_sha256")
    if expected is None and version >= 2:
        raise EventFileError(f"{man_path}: weights_sha256 is missing; cannot check weights.pt")
    if expected is None:
        logger.warning("%s: written by an older lhcgold without a weights hash; weights not checked", man_path)
    elif _sha256(wpath) != expected:
        raise EventFileError(
            f"{wpath}: content does not match the sha256 in manifest.json (tampered or "
            "damaged weights); refusing to load it"
        )
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
