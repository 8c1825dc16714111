"""The main job cut into workflow jobs: what ``workflows/Snakefile`` runs, one stage per job.

``lhcgold run`` runs every stage in one process. A workflow engine (Snakemake, locally, on SLURM,
HTCondor or REANA) runs the same stages as separate jobs, with the expensive ones (generation,
Pythia 8 + detector) split into shards. Each job here calls the very stage verbs of
:mod:`lhcgold.run` (:func:`~lhcgold.run.setup`, :func:`~lhcgold.run.train`, :func:`~lhcgold.run.fisher`,
...) with the :class:`~lhcgold.run.RunConfig` of the card (one source of truth for sizes, seeds and
defaults); only generation and reconstruction are re-cut into shards:

* shard ``i`` of ``n`` gets ``N // n`` events (the first ``N % n`` shards one more) and the seed
  :func:`shard_seed` (shard 0 of 1 uses exactly the seed of ``lhcgold run``, so an unsharded
  workflow writes the same files as the main job);
* shards of one sample are combined with :func:`combine_shards` (``lhcgold combine``'s
  ``mode="shards"``): weights scaled by ``n_i / N``, so the combined cross section is the
  event-weighted *average* of the shard estimates (shards are the same sample, not distinct
  processes to be added), then shuffled.

Command line (what the Snakefile calls)::

    python -m lhcgold.workflow config CARD OUT/run.json [--set n_events=800 ...]
    python -m lhcgold.workflow setup OUT/run.json
    python -m lhcgold.workflow generate OUT/run.json parton|detector SHARD
    python -m lhcgold.workflow reconstruct OUT/run.json SHARD
    python -m lhcgold.workflow combine OUT/run.json parton|detector
    python -m lhcgold.workflow train OUT/run.json sally|alices|sally_parton
    python -m lhcgold.workflow limits OUT/run.json
    python -m lhcgold.workflow report OUT/run.json

The files land where ``lhcgold run`` puts them (``OUT/setup.h5``, ``OUT/parton/events.h5``,
``OUT/events.h5``, ``OUT/models/...``, ``OUT/limits/...``, ``OUT/report.md``); shards go to
``OUT/shards/``.
"""

from __future__ import annotations

import difflib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import yaml

from .augment.settings import AUGMENT_SCHEMA
from .config import load_card
from .exceptions import ConfigError, LhcgoldError
from .generate.embedded import generate_to_files
from .infer.settings import INFER_SCHEMA
from .io.atomic import atomic_path
from .io.combine import combine_and_shuffle
from .io.setupfile import read_setup
from .ml.settings import TRAIN_SCHEMA
from .run import (
    ESTIMATORS,
    RUN_SCHEMA,
    RunConfig,
    RunContext,
    diagnostics,
    fisher,
    grids,
    limits,
    plots,
    report,
    setup,
    summary_of,
    train,
)

log = logging.getLogger(__name__)

__all__ = ["MODELS", "WorkflowConfig", "combine_shards", "shard_seed", "shard_sizes"]

#: estimators of the main job: name -> (kind, events file relative to OUT, index of its seed)
MODELS = ESTIMATORS
#: per level: the RunConfig size, the seed index, the shard file pattern
LEVELS: dict[str, tuple[str, int, str]] = {
    "parton": ("n_parton", 0, "shards/parton{}.h5"),
    "detector": ("n_events", 1, "shards/gen{}.lhe.gz"),
}
_RECO_SEED = 2


