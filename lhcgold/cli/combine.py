"""``lhcgold combine A.h5 B.h5 ... -o events.h5``: combine and shuffle events files out of core.

Shards of one sample are averaged, distinct samples kept (their sigmas add), decided from the
``sample_id`` each lhcgold file records; files without it need ``--shards`` or ``--samples``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ._common import check_output, combine_mode_option, output_option, overwrite_option, show_progress


@click.command("combine")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option(help_="Combined events file.")
@overwrite_option
@click.option(
    "--k-factor", "k_factors", type=float, multiple=True, help="Weight factor: once for all inputs or once per input."
)
@click.option("--no-shuffle", is_flag=True, default=False, help="Concatenate in order.")
@click.option("--seed", type=int, default=None, help="Shuffle seed.")
@click.option(
    "--bucket-size",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Events held in memory at a time.",
)
@combine_mode_option("inputs")
@click.pass_context
def command(
    ctx: click.Context,
    inputs: tuple[Path, ...],
    output: Path,
    overwrite: bool,
    k_factors: tuple[float, ...],
    no_shuffle: bool,
    seed: int | None,
    bucket_size: int,
    combine_mode: str | None,
) -> None:
    """Combine events files with the same setup into one, shuffled, with bounded memory.

    \b
    Cross sections: each input's weights sum to its sample's sigma.
      * shards of one sample (same process, sampling benchmark, cards and
        generator settings; only the seed differs) are AVERAGED;
      * distinct samples (signal + background, other processes) ADD; signal runs
        at different sampling benchmarks are averaged by event counts when read
        (MadMiner's semantics).
    lhcgold decides from the sample identity (sample_id) recorded in each file
    at generation/reconstruction. Files without it (MadMiner's own, older
    files) are refused unless you say --shards or --samples.
    """
    from ..io.combine import combine_and_shuffle

    check_output(output, overwrite)
    ks: float | list[float] = 1.0 if not k_factors else (k_factors[0] if len(k_factors) == 1 else list(k_factors))
    n = combine_and_shuffle(
        list(inputs),
        output,
        k_factors=ks,
        shuffle=not no_shuffle,
        rng=seed,
        bucket_size=bucket_size,
        overwrite=overwrite,
        mode=combine_mode or "auto",
        progress=show_progress(ctx),
    )
    click.echo(f"{output}: {n} events from {len(inputs)} files")
