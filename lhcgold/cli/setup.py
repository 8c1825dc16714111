"""``lhcgold setup CARD -o setup.h5``."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_card
from ..io.setupfile import write_setup
from ..setup import build_setup
from ._common import check_output, overwrite_option


@click.command("setup")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("setup.h5"),
    show_default=True,
    help="Setup file to write.",
)
@click.option("--seed", type=int, default=None, help="Seed of the basis search (default: the card's).")
@overwrite_option
def command(card: Path, output: Path, seed: int | None, overwrite: bool) -> None:
    """Build parameters, benchmarks and the morphing basis from an analysis CARD."""
    check_output(output, overwrite)
    analysis = load_card(card)
    setup = build_setup(analysis, rng=seed)
    write_setup(
        output,
        setup,
        overwrite=overwrite,
        attrs={
            "card_hash": analysis.card_hash,
            "seed": seed if seed is not None else analysis.morphing.seed,
            "card_name": analysis.name,
        },
    )
    morpher = setup.morpher
    click.echo(
        f"{output}: {setup.n_parameters} parameters, {setup.n_benchmarks} benchmarks, "
        f"{morpher.n_components} morphing components, condition number {morpher.condition_number:.3g}"
    )
