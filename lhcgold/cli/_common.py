"""Helpers shared by the CLI verbs: output options, progress settings."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError


def output_option(default: str | None = None, help_: str = "Output file.") -> click.Option:
    """The standard ``-o/--output`` option."""
    return click.option("-o", "--output", "output", type=click.Path(path_type=Path), default=default,
                        required=default is None, help=help_)


overwrite_option = click.option("--overwrite", is_flag=True, default=False,
                                help="Replace the output if it exists (default: refuse).")


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``--overwrite`` was given."""
    if path.exists() and not overwrite:
        raise ConfigError(f"output {str(path)!r} exists; pass --overwrite to replace it")


def show_progress(ctx: click.Context) -> bool:
    """Progress bars unless ``-q`` was given."""
    return not (ctx.find_root().obj or {}).get("quiet", False)


def combine_mode_option(what: str):  # type: ignore[no-untyped-def]
    """``--shards`` / ``--samples``: how inputs combine when their files do not say (see ``combine --help``)."""
    shards = click.option(
        "--shards", "combine_mode", flag_value="shards", default=None,
        help=f"The {what} are shards of ONE sample (same process, benchmark, cards; other seeds): average them "
             "(each weighted by its number of events), so sigma is kept.")
    samples = click.option(
        "--samples", "combine_mode", flag_value="samples",
        help=f"The {what} are DISTINCT samples (signal and background, other processes): keep each sample's "
             "weights, so their sigmas add (runs at different sampling benchmarks are averaged when read, "
             "as in MadMiner).")

    def wrap(f):  # type: ignore[no-untyped-def]
        return shards(samples(f))

    return wrap
