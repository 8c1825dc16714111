"""The main job: one analysis card, end to end, to limits, plots and a report.

``lhcgold run cards/wh.yaml --output wh-demo`` runs every stage of the toolkit on the embedded
generator, each stage writing its own files (atomically) into the output directory::

    setup.h5                      parameters, benchmarks, morphing
    parton/events.h5              weighted parton-level events with exact components (truth level)
    gen/events.lhe.gz             events unweighted at the SM for showering (MG5-style LHE)
    events.h5                     Pythia 8 + fast detector: detector-level observables and weights
    samples/*.h5                  training samples with joint ratio and score
    models/{sally,alices,sally_parton}/   trained estimators
    limits/*.json                 Asimov expected limits per method (with their closure check)
    fisher.json                   Fisher information at the SM per method
    diagnostics.json              closure, ratio calibration, Monte-Carlo uncertainties
    plots/*.png, report.md        what a physicist looks at
    run.json                      the card hash and settings of the run (checked by ``resume``)

Limits are computed on the test partition of each events file (never on training events),
for the detector-level methods ``ml`` (ALICES), ``sally`` (SALLY score histogram), the best
CP-even 2-D ``histogram`` and ``rate`` only, and at parton level for the exact ``truth`` and
for a SALLY trained on the full parton-level kinematics.

Every limit result is checked for closure: on the Asimov data at the SM the best fit must sit
at the SM (within a grid cell) and the SM must lie inside the 68% CL region; the ALICES ratio is
calibrated (E_SM[r̂] = 1, see :class:`lhcgold.infer.NeuralRatio`) and its reliability curves are
drawn; Fisher information and contour areas come with their Monte-Carlo uncertainty (spread over
disjoint subsets of the test events). A failed check is a warning in the log and in the report.

With ``resume=True`` the stages whose outputs exist are skipped, so an interrupted run
continues where it stopped; the directory must hold a run of the same card (hash) and settings
(``run.json``). Without it an existing non-empty output directory is an error. Every file is
written atomically.
"""

from __future__ import annotations

import itertools
import json
import logging
import platform
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .config import AnalysisCard, check_section, load_card
from .config.sections import register_section
from .exceptions import ConfigError, LhcgoldError

log = logging.getLogger(__name__)

__all__ = ["RUN_SCHEMA", "RunConfig", "RunResult", "run"]

#: JSON Schema of the card's ``run:`` section
RUN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n_events": {"type": "integer", "minimum": 100},
        "n_parton": {"type": "integer", "minimum": 100},
        "n_train": {"type": "integer", "minimum": 100},
        "n_theta0": {"type": "integer", "minimum": 1},
        "epochs": {"type": "integer", "minimum": 1},
        "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        "grid_resolution": {"type": "integer", "minimum": 3},
        "luminosity_ifb": {"type": "number", "exclusiveMinimum": 0},
        "histogram_candidates": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "histogram_bins": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer", "minimum": 0},
        "grid": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        },
        "parton_grid": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        },
        "scan_resolution": {"type": "integer", "minimum": 5},
        "score_bins": {"type": "integer", "minimum": 1},
    },
}
register_section("run", RUN_SCHEMA)
# the stage sections the main job will read; until then any key in them is an error, not silently ignored
for _name in ("augment", "train", "infer"):
    register_section(_name, {"type": "object", "additionalProperties": False, "properties": {}})


@dataclass(frozen=True)
class RunConfig:
    """Sizes and settings of the main job (card section ``run:``; CLI options override).

    Attributes:
        n_events: events generated unweighted at the SM and showered (detector level).
        n_parton: weighted parton-level events (truth-level comparison).
        n_train: training samples per estimator.
        n_theta0: random θ0 points for the ALICES ratio sample.
        epochs: training epochs.
        hidden: hidden layer widths.
        grid_resolution: points per parameter of the limit grid.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        histogram_candidates: observables among which the best 2-D histogram is chosen (by its
            Fisher information at the SM).
        histogram_bins: bins per histogram axis.
        seed: master seed; every stage derives its own.
        grid: detector-level limit-grid range per parameter. Default: ±6σ of the detector-level
            SALLY Fisher information at the SM, inside the parameter's range.
        parton_grid: the same at parton level (default ±4σ of the parton-level SALLY information).
        scan_resolution: points of the 1-D scans (each parameter, the others at the SM).
        score_bins: bins per axis of SALLY's score histogram.
    """

    n_events: int = 60_000
    n_parton: int = 200_000
    n_train: int = 100_000
    n_theta0: int = 1000
    epochs: int = 20
    hidden: tuple[int, ...] = (100, 100)
    grid_resolution: int = 25
    luminosity_ifb: float = 300.0
    histogram_candidates: tuple[str, ...] = ("pt_h", "pt_w", "mt_wh", "pt_l", "cos_Theta", "cos_theta_star", "phi_star")
    histogram_bins: int = 8
    seed: int = 1
    grid: tuple[tuple[str, tuple[float, float]], ...] = ()
    parton_grid: tuple[tuple[str, tuple[float, float]], ...] = ()
    scan_resolution: int = 81
    score_bins: int = 25

    def __post_init__(self) -> None:
        if not (np.isfinite(self.luminosity_ifb) and self.luminosity_ifb > 0):
            raise ConfigError(f"luminosity_ifb must be a positive finite number, got {self.luminosity_ifb}")
        for name in (
            "n_events",
            "n_parton",
            "n_train",
            "n_theta0",
            "epochs",
            "grid_resolution",
            "scan_resolution",
            "score_bins",
            "histogram_bins",
        ):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_card(cls, card: AnalysisCard, **overrides: Any) -> RunConfig:
        section = check_section(card, "run", RUN_SCHEMA)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
        for key in ("grid", "parton_grid"):
            if key not in values:
                continue
            for name, (lo, hi) in section[key].items():
                par = card.parameter(name)
                if not par.range[0] <= lo < hi <= par.range[1]:
                    raise ConfigError(
                        f"grid range [{lo}, {hi}] must lie inside the range {list(par.range)} of {name}",
                        path=f"run.{key}.{name}",
                        source=str(card.source),
                    )
            values[key] = tuple((k, (float(v[0]), float(v[1]))) for k, v in section[key].items())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class RunResult:
    """What the main job produced."""

    output: Path
    report: Path
    timings_s: dict[str, float]
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


