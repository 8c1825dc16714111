"""``lhcgold reconstruct INPUT... --card CARD -o events.h5``: observables, cuts and weights into an events file."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import check_output, combine_mode_option, output_option, overwrite_option, show_progress


@click.command("reconstruct")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--card",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Analysis card (benchmarks, observables, cuts, detector, shower sections).",
)
@click.option(
    "--setup",
    "setup_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Setup file (default: built from the card).",
)
@output_option(default="events.h5", help_="Events file to write.")
@overwrite_option
@click.option("--detector", "preset", default=None, help="Detector preset (atlas, cms); overrides the card's.")
@click.option(
    "--level",
    type=click.Choice(["parton", "detector"]),
    default=None,
    help="Parton level (LHE objects) or detector level (default: the card's, else detector).",
)
@click.option("--no-shower", is_flag=True, default=False, help="Detector level on LHE partons, without Pythia.")
@click.option("--sampled-from", default=None, help="Benchmark the inputs were generated at (default: detect).")
@click.option("--background", is_flag=True, default=False, help="The inputs are background (nominal weight only).")
@click.option(
    "--lhe",
    "lhe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="For Delphes inputs: the LHE file they came from (weight names, normalisation).",
)
@click.option(
    "--n-events",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many events per input (reweighted by N/n: sigma is kept).",
)
@click.option("--seed", type=int, default=None, help="Seed for smearing and showers (default: the card's).")
@click.option("--no-shuffle", is_flag=True, default=False, help="Keep the input order.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes per showered LHE input: its events are cut into this many parts, showered in "
    "parallel (own seeds) and averaged back (same sigma and event count as -j 1).",
)
@click.option(
    "--systematics",
    default=None,
    help="Store scale/PDF weights as nuisance benchmarks, comma separated: scale (muR=muF), "
    "mur or muf, and/or pdf (default: the card's reconstruct.systematics).",
)
@combine_mode_option("inputs")
@click.pass_context
def command(
    ctx: click.Context,
    inputs: tuple[Path, ...],
    card: Path,
    setup_file: Path | None,
    output: Path,
    overwrite: bool,
    preset: str | None,
    level: str | None,
    no_shower: bool,
    sampled_from: str | None,
    background: bool,
    lhe: Path | None,
    n_events: int | None,
    seed: int | None,
    no_shuffle: bool,
    jobs: int,
    combine_mode: str | None,
    systematics: str | None,
) -> None:
    """Read LHE, Delphes ROOT or showered INPUTS and write observables and benchmark weights."""
    from ..config import load_card
    from ..detector import detector_from_card
    from ..io.setupfile import read_setup
    from ..reconstruct import ReconstructionSample, analysis_from_card, reconstruct
    from ..setup import build_setup

    check_output(output, overwrite)
    analysis = load_card(card)
    setup = read_setup(setup_file) if setup_file else build_setup(analysis)
    opts = analysis_from_card(analysis)
    if preset:
        opts["detector"] = detector_from_card(analysis, preset=preset)
    if level:
        opts["level"] = level
    if no_shower:
        opts["shower"] = False
    if seed is not None:
        opts["rng"] = seed
    if no_shuffle:
        opts["shuffle"] = False
    if systematics is not None:
        opts["systematics"] = tuple(s.strip() for s in systematics.split(",") if s.strip())
    samples = [ReconstructionSample(p, sampled_from=sampled_from, is_background=background, lhe=lhe) for p in inputs]
    result = reconstruct(
        samples,
        output,
        setup=setup,
        overwrite=overwrite,
        n_events=n_events,
        combine=combine_mode or "auto",
        n_workers=jobs,
        progress=show_progress(ctx),
        **opts,
    )
    # the file's own cross section (as `lhcgold inspect` prints it)
    click.echo(
        f"{output}: {result.n_written} of {result.n_read} events pass; "
        f"sigma[{result.benchmark_names[0]}] = {result.xsec_pb[0]:.6g} pb"
    )
