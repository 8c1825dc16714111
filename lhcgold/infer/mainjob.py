"""Inference of the main job (``lhcgold run``): histogram choice, Fisher information, limit grids,
expected limits of every method and their self-checks.

Every function here is a stage of :func:`lhcgold.run.run` (or of its workflow jobs,
:mod:`lhcgold.workflow`) and writes its result as JSON into the output directory; with a resumed
run (:class:`lhcgold.stages.Stages`) a finished stage reads its file back instead. The settings
come from the card's ``infer:`` section (held by :class:`lhcgold.run.RunConfig`).

Limits are computed on the test partition of each events file (never on training events), for
the detector-level methods ``ml`` (ALICES), ``sally`` (SALLY score histogram), the best 2-D
``histogram`` and ``rate`` only, and at parton level for the exact ``truth`` and for a SALLY
trained on the parton-level observed kinematics.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import ConfigError, LhcgoldError
from ..generate.embedded import TruthModel, build_process
from ..io.view import EventsView
from ..stages import slug, write_json
from . import (
    ClosureCheck,
    Histogram,
    LimitGrid,
    LimitResult,
    NeuralRatio,
    RateOnly,
    ScoreHistogram,
    Truth,
    batch_spread,
    choose_histogram,
    contour_area,
    exact_information,
    expected_limits,
    histogram_information,
    rate_information,
    ratio_calibration,
    sally_information,
    truth_information,
)

if TYPE_CHECKING:
    from ..config import AnalysisCard
    from ..run import RunConfig
    from ..stages import Stages

__all__ = [
    "MC_BATCHES",
    "TRUTH_CHUNK",
    "CachedTruth",
    "best_histogram",
    "closure_warnings",
    "contour_summary",
    "fisher_at_sm",
    "interval",
    "limit_grids",
    "limit_methods",
    "limits_of_methods",
    "partition_sample",
    "run_diagnostics",
]

log = logging.getLogger(__name__)

#: events per chunk of the truth densities (the cache of CachedTruth is keyed by chunk)
TRUTH_CHUNK = 20_000
#: disjoint subsets of the test events for the Monte-Carlo uncertainties
MC_BATCHES = 4


def partition_sample(path: Path, partition: str = "test", *, test_split: float = 0.2) -> Any:
    """The ``partition`` of an events file as an :class:`~lhcgold.io.view.EventsView` (weights rescaled to
    the whole sample's cross section)."""
    return EventsView(path).partition(partition, test_split=test_split)  # type: ignore[arg-type]


class CachedTruth:
    """The generator's truth model with its per-event component densities cached by event content,
    so that the 2-D grid and the 1-D scans integrate the latent variables once per event."""

    def __init__(self, model: Any):
        self.model = model
        self.observed_names = tuple(model.process.observed_names)
        self._cache: dict[bytes, Any] = {}

    @classmethod
    def for_card(cls, card: AnalysisCard) -> CachedTruth:
        """The truth of the card's embedded process."""
        return cls(TruthModel(build_process(card)))

    def truth_components(self, x: Any) -> Any:
        arr = np.ascontiguousarray(x, dtype=np.float64)
        key = hashlib.sha1(arr.tobytes()).digest() + str(arr.shape).encode()
        if key not in self._cache:
            self._cache[key] = self.model.components(arr)
        return self._cache[key]

    def xsec_components(self) -> Any:
        return self.model.sigma_c


def best_histogram(st: Stages, cfg: RunConfig, candidates: Sequence[str]) -> dict[str, Any]:
    """Choose the 2-D histogram with the largest Fisher information (determinant, then trace) among the
    pairs of ``candidates`` on the training partition of the detector-level events, with
    :func:`~lhcgold.infer.choose_histogram` (``histogram_choice.json``: ``observables``, ``bins`` and every
    candidate with its information, Monte-Carlo noise floor and the parameters it is blind to).

    Raises:
        ConfigError: fewer than two candidates are observables of the events.
    """
    path = st.out / "histogram_choice.json"
    with st.stage("choose histogram"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        sample = partition_sample(st.out / "events.h5", "train", test_split=cfg.test_split)
        try:
            choice = choose_histogram(
                sample, candidates, n_axes=2, bins=cfg.histogram_bins, theta="sm", luminosity_ifb=cfg.luminosity_ifb
            )
        except ConfigError as exc:
            raise ConfigError(f"{exc}; set infer.histogram_observables in the card") from exc
        write_json(path, choice.to_dict())
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def _true_information(sample: Any, truth: CachedTruth, lumi_ifb: float) -> Any:
    """Fisher information of the exact parton-level (extended) likelihood at the SM on ``sample`` (the test
    partition, or a subset of it), rate term included as in every other method (the same cached densities,
    in the same chunks, as the truth limits use)."""
    return exact_information(sample, Truth(truth), theta="sm", luminosity_ifb=lumi_ifb, chunk_size=TRUTH_CHUNK)


def _information_jobs(
    st: Stages, cfg: RunConfig, hist_choice: dict[str, Any], truth: CachedTruth
) -> dict[str, tuple[Callable[[Any], Any], Path]]:
    """label -> (information of a sample, events file) of every method."""
    from ..ml import load_model

    lumi = cfg.luminosity_ifb
    sally, sally_p = load_model(st.out / "models" / "sally"), load_model(st.out / "models" / "sally_parton")
    parton, events = st.out / "parton" / "events.h5", st.out / "events.h5"
    obs, bins = hist_choice["observables"], hist_choice["bins"]
    at_sm = {"theta": "sm", "luminosity_ifb": lumi}
    return {
        "truth (parton)": (lambda s: _true_information(s, truth, lumi), parton),
        "truth (parton, joint)": (lambda s: truth_information(s, **at_sm), parton),
        "sally (parton)": (lambda s: sally_information(s, sally_p, **at_sm), parton),
        "sally": (lambda s: sally_information(s, sally, **at_sm), events),
        "histogram": (lambda s: histogram_information(s, obs, bins=bins, **at_sm), events),
        "rate": (lambda s: rate_information(s, **at_sm), events),
    }


def fisher_at_sm(
    st: Stages, card: AnalysisCard, cfg: RunConfig, hist_choice: dict[str, Any], truth: CachedTruth
) -> dict[str, Any]:
    """Fisher information at the SM of every method on the test events (``fisher.json``)."""
    path = st.out / "fisher.json"
    with st.stage("fisher"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        samples: dict[Path, Any] = {}
        result = {}
        for label, (info, source) in _information_jobs(st, cfg, hist_choice, truth).items():
            if source not in samples:
                samples[source] = partition_sample(source, test_split=cfg.test_split)
            result[label] = np.asarray(info(samples[source]).matrix).tolist()
        lumi = cfg.luminosity_ifb
        write_json(
            path,
            {"parameters": list(card.parameter_names), "theta": "sm", "luminosity_ifb": lumi, "information": result},
        )
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def limit_grids(card: AnalysisCard, cfg: RunConfig, fisher: dict[str, Any]) -> dict[str, list[list[float]]]:
    """Limit-grid ranges per level: the card's ``infer.grid``/``infer.parton_grid``, else ±kσ of SALLY's
    Fisher information (σ_k = 1/√I_kk; k = 6 at detector level, 4 at parton level), inside each
    parameter's range."""
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


def limit_methods(
    st: Stages, card: AnalysisCard, cfg: RunConfig, hist_choice: dict[str, Any], truth: CachedTruth
) -> dict[str, tuple[Callable[[], Any], Path, str]]:
    """label -> (likelihood factory, events file, level) of every method of the main job."""
    from ..ml import load_model

    events, parton = st.out / "events.h5", st.out / "parton" / "events.h5"
    models = st.out / "models"
    score_bins = (cfg.score_bins,) * len(card.parameters)
    obs, bins = hist_choice["observables"], hist_choice["bins"]
    return {
        "ml": (lambda: NeuralRatio(load_model(models / "alices")), events, "detector"),
        "sally": (lambda: ScoreHistogram(load_model(models / "sally"), bins=score_bins), events, "detector"),
        "histogram": (lambda: Histogram(obs, bins=bins), events, "detector"),
        "rate": (lambda: RateOnly(), events, "detector"),
        "truth (parton)": (lambda: Truth(truth), parton, "parton"),
        "sally (parton)": (
            lambda: ScoreHistogram(load_model(models / "sally_parton"), bins=score_bins),
            parton,
            "parton",
        ),
    }


def _limit_jobs(names: Sequence[str], ranges: Sequence[Sequence[float]], cfg: RunConfig) -> dict[str, Any]:
    """The 2-D grid and a 1-D scan per parameter (the others at the SM)."""
    jobs = {"2d": LimitGrid([tuple(r) for r in ranges], cfg.grid_resolution)}
    for k, name in enumerate(names):
        jobs[name] = LimitGrid([tuple(r) if j == k else 0.0 for j, r in enumerate(ranges)], cfg.scan_resolution)
    return jobs


def limits_of_methods(
    st: Stages,
    card: AnalysisCard,
    cfg: RunConfig,
    hist_choice: dict[str, Any],
    grids: dict[str, list[list[float]]],
    truth: CachedTruth,
) -> dict[str, Any]:
    """Asimov expected limits at the SM of every method: the 2-D grid and the 1-D scans
    (``limits/METHOD_JOB.json``); returns label -> contour summary, level and 1-D intervals."""
    names = card.parameter_names
    out: dict[str, Any] = {}
    for label, (make, source, level) in limit_methods(st, card, cfg, hist_choice, truth).items():
        like = None
        results = {}
        with st.stage(f"limits {label}"):
            for job, grid in _limit_jobs(names, grids[level], cfg).items():
                path = st.out / "limits" / f"{slug(label)}_{job}.json"
                if st.needed(path):
                    like = like or make()
                    res = expected_limits(
                        like,
                        partition_sample(source, test_split=cfg.test_split),
                        grid=grid,
                        luminosity_ifb=cfg.luminosity_ifb,
                        asimov_theta="sm",
                        progress=st.progress,
                        chunk_size=TRUTH_CHUNK,
                    )
                    res.save(path, overwrite=True)
                results[job] = LimitResult.load(path)
        summary = contour_summary(results["2d"], card)
        summary["level"] = level
        summary["intervals"] = {name: interval(results[name], k) for k, name in enumerate(names)}
        out[label] = summary
    return out


def interval(res: Any, k: int) -> dict[str, Any]:
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


def contour_summary(res: Any, card: AnalysisCard) -> dict[str, Any]:
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


def run_diagnostics(
    st: Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any], truth: CachedTruth
) -> dict[str, Any]:
    """Closure of every limit result, calibration of the ALICES ratio, Monte-Carlo uncertainties
    (``diagnostics.json``); ``summary`` holds the ``histogram``, ``grids`` and ``limits`` of the run."""
    path = st.out / "diagnostics.json"
    with st.stage("diagnostics"):
        if not st.needed(path):
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        closure: dict[str, Any] = {}
        for label in summary["limits"]:
            closure[label] = {
                job: LimitResult.load(st.out / "limits" / f"{slug(label)}_{job}.json").details.get("closure")
                for job in ("2d", *card.parameter_names)
            }
        diag = {
            "closure": closure,
            "ratio": _ratio_diagnostics(st, card, cfg, summary),
            "fisher_mc": _fisher_mc(st, cfg, summary, truth),
            "area_mc": _area_mc(st, card, cfg, summary, truth),
        }
        write_json(path, diag)
        return json.loads(path.read_text())  # type: ignore[no-any-return]


def _ratio_diagnostics(st: Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any]) -> dict[str, Any]:
    """E_SM[r̂] over the limit grid and reliability curves of ALICES at the grid's edges."""
    from ..ml import load_model

    model = load_model(st.out / "models" / "alices")
    events = partition_sample(st.out / "events.h5", test_split=cfg.test_split)
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


def _fisher_mc(st: Stages, cfg: RunConfig, summary: dict[str, Any], truth: CachedTruth) -> dict[str, Any]:
    """Standard error of each Fisher matrix from its spread over disjoint subsets of the test events."""
    out = {}
    for label, (info, source) in _information_jobs(st, cfg, summary["histogram"], truth).items():
        try:
            spread = batch_spread(
                lambda s, info=info: info(s).matrix,
                partition_sample(source, test_split=cfg.test_split),
                n_batches=MC_BATCHES,
                align=TRUTH_CHUNK,
            )
        except LhcgoldError as exc:  # e.g. too few events in a subset for the histogram
            log.warning("Monte-Carlo uncertainty of the %s information not available: %s", label, exc)
            continue
        out[label] = {"std_error": spread.std_error.tolist(), "n_batches": spread.n_batches}
    return out


def _area_mc(
    st: Stages, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any], truth: CachedTruth
) -> dict[str, Any]:
    """Standard error of the 68%/95% CL contour areas from disjoint subsets of the test events."""
    out = {}
    for label, (make, source, level) in limit_methods(st, card, cfg, summary["histogram"], truth).items():
        like = make()
        grid = LimitGrid([tuple(r) for r in summary["grids"][level]], cfg.grid_resolution)

        def areas(s: Any, like: Any = like, grid: Any = grid) -> list[float]:
            res = expected_limits(
                like, s, grid=grid, luminosity_ifb=cfg.luminosity_ifb, asimov_theta="sm", chunk_size=TRUTH_CHUNK
            )
            return [contour_area(res, 0.68), contour_area(res, 0.95)]

        try:
            sample = partition_sample(source, test_split=cfg.test_split)
            spread = batch_spread(areas, sample, n_batches=MC_BATCHES, align=TRUTH_CHUNK)
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


def closure_warnings(summary: dict[str, Any]) -> list[str]:
    """One line per failed check (closure of a limit result, a badly normalised ratio estimator)."""
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