class _Stages:
    """Timing and resume bookkeeping."""

    def __init__(self, out: Path, resume: bool, progress: bool):
        self.out = out
        self.resume = resume
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s ...", name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        log.info("stage %s done in %.1f s", name, self.timings[name])

    def needed(self, *paths: Path) -> bool:
        """False when resuming and all outputs exist."""
        return not (self.resume and all(p.exists() for p in paths))


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
        config: sizes and settings (default: the card's ``run:`` section).
        resume: skip stages whose outputs exist (continue an interrupted run).
        progress: progress bars on stderr.

    Raises:
        ConfigError: bad card, or a non-empty output directory without ``resume``.
    """
    card = load_card(card_path)
    cfg = config or RunConfig.from_card(card)
    out = Path(output)
    _prepare_output(out, card, cfg, resume)
    st = _Stages(out, resume, progress)
    t_start = time.perf_counter()
    seeds = np.random.SeedSequence(cfg.seed).generate_state(8).tolist()
    summary: dict[str, Any] = {"card": str(card_path), "card_hash": card.card_hash, "config": _jsonable(asdict(cfg))}

    setup = _stage_setup(st, card)
    _stage_generate(st, card, setup, cfg, seeds)
    _stage_reconstruct(st, card, setup, cfg, seeds)
    _stage_train_local(st, cfg, seeds)
    summary["histogram"] = _stage_best_histogram(st, cfg)
    truth = _CachedTruth.for_card(card)
    summary["fisher"] = _stage_fisher(st, card, cfg, summary["histogram"], truth)
    summary["grids"] = _grids(card, cfg, summary["fisher"])
    # ALICES learns r(x|θ) where the limits need it: θ0 drawn over the detector-level limit grid
    _train_one(
        st, "alices", "ratio", st.out / "events.h5", cfg, seeds[4], card=card, theta_ranges=summary["grids"]["detector"]
    )
    summary["limits"] = _stage_limits(st, card, cfg, summary["histogram"], summary["grids"], truth)
    summary["diagnostics"] = _stage_diagnostics(st, card, cfg, summary, truth)
    _stage_plots(st, card, cfg, summary)
    warnings = tuple(_closure_warnings(summary))
    for line in warnings:
        log.warning("%s", line)
    st.timings["total"] = time.perf_counter() - t_start
    summary["timings_s"] = st.timings
    summary["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = _write_report(out, card, cfg, summary)
    return RunResult(output=out, report=report, timings_s=dict(st.timings), summary=summary, warnings=warnings)


RUN_MARKER = "run.json"
#: events per chunk of the truth densities (the cache of _CachedTruth is keyed by chunk)
_TRUTH_CHUNK = 20_000
#: disjoint subsets of the test events for the Monte-Carlo uncertainties
_MC_BATCHES = 4


def _prepare_output(out: Path, card: AnalysisCard, cfg: RunConfig, resume: bool) -> None:
    """Create the output directory, or check that ``resume`` continues a run of the same card and settings."""
    from .io.atomic import atomic_path

    if out.exists() and not out.is_dir():
        raise ConfigError(f"output {str(out)!r} exists and is not a directory; choose another --output")
    marker = out / RUN_MARKER
    settings = {
        "kind": "lhcgold-run",
        "version": 1,
        "card_hash": card.card_hash,
        "config": json.loads(json.dumps(_jsonable(asdict(cfg)))),
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


def _savefig(fig: Any, path: Path) -> None:
    """Save a figure atomically (PNG)."""
    from .io.atomic import atomic_path

    with atomic_path(path, overwrite=True) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def _write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (replacing an earlier version of the run's own file)."""
    from .io.atomic import atomic_path

    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(_jsonable(obj), indent=1, default=float))


# ------------------------------------------------------------------------------------------------ stages


def _stage_setup(st: _Stages, card: AnalysisCard) -> Any:
    from .io.setupfile import read_setup, write_setup
    from .setup import build_setup

    path = st.out / "setup.h5"
    with st.stage("setup"):
        if st.needed(path):
            setup = build_setup(card)
            write_setup(
                path, setup, overwrite=st.resume, attrs={"card_hash": card.card_hash, "seed": card.morphing.seed}
            )
        return read_setup(path)


def _stage_generate(st: _Stages, card: AnalysisCard, setup: Any, cfg: RunConfig, seeds: list[int]) -> None:
    from .generate.embedded import generate_to_files

    parton = st.out / "parton" / "events.h5"
    lhe = st.out / "gen" / "events.lhe.gz"
    with st.stage("generate"):
        if st.needed(parton):
            generate_to_files(
                card,
                events_path=parton,
                setup=setup,
                n_events=cfg.n_parton,
                rng=seeds[0],
                unweighted=False,
                progress=st.progress,
                overwrite=st.resume,
            )
        if st.needed(lhe):
            generate_to_files(
                card,
                lhe_path=lhe,
                n_events=cfg.n_events,
                rng=seeds[1],
                unweighted=True,
                progress=st.progress,
                overwrite=st.resume,
            )


def _stage_reconstruct(st: _Stages, card: AnalysisCard, setup: Any, cfg: RunConfig, seeds: list[int]) -> None:
    from .reconstruct import analysis_from_card, reconstruct

    events = st.out / "events.h5"
    with st.stage("shower+detector"):
        if st.needed(events):
            opts = analysis_from_card(card)
            opts["rng"] = seeds[2]
            reconstruct(
                [st.out / "gen" / "events.lhe.gz"],
                events,
                setup=setup,
                store_components=True,
                overwrite=st.resume,
                progress=st.progress,
                **opts,
            )


