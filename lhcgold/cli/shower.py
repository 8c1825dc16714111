"""``lhcgold shower INPUT.lhe[.gz]... -o OUT``: Pythia 8 shower and hadronisation into HDF5 files."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError
from ._common import check_output, output_option, overwrite_option, show_progress


@click.command("shower")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option(help_="Output file (one input) or directory (several inputs: <dir>/<name>.shower.h5).")
@overwrite_option
@click.option(
    "--card",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Analysis card whose shower: section sets the defaults.",
)
@click.option(
    "--n-events",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many events per input (reweighted by N/n: sigma is kept).",
)
@click.option("--seed", type=int, default=None, help="Pythia seed (file k gets a seed derived from it).")
@click.option("--mpi/--no-mpi", default=None, help="Multiple parton interactions (default on).")
@click.option("--hadronisation/--no-hadronisation", default=None, help="Hadronisation (default on).")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Parallel processes: several inputs are showered side by side; one input is cut into "
    "this many parts showered in parallel and joined (same sigma as -j 1).",
)
@click.option("--set", "settings", multiple=True, help="Extra Pythia setting, e.g. --set 'PhaseSpace:pTHatMin = 20'.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["h5", "hepmc3", "hepmc2"]),
    default="h5",
    show_default=True,
    help="Output: lhcgold's HDF5, or HepMC3/HepMC2 ASCII with every weight (for Delphes; extra 'hepmc').",
)
@click.option(
    "--hepmc-history/--no-hepmc-history",
    default=None,
    help="HepMC: write Pythia's whole event record (mothers, daughters, vertices) instead of beams + stable "
    "particles, e.g. for truth-matched b-tagging in Delphes (default: the card's shower.hepmc_history, else off).",
)
@click.pass_context
def command(
    ctx: click.Context,
    inputs: tuple[Path, ...],
    output: Path,
    overwrite: bool,
    card: Path | None,
    n_events: int | None,
    seed: int | None,
    mpi: bool | None,
    hadronisation: bool | None,
    jobs: int,
    settings: tuple[str, ...],
    fmt: str,
    hepmc_history: bool | None,
) -> None:
    """Shower and hadronise LHE INPUTS with Pythia 8, keeping every named weight."""
    from ..shower import SHOWER_SCHEMA, shower_files

    opts: dict = {}
    if card is not None:
        from ..config import check_section, load_card

        opts = dict(check_section(load_card(card), "shower", SHOWER_SCHEMA))
    if hepmc_history and fmt == "h5":
        raise click.UsageError("--hepmc-history needs --format hepmc3 or hepmc2")
    if len(inputs) == 1 and not (output.exists() and output.is_dir()):
        outputs = [output]
    else:
        if output.exists() and not output.is_dir():
            raise ConfigError(f"{str(output)!r}: with several inputs, -o must be a directory")
        output.mkdir(parents=True, exist_ok=True)
        suffix = ".shower.h5" if fmt == "h5" else ".hepmc"
        outputs = [output / (p.name.split(".")[0] + suffix) for p in inputs]
    for o in outputs:
        check_output(o, overwrite)
    if fmt != "h5":
        _hepmc(
            inputs,
            outputs,
            opts,
            fmt=fmt,
            n_events=n_events,
            mpi=mpi,
            hadronisation=hadronisation,
            seed=seed,
            settings=settings,
            overwrite=overwrite,
            history=opts.get("hepmc_history", False) if hepmc_history is None else hepmc_history,
        )
        return
    results = shower_files(
        list(inputs),
        outputs,
        n_workers=jobs if jobs > 1 else opts.get("n_workers", 1),
        n_events=n_events,
        mpi=opts.get("mpi", True) if mpi is None else mpi,
        hadronisation=opts.get("hadronisation", True) if hadronisation is None else hadronisation,
        seed=opts.get("seed", 1) if seed is None else seed,
        settings=(*opts.get("settings", ()), *settings),
        batch_size=opts.get("batch_size", 1000),
        overwrite=overwrite,
        progress=show_progress(ctx),
    )
    for path, n in results:
        click.echo(f"{path}: {n} events")


def _hepmc(
    inputs: tuple[Path, ...],
    outputs: list[Path],
    opts: dict,
    *,
    fmt: str,
    n_events: int | None,
    mpi: bool | None,
    hadronisation: bool | None,
    seed: int | None,
    settings: tuple[str, ...],
    overwrite: bool,
    history: bool,
) -> None:
    from ..shower import _derive_seed
    from ..shower.hepmc import shower_to_hepmc

    base = opts.get("seed", 1) if seed is None else seed
    for k, (src, dst) in enumerate(zip(inputs, outputs, strict=True)):
        res = shower_to_hepmc(
            src,
            dst,
            fmt="HepMC3" if fmt == "hepmc3" else "HepMC2",
            overwrite=overwrite,
            n_events=n_events,
            mpi=opts.get("mpi", True) if mpi is None else mpi,
            hadronisation=opts.get("hadronisation", True) if hadronisation is None else hadronisation,
            seed=base if len(inputs) == 1 else _derive_seed(base, k),
            settings=(*opts.get("settings", ()), *settings),
            batch_size=opts.get("batch_size", 1000),
            history=history,
        )
        click.echo(f"{res.path}: {res.n_events} events, weights {', '.join(res.weight_names)}")
