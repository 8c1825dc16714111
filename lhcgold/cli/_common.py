"""Helpers shared by the CLI verbs: output options, progress settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import click

from ..exceptions import ConfigError


def output_option(default: str | None = None, help_: str = "Output file.") -> click.Option:
    """The standard ``-o/--output`` option."""
    return click.option(
        "-o",
        "--output",
        "output",
        type=click.Path(path_type=Path),
        default=default,
        required=default is None,
        help=help_,
    )


overwrite_option = click.option(
    "--overwrite", is_flag=True, default=False, help="Replace the output if it exists (default: refuse)."
)


def check_output(path: Path, overwrite: bool, *, kind: Literal["file", "model"] = "file") -> None:
    """Check an output path before any work is done.

    Refuses an existing output unless ``--overwrite`` was given; refuses a path of the wrong kind
    (a directory where a file is written, a file where a model directory is written); with
    ``kind="model"``, ``--overwrite`` replaces only an lhcgold model directory (never a user's
    directory); and checks that the output directory can be created and written to.

    Raises:
        ConfigError: with one line saying what is wrong with the path.
    """
    p = Path(path)
    if kind == "file" and p.is_dir():
        raise ConfigError(f"output {str(p)!r} is a directory; give a file name")
    if kind == "model" and p.exists() and not p.is_dir():
        raise ConfigError(f"output {str(p)!r} is a file, not a model directory")
    if p.exists() or p.is_symlink():
        if not overwrite:
            raise ConfigError(f"output {str(p)!r} exists; pass --overwrite to replace it")
        if kind == "model":
            from ..io.models import check_replaceable_model_dir

            check_replaceable_model_dir(p)
    check_writable_dir(p.parent)


def check_writable_dir(folder: Path) -> None:
    """The directory exists (or can be created) and a file can be written in it.

    Probes by creating (and removing) an empty temporary file, which is what the writers do;
    ``os.access`` would lie for root and on some network file systems.

    Raises:
        ConfigError: the directory is a file, cannot be created, or is not writable.
    """
    folder = Path(folder) if str(folder) else Path(".")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"cannot create output directory {str(folder)!r}: {str(existing)!r} is not a directory")
    try:
        fd, name = tempfile.mkstemp(prefix=".lhcgold-probe.", suffix=".tmp", dir=existing)
    except OSError as exc:
        raise ConfigError(
            f"cannot write to directory {str(existing)!r}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    os.close(fd)
    os.unlink(name)


def show_progress(ctx: click.Context) -> bool:
    """Progress bars unless ``-q`` was given."""
    return not (ctx.find_root().obj or {}).get("quiet", False)


def combine_mode_option(what: str):  # type: ignore[no-untyped-def]
    """``--shards`` / ``--samples``: how inputs combine when their files do not say (see ``combine --help``)."""
    shards = click.option(
        "--shards",
        "combine_mode",
        flag_value="shards",
        default=None,
        help=f"The {what} are shards of ONE sample (same process, benchmark, cards; other seeds): average them "
        "(each weighted by its number of events), so sigma is kept.",
    )
    samples = click.option(
        "--samples",
        "combine_mode",
        flag_value="samples",
        help=f"The {what} are DISTINCT samples (signal and background, other processes): keep each sample's "
        "weights, so their sigmas add (runs at different sampling benchmarks are averaged when read, "
        "as in MadMiner).",
    )

    def wrap(f):  # type: ignore[no-untyped-def]
        return shards(samples(f))

    return wrap
