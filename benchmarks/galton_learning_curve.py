#!/usr/bin/env python
"""Learning curves on the Galton board: MSE(log r̂ − log r_exact) vs the number of training samples.

Does RASCAL / ALICES (trained on the joint ratio and joint score mined from the latent path) reach
CARL's error with ≥ 5× fewer samples, as the "mining gold" paper found?

Setup: the paper's board (20 rows, 31 nails, one parameter θ); training θ0 ~ U(−1, 1), θ1 = 0;
test: 20 θ0 from the same prior with 500 balls each, scored against the exact log r(x|θ0, 0) from
the dynamic-programming likelihood. All methods share the network ((64, 64), tanh), AMSGrad,
lr 1e-2 → 1e-4, batch 128, gradient clipping at 1, early stopping on a 25 % validation split, and
about 2000 optimiser steps at every N (epochs ``min(1000, max(10, ⌈2000·128/(0.75 N)⌉))``), so
the comparison is limited by data, not by training time. Training sizes are 5× apart, so
"≥ 5× fewer" is read off adjacent columns; the interpolated factor (log-log between grid points)
is printed too. Each seed redraws the training sets and network initialisation::

    python benchmarks/galton_learning_curve.py --seeds 1,2,3 --n-train 200,1000,5000,25000 \
        --out benchmarks/results/galton_learning_curve.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

N_TEST_THETAS = 20
N_TEST_PER_THETA = 500


def _epochs(n: int) -> int:
    """About 2000 optimiser steps at every N (75 % of the set trains, batch 128)."""
    return int(min(1000, max(10, np.ceil(2000 * 128 / (0.75 * n)))))


def run_seed(seed: int, n_list: list[int], methods: list[str]) -> tuple[dict[str, dict[int, float]], float]:
    from lhcgold.augment import BenchmarkTheta, Flat, Prior
    from lhcgold.ml import TrainConfig, estimator_class
    from lhcgold.simulators import GaltonBoard, sample_ratio

    board = GaltonBoard()
    g = np.random.default_rng(1000 + seed)
    th_test = g.uniform(-1, 1, (N_TEST_THETAS, 1))
    x_t = board.simulate(np.repeat(th_test, N_TEST_PER_THETA, axis=0), rng=g)
    th_t = np.repeat(th_test, N_TEST_PER_THETA, axis=0)
    truth = board.log_ratio_pairs(x_t, th_t, board.reference)
    table: dict[str, dict[int, float]] = {m: {} for m in methods}
    for n in n_list:
        ts = sample_ratio(
            board, theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("reference"), n_samples=n, rng=seed * 7919 + n
        )
        cfg = TrainConfig(
            n_epochs=_epochs(n), batch_size=128, seed=seed, clip_gradient=1.0, initial_lr=1e-2, final_lr=1e-4
        )
        for m in methods:
            t0 = time.perf_counter()
            est = estimator_class(m)(n_hidden=(64, 64), activation="tanh")
            est.train(ts, config=cfg)
            pred = est.log_ratio_per_event(x_t, th_t)
            table[m][n] = float(np.mean((pred - truth) ** 2))
            print(
                f"seed {seed} N={n:>6d} {m:7s} MSE {table[m][n]:.5f} ({time.perf_counter() - t0:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    return table, float(np.var(truth))


def samples_to_reach(curve: dict[int, float], target: float) -> float:
    """Smallest N (log-log interpolation between grid points) at which ``curve`` reaches ``target``."""
    ns = sorted(curve)
    if curve[ns[0]] <= target:
        return float(ns[0])
    for a, b in zip(ns, ns[1:]):
        if curve[b] <= target:
            la, lb, ma, mb = np.log(a), np.log(b), np.log(curve[a]), np.log(curve[b])
            return float(np.exp(la + (np.log(target) - ma) * (lb - la) / (mb - ma)))
    return float("inf")


def report(
    tables: dict[int, dict[str, dict[int, float]]],
    var_truth: list[float],
    n_list: list[int],
    methods: list[str],
    command: str,
    seconds: float,
) -> str:
    lines = [
        "# Galton board learning curves",
        "",
        f"Command: `{command}`",
        "",
        f"Wall time {seconds / 60:.1f} min on the shared 2-core machine (CPU only).",
        "",
        f"MSE of log r̂(x|θ0, θ1=0) against the exact log r, mean ± std over seeds ({', '.join(map(str, tables))}):",
        "",
    ]
    lines.append("| method | " + " | ".join(f"N = {n}" for n in n_list) + " |")
    lines.append("|---|" + "---:|" * len(n_list))
    mean: dict[str, dict[int, float]] = {}
    for m in methods:
        vals = np.array([[tables[s][m][n] for n in n_list] for s in tables])
        mean[m] = dict(zip(n_list, vals.mean(axis=0)))
        cells = [f"{mu:.5f} ± {sd:.5f}" for mu, sd in zip(vals.mean(axis=0), vals.std(axis=0, ddof=1))]
        lines.append(f"| {m.upper()} | " + " | ".join(cells) + " |")
    lines += ["", f"Var(log r_exact) over the test points = {np.mean(var_truth):.5f} (the MSE of predicting 0).", ""]
    lines += [
        "## Samples a gold method needs to reach CARL's MSE",
        "",
        "| CARL at N | CARL MSE | "
        + " | ".join(f"{m.upper()} needs N (factor)" for m in methods if m != "carl")
        + " | per seed: gold at N/5 ≤ CARL at N |",
        "|---:|---:|" + "---:|" * (len(methods) - 1) + "---|",
    ]
    for i, n in enumerate(n_list):
        cells = []
        for m in methods:
            if m == "carl":
                continue
            need = samples_to_reach(mean[m], mean["carl"][n])
            if not np.isfinite(need):
                cells.append("not reached")
            elif need <= n_list[0] and mean[m][n_list[0]] < mean["carl"][n]:
                cells.append(f"≤ {n_list[0]} (≥ {n / n_list[0]:.1f}×)")  # reached at the smallest size tried
            else:
                cells.append(f"{need:.0f} ({n / need:.1f}×)")
        per_seed = ""
        if i > 0 and n_list[i - 1] * 5 == n:
            per_seed = "; ".join(
                f"{m.upper()} {sum(tables[s][m][n_list[i - 1]] <= tables[s]['carl'][n] for s in tables)}/{len(tables)}"
                for m in methods
                if m != "carl"
            )
        lines.append(f"| {n} | {mean['carl'][n]:.5f} | " + " | ".join(cells) + f" | {per_seed} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-train", default="200,1000,5000,25000")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--methods", default="carl,rascal,alices")
    ap.add_argument("--out", default=None, help="write the Markdown report (and a .json beside it) here")
    ap.add_argument("--from-json", default=None, help="re-format the report of an earlier run's .json (no training)")
    args = ap.parse_args(argv)
    if args.from_json:
        saved = json.loads(Path(args.from_json).read_text())
        tabs = {
            int(s): {m: {int(n): v for n, v in row.items()} for m, row in t.items()} for s, t in saved["mse"].items()
        }
        meths = list(next(iter(tabs.values())))
        print(report(tabs, saved["var_truth"], saved["n_train"], meths, saved["command"], saved["seconds"]))
        return 0
    n_list = [int(float(v)) for v in args.n_train.split(",")]
    methods = args.methods.split(",")
    if "carl" not in methods:
        ap.error("--methods must include carl (the reference)")
    t0 = time.perf_counter()
    tables, var_truth = {}, []
    for s in (int(v) for v in args.seeds.split(",")):
        tables[s], v = run_seed(s, n_list, methods)
        var_truth.append(v)
    command = "python benchmarks/galton_learning_curve.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(tables, var_truth, n_list, methods, command, time.perf_counter() - t0)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        out.with_suffix(".json").write_text(
            json.dumps({"n_train": n_list, "mse": tables, "var_truth": var_truth}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