def _train_one(
    st: _Stages,
    name: str,
    kind: str,
    events: Path,
    cfg: RunConfig,
    seed: int,
    features: list[int] | None = None,
    card: AnalysisCard | None = None,
    theta_ranges: list[list[float]] | None = None,
) -> None:
    from . import augment
    from .augment import BenchmarkTheta as Benchmark
    from .augment import Flat, Prior, RandomMorphing
    from .io.events import EventFile
    from .ml import ALICES, SALLY, TrainConfig

    sample_path = st.out / "samples" / f"{name}.h5"
    model_dir = st.out / "models" / name
    if not st.needed(model_dir / "manifest.json"):
        return
    ef = EventFile(events)
    with st.stage(f"augment {name}"):
        if kind == "local":
            ts = augment.sample_local(
                ef, theta=Benchmark("sm"), n_samples=cfg.n_train, partition="train", rng=seed, progress=st.progress
            )
        else:
            # train θ0 where the limits are computed (the limit grid), not over the parameters' whole range
            ranges = theta_ranges or [dict(cfg.grid).get(p.name, p.range) for p in ef.setup.parameters]
            prior = Prior(*[Flat(float(lo), float(hi)) for lo, hi in ranges])
            ts = augment.sample_ratio(
                ef,
                theta0=RandomMorphing(cfg.n_theta0, prior),
                theta1=Benchmark("sm"),
                n_samples=cfg.n_train,
                partition="train",
                rng=seed,
                progress=st.progress,
            )
        augment.write_training_set(sample_path, ts, overwrite=True)
    with st.stage(f"train {name}"):
        est_cls = SALLY if kind == "local" else ALICES
        est = est_cls(features=features, n_hidden=cfg.hidden, activation="tanh")
        est.train(
            ts,
            config=TrainConfig(n_epochs=cfg.epochs, batch_size=128, seed=seed, clip_gradient=1.0),
            progress=st.progress,
        )
        est.save(model_dir, overwrite=True)


def _stage_train_local(st: _Stages, cfg: RunConfig, seeds: list[int]) -> None:
    events = st.out / "events.h5"
    parton = st.out / "parton" / "events.h5"
    _train_one(st, "sally", "local", events, cfg, seeds[3])
    # at parton level SALLY sees the observed kinematics the truth is defined on (and functions of them)
    _train_one(st, "sally_parton", "local", parton, cfg, seeds[5])


def _test_sample(path: Path) -> Any:
    from .augment import partition_bounds
    from .io.events import EventFile
    from .io.view import EventsView as Sample

    n = EventFile(path).n_events
    start, stop, factor = partition_bounds(n, "test")
    return Sample(path, start=start, stop=stop, weight_scale=factor)


def _train_sample(path: Path) -> Any:
    from .augment import partition_bounds
    from .io.events import EventFile
    from .io.view import EventsView as Sample

    n = EventFile(path).n_events
    start, stop, factor = partition_bounds(n, "train")
    return Sample(path, start=start, stop=stop, weight_scale=factor)


