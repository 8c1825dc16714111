"""``lhcgold combine A.h5 B.h5 ... -o events.h5``: combine and shuffle events files out of core."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import check_output, output_option, overwrite_option, show_progress


@click.command("combine")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option(help_="Combined events file.")
@overwrite_option
@click.option("--k-factor", "k_factors", type=float, multiple=True,
              help="Weight factor: once for all inputs or once per input.")
@click.option("--no-shuffle", is_flag=True, default=False, help="Concatenate in order.")
@click.option("--seed", type=int, default=None, help="Shuffle seed.")
@click.option("--bucket-size", type=int, default=200_000, show_default=True,
              help="Events held in memory at a time.")
@click.pass_context
def command(ctx: click.Context, inputs: tuple[Path, ...], output: Path, overwrite: bool, k_factors: tuple[float, ...],
            no_shuffle: bool, seed: int | None, bucket_size: int) -> None:
    """Combine events files with the same setup into one, shuffled, with bounded memory."""
    from ..io.combine import combine_and_shuffle

    check_output(output, overwrite)
    ks: float | list[float] = 1.0 if not k_factors else (k_factors[0] if len(k_factors) == 1 else list(k_factors))
    n = combine_and_shuffle(list(inputs), output, k_factors=ks, shuffle=not no_shuffle, rng=seed,
                            bucket_size=bucket_size, overwrite=overwrite, progress=show_progress(ctx))
    click.echo(f"{output}: {n} events from {len(inputs)} files")
