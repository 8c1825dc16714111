"""Atomic file writes: a temporary file beside the target, renamed on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..exceptions import EventFileError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's directory; rename it onto ``path`` on success.

    Nothing half-written is ever visible at ``path``: if the block raises (or the process
    is interrupted), the temporary file is removed and ``path`` is untouched.

    Args:
        path: the final file name.
        overwrite: replace an existing ``path``; otherwise an existing file is an error.
        suffix: suffix of the temporary file (default: the target's own suffix).

    Raises:
        EventFileError: ``path`` exists and ``overwrite`` is false.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise EventFileError(f"{str(target)!r} exists; refusing to overwrite it (pass overwrite=True)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=(suffix or target.suffix) + ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers create the file themselves (h5py refuses some existing empty files)
    try:
        yield tmp
        if overwrite:
            os.replace(tmp, target)
        else:
            _publish_exclusive(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _publish_exclusive(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist, atomically.

    A hard link fails if the name exists (no window between the check and the rename), so of two
    processes writing the same new file one wins and the other gets an error; then the temporary
    name is removed. File systems without hard links fall back to check-then-rename.
    """
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise EventFileError(
            f"{str(target)!r} appeared while writing (another process?); refusing to overwrite it"
        ) from None
    except OSError:  # no hard links here (some network or FAT file systems)
        if target.exists():
            raise EventFileError(f"{str(target)!r} appeared while writing; refusing to overwrite it") from None
        os.replace(tmp, target)
        return
    tmp.unlink()
