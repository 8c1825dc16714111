#!/usr/bin/env python
"""Coverage of 68 % intervals at the SM on embedded Drell–Yan, for every likelihood method.

Toys (n ~ Pois(L σ_SM), events resampled from a weighted DY sample) are scored with each
method on a 1-D grid in C_LL (C_LR fixed at 0); the fraction of toys whose interval contains
the SM is reported for the asymptotic (Wilks, q ≤ χ²₁ quantile) and the Neyman (toy critical
value from independent toys) intervals, with binomial errors. SALLY and ALICES are trained on a
separate DY sample (other seed)::

    python benchmarks/coverage_dy.py --n-events 20000 --luminosity 30 --toys 500 \
        --out benchmarks/results/coverage_dy.md

``--two-d`` scans (C_LL, C_LR) instead, on the CLI's default grid (card range, 25 × 25) and on a
fine grid, for truth, histogram and a SALLY ensemble, and reports how often the toys' best grid
point is the SM (the atom of q at 0 that makes a coarse grid's coverage conservative); it
replaces only its own marked block of ``--out``::

    python benchmarks/coverage_dy.py --two-d --n-events 20000 --luminosity 300 --toys 500 --seeds 7 8 \
        --out benchmarks/results/coverage_dy.md

``--profiled`` measures the coverage of the *profiled* intervals of the binned methods (rate,
histogram) with a 5 % log-normal normalisation and the μ_F scale variation (×2 / ×½, the embedded
generator's per-event ratios, as benchmarks/systematics_dy.py) as nuisances: toys are Poisson
counts per bin at (SM, ν = 0) plus auxiliary measurements ν_aux ~ N(0, 1), scored with the
profile likelihood ratio; the unprofiled coverage of the same methods (no nuisances) is shown
next to it. It replaces only its own marked block of ``--out``::

    python benchmarks/coverage_dy.py --profiled --n-events 20000 --luminosity 30 --toys 500 \
        --belt-toys 1000 --seeds 7 8 --out benchmarks/results/coverage_dy.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _train(card, n_events: int, seed: int):
    from lhcgold.augment import ArrayEvents, BenchmarkTheta, Flat, Prior, sample_local, sample_ratio
    from lhcgold.generate.embedded import generate
    from lhcgold.ml import TrainConfig, estimator_class

    res = generate(card, n_events=n_events, rng=seed)
    ev = ArrayEvents(
        res.observed,
        res.component_weights,
        res.components,
        card.parameter_names,
        observables=res.observed_names,
        ranges=np.array([p.range for p in card.parameters]),
        benchmark_names=card.benchmark_names,
        benchmark_values=card.benchmark_values,
    )
    cfg = TrainConfig(n_epochs=20, batch_size=128, seed=seed, initial_lr=3e-3, final_lr=1e-4, clip_gradient=1.0)
    sally = estimator_class("sally")(n_hidden=(64, 64), activation="tanh")
    sally.train(sample_local(ev, theta=BenchmarkTheta("sm"), n_samples=n_events, rng=seed, partition="all"), config=cfg)
    alices = estimator_class("alices")(n_hidden=(64, 64), activation="tanh")
    ratio = sample_ratio(
        ev, theta0=Prior(Flat(-0.1, 0.1)), theta1=BenchmarkTheta("sm"), n_samples=n_events, rng=seed, partition="all"
    )
    alices.train(ratio, config=cfg)
    return sally, alices


def _train_sally_ensemble(card, n_events: int, seeds: tuple[int, ...]):
    """SALLY members (as ``lhcgold train --ensemble``) on one DY sample, one seed each."""
    from lhcgold.augment import ArrayEvents, BenchmarkTheta, sample_local
    from lhcgold.generate.embedded import generate
    from lhcgold.ml import TrainConfig, estimator_class

    res = generate(card, n_events=n_events, rng=11)
    ev = ArrayEvents(
        res.observed,
        res.component_weights,
        res.components,
        card.parameter_names,
        observables=res.observed_names,
        ranges=np.array([p.range for p in card.parameters]),
        benchmark_names=card.benchmark_names,
        benchmark_values=card.benchmark_values,
    )
    sample = sample_local(ev, theta=BenchmarkTheta("sm"), n_samples=n_events, rng=11, partition="all")
    members = []
    for seed in seeds:
        cfg = TrainConfig(n_epochs=20, batch_size=128, seed=seed, initial_lr=3e-3, final_lr=1e-4, clip_gradient=1.0)
        m = estimator_class("sally")(n_hidden=(64, 64), activation="tanh")
        m.train(sample, config=cfg)
        members.append(m)
    return members


def _two_d(args: argparse.Namespace, t0: float) -> str:
    """Coverage of 2-D (C_LL, C_LR) intervals at the SM on a coarse and a fine grid (the section's markdown)."""
    from lhcgold import infer
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, build_process, generate
    from lhcgold.infer.neyman import ToyEnsemble

    card = load_card(Path(__file__).resolve().parents[1] / "cards" / "dy.yaml")
    sally = infer.EnsembleMean(_train_sally_ensemble(card, args.n_events, seeds=(5, 6, 7)))
    grids = {
        "coarse: card range ±0.1, 25 × 25 (the CLI default)": infer.LimitGrid([(-0.1, 0.1), (-0.1, 0.1)], 25),
        f"fine: ±{args.fine_half_width:g}, {args.fine_points} × {args.fine_points}": infer.LimitGrid(
            [(-args.fine_half_width, args.fine_half_width)] * 2, args.fine_points
        ),
    }
    methods = {
        "truth": infer.Truth(TruthModel(build_process(card))),
        "histogram (m_ll × cos θ*, 5 × 4)": infer.Histogram(["m_ll", "cos_theta_star"], bins=(5, 4)),
        "sally (ensemble of 3, mean score, default bins)": infer.ScoreHistogram(sally),
    }
    rows, pooled = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dy.h5"
        generate(card, n_events=args.n_events, rng=1).write_events(path)
        for gname, grid in grids.items():
            for label, like in methods.items():
                ens = ToyEnsemble.build(like, path, grid=grid, luminosity_ifb=args.luminosity)
                for seed in args.seeds:
                    t = time.perf_counter()
                    c = infer.coverage(
                        like, path, grid=grid, theta_true="sm", luminosity_ifb=args.luminosity,
                        n_toys=args.toys, n_toys_belt=1000, rng=seed, ensemble=ens,
                    )  # fmt: skip
                    rows.append(
                        f"| {gname} | {label} | {seed} | {c.wilks:.3f} ± {c.wilks_error:.3f} | "
                        f"{c.neyman:.3f} ± {c.neyman_error:.3f} | {c.neyman_critical:.3f} | "
                        f"{c.best_fit_at_truth:.3f} | {time.perf_counter() - t:.0f} s |"
                    )
                    print(rows[-1], file=sys.stderr, flush=True)
                    pooled.setdefault((gname, label), []).append(c)
    return "\n".join(
        [
            f"{args.toys} toys per seed at {args.luminosity:g} fb⁻¹ (~{args.luminosity * 86:.0f} events each), "
            "θ = (C_LL, C_LR), 68 % CL, truth at the SM; Neyman critical values from 1000 independent toys; "
            f"simulation {args.n_events} events (seed 1), SALLY trained on another {args.n_events} (seed 11). "
            f"Nominal 0.680; the binomial spread of an exact method is ± {np.sqrt(0.68 * 0.32 / args.toys):.3f} "
            f"(and the Neyman value also scatters with its critical value's toys). Wall time "
            f"{(time.perf_counter() - t0) / 60:.1f} min.",
            "",
            "| grid | method | seed | Wilks coverage | Neyman coverage | toy critical value (χ²₂: 2.279) | "
            "best fit on θ_true | time |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Pooled over the seeds (independent coverage and critical-value toys per seed; the error is the "
            "coverage toys' binomial error, the critical values' toys add about ± "
            f"{np.sqrt(0.68 * 0.32 / 1000 / len(args.seeds)):.3f}):",
            "",
            "| grid | method | toys | Wilks coverage | Neyman coverage | best fit on θ_true |",
            "|---|---|---:|---:|---:|---:|",
            *[_pooled_row(g, m, cs) for (g, m), cs in pooled.items()],
        ]
    )


def _profiled(args: argparse.Namespace, t0: float) -> str:
    """Coverage of profiled 1-D intervals (rate, histogram) at the SM with two nuisances (the section's markdown)."""
    from lhcgold import infer
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import generate
    from lhcgold.generate.variations import scale_variation_ratios

    card = load_card(Path(__file__).resolve().parents[1] / "cards" / "dy.yaml")
    grids = {
        "±0.05, 101 points": infer.LimitGrid([(-0.05, 0.05), 0.0], 101),
        "±0.1 (card range), 201 points": infer.LimitGrid([(-0.1, 0.1), 0.0], 201),
    }
    methods = {
        "rate": infer.RateOnly(),
        "histogram (m_ll × cos θ*, 5 × 4)": infer.Histogram(["m_ll", "cos_theta_star"], bins=(5, 4)),
    }
    rows, pooled = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dy.h5"
        gen = generate(card, n_events=args.n_events, rng=1)
        gen.write_events(path)
        r = scale_variation_ratios(gen, factors=(0.5, 2.0))
        nus = [infer.Normalisation("norm 5%", 0.05), infer.WeightVariation("mu_F", r["muf_2"], r["muf_0.5"])]
        for gname, grid in grids.items():
            for label, like in methods.items():
                for kind, nuisances in (("profiled (norm 5%, μ_F)", nus), ("no nuisances", None)):
                    for seed in args.seeds:
                        t = time.perf_counter()
                        c = infer.coverage(
                            like, path, grid=grid, theta_true="sm", luminosity_ifb=args.luminosity,
                            n_toys=args.toys, n_toys_belt=args.belt_toys, rng=seed, nuisances=nuisances,
                        )  # fmt: skip
                        rows.append(
                            f"| {gname} | {label} | {kind} | {seed} | {c.wilks:.3f} ± {c.wilks_error:.3f} | "
                            f"{c.neyman:.3f} ± {c.neyman_error:.3f} | {c.neyman_critical:.3f} | "
                            f"{c.best_fit_at_truth:.3f} | {time.perf_counter() - t:.0f} s |"
                        )
                        print(rows[-1], file=sys.stderr, flush=True)
                        pooled.setdefault((gname, f"{label}, {kind}"), []).append(c)
    return "\n".join(
        [
            f"{args.toys} coverage toys per seed at {args.luminosity:g} fb⁻¹ (~{args.luminosity * 86:.0f} events "
            f"each), grids in C_LL with spacing 0.001 (C_LR = 0), 68 % CL, truth at the SM; Neyman critical "
            f"values from {args.belt_toys} independent toys per seed; simulation {args.n_events} events (seed 1). "
            "Profiled: nuisances a 5 % log-normal normalisation and the μ_F scale variation (×2 / ×½, per-event "
            "ratios of the embedded generator), unit Gaussian constraints; toys are Poisson counts per bin at "
            "(SM, ν = 0) and auxiliary measurements ν_aux ~ N(0, 1), q(θ) = −2[max_ν log L(θ, ν) − max_{θ', ν} "
            "log L] with the constraint −½|ν − ν_aux|², ν profiled at every grid point; the Neyman critical value "
            "from toys at (SM, ν̂ = 0), ν̂ fitted to the Asimov data. No nuisances: the toys of the table above "
            "(events resampled from the simulation). Nominal 0.680; the binomial spread of an exact method is "
            f"± {np.sqrt(0.68 * 0.32 / args.toys):.3f} per seed. Wall time {(time.perf_counter() - t0) / 60:.1f} min.",
            "",
            "| grid | method | nuisances | seed | Wilks coverage | Neyman coverage | "
            "toy critical value (χ²₁: 0.989) | best fit on θ_true | time |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Pooled over the seeds:",
            "",
            "| grid | method, nuisances | toys | Wilks coverage | Neyman coverage | best fit on θ_true |",
            "|---|---|---:|---:|---:|---:|",
            *[_pooled_row(g, m, cs) for (g, m), cs in pooled.items()],
        ]
    )


def _pooled_row(grid: str, method: str, cs: list) -> str:
    n = sum(c.n_toys for c in cs)
    w = sum(c.wilks * c.n_toys for c in cs) / n
    ney = sum(c.neyman * c.n_toys for c in cs) / n
    atom = sum(c.best_fit_at_truth * c.n_toys for c in cs) / n
    err = lambda p: np.sqrt(p * (1 - p) / n)  # noqa: E731
    return f"| {grid} | {method} | {n} | {w:.3f} ± {err(w):.3f} | {ney:.3f} ± {err(ney):.3f} | {atom:.3f} |"


def _write_section(path: Path, text: str, marker: str) -> None:
    """Replace the text between ``<!-- marker -->`` and ``<!-- /marker -->`` in ``path`` (append if absent)."""
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    old = path.read_text() if path.exists() else ""
    block = f"{begin}\n{text}\n{end}"
    if begin in old and end in old:
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end) :]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-events", type=int, default=20_000)
    ap.add_argument("--luminosity", type=float, default=30.0)
    ap.add_argument("--toys", type=int, default=500)
    ap.add_argument("--out", default=None)
    ap.add_argument("--two-d", action="store_true", help="2-D (C_LL, C_LR) grids instead of the 1-D C_LL scan")
    ap.add_argument("--fine-half-width", type=float, default=0.03, help="half-width of the fine 2-D grid")
    ap.add_argument("--fine-points", type=int, default=31, help="points per axis of the fine 2-D grid")
    ap.add_argument("--seeds", type=int, nargs="+", default=[7], help="toy seeds (2-D, profiled)")
    ap.add_argument("--profiled", action="store_true", help="coverage of profiled intervals (rate, histogram)")
    ap.add_argument("--belt-toys", type=int, default=1000, help="toys behind the Neyman critical value (profiled)")
    args = ap.parse_args(argv)
    command = "python benchmarks/coverage_dy.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.profiled:
        t0 = time.perf_counter()
        text = f"## Profiled coverage\n\nCommand: `{command}`\n\n" + _profiled(args, t0)
        print(text)
        if args.out:  # only the profiled block of the file is replaced
            _write_section(Path(args.out), text, "coverage-profiled")
        return 0
    if args.two_d:
        t0 = time.perf_counter()
        text = f"## 2-D: (C_LL, C_LR) at the SM\n\nCommand: `{command}`\n\n" + _two_d(args, t0)
        print(text)
        if args.out:  # only the 2-D block of the file is replaced
            _write_section(Path(args.out), text, "coverage-2d")
        return 0
    from lhcgold import infer
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, build_process, generate

    t0 = time.perf_counter()
    card = load_card(Path(__file__).resolve().parents[1] / "cards" / "dy.yaml")
    sally, alices = _train(card, args.n_events, seed=11)
    grid = infer.LimitGrid([(-0.05, 0.05), 0.0], 101)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dy.h5"
        generate(card, n_events=args.n_events, rng=1).write_events(path)
        methods = {
            "truth": infer.Truth(TruthModel(build_process(card))),
            "histogram (m_ll × cos θ*, 5 × 4)": infer.Histogram(["m_ll", "cos_theta_star"], bins=(5, 4)),
            "rate": infer.RateOnly(),
            "sally (score histogram, 10 bins)": infer.ScoreHistogram(sally, components=(0,), bins=10),
            "ml (ALICES)": infer.NeuralRatio(alices),
        }
        for label, like in methods.items():
            t = time.perf_counter()
            c = infer.coverage(
                like,
                path,
                grid=grid,
                theta_true="sm",
                luminosity_ifb=args.luminosity,
                n_toys=args.toys,
                n_toys_belt=1000,
                rng=7,
            )
            rows.append(
                f"| {label} | {c.wilks:.3f} ± {c.wilks_error:.3f} | {c.neyman:.3f} ± {c.neyman_error:.3f} | "
                f"{c.neyman_critical:.3f} | {time.perf_counter() - t:.0f} s |"
            )
            print(rows[-1], file=sys.stderr, flush=True)
    text = "\n".join(
        [
            "# Coverage of 68 % intervals at the SM, embedded Drell-Yan",
            "",
            f"Command: `{command}`",
            "",
            f"{args.toys} toys at {args.luminosity:g} fb⁻¹ (~{args.luminosity * 86:.0f} events each), grid C_LL ∈ "
            "[−0.05, 0.05] (101 points), C_LR = 0; Neyman critical values from 1000 independent toys. Nominal 0.680; "
            f"the binomial spread of an exact method is ± {np.sqrt(0.68 * 0.32 / args.toys):.3f}. "
            f"Wall time {(time.perf_counter() - t0) / 60:.1f} min.",
            "",
            "| method | Wilks coverage | Neyman coverage | toy critical value (χ²₁: 0.989) | time |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
        ]
    )
    print(text)
    if args.out:  # the 1-D table replaces the file, keeping a 2-D block written by --two-d
        out = Path(args.out)
        old = out.read_text() if out.exists() else ""
        keep = old[old.index("<!-- coverage-2d -->") :] if "<!-- coverage-2d -->" in old else ""
        out.write_text(text + ("\n" + keep if keep else ""))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
