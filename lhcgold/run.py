"""The main job: one analysis card, end to end, to limits, plots and a report.

``lhcgold run cards/wh.yaml --output wh-demo`` runs every stage of the toolkit on the embedded
generator, each stage writing its own files (atomically) into the output directory::

    setup.h5                      parameters, benchmarks, morphing
    parton/events.h5              weighted parton-level events with exact components (truth level)
    gen/events.lhe.gz             events unweighted at the SM for showering (MG5-style LHE)
    events.h5                     Pythia 8 + fast detector: detector-level observables and weights
    samples/*.h5                  training samples with joint ratio and score
    models/{sally,alices,sally_parton}/   trained estimators
    histogram_choice.json         the histogram baseline, chosen by its Fisher information
    fisher.json                   Fisher information at the SM per method
    limits/*.json                 Asimov expected limits per method (with their closure check)
    diagnostics.json              closure, ratio calibration, Monte-Carlo uncertainties
    plots/*.png, report.md        what a physicist looks at
    run.json                      the card hash and settings of the run (checked by ``resume``)

:func:`run` is the sequence of the stage verbs below (setup → generate → reconstruct → train →
fisher → grids → limits → diagnostics → plots → report), each a public function of a
:class:`RunContext` returning a small result object; the work is done in the stage packages
(:mod:`lhcgold.ml.mainjob`, :mod:`lhcgold.infer.mainjob`, :mod:`lhcgold.plot.mainjob`,
:mod:`lhcgold.report`), and the workflow jobs (:mod:`lhcgold.workflow`) call the same verbs.

Settings come from four card sections (:class:`RunConfig`; the command line overrides them):
``run:`` (sizes and seed of the job), ``augment:`` (training samples), ``train:`` (networks) and
``infer:`` (luminosity, grids, histograms). Process-specific defaults (histogram observables,
plotted observables, axis labels, the report's note on latent variables) come from the card's
process (:class:`lhcgold.processes.ProcessDefaults`).

With ``resume=True`` the stages whose outputs exist are skipped, so an interrupted run continues
where it stopped; the directory must hold a run of the same card (hash) and settings
(``run.json``). Without it an existing non-empty output directory is an error.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .augment.settings import AUGMENT_SCHEMA
from .config import AnalysisCard, check_section, load_card
from .config.sections import register_section
from .exceptions import ConfigError
from .generate.embedded import generate_to_files
from .infer.mainjob import (
    CachedTruth,
    best_histogram,
    closure_warnings,
    fisher_at_sm,
    limit_grids,
    limits_of_methods,
    run_diagnostics,
)
from .infer.settings import INFER_SCHEMA
from .io.atomic import atomic_path
from .io.setupfile import read_setup, write_setup
from .ml.mainjob import train_estimator
from .ml.settings import TRAIN_SCHEMA
from .plot.mainjob import MainJobPlots, plot_main_job
from .processes import ProcessDefaults
from .report import write_report
from .setup import build_setup
from .stages import Stages, jsonable

log = logging.getLogger(__name__)

__all__ = [
    "ESTIMATORS",
    "RUN_MARKER",
    "RUN_SCHEMA",
    "SECTION_KEYS",
    "DiagnosticsResult",
    "FisherResult",
    "GenerateResult",
    "GridsResult",
    "LimitsResult",
    "ReconstructStageResult",
    "RunConfig",
    "RunContext",
    "RunResult",
    "SetupResult",
    "TrainResult",
    "diagnostics",
    "fisher",
    "generate",
    "grids",
    "limits",
    "plots",
    "prepare_output",
    "reconstruct",
    "report",
    "run",
    "setup",
    "train",
]

#: the settings of the main job per card section (``run:`` keeps what only the main job has)
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "run": ("n_events", "n_parton", "seed"),
    "augment": tuple(AUGMENT_SCHEMA["properties"]),
    "train": tuple(TRAIN_SCHEMA["properties"]),
    "infer": tuple(INFER_SCHEMA["properties"]),
}
#: keys that were in ``run:`` before the stage sections had their meaning -> where they are now
_MOVED = {k: f"{sec}.{k}" for sec, keys in SECTION_KEYS.items() if sec != "run" for k in keys}
_MOVED["histogram_candidates"] = "infer.histogram_observables"
# a main-job key in another of the stage sections says where it lives too (train.luminosity_ifb -> infer)
for _sec, _schema in (("augment", AUGMENT_SCHEMA), ("train", TRAIN_SCHEMA), ("infer", INFER_SCHEMA)):
    _schema["x-moved"] = {
        k: f"{other}.{k}" for other, keys in SECTION_KEYS.items() if other != _sec for k in keys if k != "seed"
    }

#: JSON Schema of the card's ``run:`` section
RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n_events": {"type": "integer", "minimum": 100},
        "n_parton": {"type": "integer", "minimum": 100},
        "seed": {"type": "integer", "minimum": 0},
    },
    "x-moved": _MOVED,
}
register_section("run", RUN_SCHEMA)

#: estimators of the main job: name -> (kind, events file relative to the output, index of its seed)
ESTIMATORS: dict[str, tuple[str, str, int]] = {
    "sally": ("local", "events.h5", 3),
    "alices": ("ratio", "events.h5", 4),
    "sally_parton": ("local", "parton/events.h5", 5),
}
RUN_MARKER = "run.json"


@dataclass(frozen=True)
class RunConfig:
    """Sizes and settings of the main job (card sections ``run:``, ``augment:``, ``train:``,
    ``infer:``; CLI options override).

    Attributes:
        n_events: events generated unweighted at the SM and showered (``run:``).
        n_parton: weighted parton-level events, the truth-level comparison (``run:``).
        seed: master seed; every stage derives its own (``run:``).
        n_train: training samples per estimator (``augment:``).
        n_theta0: random θ0 points for the ALICES ratio sample (``augment:``).
        test_split: fraction of each events file kept for limits and Fisher information (``augment:``).
        epochs: training epochs (``train:``).
        hidden: hidden layer widths (``train:``).
        activation: activation function (``train:``).
        batch_size: samples per training step (``train:``).
        initial_lr: learning rate of the first epoch (``train:``).
        final_lr: learning rate of the last epoch (exponential decay; ``train:``).
        clip_gradient: largest gradient norm (``train:``).
        luminosity_ifb: integrated luminosity [fb⁻¹] (``infer:``).
        grid_resolution: points per parameter of the limit grid (``infer:``).
        scan_resolution: points of the 1-D scans (each parameter, the others at the SM; ``infer:``).
        histogram_observables: observables among which the best 2-D histogram is chosen by its Fisher
            information at the SM (``infer:``; default: the process's ``histogram_observables``).
        histogram_bins: bins per histogram axis (``infer:``).
        score_bins: bins per axis of SALLY's score histogram (``infer:``).
        grid: detector-level limit-grid range per parameter (``infer:``). Default: ±6σ of the
            detector-level SALLY Fisher information at the SM, inside the parameter's range.
        parton_grid: the same at parton level (default ±4σ of the parton-level SALLY information).
    """

    n_events: int = 60_000
    n_parton: int = 200_000
    seed: int = 1
    n_train: int = 100_000
    n_theta0: int = 1000
    test_split: float = 0.2
    epochs: int = 20
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "tanh"
    batch_size: int = 128
    initial_lr: float = 1e-3
    final_lr: float = 1e-4
    clip_gradient: float = 1.0
    luminosity_ifb: float = 300.0
    grid_resolution: int = 25
    scan_resolution: int = 81
    histogram_observables: tuple[str, ...] = ()
    histogram_bins: int = 8
    score_bins: int = 25
    grid: tuple[tuple[str, tuple[float, float]], ...] = ()
    parton_grid: tuple[tuple[str, tuple[float, float]], ...] = ()

    def __post_init__(self) -> None:
        for name in ("luminosity_ifb", "initial_lr", "final_lr", "clip_gradient"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive finite number, got {value}")
        if not 0.0 < self.test_split < 0.8:
            raise ConfigError(f"test_split must lie in (0, 0.8), got {self.test_split}")
        for f in fields(self):
            if f.type == "int" and f.name != "seed" and int(getattr(self, f.name)) < 1:
                raise ConfigError(f"{f.name} must be >= 1, got {getattr(self, f.name)}")

    @classmethod
    def from_card(cls, card: AnalysisCard, **overrides: Any) -> RunConfig:
        """The settings of the card's four sections (non-None ``overrides`` replace them); the
        histogram observables default to those of the card's process.

        Raises:
            ConfigError: a bad section or value (naming its key path in the card).
        """
        schemas = {"run": RUN_SCHEMA, "augment": AUGMENT_SCHEMA, "train": TRAIN_SCHEMA, "infer": INFER_SCHEMA}
        values: dict[str, Any] = {}
        for name, schema in schemas.items():
            section = check_section(card, name, schema)
            values.update({k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})
            for key in ("grid", "parton_grid"):
                if key in section:
                    values[key] = _grid_ranges(card, section[key], f"{name}.{key}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("histogram_observables"):
            defaults = card.process_defaults()
            values["histogram_observables"] = tuple(getattr(defaults, "histogram_observables", ()))
        return cls(**values)


def _grid_ranges(card: AnalysisCard, ranges: dict[str, Any], path: str) -> tuple[tuple[str, tuple[float, float]], ...]:
    for name, (lo, hi) in ranges.items():
        par = card.parameter(name)
        if not par.range[0] <= lo < hi <= par.range[1]:
            raise ConfigError(
                f"grid range [{lo}, {hi}] must lie inside the range {list(par.range)} of {name}",
                path=f"{path}.{name}",
                source=str(card.source),
            )
    return tuple((k, (float(v[0]), float(v[1]))) for k, v in ranges.items())


@dataclass(frozen=True)
class RunResult:
    """What the main job produced."""

    output: Path
    report: Path
    timings_s: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass
class RunContext:
    """What every stage of the main job works with: the card, the settings, the output directory's
    bookkeeping and the stage seeds (all derived from ``cfg.seed``)."""

    card: AnalysisCard
    cfg: RunConfig
    stages: Stages
    _truth: Any = field(default=None, repr=False)

    @classmethod
    def create(
        cls, card: AnalysisCard, cfg: RunConfig, out: str | Path, *, resume: bool = False, progress: bool = False
    ) -> RunContext:
        return cls(card, cfg, Stages(Path(out), resume, progress))

    @property
    def out(self) -> Path:
        return self.stages.out

    @property
    def seeds(self) -> list[int]:
        """The stage seeds: generate parton, generate LHE, reconstruct, 3 estimators, (unused), combine."""
        return [int(s) for s in np.random.SeedSequence(self.cfg.seed).generate_state(8)]

    @property
    def defaults(self) -> Any:
        """The card's process defaults (:class:`~lhcgold.processes.ProcessDefaults`)."""
        return self.card.process_defaults() or ProcessDefaults()

    @property
    def truth(self) -> Any:
        """The truth of the card's process, with its densities cached per event (built once)."""
        if self._truth is None:
            self._truth = CachedTruth.for_card(self.card)
        return self._truth


# ------------------------------------------------------------------------------------------------ stage verbs


@dataclass(frozen=True)
class SetupResult:
    path: Path
    setup: Any


@dataclass(frozen=True)
class GenerateResult:
    parton: Path
    lhe: Path


@dataclass(frozen=True)
class ReconstructStageResult:
    events: Path


@dataclass(frozen=True)
class TrainResult:
    models: dict[str, Path]


@dataclass(frozen=True)
class FisherResult:
    """The histogram baseline chosen and the Fisher information of every method at the SM."""

    histogram: dict[str, Any]
    fisher: dict[str, Any]


@dataclass(frozen=True)
class GridsResult:
    """Limit-grid ranges per level (``"detector"``, ``"parton"``), (P, 2) each."""

    ranges: dict[str, list[list[float]]]


@dataclass(frozen=True)
class LimitsResult:
    """label -> contour summary, level and 1-D intervals of every method."""

    limits: dict[str, Any]


@dataclass(frozen=True)
class DiagnosticsResult:
    diagnostics: dict[str, Any]
    warnings: tuple[str, ...]


def setup(ctx: RunContext) -> SetupResult:
    """Parameters, benchmarks and morphing of the card (``setup.h5``)."""
    path = ctx.out / "setup.h5"
    with ctx.stages.stage("setup"):
        if ctx.stages.needed(path):
            attrs = {"card_hash": ctx.card.card_hash, "seed": ctx.card.morphing.seed}
            write_setup(path, build_setup(ctx.card), overwrite=ctx.stages.resume, attrs=attrs)
        return SetupResult(path, read_setup(path))


def generate(ctx: RunContext, setup: SetupResult) -> GenerateResult:
    """Weighted parton-level events (truth level) and SM-unweighted LHE events for the shower."""
    st, cfg, seeds = ctx.stages, ctx.cfg, ctx.seeds
    parton, lhe = ctx.out / "parton" / "events.h5", ctx.out / "gen" / "events.lhe.gz"
    common = {"progress": st.progress, "overwrite": st.resume}
    with st.stage("generate"):
        if st.needed(parton):
            generate_to_files(
                ctx.card,
                events_path=parton,
                setup=setup.setup,
                n_events=cfg.n_parton,
                rng=seeds[0],
                unweighted=False,
                **common,
            )
        if st.needed(lhe):
            generate_to_files(ctx.card, lhe_path=lhe, n_events=cfg.n_events, rng=seeds[1], unweighted=True, **common)
    return GenerateResult(parton, lhe)


def reconstruct(ctx: RunContext, setup: SetupResult, gen: GenerateResult) -> ReconstructStageResult:
    """Pythia 8 + fast detector with the card's observables and cuts (``events.h5``)."""
    from .reconstruct import analysis_from_card
    from .reconstruct import reconstruct as reco

    events = ctx.out / "events.h5"
    with ctx.stages.stage("shower+detector"):
        if ctx.stages.needed(events):
            opts = analysis_from_card(ctx.card)
            opts["rng"] = ctx.seeds[2]
            reco(
                [gen.lhe],
                events,
                setup=setup.setup,
                store_components=True,
                overwrite=ctx.stages.resume,
                progress=ctx.stages.progress,
                **opts,
            )
    return ReconstructStageResult(events)


def train(
    ctx: RunContext, names: tuple[str, ...] = ("sally", "sally_parton"), grids: GridsResult | None = None
) -> TrainResult:
    """Training samples and estimators ``names`` (:data:`ESTIMATORS`). A ratio estimator (ALICES)
    learns r(x|θ) where the limits need it: θ0 drawn over the detector-level limit grid (``grids``)."""
    models = {}
    for name in names:
        kind, events, seed_index = ESTIMATORS[name]
        ranges = grids.ranges["detector"] if grids is not None and kind == "ratio" else None
        models[name] = train_estimator(
            ctx.stages,
            name,
            kind,
            ctx.out / events,
            ctx.cfg,
            ctx.seeds[seed_index],
            theta_ranges=ranges,  # type: ignore[arg-type]
        )
    return TrainResult(models)


def fisher(ctx: RunContext) -> FisherResult:
    """The histogram baseline (best pair of the histogram observables by Fisher information) and the
    Fisher information of every method at the SM on the test events."""
    candidates = ctx.cfg.histogram_observables or tuple(ctx.defaults.histogram_observables)
    choice = best_histogram(ctx.stages, ctx.cfg, candidates)
    return FisherResult(choice, fisher_at_sm(ctx.stages, ctx.card, ctx.cfg, choice, ctx.truth))


def grids(ctx: RunContext, fi: FisherResult) -> GridsResult:
    """Limit-grid ranges: the card's ``infer.grid``/``infer.parton_grid``, else from the Fisher information."""
    return GridsResult(limit_grids(ctx.card, ctx.cfg, fi.fisher))


def limits(ctx: RunContext, fi: FisherResult, gr: GridsResult) -> LimitsResult:
    """Asimov expected limits at the SM of every method (2-D grid and 1-D scans)."""
    return LimitsResult(limits_of_methods(ctx.stages, ctx.card, ctx.cfg, fi.histogram, gr.ranges, ctx.truth))


def summary_of(ctx: RunContext, fi: FisherResult, gr: GridsResult, li: LimitsResult | None = None) -> dict[str, Any]:
    """The run's summary (``summary.json``) from the results of its stages."""
    out: dict[str, Any] = {
        "card": str(ctx.card.source) if ctx.card.source else ctx.card.name,
        "card_hash": ctx.card.card_hash,
        "config": jsonable(asdict(ctx.cfg)),
        "histogram": fi.histogram,
        "fisher": fi.fisher,
        "grids": gr.ranges,
    }
    if li is not None:
        out["limits"] = li.limits
    return out


def diagnostics(ctx: RunContext, fi: FisherResult, gr: GridsResult, li: LimitsResult) -> DiagnosticsResult:
    """Closure of every limit result, calibration of the ratio estimator, Monte-Carlo uncertainties."""
    summary = summary_of(ctx, fi, gr, li)
    diag = run_diagnostics(ctx.stages, ctx.card, ctx.cfg, summary, ctx.truth)
    warnings = tuple(closure_warnings({"diagnostics": diag}))
    for line in warnings:
        log.warning("%s", line)
    return DiagnosticsResult(diag, warnings)


def plots(ctx: RunContext, summary: dict[str, Any]) -> list[Path]:
    """Every plot of the run (``plots/*.png``), labelled with the card's process's axis labels."""
    spec = MainJobPlots(
        parameters=ctx.card.parameter_names,
        luminosity_ifb=ctx.cfg.luminosity_ifb,
        labels=dict(ctx.defaults.labels),
        units=dict(ctx.defaults.units),
        observables=tuple(ctx.defaults.plot_observables),
    )
    with ctx.stages.stage("plots"):
        return plot_main_job(ctx.out, spec, summary, models=tuple(ESTIMATORS))


def report(ctx: RunContext, summary: dict[str, Any]) -> Path:
    """``report.md`` and ``summary.json`` (with the timings and peak memory so far)."""
    summary["timings_s"] = ctx.stages.timings
    summary["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return write_report(ctx.out, ctx.card, ctx.cfg, summary, truth_note=ctx.defaults.truth_note)


def run(
    card_path: str | Path,
    output: str | Path,
    *,
    config: RunConfig | None = None,
    resume: bool = False,
    progress: bool = False,
) -> RunResult:
    """Run the whole chain for an embedded-generator analysis card.

    Args:
        card_path: the analysis card (its ``process:`` section must name an embedded process).
        output: output directory.
        config: sizes and settings (default: the card's ``run:``, ``augment:``, ``train:``, ``infer:``).
        resume: skip stages whose outputs exist (continue an interrupted run).
        progress: progress bars on stderr.

    Raises:
        ConfigError: bad card, or a non-empty output directory without ``resume``.
    """
    card = load_card(card_path)
    ctx = RunContext.create(card, config or RunConfig.from_card(card), output, resume=resume, progress=progress)
    prepare_output(ctx.out, card, ctx.cfg, resume)
    t_start = time.perf_counter()
    s = setup(ctx)
    reco = reconstruct(ctx, s, generate(ctx, s))
    log.info("detector-level events: %s", reco.events)
    train(ctx, ("sally", "sally_parton"))
    fi = fisher(ctx)
    gr = grids(ctx, fi)
    train(ctx, ("alices",), gr)
    li = limits(ctx, fi, gr)
    di = diagnostics(ctx, fi, gr, li)
    summary = {**summary_of(ctx, fi, gr, li), "card": str(card_path), "diagnostics": di.diagnostics}
    plots(ctx, summary)
    ctx.stages.timings["total"] = time.perf_counter() - t_start
    path = report(ctx, summary)
    return RunResult(ctx.out, path, dict(ctx.stages.timings), summary, di.warnings)


# ------------------------------------------------------------------------------------------------ output directory


def prepare_output(out: Path, card: AnalysisCard, cfg: RunConfig, resume: bool) -> None:
    """Create the output directory, or check that ``resume`` continues a run of the same card and settings.

    Raises:
        ConfigError: ``out`` is a file, is not empty (without ``resume``), holds another run, or is not writable.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {str(out)!r} exists and is not a directory; choose another --output")
    marker = out / RUN_MARKER
    settings = {
        "kind": "lhcgold-run",
        "version": 1,
        "card_hash": card.card_hash,
        "config": json.loads(json.dumps(jsonable(asdict(cfg)))),
    }
    if out.is_dir() and any(out.iterdir()):
        if not resume:
            raise ConfigError(
                f"output directory {str(out)!r} is not empty; pass --resume to continue a run there "
                "or choose another --output"
            )
        _check_resume(out, marker, settings)
    elif resume and not out.exists():
        log.info("--resume: %s does not exist yet; starting a new run there", out)
    try:
        for sub in ("parton", "gen", "samples", "models", "limits", "plots"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            with atomic_path(marker) as tmp:
                tmp.write_text(json.dumps(settings, indent=1))
    except OSError as exc:
        raise ConfigError(f"cannot write to the output directory {str(out)!r}: {exc.strerror or exc}") from exc


def _check_resume(out: Path, marker: Path, settings: dict[str, Any]) -> None:
    """--resume into ``out``: it must be an lhcgold run of the same card and settings."""
    try:
        stored = json.loads(marker.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"cannot resume in {str(out)!r}: it is not an lhcgold run directory (no {RUN_MARKER}); "
            "choose an empty --output"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot resume in {str(out)!r}: {RUN_MARKER} is unreadable ({exc})") from None
    if not isinstance(stored, dict) or stored.get("kind") != "lhcgold-run":
        raise ConfigError(f"cannot resume in {str(out)!r}: {RUN_MARKER} does not describe an lhcgold run")
    if stored.get("card_hash") != settings["card_hash"]:
        raise ConfigError(
            f"cannot resume in {str(out)!r}: it was run with a different card (sha256 "
            f"{str(stored.get('card_hash'))[:12]}, this card {settings['card_hash'][:12]}); "
            "use the same card or another --output"
        )
    old, new = stored.get("config") or {}, settings["config"]
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if changed:
        diff = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed)
        raise ConfigError(
            f"cannot resume in {str(out)!r}: the settings differ from the run there ({diff}); "
            "use the same settings or another --output"
        )


def with_overrides(cfg: RunConfig, **kw: Any) -> RunConfig:
    """``cfg`` with the non-None keyword values replaced."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