def _stage_best_histogram(st: _Stages, cfg: RunConfig) -> dict[str, Any]:
    """Choose the CP-even 2-D histogram with the largest Fisher information (determinant, then trace)."""
    from .infer import histogram_information

    path = st.out / "histogram_choice.json"
    with st.stage("choose histogram"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        events = st.out / "events.h5"
        sample = _train_sample(events)
        available = set(sample.observables)
        names = [n for n in cfg.histogram_candidates if n in available]
        if len(names) < 2:
            raise ConfigError(f"need two histogram candidates among the observables {sorted(available)}")
        scores = []
        for pair in itertools.combinations(names, 2):
            info = histogram_information(
                sample, list(pair), bins=cfg.histogram_bins, theta="sm", luminosity_ifb=cfg.luminosity_ifb
            )
            mat = np.asarray(info.matrix)
            scores.append((float(np.linalg.det(mat)), float(np.trace(mat)), pair))
        scores.sort(key=lambda s: (s[0], s[1]), reverse=True)
        choice = {
            "observables": list(scores[0][2]),
            "bins": cfg.histogram_bins,
            "candidates": [{"observables": list(p), "det": d, "trace": t} for d, t, p in scores],
        }
        _write_json(path, choice)
        return choice


def _grids(card: AnalysisCard, cfg: RunConfig, fisher: dict[str, Any]) -> dict[str, list[list[float]]]:
    """Limit-grid ranges per level: the card's ``run.grid``/``run.parton_grid``, else ±kσ of SALLY's
    Fisher information (σ_k = 1/√I_kk), inside each parameter's range."""
    info = fisher["information"]
    out = {}
    for level, zoom, key, k_sigma in (
        ("detector", cfg.grid, "sally", 6.0),
        ("parton", cfg.parton_grid, "sally (parton)", 4.0),
    ):
        given = dict(zoom)
        mat = np.asarray(info[key])
        ranges = []
        for i, p in enumerate(card.parameters):
            if p.name in given:
                ranges.append(list(given[p.name]))
                continue
            half = k_sigma / np.sqrt(mat[i, i]) if mat[i, i] > 0 else np.inf
            ranges.append([float(max(p.range[0], -half)), float(min(p.range[1], half))])
        out[level] = ranges
    return out


class _CachedTruth:
    """The generator's truth model with its per-event component densities cached by event content,
    so that the 2-D grid and the 1-D scans integrate the neutrino p_z once per event."""

    def __init__(self, model: Any):
        self.model = model
        self.observed_names = tuple(model.process.observed_names)
        self._cache: dict[bytes, Any] = {}

    @classmethod
    def for_card(cls, card: AnalysisCard) -> _CachedTruth:
        from .generate.embedded import TruthModel, build_process

        return cls(TruthModel(build_process(card)))

    def truth_components(self, x: Any) -> Any:
        import hashlib

        arr = np.ascontiguousarray(x, dtype=np.float64)
        key = hashlib.sha1(arr.tobytes()).digest() + str(arr.shape).encode()
        if key not in self._cache:
            self._cache[key] = self.model.components(arr)
        return self._cache[key]

    def xsec_components(self) -> Any:
        return self.model.sigma_c


def _limit_methods(
    st: _Stages, card: AnalysisCard, cfg: RunConfig, hist_choice: dict[str, Any], truth: _CachedTruth
) -> dict[str, tuple[Callable[[], Any], Path, str]]:
    """label -> (likelihood factory, events file, level) of every method of the main job."""
    from . import infer
    from .ml import load_model

    events, parton = st.out / "events.h5", st.out / "parton" / "events.h5"
    score_bins = (cfg.score_bins,) * len(card.parameters)
    methods: dict[str, tuple[Callable[[], Any], Path, str]] = {
        "ml": (lambda: infer.NeuralRatio(load_model(st.out / "models" / "alices")), events, "detector"),
        "sally": (
            lambda: infer.ScoreHistogram(load_model(st.out / "models" / "sally"), bins=score_bins),
            events,
            "detector",
        ),
        "histogram": (
            lambda: infer.Histogram(hist_choice["observables"], bins=hist_choice["bins"]),
            events,
            "detector",
        ),
        "rate": (lambda: infer.RateOnly(), events, "detector"),
        "truth (parton)": (lambda: infer.Truth(truth), parton, "parton"),
        "sally (parton)": (
            lambda: infer.ScoreHistogram(load_model(st.out / "models" / "sally_parton"), bins=score_bins),
            parton,
            "parton",
        ),
    }
    return methods


def _stage_limits(
    st: _Stages,
    card: AnalysisCard,
    cfg: RunConfig,
    hist_choice: dict[str, Any],
    grids: dict[str, list[list[float]]],
    truth: _CachedTruth,
) -> dict[str, Any]:
    from . import infer
    from .infer import LimitGrid as Grid
    from .infer import LimitResult

    methods = _limit_methods(st, card, cfg, hist_choice, truth)
    names = card.parameter_names
    out: dict[str, Any] = {}
    for label, (make, source, level) in methods.items():
        ranges = grids[level]
        jobs = {"2d": Grid([tuple(r) for r in ranges], cfg.grid_resolution)}
        for k, name in enumerate(names):
            jobs[name] = Grid([tuple(r) if j == k else 0.0 for j, r in enumerate(ranges)], cfg.scan_resolution)
        like = None
        results = {}
        with st.stage(f"limits {label}"):
            for job, grid in jobs.items():
                path = st.out / "limits" / f"{_slug(label)}_{job}.json"
                if st.needed(path):
                    like = like or make()
                    res = infer.expected_limits(
                        like,
                        _test_sample(source),
                        grid=grid,
                        luminosity_ifb=cfg.luminosity_ifb,
                        asimov_theta="sm",
                        progress=st.progress,
                        chunk_size=_TRUTH_CHUNK,
                    )
                    res.save(path, overwrite=True)
                results[job] = LimitResult.load(path)
        summary = _contour_summary(results["2d"], card)
        summary["level"] = level
        summary["intervals"] = {name: _interval(results[name], k) for k, name in enumerate(names)}
        out[label] = summary
    return out


def _interval(res: Any, k: int) -> dict[str, Any]:
    """68% and 95% CL intervals of parameter k from a 1-D scan (linear interpolation of p)."""
    th = np.asarray(res.thetas)
    x = th[:, k] if th.shape[1] > 1 else th[:, 0]  # results of 1-D scans may keep only the scanned column
    p = np.asarray(res.p_values)
    order = np.argsort(x)
    x, p = x[order], p[order]
    out: dict[str, Any] = {}
    for cl in (0.68, 0.95):
        inside = p >= 1 - cl
        if not inside.any():
            out[str(cl)] = None
            continue
        i0, i1 = int(np.argmax(inside)), int(len(inside) - 1 - np.argmax(inside[::-1]))
        lo = x[i0] if i0 == 0 else float(np.interp(1 - cl, [p[i0 - 1], p[i0]], [x[i0 - 1], x[i0]]))
        hi = x[i1] if i1 == len(x) - 1 else float(np.interp(1 - cl, [p[i1 + 1], p[i1]], [x[i1 + 1], x[i1]]))
        out[str(cl)] = {
            "interval": [float(lo), float(hi)],
            "width": float(hi - lo),
            "open": bool(i0 == 0 or i1 == len(x) - 1),
        }
    return out


def _true_information(sample: Any, truth: _CachedTruth, lumi_ifb: float) -> Any:
    """Fisher information of the exact parton-level (extended) likelihood at the SM on ``sample`` (the test
    partition, or a subset of it), rate term included as in every other method (the same cached densities,
    in the same 20k-event chunks, as the truth limits use)."""
    from . import infer

    return infer.exact_information(
        sample, infer.Truth(truth), theta="sm", luminosity_ifb=lumi_ifb, chunk_size=_TRUTH_CHUNK
    )


def _stage_fisher(
    st: _Stages, card: AnalysisCard, cfg: RunConfig, hist_choice: dict[str, Any], truth: _CachedTruth
) -> dict[str, Any]:
    from . import infer
    from .ml import load_model

    path = st.out / "fisher.json"
    with st.stage("fisher"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        events, parton = _test_sample(st.out / "events.h5"), _test_sample(st.out / "parton" / "events.h5")
        lumi = cfg.luminosity_ifb
        infos = {
            "truth (parton)": _true_information(parton, truth, lumi),
            "truth (parton, joint)": infer.truth_information(parton, theta="sm", luminosity_ifb=lumi),
            "sally (parton)": infer.sally_information(
                parton, load_model(st.out / "models" / "sally_parton"), theta="sm", luminosity_ifb=lumi
            ),
            "sally": infer.sally_information(
                events, load_model(st.out / "models" / "sally"), theta="sm", luminosity_ifb=lumi
            ),
            "histogram": infer.histogram_information(
                events, hist_choice["observables"], bins=hist_choice["bins"], theta="sm", luminosity_ifb=lumi
            ),
            "rate": infer.rate_information(events, theta="sm", luminosity_ifb=lumi),
        }
        result = {k: np.asarray(getattr(v, "matrix", v)).tolist() for k, v in infos.items()}
        _write_json(
            path,
            {"parameters": list(card.parameter_names), "theta": "sm", "luminosity_ifb": lumi, "information": result},
        )
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def _stage_diagnostics(
    st: _Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any], truth: _CachedTruth
) -> dict[str, Any]:
    """Closure of every limit result, calibration of the ALICES ratio, Monte-Carlo uncertainties."""
    from .infer import LimitResult

    path = st.out / "diagnostics.json"
    with st.stage("diagnostics"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        names = card.parameter_names
        closure: dict[str, Any] = {}
        for label in summary["limits"]:
            closure[label] = {
                job: LimitResult.load(st.out / "limits" / f"{_slug(label)}_{job}.json").details.get("closure")
                for job in ("2d", *names)
            }
        diag = {
            "closure": closure,
            "ratio": _ratio_diagnostics(st, card, summary),
            "fisher_mc": _fisher_mc(st, cfg, summary, truth),
            "area_mc": _area_mc(st, card, cfg, summary, truth),
        }
        _write_json(path, diag)
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def _ratio_diagnostics(st: _Stages, card: AnalysisCard, summary: dict[str, Any]) -> dict[str, Any]:
    """E_SM[r̂] over the limit grid and reliability curves of ALICES at the grid's edges."""
    from .infer import LimitResult, ratio_calibration
    from .ml import load_model

    model = load_model(st.out / "models" / "alices")
    events = _test_sample(st.out / "events.h5")
    ranges = summary["grids"]["detector"]
    points = []
    for k in range(len(ranges)):
        for end in (1, 0):
            th = np.zeros(len(ranges))
            th[k] = ranges[k][end]
            points.append(th)
    cals = [ratio_calibration(model, events, th).to_dict() for th in points]
    res = LimitResult.load(st.out / "limits" / "ml_2d.json")
    norm = res.details.get("ratio_normalization")
    return {
        "calibration": cals,
        "normalized": bool(res.details.get("ratio_normalized")),
        "grid_max_abs_expectation_deviation": None if norm is None else norm["max_abs_deviation"],
        "parameters": list(card.parameter_names),
    }


def _fisher_mc(st: _Stages, cfg: RunConfig, summary: dict[str, Any], truth: _CachedTruth) -> dict[str, Any]:
    """Standard error of each Fisher matrix from its spread over disjoint subsets of the test events."""
    from . import infer
    from .ml import load_model

    lumi = cfg.luminosity_ifb
    hist = summary["histogram"]
    sally, sally_p = load_model(st.out / "models" / "sally"), load_model(st.out / "models" / "sally_parton")
    parton, events = st.out / "parton" / "events.h5", st.out / "events.h5"
    jobs: dict[str, tuple[Callable[[Any], Any], Path]] = {
        "truth (parton)": (lambda s: _true_information(s, truth, lumi).matrix, parton),
        "truth (parton, joint)": (lambda s: infer.truth_information(s, theta="sm", luminosity_ifb=lumi).matrix, parton),
        "sally (parton)": (
            lambda s: infer.sally_information(s, sally_p, theta="sm", luminosity_ifb=lumi).matrix,
            parton,
        ),
        "sally": (lambda s: infer.sally_information(s, sally, theta="sm", luminosity_ifb=lumi).matrix, events),
        "histogram": (
            lambda s: (
                infer.histogram_information(
                    s, hist["observables"], bins=hist["bins"], theta="sm", luminosity_ifb=lumi
                ).matrix
            ),
            events,
        ),
        "rate": (lambda s: infer.rate_information(s, theta="sm", luminosity_ifb=lumi).matrix, events),
    }
    out = {}
    for label, (fn, source) in jobs.items():
        try:
            spread = infer.batch_spread(fn, _test_sample(source), n_batches=_MC_BATCHES, align=_TRUTH_CHUNK)
        except LhcgoldError as exc:  # e.g. too few events in a subset for the histogram
            log.warning("Monte-Carlo uncertainty of the %s information not available: %s", label, exc)
            continue
        out[label] = {"std_error": spread.std_error.tolist(), "n_batches": spread.n_batches}
    return out


def _area_mc(
    st: _Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any], truth: _CachedTruth
) -> dict[str, Any]:
    """Standard error of the 68%/95% CL contour areas from disjoint subsets of the test events."""
    from . import infer

    methods = _limit_methods(st, card, cfg, summary["histogram"], truth)
    out = {}
    for label, (make, source, level) in methods.items():
        like = make()
        grid = infer.LimitGrid([tuple(r) for r in summary["grids"][level]], cfg.grid_resolution)

        def areas(s: Any, like: Any = like, grid: Any = grid) -> list[float]:
            res = infer.expected_limits(
                like, s, grid=grid, luminosity_ifb=cfg.luminosity_ifb, asimov_theta="sm", chunk_size=_TRUTH_CHUNK
            )
            return [infer.contour_area(res, 0.68), infer.contour_area(res, 0.95)]

        try:
            spread = infer.batch_spread(areas, _test_sample(source), n_batches=_MC_BATCHES, align=_TRUTH_CHUNK)
        except LhcgoldError as exc:
            log.warning("Monte-Carlo uncertainty of the %s contour areas not available: %s", label, exc)
            continue
        out[label] = {
            "std_error_68": float(spread.std_error[0]),
            "std_error_95": float(spread.std_error[1]),
            "batch_areas_68": spread.batch_values[:, 0].tolist(),
            "n_batches": spread.n_batches,
        }
    return out


def _closure_warnings(summary: dict[str, Any]) -> list[str]:
    """One line per failed check (closure of a limit result, a badly normalised ratio estimator)."""
    from .infer import ClosureCheck

    diag = summary.get("diagnostics") or {}
    lines = []
    for label, jobs in diag.get("closure", {}).items():
        for job, c in jobs.items():
            if c is None or c.get("passed", True):
                continue
            fields = {k: tuple(v) if isinstance(v, list) else v for k, v in c.items() if k != "passed"}
            check = ClosureCheck(**{**fields, "method": label})
            where = "2-D grid" if job == "2d" else f"1-D scan of {job}"
            lines.append(f"{check.message()} ({where})")
    for cal in (diag.get("ratio") or {}).get("calibration", []):
        dev = abs(cal["expectation"] - 1.0)
        if dev > 0.01 and dev > 3 * cal["expectation_error"]:
            lines.append(
                f"the ALICES ratio estimator is not normalised at θ = {cal['theta']}: E_SM[r̂] = "
                f"{cal['expectation']:.4f} ± {cal['expectation_error']:.4f} (should be 1; the limits use "
                "the calibrated ratio)"
            )
    return lines


def _stage_plots(st: _Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any]) -> None:
    from . import plot
    from .infer import FisherInformation, LimitResult
    from .plot._mpl import pyplot

    plt = pyplot()
    limits = {label: LimitResult.load(st.out / "limits" / f"{_slug(label)}_2d.json") for label in summary["limits"]}
    names = card.parameter_names
    with st.stage("plots"):
        fig, axs = plt.subplots(1, 2, figsize=(12, 5.2))
        det = {k: v for k, v in limits.items() if "parton" not in k}
        par = {k: v for k, v in limits.items() if "parton" in k}
        plot.plot_contours(det, ax=axs[0], truth=[0.0] * len(names))
        axs[0].set_title(f"detector level, {cfg.luminosity_ifb:g} fb$^{{-1}}$")
        plot.plot_contours(par, ax=axs[1], truth=[0.0] * len(names))
        axs[1].set_title(f"parton level, {cfg.luminosity_ifb:g} fb$^{{-1}}$")
        for ax in axs:
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
        fig.tight_layout()
        _savefig(fig, st.out / "plots" / "contours.png")
        plt.close(fig)

        fig, axs = plt.subplots(1, len(names), figsize=(6 * len(names), 4.5))
        for ax, name in zip(np.atleast_1d(axs), names):
            scans = {
                label: LimitResult.load(st.out / "limits" / f"{_slug(label)}_{name}.json")
                for label in summary["limits"]
            }
            k = names.index(name)
            for label, res in scans.items():
                th = np.asarray(res.thetas)
                xk = th[:, k] if th.shape[1] > 1 else th[:, 0]
                order = np.argsort(xk)
                ax.plot(xk[order], res.q[order] - np.min(res.q), label=label, ls="--" if "parton" in label else "-")
            ax.axhline(1.0, color="grey", lw=0.8)
            ax.axhline(3.84, color="grey", lw=0.8, ls=":")
            ax.set_ylim(0, 8)
            ax.set_xlabel(name)
            ax.set_ylabel(r"$q = -2\Delta\log L$ (others at the SM)")
            ax.legend(fontsize=8)
        fig.tight_layout()
        _savefig(fig, st.out / "plots" / "scans.png")
        plt.close(fig)

        fig, axs = plt.subplots(1, 2, figsize=(12, 5))
        plot.plot_pvalue_map(limits["ml"], ax=axs[0])
        axs[0].set_title("p-value, ml (ALICES)")
        plot.plot_pvalue_map(limits["truth (parton)"], ax=axs[1])
        axs[1].set_title("p-value, truth (parton level)")
        fig.tight_layout()
        _savefig(fig, st.out / "plots" / "pvalue_maps.png")
        plt.close(fig)

        events = st.out / "events.h5"
        shown = [
            o for o in ("pt_h", "mt_wh", "phi_star", "cos_Theta", "m_ll", "cos_theta_star") if o in _observables(events)
        ][:4]
        if shown:
            fig, axs = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4))
            for ax, obs in zip(np.atleast_1d(axs), shown):
                plot.plot_distributions(events, obs, ax=ax, density=True, bins=30)
                ax.set_xlabel(obs)
            fig.tight_layout()
            _savefig(fig, st.out / "plots" / "distributions.png")
            plt.close(fig)

        infos = {
            k: FisherInformation(
                matrix=np.asarray(v),
                parameter_names=tuple(names),
                theta=np.zeros(len(names)),
                luminosity_ifb=cfg.luminosity_ifb,
                method=k,
            )
            for k, v in summary["fisher"]["information"].items()
        }
        fig, ax = plt.subplots(figsize=(6, 5))
        plot.plot_fisher_ellipses(infos, ax=ax)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title("Fisher information at the SM (68% CL)")
        fig.tight_layout()
        _savefig(fig, st.out / "plots" / "fisher.png")
        plt.close(fig)

        cals = (summary.get("diagnostics") or {}).get("ratio", {}).get("calibration", [])
        if cals:
            fig, ax = plt.subplots(figsize=(6, 5))
            labels = ["θ = (" + ", ".join(f"{n} {v:.3g}" for n, v in zip(names, c["theta"])) + ")" for c in cals]
            plot.plot_calibration(dict(zip(labels, cals)), ax=ax)
            ax.set_title("ALICES reliability curves (SM vs θ)")
            fig.tight_layout()
            _savefig(fig, st.out / "plots" / "calibration.png")
            plt.close(fig)

        fig, axs = plt.subplots(1, 3, figsize=(13, 4))
        for ax, name in zip(axs, ("sally", "alices", "sally_parton")):
            manifest = json.loads((st.out / "models" / name / "manifest.json").read_text())
            plot.plot_training_history(manifest["history"], ax=ax)
            ax.set_title(f"training: {name}")
        fig.tight_layout()
        _savefig(fig, st.out / "plots" / "training.png")
        plt.close(fig)


