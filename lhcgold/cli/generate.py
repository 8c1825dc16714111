"""``lhcgold generate CARD -o DIR``: run the embedded LO generator or MG5_aMC.

Embedded (default): writes ``DIR/events.lhe.gz`` (MG5-style LHEF 3 with one ``<rwgt>`` weight per
benchmark) and ``DIR/events.h5`` (event store with per-event morphing component weights and
parton-level observables), as the card's ``generate:`` section asks (``lhe``, ``events``).

MG5 (``generator: {backend: mg5, ...}`` or ``--backend mg5``): see :mod:`lhcgold.generate.mg5`;
``--cards-only`` writes the MG5 cards and stops.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError
from ._common import overwrite_option, show_progress


@click.command("generate")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory (embedded: events.lhe.gz, events.h5; mg5: RUN.lhe.gz per run, runs.json, mg5/RUN/).",
)
@click.option("-n", "--n-events", type=click.IntRange(min=1), default=None, help="Number of events (default: card).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: card).")
@click.option("--unweighted/--weighted", default=None, help="Unweight at the generation benchmark (default: card).")
@click.option(
    "--backend",
    type=click.Choice(["embedded", "mg5"]),
    default=None,
    help="Generator backend (default: the card's generator.backend, else embedded).",
)
@click.option(
    "--cards-only",
    is_flag=True,
    default=False,
    help="mg5: write the MG5 cards of every run under OUTPUT/mg5/ and stop (no MG5 needed).",
)
@click.option(
    "--scale-variations/--no-scale-variations",
    default=None,
    help="Embedded Drell-Yan: add muR/muF x {0.5, 1, 2} weights to the LHE, as MG5's systematics "
    "module writes them (default: the card's generate.scale_variations).",
)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    card: Path,
    output: Path,
    n_events: int | None,
    seed: int | None,
    unweighted: bool | None,
    backend: str | None,
    cards_only: bool,
    overwrite: bool,
    scale_variations: bool | None,
) -> None:
    """Generate parton-level events from an analysis CARD: the embedded generator (exact EFT component
    weights) or MG5_aMC (card section generator with backend: mg5; cards, runs, reweighting, LHE per run)."""
    from ..config import load_card
    from ..generate.backends import backend_of
    from ..generate.card import parse_card
    from ..generate.embedded import generate_to_files

    c = load_card(card)
    if (backend or backend_of(c)) == "mg5":
        if scale_variations is not None:
            raise click.UsageError(
                "--scale-variations is for the embedded generator; MG5_aMC writes its scale "
                "and PDF weights with generator.use_syst: true"
            )
        _generate_mg5(c, output, n_events=n_events, seed=seed, overwrite=overwrite, cards_only=cards_only)
        return
    if cards_only:
        raise click.UsageError("--cards-only needs the mg5 backend")
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
        scale_variations=scale_variations,
    )
    click.echo(
        f"{summary.n_events} events from {summary.n_trials} points, sigma_c[0] = "
        f"{float(summary.xsec_components[0]):.6g} pb -> {', '.join(str(t) for t in targets)}",
        err=True,
    )


def _generate_mg5(
    card: object, output: Path, *, n_events: int | None, seed: int | None, overwrite: bool, cards_only: bool
) -> None:
    from ..generate.mg5 import generate_mg5

    summary = generate_mg5(
        card,
        output,
        n_events=n_events,
        seed=seed,
        overwrite=overwrite,  # type: ignore[arg-type]
        cards_only=cards_only,
    )
    for r in summary.runs:
        if summary.cards_only:
            click.echo(f"{r.name}: cards in {r.directory}", err=True)
        else:
            click.echo(
                f"{r.name}: {r.n_events} events, sigma = {r.xsec_pb:.6g} +- {r.xsec_err_pb:.2g} pb -> {r.lhe}", err=True
            )
    if summary.manifest is not None:
        click.echo(f"runs listed in {summary.manifest}", err=True)
