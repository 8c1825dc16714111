"""``lhcgold generate CARD -o DIR``: run the embedded LO generator.

Writes ``DIR/events.lhe.gz`` (MG5-style LHEF 3 with one ``<rwgt>`` weight per benchmark) and
``DIR/events.h5`` (event store with per-event morphing component weights and parton-level
observables), as the card's ``generate:`` section asks (``lhe``, ``events``).
"""

from __future__ import annotations

from pathlib import Path

import click

from ._common import overwrite_option, show_progress


@click.command("generate")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory (events.lhe.gz, events.h5).",
)
@click.option("-n", "--n-events", type=click.IntRange(min=1), default=None, help="Number of events (default: card).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: card).")
@click.option("--unweighted/--weighted", default=None, help="Unweight at the generation benchmark (default: card).")
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    card: Path,
    output: Path,
    n_events: int | None,
    seed: int | None,
    unweighted: bool | None,
    overwrite: bool,
) -> None:
    """Generate parton-level events with exact EFT component weights from an analysis CARD."""
    from ..config import load_card
    from ..exceptions import ConfigError
    from ..generate.card import parse_card
    from ..generate.embedded import generate_to_files

    c = load_card(card)
    _, gopts = parse_card(c)
    targets = []
    if gopts.lhe:
        targets.append(output / "events.lhe.gz")
    if gopts.events:
        targets.append(output / "events.h5")
    if not targets:
        raise ConfigError("generate.lhe and generate.events are both false: nothing to write")
    for t in targets:
        if t.exists() and not overwrite:
            raise ConfigError(f"output {str(t)!r} exists; pass --overwrite to replace it")
    summary = generate_to_files(
        c,
        lhe_path=output / "events.lhe.gz" if gopts.lhe else None,
        events_path=output / "events.h5" if gopts.events else None,
        n_events=n_events,
        rng=seed,
        progress=show_progress(ctx),
        unweighted=unweighted,
        overwrite=overwrite,
    )
    click.echo(
        f"{summary.n_events} events from {summary.n_trials} points, sigma_c[0] = "
        f"{float(summary.xsec_components[0]):.6g} pb -> {', '.join(str(t) for t in targets)}",
        err=True,
    )