# ------------------------------------------------------------------------------------------------ report


def _observables(path: Path) -> tuple[str, ...]:
    from .io.events import EventFile

    return EventFile(path).observables


def _slug(label: str) -> str:
    return label.replace(" (", "_").replace(")", "").replace(" ", "_")


def _contour_summary(res: Any, card: AnalysisCard) -> dict[str, Any]:
    """Area of the 68%/95% CL regions on the grid and the 68% CL extent per parameter."""
    thetas = np.asarray(res.thetas)
    p = np.asarray(res.p_values)
    n_per_axis = [len(np.unique(thetas[:, k])) for k in range(thetas.shape[1])]
    widths = [(thetas[:, k].max() - thetas[:, k].min()) / (n - 1) for k, n in enumerate(n_per_axis)]
    cell = float(np.prod(widths))
    out: dict[str, Any] = {"best_fit": np.asarray(res.best_fit).tolist()}
    edge = np.zeros(len(p), dtype=bool)
    for k in range(thetas.shape[1]):
        edge |= np.isclose(thetas[:, k], thetas[:, k].min()) | np.isclose(thetas[:, k], thetas[:, k].max())
    out["open"] = bool(np.any(edge & (p >= 0.05)))
    for cl in (0.68, 0.95):
        inside = p >= 1.0 - cl
        out[f"area_{int(cl * 100)}"] = float(inside.sum() * cell)
        out[f"extent_{int(cl * 100)}"] = {
            name: ([float(thetas[inside, k].min()), float(thetas[inside, k].max())] if inside.any() else None)
            for k, name in enumerate(card.parameter_names)
        }
    return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def _limits_row(label: str, s: dict[str, Any], names: tuple[str, ...], diag: dict[str, Any]) -> str:
    """One row of the limits table: areas (± Monte-Carlo error), 1-D intervals, closure."""
    cells = []
    for n in names:
        iv = s["intervals"][n]["0.68"]
        cells.append(
            "–" if iv is None else "[{:.3g}, {:.3g}]{}".format(*iv["interval"], " (open)" if iv["open"] else "")
        )
    mc = (diag.get("area_mc") or {}).get(label, {})
    opened = " (open)" if s["open"] else ""

    def pm(key: str) -> str:
        if key not in mc:
            return ""
        return f" ± {mc[key]:.2g}" if mc[key] > 0 else " ± <1 cell"

    a68 = f"{s['area_68']:.3g}" + pm("std_error_68") + opened
    a95 = f"{s['area_95']:.3g}" + pm("std_error_95") + opened
    checks = (diag.get("closure") or {}).get(label, {})
    failed = [("2-D" if job == "2d" else job) for job, c in checks.items() if c and not c.get("passed", True)]
    c2 = checks.get("2d")
    if not checks or all(c is None for c in checks.values()):
        closure = "–"
    elif failed:
        closure = "⚠ fails (" + ", ".join(failed) + ")"
    else:
        closure = "ok" + (f" (p = {c2['p_true']:.2f})" if c2 else "")
    return f"| {label} | {s['level']} | {a68} | {a95} | " + " | ".join(cells) + f" | {closure} |"


