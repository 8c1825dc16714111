"""Helpers shared by the CLI verbs: output options, progress settings, nuisance options."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

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


def nuisance_options(*, methods: str, ml_note: str = "") -> Callable[[Any], Any]:
    """``--norm-uncertainty`` and ``--profile-systematics`` (``limits``, ``fisher``): the nuisance
    parameters profiled, with ``methods`` naming the methods that support them."""
    norm = click.option(
        "--norm-uncertainty",
        type=float,
        default=None,
        help=f"Profile a log-normal normalisation nuisance of this relative size (e.g. 0.05); {methods}.",
    )
    syst = click.option(
        "--profile-systematics",
        is_flag=True,
        default=False,
        help="Profile the scale/PDF nuisance parameters stored in EVENTS (reconstruct --systematics); "
        f"{methods}{ml_note}.",
    )

    learned = click.option(
        "--nuisance-model",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="With --profile-systematics: vary each event by these learned ratio factors p(x|ν=±1)/p(x|ν=0) "
        "(`lhcgold train -m nuisance` on an `augment --nuisances` sample) instead of its stored weight "
        "ratios, which overstate what the data say about ν when the variation depends on latent variables.",
    )

    def wrap(fn: Any) -> Any:
        return norm(syst(learned(fn)))

    return wrap


def check_nuisance_options(
    norm_uncertainty: float | None,
    profile_systematics: bool,
    *,
    method: str = "",
    unsupported: Mapping[str, str] | None = None,
    nuisance_model: Path | None = None,
) -> bool:
    """Validate the nuisance options before any work; True when nuisances are to be profiled.

    Raises:
        ConfigError: a non-positive or non-finite ``--norm-uncertainty``, ``--nuisance-model`` without
            ``--profile-systematics`` or with sally (its own ν score), or a ``method`` in ``unsupported``
            (its value says what to use instead).
    """
    if norm_uncertainty is not None and not (math.isfinite(norm_uncertainty) and norm_uncertainty > 0):
        raise ConfigError(f"--norm-uncertainty must be a positive number, got {norm_uncertainty:g}")
    if nuisance_model is not None and not profile_systematics:
        raise ConfigError("--nuisance-model replaces the stored ratios of --profile-systematics: give both")
    wanted = norm_uncertainty is not None or profile_systematics
    if wanted and unsupported and method in unsupported:
        opts = " and ".join(
            o
            for o, on in (
                ("--norm-uncertainty", norm_uncertainty is not None),
                ("--profile-systematics", profile_systematics),
            )
            if on
        )
        raise ConfigError(f"--method {method} cannot profile nuisance parameters ({opts}): {unsupported[method]}")
    return wanted


def make_nuisances(
    events: Path,
    sample: Any,
    norm_uncertainty: float | None,
    profile_systematics: bool,
    nuisance_model: Path | None = None,
) -> list[Any]:
    """The nuisances of the options: ``Normalisation("norm", D)`` and the stored variations of
    ``events`` restricted to ``sample``'s events (its partition), or the learned ratio factors of
    ``nuisance_model`` evaluated on them (:func:`lhcgold.infer.learned_variations`).

    Raises:
        ConfigError: ``--profile-systematics`` on a file that stores no nuisance parameters, or a
            model that is not a nuisance ratio estimator of the file's nuisances.
    """
    from .. import infer

    nuisances: list[Any] = []
    if norm_uncertainty is not None:
        nuisances.append(infer.Normalisation("norm", norm_uncertainty))
    if profile_systematics:
        if nuisance_model is None:
            stored = infer.nuisances_from_file(sample)
        elif sample.nuisance_names:
            from ..ml import load_model

            stored = infer.learned_variations(load_model(nuisance_model), sample)
        else:
            stored = []
        if not stored:
            raise ConfigError(f"{events} stores no nuisance parameters (reconstruct with --systematics)")
        nuisances += stored
    return nuisances
