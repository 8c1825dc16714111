"""``lhcgold run CARD --output DIR``: the main job, end to end."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import load_card
from ..run import RunConfig, run
from ._common import show_progress


@click.command("run")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output directory (default: ./<card name>-run).",
)
@click.option(
    "--resume",
    is_flag=True,
    default=False,
    help="Continue a run in an existing output directory, skipping finished stages.",
)
@click.option(
    "-n",
    "--n-events",
    type=click.IntRange(min=100),
    default=None,
    help="Events to shower (detector level; default: the card's run section).",
)
@click.option("--n-parton", type=click.IntRange(min=100), default=None, help="Weighted parton-level events.")
@click.option("--n-train", type=click.IntRange(min=100), default=None, help="Training samples per estimator.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Training epochs.")
@click.option("--grid-resolution", type=click.IntRange(min=3), default=None, help="Grid points per parameter.")
@click.option(
    "-L",
    "--luminosity-ifb",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Integrated luminosity [fb^-1]; > 0.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Master seed.")
@click.pass_context
def command(
    ctx: click.Context,
    card: Path,
    output: Path | None,
    resume: bool,
    n_events: int | None,
    n_parton: int | None,
    n_train: int | None,
    epochs: int | None,
    grid_resolution: int | None,
    luminosity_ifb: float | None,
    seed: int | None,
) -> None:
    """Run CARD end to end: setup, generation, Pythia 8 + fast detector, training (SALLY,
    ALICES), limits (ML, SALLY, histogram, rate, truth), plots and a Markdown report."""
    analysis = load_card(card)
    cfg = RunConfig.from_card(
        analysis,
        n_events=n_events,
        n_parton=n_parton,
        n_train=n_train,
        epochs=epochs,
        grid_resolution=grid_resolution,
        luminosity_ifb=luminosity_ifb,
        seed=seed,
    )
    out = output or Path(f"{analysis.name}-run")
    result = run(card, out, config=cfg, resume=resume, progress=show_progress(ctx))
    for line in result.warnings:
        click.echo(f"Warning: {line}", err=True)
    click.echo(f"report: {result.report}")
    click.echo(f"total time: {result.timings_s['total']:.0f} s")