def _checks_section(summary: dict[str, Any]) -> list[str]:
    """Report section: closure of every method, calibration of the ratio estimator."""
    diag = summary.get("diagnostics") or {}
    lines = [
        "## Self-checks",
        "",
        "Closure: on the Asimov data at the SM every method's best fit should be the SM (within one grid cell) "
        "and the SM should lie inside its 68% CL region.",
        "",
        "| method | grid | best fit | offset [cells] | p(SM) | closure |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    for label, jobs in diag.get("closure", {}).items():
        for job, c in jobs.items():
            if c is None:
                continue
            best = ", ".join(f"{v:.3g}" for v in c["best_fit"])
            off = max(c["offset_cells"]) if c["offset_cells"] else float("nan")
            lines.append(
                f"| {label} | {'2-D' if job == '2d' else job} | ({best}) | {off:.1f} | {c['p_true']:.3f} | "
                + ("ok" if c["passed"] else "⚠ **fails**")
                + " |"
            )
    ratio = diag.get("ratio") or {}
    if ratio.get("calibration"):
        dev = ratio.get("grid_max_abs_expectation_deviation")
        lines += [
            "",
            "Ratio estimator (ALICES, reference θ_ref = SM): a true ratio has E_SM[r(x|θ)] = 1 at every θ. "
            "The limits calibrate the network's ratio to that (r̂(x|θ)/r̂(x|SM), divided by E_SM of it, "
            "estimated on the test events)"
            + (
                f"; before the calibration, max |E_SM[r̂] − 1| over the 2-D grid was {dev:.3g}."
                if dev is not None
                else "."
            ),
            "",
            "| θ | E_SM[r̂(x|θ)] | max calibration deviation |",
            "| --- | ---: | ---: |",
        ]
        for cal in ratio["calibration"]:
            th = ", ".join(f"{v:.3g}" for v in cal["theta"])
            lines.append(
                f"| ({th}) | {cal['expectation']:.4f} ± {cal['expectation_error']:.4f} | {cal['max_deviation']:.3f} |"
            )
        lines += [
            "",
            "Reliability curves: events binned in the classifier output ŝ = 1/(1 + r̂(x|θ)) (SM vs θ, equal "
            "priors); a calibrated estimator lies on the diagonal.",
            "",
            "![calibration](plots/calibration.png)",
        ]
    return lines + [""]


def _write_report(out: Path, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any]) -> Path:
    from .io.atomic import atomic_path
    from .io.events import EventFile

    names = card.parameter_names
    parton, events = EventFile(out / "parton" / "events.h5"), EventFile(out / "events.h5")
    lines = [
        f"# lhcgold report: {card.name}",
        "",
        f"{card.description}".strip(),
        "",
        f"lhcgold {__version__}, Python {platform.python_version()}, card `{summary['card']}` "
        f"(sha256 {card.card_hash[:12]}), seed {cfg.seed}.",
        "",
        "## Samples",
        "",
        "| sample | events | σ(SM) [fb] |",
        "| --- | ---: | ---: |",
        f"| parton level, weighted | {parton.n_events} | {parton.xsec_per_benchmark()[0] * 1e3:.2f} |",
        f"| detector level (Pythia 8 + fast detector, after cuts) | {events.n_events} | "
        f"{events.xsec_per_benchmark()[0] * 1e3:.2f} |",
        "",
        f"Limits and Fisher information use the test partition of each file (never training events), "
        f"Asimov data at the SM, L = {cfg.luminosity_ifb:g} fb⁻¹, a {cfg.grid_resolution}×"
        f"{cfg.grid_resolution} grid. The histogram is the CP-even 2-D "
        f"histogram with the largest Fisher information: `{summary['histogram']['observables'][0]}` × "
        f"`{summary['histogram']['observables'][1]}`, {summary['histogram']['bins']} bins each.",
        "",
        "## Expected limits",
        "",
    ]
    warnings = _closure_warnings(summary)
    if warnings:
        lines += ["**Warning: some results fail their self-checks; do not trust them as they stand.**", ""]
        lines += [f"- ⚠ {w}" for w in warnings] + [""]
    lines += [
        "![contours](plots/contours.png)",
        "",
        "| method | level | 68% CL area | 95% CL area | "
        + " | ".join(f"68% CL {n} (1-D)" for n in names)
        + " | closure at the SM |",
        "| --- | --- | ---: | ---: |" + " --- |" * len(names) + " --- |",
    ]
    diag = summary.get("diagnostics") or {}
    for label, s in summary["limits"].items():
        lines.append(_limits_row(label, s, names, diag))
    truth, sally_p = summary["limits"].get("truth (parton)"), summary["limits"].get("sally (parton)")
    if truth and sally_p and truth["area_68"] > 0:
        lines += [
            "",
            f"At parton level SALLY's 68% CL area is {sally_p['area_68'] / truth['area_68']:.2f}× "
            "the exact likelihood's.",
        ]
    lines += [
        "",
        "Areas are counted on the 2-D grids (detector level: "
        + ", ".join(f"{n} ∈ [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in zip(names, summary["grids"]["detector"]))
        + "; parton level: "
        + ", ".join(f"{n} ∈ [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in zip(names, summary["grids"]["parton"]))
        + "); ± is their Monte-Carlo standard error (spread over disjoint subsets of the test events; "
        '"<1 cell": every subset gave the same count of grid cells); the 1-D intervals come from scans of '
        "one parameter with the others at the SM "
        '(χ² with one degree of freedom). "(open)" marks a region that reaches the edge of its grid.',
        "",
        "![1-D scans](plots/scans.png)",
    ]
    lines += [
        "",
        "![p-values](plots/pvalue_maps.png)",
        "",
        "## Fisher information at the SM",
        "",
        f"| method | I({names[0]},{names[0]}) | I({names[1]},{names[1]}) | I({names[0]},{names[1]}) |",
        "| --- | ---: | ---: | ---: |",
    ]
    fisher_mc = (summary.get("diagnostics") or {}).get("fisher_mc", {})
    for label, mat in summary["fisher"]["information"].items():
        m = np.asarray(mat)
        err = np.asarray(fisher_mc[label]["std_error"]) if label in fisher_mc else None
        cells = [f"{m[i, j]:.4g}" + ("" if err is None else f" ± {err[i, j]:.2g}") for i, j in ((0, 0), (1, 1), (0, 1))]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if fisher_mc:
        lines += [
            "",
            f"± is the Monte-Carlo standard error, from the spread over {_MC_BATCHES} disjoint subsets of "
            "the test events (as for the contour areas above).",
        ]
    fisher = {k: np.asarray(v) for k, v in summary["fisher"]["information"].items()}
    if "truth (parton)" in fisher and "sally (parton)" in fisher:
        ratio = np.sqrt(np.linalg.det(fisher["truth (parton)"]) / np.linalg.det(fisher["sally (parton)"]))
        lines += [
            "",
            f'"truth (parton)" is the information of the exact likelihood p(x|θ); "joint" that of '
            "p(x,z|θ), which also knows the latent neutrino p_z and parton flavours. The 68% CL Fisher "
            f"ellipse of the parton-level SALLY score is {ratio:.2f}× the area of the exact likelihood's "
            "(the limits above use a binned histogram of the score, which loses some more).",
        ]
    lines += ["", "![Fisher ellipses](plots/fisher.png)", ""]
    lines += _checks_section(summary)
    lines += [
        "## Distributions and training",
        "",
        "![distributions](plots/distributions.png)",
        "",
        "![training](plots/training.png)",
        "",
        "## Timing",
        "",
        "| stage | wall [s] |",
        "| --- | ---: |",
    ]
    for stage, t in summary["timings_s"].items():
        lines.append(f"| {stage} | {t:.1f} |")
    lines += ["", f"Peak resident memory: {summary['peak_rss_mib']:.0f} MiB.", ""]
    path = out / "report.md"
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text("\n".join(lines))
    _write_json(out / "summary.json", summary)
    return path


def with_overrides(cfg: RunConfig, **kw: Any) -> RunConfig:
    """``cfg`` with the non-None keyword values replaced."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})