def shard_sizes(n: int, shards: int) -> list[int]:
    """``n`` events cut into ``shards`` near-equal shards (the first ``n % shards`` one larger)."""
    if shards < 1 or n < shards:
        raise ConfigError(f"cannot cut {n} events into {shards} shards")
    return [n // shards + (1 if i < n % shards else 0) for i in range(shards)]


def shard_seed(base: int, shard: int) -> int:
    """Seed of shard ``shard`` from a stage seed ``base``: ``base`` itself for shard 0, else an
    independent stream of ``SeedSequence([base, shard])``."""
    if shard == 0:
        return int(base)
    return int(np.random.SeedSequence([int(base), int(shard)]).generate_state(1)[0])


@dataclass(frozen=True)
class WorkflowConfig:
    """What every workflow job reads (``OUT/run.json``, written by the ``config`` job)."""

    card: str
    output: str
    shards: int
    run: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> WorkflowConfig:
        try:
            data = json.loads(Path(path).read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"cannot read the workflow configuration {str(path)!r}: {exc}") from exc

    @property
    def out(self) -> Path:
        return Path(self.output)

    def run_config(self) -> Any:
        values = {
            k: (tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v)
            for k, v in self.run.items()
        }
        for key in ("grid", "parton_grid"):
            values[key] = tuple((name, tuple(r)) for name, r in self.run.get(key, ()))
        return RunConfig(**values)

    def seeds(self) -> list[int]:
        """The stage seeds of ``lhcgold run`` (same master seed, same derivation)."""
        return [int(s) for s in np.random.SeedSequence(self.run["seed"]).generate_state(8)]


def write_config(card: Path, path: Path, *, shards: int, overrides: dict[str, Any]) -> WorkflowConfig:
    """Resolve the card's main-job settings (``run:``, ``augment:``, ``train:``, ``infer:``) with ``overrides``
    (by key) and write the workflow configuration."""

    import jsonschema

    known = {
        **RUN_SCHEMA["properties"],
        **AUGMENT_SCHEMA["properties"],
        **TRAIN_SCHEMA["properties"],
        **INFER_SCHEMA["properties"],
    }
    for key, value in overrides.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
            raise ConfigError(f"unknown run setting {key!r}{hint}")
        try:
            jsonschema.validate(value, known[key])
        except jsonschema.ValidationError as exc:
            raise ConfigError(f"run setting {key}={value!r}: {exc.message}") from None
    cfg = RunConfig.from_card(
        load_card(card), **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    )
    for size, _, _ in LEVELS.values():
        shard_sizes(getattr(cfg, size), shards)  # validate early
    wf = WorkflowConfig(card=str(card), output=str(path.parent), shards=shards, run=json.loads(json.dumps(asdict(cfg))))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(asdict(wf), indent=1))
    return wf


def _context(wf: WorkflowConfig, *, resume: bool = False) -> Any:
    """The main job's :class:`~lhcgold.run.RunContext` of the workflow's output directory."""
    return RunContext.create(load_card(wf.card), wf.run_config(), wf.out, resume=resume)


def _card(wf: WorkflowConfig) -> Any:
    return load_card(wf.card)


def stage_setup(wf: WorkflowConfig) -> None:
    setup(_context(wf))


