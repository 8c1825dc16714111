"""The Markdown report of the main job (``OUT/report.md``) and its ``summary.json``.

The report is written from the run's summary (the results of every stage) and the output
directory's files; its process-specific prose comes from the card's process
(:attr:`lhcgold.processes.ProcessDefaults.truth_note`).
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._version import __version__
from .infer.mainjob import MC_BATCHES, closure_warnings
from .io.atomic import atomic_path
from .stages import write_json

if TYPE_CHECKING:
    from .config import AnalysisCard
    from .run import RunConfig

__all__ = ["write_report"]


def _limits_row(label: str, s: dict[str, Any], names: Sequence[str], diag: dict[str, Any]) -> str:
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


def _closure_table(diag: dict[str, Any]) -> list[str]:
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
    return lines


def _ratio_section(ratio: dict[str, Any]) -> list[str]:
    if not ratio.get("calibration"):
        return []
    dev = ratio.get("grid_max_abs_expectation_deviation")
    lines = [
        "",
        "Ratio estimator (ALICES, reference θ_ref = SM): a true ratio has E_SM[r(x|θ)] = 1 at every θ. "
        "The limits calibrate the network's ratio to that (r̂(x|θ)/r̂(x|SM), divided by E_SM of it, "
        "estimated on the test events)"
        + (f"; before the calibration, max |E_SM[r̂] − 1| over the 2-D grid was {dev:.3g}." if dev is not None else "."),
        "",
        "| θ | E_SM[r̂(x|θ)] | max calibration deviation |",
        "| --- | ---: | ---: |",
    ]
    for cal in ratio["calibration"]:
        th = ", ".join(f"{v:.3g}" for v in cal["theta"])
        lines.append(
            f"| ({th}) | {cal['expectation']:.4f} ± {cal['expectation_error']:.4f} | {cal['max_deviation']:.3f} |"
        )
    return lines + [
        "",
        "Reliability curves: events binned in the classifier output ŝ = 1/(1 + r̂(x|θ)) (SM vs θ, equal "
        "priors); a calibrated estimator lies on the diagonal.",
        "",
        "![calibration](plots/calibration.png)",
    ]


def _checks_section(summary: dict[str, Any]) -> list[str]:
    """Report section: closure of every method, calibration of the ratio estimator."""
    diag = summary.get("diagnostics") or {}
    return _closure_table(diag) + _ratio_section(diag.get("ratio") or {}) + [""]


def _samples_section(out: Path, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any]) -> list[str]:
    from .io.events import EventFile

    parton, events = EventFile(out / "parton" / "events.h5"), EventFile(out / "events.h5")
    hist = summary["histogram"]
    candidates = ", ".join(f"`{c}`" for c in cfg.histogram_observables)
    return [
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
        f"{cfg.grid_resolution} grid. The histogram is the 2-D histogram with the largest Fisher information "
        f"among the pairs of {candidates}: `{hist['observables'][0]}` × `{hist['observables'][1]}`, "
        f"{hist['bins']} bins each.",
        "",
    ]


def _ranges(names: Sequence[str], ranges: Sequence[Sequence[float]]) -> str:
    return ", ".join(f"{n} ∈ [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in zip(names, ranges))


def _limits_section(names: Sequence[str], summary: dict[str, Any]) -> list[str]:
    lines = ["## Expected limits", ""]
    warnings = closure_warnings(summary)
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
    lines += [_limits_row(label, s, names, diag) for label, s in summary["limits"].items()]
    truth, sally_p = summary["limits"].get("truth (parton)"), summary["limits"].get("sally (parton)")
    if truth and sally_p and truth["area_68"] > 0:
        ratio = sally_p["area_68"] / truth["area_68"]
        lines += ["", f"At parton level SALLY's 68% CL area is {ratio:.2f}× the exact likelihood's."]
    grids = summary["grids"]
    return lines + [
        "",
        f"Areas are counted on the 2-D grids (detector level: {_ranges(names, grids['detector'])}; parton level: "
        f"{_ranges(names, grids['parton'])}); ± is their Monte-Carlo standard error (spread over disjoint subsets "
        'of the test events; "<1 cell": every subset gave the same count of grid cells); the 1-D intervals come '
        "from scans of one parameter with the others at the SM "
        '(χ² with one degree of freedom). "(open)" marks a region that reaches the edge of its grid.',
        "",
        "![1-D scans](plots/scans.png)",
        "",
        "![p-values](plots/pvalue_maps.png)",
        "",
    ]


def _fisher_section(names: Sequence[str], summary: dict[str, Any], truth_note: str) -> list[str]:
    pairs = [(i, i) for i in range(len(names))] + [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    lines = [
        "## Fisher information at the SM",
        "",
        "| method | " + " | ".join(f"I({names[i]},{names[j]})" for i, j in pairs) + " |",
        "| --- |" + " ---: |" * len(pairs),
    ]
    fisher_mc = (summary.get("diagnostics") or {}).get("fisher_mc", {})
    for label, mat in summary["fisher"]["information"].items():
        m = np.asarray(mat)
        err = np.asarray(fisher_mc[label]["std_error"]) if label in fisher_mc else None
        cells = [f"{m[i, j]:.4g}" + ("" if err is None else f" ± {err[i, j]:.2g}") for i, j in pairs]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if fisher_mc:
        lines += [
            "",
            f"± is the Monte-Carlo standard error, from the spread over {MC_BATCHES} disjoint subsets of "
            "the test events (as for the contour areas above).",
        ]
    fisher = {k: np.asarray(v) for k, v in summary["fisher"]["information"].items()}
    if "truth (parton)" in fisher and "sally (parton)" in fisher:
        ratio = np.sqrt(np.linalg.det(fisher["truth (parton)"]) / np.linalg.det(fisher["sally (parton)"]))
        latent = f" ({truth_note})" if truth_note else ""
        lines += [
            "",
            f'"truth (parton)" is the information of the exact likelihood p(x|θ); "joint" that of '
            f"p(x,z|θ), which also knows the latent variables z{latent}. The 68% CL Fisher "
            f"ellipse of the parton-level SALLY score is {ratio:.2f}× the area of the exact likelihood's "
            "(the limits above use a binned histogram of the score, which loses some more).",
        ]
    return lines + ["", "![Fisher ellipses](plots/fisher.png)", ""]


def _tail_section(summary: dict[str, Any]) -> list[str]:
    lines = [
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
    lines += [f"| {stage} | {t:.1f} |" for stage, t in summary["timings_s"].items()]
    return lines + ["", f"Peak resident memory: {summary['peak_rss_mib']:.0f} MiB.", ""]


def write_report(
    out: Path, card: AnalysisCard, cfg: RunConfig, summary: dict[str, Any], *, truth_note: str = ""
) -> Path:
    """Write ``out/report.md`` and ``out/summary.json`` from the run's summary.

    Args:
        out: the output directory.
        card: the analysis card.
        cfg: the run's settings.
        summary: the results of every stage (``histogram``, ``fisher``, ``grids``, ``limits``,
            ``diagnostics``, ``timings_s``, ``peak_rss_mib``).
        truth_note: what the joint likelihood p(x,z|θ) knows beyond x (the process's latent variables).

    Returns:
        The report's path.
    """
    names = card.parameter_names
    lines = _samples_section(out, card, cfg, summary)
    lines += _limits_section(names, summary)
    lines += _fisher_section(names, summary, truth_note)
    lines += _checks_section(summary)
    lines += _tail_section(summary)
    path = out / "report.md"
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text("\n".join(lines))
    write_json(out / "summary.json", summary)
    return path
