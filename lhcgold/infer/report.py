"""Markdown sections on the validation of limits: coverage, nuisance impacts, ensemble bands.

:func:`report_sections` turns what :class:`~lhcgold.infer.LimitResult` objects carry into Markdown
lines for a report (e.g. the main job's ``report.md``):

* ``result.coverage`` (:meth:`lhcgold.infer.CoverageResult.to_dict`; ``lhcgold limits --coverage N``):
  the coverage of the Wilks and Neyman intervals at θ_true with its binomial error (and, under
  ``coverage["profiled"]``, that of the intervals with the nuisances profiled);
* ``result.impacts`` (``lhcgold limits --norm-uncertainty/--profile-systematics``, or
  :func:`impacts_summary`): intervals with the nuisances fixed and profiled, and each nuisance's impact;
* ``result.details["ensemble"]`` (:func:`lhcgold.infer.ensemble_limits`; ``lhcgold limits --model``
  with an ensemble directory): the members' spread of the interval ends and of the contour area.

A section is omitted when no result carries its information; an empty list means nothing to show.

Example (the main job, after computing ``results = {"sally": ..., "ml": ...}``)::

    from lhcgold import infer
    lines = infer.report_sections(results, heading_level=2)
    report_text += "\\n".join(lines)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.stats import chi2

from .nuisance import interpolated_interval

__all__ = ["impacts_summary", "report_sections"]


def _as_mapping(results: Any) -> dict[str, Any]:
    if isinstance(results, Mapping):
        return dict(results)
    if hasattr(results, "p_values"):
        return {results.method: results}
    return {r.method: r for r in results}


def _g(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.4g}"


def _coverage(results: dict[str, Any], h: str) -> list[str]:
    rows = [(k, r.coverage) for k, r in results.items() if getattr(r, "coverage", None)]
    if not rows:
        return []
    out = [
        f"{h} Coverage at θ_true",
        "",
        "| method | θ_true | CL | toys | Wilks coverage | Neyman coverage | critical value χ² / toys |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    methods = []
    for k, c in rows:
        for label, cc in ((k, c), (k, c.get("profiled"))):
            if not cc:
                continue
            if "nuisances" in cc:
                label = f"{label}, profiled ({', '.join(cc['nuisances'])})"
            w, n = cc["wilks"], cc["neyman"]
            out.append(
                f"| {label} | {cc['theta_true']} | {cc['cl']:g} | {cc['n_toys']} | {w['coverage']:.3f} ± "
                f"{w['error']:.3f} | {n['coverage']:.3f} ± {n['error']:.3f} | "
                f"{w['critical_value']:.3f} / {n['critical_value']:.3f} |"
            )
            if cc["method"] not in methods:
                methods.append(cc["method"])
    c0 = rows[0][1]
    out += [
        "",
        f"Nominal {c0['cl']:g}; an exact method scatters by ± {c0['nominal_error']:.3f} ({c0['n_toys']} toys). "
        f"Method{'s' if len(methods) > 1 else ''}: {'; '.join(methods)}. Neyman critical values from "
        f"{c0['neyman']['n_toys_belt']} independent toys.",
        "",
    ]
    return out


def _impacts(results: dict[str, Any], h: str) -> list[str]:
    rows = [(k, r.impacts) for k, r in results.items() if getattr(r, "impacts", None)]
    if not rows:
        return []
    out = [f"{h} Systematic uncertainties (profiled nuisance parameters)", ""]
    for k, imp in rows:
        pars = imp["parameters"]
        out += [
            f"**{k}** — nuisances: {', '.join(imp['nuisances'])}; Asimov data, {imp['cl']:g} CL.",
            "",
            "| parameter | interval, nuisances fixed | interval, profiled | half-width fixed | half-width profiled |",
            "|---|---|---|---:|---:|",
        ]
        for p in pars:
            iv = imp["intervals"][f"{imp['cl']:g}"][p]
            out.append(
                f"| {p} | [{_g(iv['fixed'][0])}, {_g(iv['fixed'][1])}] | [{_g(iv['profiled'][0])}, "
                f"{_g(iv['profiled'][1])}] | {_g(imp['half_width_fixed'][p])} | {_g(imp['half_width_profiled'][p])} |"
            )
        fisher = imp.get("fisher")
        head = " | ".join(f"{p} (scan)" + (f" | {p} (Fisher)" if fisher else "") for p in pars)
        out += ["", f"| nuisance | {head} |", "|---|" + "---:|" * (len(pars) * (2 if fisher else 1))]
        for n in imp["nuisances"]:
            cells = []
            for p in pars:
                cells.append(_g(imp["scan"][n][p]))
                if fisher:
                    cells.append(_g(fisher[n][p]))
            out.append(f"| {n} | {' | '.join(cells)} |")
        out += [
            "",
            "Impact of a nuisance: √(h²(all profiled) − h²(this one fixed at 0)), h the interval half-width "
            "(scan: ends interpolated between grid points, the scan's χ² threshold for its scanned parameters); "
            "Fisher: the same for 1σ of one parameter, from the profiled Fisher information at θ_true.",
            "",
        ]
    return out


def _band(results: dict[str, Any], h: str) -> list[str]:
    rows = [(k, r) for k, r in results.items() if isinstance(r.details.get("ensemble"), Mapping)]
    if not rows:
        return []
    out = [
        f"{h} Finite-training-sample uncertainty (ensemble band)",
        "",
        "| method | members | parameter | 68% CL (mean model) | 68% ends, members | 95% ends, members |",
        "|---|---:|---|---|---|---|",
    ]
    for k, r in rows:
        b = r.details["ensemble"]
        for p in r.parameter_names:
            i68, i95 = b["intervals"]["0.68"][p], b["intervals"]["0.95"][p]

            def ends(i: Mapping[str, Any]) -> str:
                return f"[{_g(i['lower_mean'])} ± {_g(i['lower_std'])}, {_g(i['upper_mean'])} ± {_g(i['upper_std'])}]"

            mm = i68["mean_model"]
            out.append(f"| {k} | {b['n_members']} | {p} | [{_g(mm[0])}, {_g(mm[1])}] | {ends(i68)} | {ends(i95)} |")
        area = (b.get("area") or {}).get("0.68")
        if area:
            out.append(f"| {k} | | 68% area | {_g(area['mean_model'])} | {_g(area['mean'])} ± {_g(area['std'])} | |")
    out += ["", "Members' values as mean ± standard deviation over the ensemble (one limit per member).", ""]
    return out


def report_sections(results: Any, *, heading_level: int = 3) -> list[str]:
    """Markdown lines on coverage, nuisance impacts and ensemble bands of limit results.

    Args:
        results: a :class:`~lhcgold.infer.LimitResult`, a sequence of them, or a mapping
            label → LimitResult (e.g. one per method).
        heading_level: Markdown heading level of the sections (3: ``###``).

    Returns:
        The lines (without newlines); empty when no result carries coverage, impacts or a band.
    """
    res = _as_mapping(results)
    h = "#" * max(1, int(heading_level))
    return _coverage(res, h) + _impacts(res, h) + _band(res, h)


def impacts_summary(prof: Any, info: Any = None, *, cl: float = 0.68) -> dict[str, Any]:
    """The ``impacts`` record of a :class:`~lhcgold.infer.LimitResult` from a profiled scan.

    Args:
        prof: a :class:`~lhcgold.infer.ProfileLimitResult` computed with ``impacts=True``.
        info: optionally the :class:`~lhcgold.infer.NuisanceInformation` of the same model (Fisher impacts).
        cl: confidence level of the intervals and impacts.
    """
    pars = [prof.parameter_names[a] for a in prof.scanned]
    axes = dict(zip(pars, prof.scanned))

    def ends(c: float, q: Any, a: int) -> list[float]:
        return list(interpolated_interval(prof.thetas[:, a], q, float(chi2.ppf(c, prof.dof))))

    out: dict[str, Any] = {
        "cl": cl,
        "nuisances": list(prof.nuisance_names),
        "parameters": pars,
        "intervals": {
            f"{c:g}": {
                p: {"fixed": ends(c, prof.q_fixed, a), "profiled": ends(c, prof.q_profiled, a)} for p, a in axes.items()
            }
            for c in sorted({cl, 0.68, 0.95})
        },
        "half_width_fixed": {p: prof.half_width(cl, axis=a, profiled=False) for p, a in axes.items()},
        "half_width_profiled": {p: prof.half_width(cl, axis=a) for p, a in axes.items()},
        "scan": {n: {p: prof.impacts(cl, axis=a)[n] for p, a in axes.items()} for n in prof.log_likelihood_without},
        "fisher": None,
        "nu_hat_at_best_fit": dict(
            zip(prof.nuisance_names, prof.nu_hat[int(np.argmax(prof.log_likelihood_profiled))].tolist())
        ),
    }
    if info is not None:
        idx = {n: i for i, n in enumerate(info.parameter_names)}
        out["fisher"] = {n: {p: float(v[idx[p]]) for p in pars} for n, v in info.impacts.items()}
    return out