def stage_generate(wf: WorkflowConfig, level: str, shard: int) -> Path:
    """Generate shard ``shard`` of the weighted parton-level sample or of the SM-unweighted LHE."""
    size, seed_index, pattern = LEVELS[level]
    cfg = wf.run_config()
    n = shard_sizes(getattr(cfg, size), wf.shards)[shard]
    seed = shard_seed(wf.seeds()[seed_index], shard)
    path = wf.out / pattern.format(shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    if level == "parton":
        generate_to_files(
            _card(wf),
            events_path=path,
            setup=read_setup(wf.out / "setup.h5"),
            n_events=n,
            rng=seed,
            unweighted=False,
            overwrite=True,
        )
    else:
        generate_to_files(_card(wf), lhe_path=path, n_events=n, rng=seed, unweighted=True, overwrite=True)
    return path


def stage_reconstruct(wf: WorkflowConfig, shard: int) -> Path:
    """Pythia 8 + fast detector on one LHE shard (the options of ``lhcgold run``)."""
    from .reconstruct import analysis_from_card, reconstruct

    opts = analysis_from_card(_card(wf))
    opts["rng"] = shard_seed(wf.seeds()[_RECO_SEED], shard)
    path = wf.out / f"shards/events{shard}.h5"
    reconstruct(
        [wf.out / LEVELS["detector"][2].format(shard)],
        path,
        setup=read_setup(wf.out / "setup.h5"),
        store_components=True,
        overwrite=True,
        **opts,
    )
    return path


def combine_shards(shards: list[Path], output: Path, *, seed: int) -> None:
    """Combine shards of ONE sample (``mode="shards"`` of :func:`lhcgold.io.combine.combine_and_shuffle`):
    shard i's weights times ``n_i / N`` (``n_generated``, its share of the events generated), so the cross
    section is the average of the shard estimates; then shuffle. A single shard is copied in order
    (weights unchanged), as ``lhcgold run`` writes it."""
    combine_and_shuffle(shards, output, shuffle=len(shards) > 1, rng=seed, overwrite=True, mode="shards")


def stage_combine(wf: WorkflowConfig, level: str) -> Path:
    _, seed_index, pattern = LEVELS[level]
    if level == "parton":
        shards, output = [wf.out / pattern.format(i) for i in range(wf.shards)], wf.out / "parton/events.h5"
    else:
        shards, output = [wf.out / f"shards/events{i}.h5" for i in range(wf.shards)], wf.out / "events.h5"
    output.parent.mkdir(parents=True, exist_ok=True)
    combine_shards(shards, output, seed=shard_seed(wf.seeds()[7], seed_index + 1))
    return output


def stage_train(wf: WorkflowConfig, name: str) -> None:
    """Train one estimator. As in ``lhcgold run``, ALICES learns r(x|θ) where the limits need it, θ0 over
    the detector-level limit grid, which comes from the Fisher information (so this job needs the SALLY
    models; the limits job then reads histogram choice and Fisher information back, its own outputs)."""
    for sub in ("samples", "models"):
        (wf.out / sub).mkdir(parents=True, exist_ok=True)
    ctx = _context(wf)
    if ESTIMATORS[name][0] != "ratio":
        train(ctx, (name,))
        return
    train(ctx, (name,), grids(ctx, fisher(ctx)))


def _analysis(wf: WorkflowConfig, *, resume: bool) -> tuple[Any, dict[str, Any]]:
    ctx = _context(wf, resume=resume)
    (wf.out / "limits").mkdir(parents=True, exist_ok=True)
    fi = fisher(ctx)
    gr = grids(ctx, fi)
    li = limits(ctx, fi, gr)
    di = diagnostics(ctx, fi, gr, li)
    summary = {**summary_of(ctx, fi, gr, li), "card": wf.card, "config": wf.run, "shards": wf.shards}
    summary["diagnostics"] = di.diagnostics
    return ctx, summary


def stage_limits(wf: WorkflowConfig) -> None:
    """Histogram choice, Fisher information, limit grids and the limits of every method."""
    _analysis(wf, resume=False)


def stage_report(wf: WorkflowConfig) -> Path:
    """Plots and report.md from the finished stages (nothing is recomputed). The timing table holds
    this job's stages only: the workflow engine's own log has the others."""
    ctx, summary = _analysis(wf, resume=True)
    (wf.out / "plots").mkdir(parents=True, exist_ok=True)
    plots(ctx, summary)
    return report(ctx, summary)  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------------ CLI


def _parse_sets(values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        out[key.strip()] = yaml.safe_load(raw)
    return out


_wf_arg = click.argument("workflow_config", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """The stages of ``lhcgold run`` as separate jobs (see workflows/Snakefile)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


@cli.command("config")
@click.argument("card", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--shards", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a run: setting (YAML value).")
def _config(card: Path, output: Path, shards: int, sets: tuple[str, ...]) -> None:
    """Resolve CARD's run: section (and overrides) into OUTPUT (run.json)."""
    write_config(card, output, shards=shards, overrides=_parse_sets(sets))


@cli.command("setup")
@_wf_arg
def _setup(workflow_config: Path) -> None:
    stage_setup(WorkflowConfig.load(workflow_config))


@cli.command("generate")
@_wf_arg
@click.argument("level", type=click.Choice(sorted(LEVELS)))
@click.argument("shard", type=click.IntRange(min=0))
def _generate(workflow_config: Path, level: str, shard: int) -> None:
    stage_generate(WorkflowConfig.load(workflow_config), level, shard)


@cli.command("reconstruct")
@_wf_arg
@click.argument("shard", type=click.IntRange(min=0))
def _reconstruct(workflow_config: Path, shard: int) -> None:
    stage_reconstruct(WorkflowConfig.load(workflow_config), shard)


@cli.command("combine")
@_wf_arg
@click.argument("level", type=click.Choice(sorted(LEVELS)))
def _combine(workflow_config: Path, level: str) -> None:
    stage_combine(WorkflowConfig.load(workflow_config), level)


@cli.command("train")
@_wf_arg
@click.argument("name", type=click.Choice(sorted(MODELS)))
def _train(workflow_config: Path, name: str) -> None:
    stage_train(WorkflowConfig.load(workflow_config), name)


@cli.command("limits")
@_wf_arg
def _limits(workflow_config: Path) -> None:
    stage_limits(WorkflowConfig.load(workflow_config))


@cli.command("report")
@_wf_arg
def _report(workflow_config: Path) -> None:
    stage_report(WorkflowConfig.load(workflow_config))


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 ok, 1 lhcgold error (one ``Error:`` line), 2 usage error."""
    try:
        cli.main(args=argv, prog_name="python -m lhcgold.workflow", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except LhcgoldError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
