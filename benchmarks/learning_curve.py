#!/usr/bin/env python
"""Learning curves: MSE(log r̂ − log r_true) vs N_train.

Methods: CARL, ROLR, RASCAL, ALICE, ALICES, CASCAL, SALLY.

On the embedded Drell–Yan sample (cards/dy.yaml; θ = (C_LL, C_LR); the observed x = (m_ll, y_ll,
cos θ*) whose exact likelihood the generator's TruthModel gives), or on the exact Gaussian-mixture
toy (``--toy``)::

    python benchmarks/learning_curve.py [--toy] [--n-train 1000,10000,100000] [--n-events 300000] \
        [--seeds 1,2,3] [--epochs 100,30,25] [--n-test-thetas 20] [--n-test-per-theta 500]

Every seed regenerates the events, the training samples, the test points and the network
initialisation, so the spread over seeds is the full run-to-run variation; the table gives
mean ± standard deviation over the seeds, and how many seeds each method beats CARL in.
The recorded run (``benchmarks/results/learning_curve.txt``, N = 1e3, 1e4, 5e4, seeds 1-3) shows
ALICE, ALICES and RASCAL below CARL in every seed at every N, ROLR and CASCAL only at some N
(ROLR not at 5e4, CASCAL only at 5e4): not every gold method beats CARL.

Training: θ0 from a flat prior over the card's ranges, θ1 = SM, from the train partition of one
weighted event sample; test: 20 θ0 from the same prior, 500 events each drawn at that θ0 from the
test partition; all methods share the network ((64, 64), tanh), optimiser and epochs at each N
(100, 30, 25 epochs for 10³, 10⁴, 10⁵; early stopping on a 25 % validation split; gradient
norm clipped at 1, which the squared-ratio losses of ROLR/RASCAL need and the others do not
feel). SALLY is local: its log r̂ is the linear approximation t̂(x)·(θ0 − θ_SM), so it is scored
on the same far-from-SM test points only for completeness (``--test-scale 0.1`` puts the test θ0
within 10 % of the ranges around the SM, where SALLY's approximation is meant to hold).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

METHODS = ("carl", "rolr", "rascal", "alice", "alices", "cascal", "sally")
N_TEST_THETAS = 20
N_TEST_PER_THETA = 500


def _epochs(n: int) -> int:
    return 100 if n <= 1_000 else 30 if n <= 10_000 else 25


def _epoch_list(spec: str | None, n_list: list[int]) -> list[int]:
    """Epochs per N: the default schedule, one int for every N, or one int per N."""
    if not spec:
        return [_epochs(n) for n in n_list]
    vals = [int(v) for v in spec.split(",")]
    if len(vals) == 1:
        return vals * len(n_list)
    if len(vals) != len(n_list):
        raise SystemExit(f"--epochs needs 1 or {len(n_list)} values, got {len(vals)}")
    return vals


def build_drell_yan(n_events: int, seed: int):
    """(ArrayEvents, per-pair truth function) for the embedded Drell–Yan process."""
    from lhcgold.augment import ArrayEvents
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, generate
    from lhcgold.physics.morphing import component_factors

    card = load_card(Path(__file__).resolve().parents[1] / "cards" / "dy.yaml")
    res = generate(card, n_events=n_events, rng=seed)
    ranges = np.array([p.range for p in card.parameters], dtype=float)
    events = ArrayEvents(
        res.observed,
        res.component_weights,
        res.components,
        card.parameter_names,
        observables=res.observed_names,
        ranges=ranges,
        benchmark_names=card.benchmark_names,
        benchmark_values=card.benchmark_values,
    )
    truth = TruthModel(res.process)
    comps = res.components

    def log_r_true(x, th0, th1):
        mb = truth.components(x)
        f0, f1 = component_factors(th0, comps), component_factors(th1, comps)
        return (
            np.log(np.einsum("nc,nc->n", f0, mb))
            - np.log(np.einsum("nc,nc->n", f1, mb))
            - np.log(f0 @ truth.sigma_c)
            + np.log(f1 @ truth.sigma_c)
        )

    return events, log_r_true, ranges


def build_toy(n_events: int, seed: int):
    from lhcgold.augment import ArrayEvents
    from lhcgold.toys import GaussianMixtureToy

    toy = GaussianMixtureToy()
    x, m, _ = toy.weighted_events(n_events, rng=seed)
    ranges = np.array([toy.parameter_range] * toy.n_parameters, dtype=float)
    events = ArrayEvents(
        x,
        m,
        toy.components,
        ["a", "b"],
        ranges=ranges,
        benchmark_names=["sm"],
        benchmark_values=np.zeros((1, 2)),
    )
    return events, toy.log_ratio_pairs, ranges


def run(
    events,
    log_r_true,
    ranges,
    n_train_list,
    *,
    seed: int = 1,
    methods=METHODS,
    progress=True,
    test_scale: float = 1.0,
    epochs: list[int] | None = None,
    n_test_thetas: int = N_TEST_THETAS,
    n_test_per_theta: int = N_TEST_PER_THETA,
):
    from lhcgold.augment import (
        BenchmarkTheta,
        Flat,
        Points,
        Prior,
        sample_local,
        sample_plain,
        sample_ratio,
    )
    from lhcgold.ml import TrainConfig, estimator_class

    prior = Prior(*[Flat(lo, hi) for lo, hi in ranges])
    g = np.random.default_rng(seed + 100)
    test_th = test_scale * np.stack([g.uniform(lo, hi, n_test_thetas) for lo, hi in ranges], axis=1)
    test = sample_plain(
        events,
        theta=Points(test_th),
        n_samples=n_test_thetas * n_test_per_theta,
        partition="test",
        rng=seed + 1,
    )
    x_t, th_t = test.x, test.theta0
    ref = np.zeros(len(ranges))
    truth = log_r_true(x_t, th_t, np.broadcast_to(ref, th_t.shape))
    table: dict[str, dict[int, float]] = {m: {} for m in methods}
    epochs = epochs or [_epochs(n) for n in n_train_list]
    for n, n_ep in zip(n_train_list, epochs):
        ts_r = sample_ratio(events, theta0=prior, theta1=BenchmarkTheta("sm"), n_samples=n, rng=seed + n)
        ts_l = sample_local(events, theta=BenchmarkTheta("sm"), n_samples=n, rng=seed + n + 1)
        cfg = TrainConfig(n_epochs=n_ep, batch_size=128, seed=seed, clip_gradient=1.0)
        for m in methods:
            t0 = time.perf_counter()
            est = estimator_class(m)(n_hidden=(64, 64), activation="tanh")
            if m == "sally":
                est.train(ts_l, config=cfg)
                pred = np.einsum("np,np->n", est.score(x_t), th_t - ref)
            else:
                est.train(ts_r, config=cfg)
                pred = est.log_ratio_per_event(x_t, th_t)
            table[m][n] = float(np.mean((pred - truth) ** 2))
            if progress:
                print(
                    f"  seed {seed} N={n:>7d} {m:7s} MSE {table[m][n]:.5f}  ({time.perf_counter() - t0:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    return table, float(np.var(truth))


def format_table(
    tables: list[dict[str, dict[int, float]]], var_truths: list[float], n_train_list: list[int], seeds: list[int]
) -> str:
    """Mean ± standard deviation over seeds of the MSE, and in how many seeds a method beats CARL."""
    k = len(tables)
    head = "| method | " + " | ".join(f"N = {n:.0e}" for n in n_train_list) + " |"
    lines = [
        f"MSE(log r̂ − log r_true), mean ± standard deviation over {k} seeds ({', '.join(map(str, seeds))}):",
        "",
        head,
        "|---|" + "---:|" * len(n_train_list),
    ]
    methods = list(tables[0])
    for m in methods:
        cells = []
        for n in n_train_list:
            vals = np.array([t[m][n] for t in tables])
            sd = float(np.std(vals, ddof=1)) if k > 1 else float("nan")
            cells.append(f"{vals.mean():.5f} ± {sd:.5f}")
        lines.append(f"| {m.upper()} | " + " | ".join(cells) + " |")
    if "carl" in methods:
        lines += [
            "",
            "Seeds in which a method has a lower MSE than CARL (same seed, same N):",
            "",
            head,
            "|---|" + "---:|" * len(n_train_list),
        ]
        for m in methods:
            if m == "carl":
                continue
            wins = [sum(t[m][n] < t["carl"][n] for t in tables) for n in n_train_list]
            lines.append(f"| {m.upper()} | " + " | ".join(f"{w}/{k}" for w in wins) + " |")
    lines.append(
        f"\nVar(log r_true) over the test points = {np.mean(var_truths):.5f} (MSE of predicting 0; mean over seeds)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--toy", action="store_true", help="use the Gaussian-mixture toy instead of Drell-Yan")
    ap.add_argument("--n-train", default="1000,10000,100000")
    ap.add_argument("--n-events", type=int, default=300_000, help="weighted events generated (per seed)")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (>= 3 for a spread)")
    ap.add_argument("--epochs", default=None, help="epochs: one int, or one per N (default 100,30,25 schedule)")
    ap.add_argument("--n-test-thetas", type=int, default=N_TEST_THETAS)
    ap.add_argument("--n-test-per-theta", type=int, default=N_TEST_PER_THETA)
    ap.add_argument("--test-scale", type=float, default=1.0, help="shrink the test θ0 towards the SM")
    args = ap.parse_args(argv)
    n_list = [int(float(v)) for v in args.n_train.split(",")]
    seeds = [int(v) for v in args.seeds.split(",")]
    epochs = _epoch_list(args.epochs, n_list)
    tables, variances = [], []
    t_all = time.perf_counter()
    for seed in seeds:
        t0 = time.perf_counter()
        events, truth, ranges = (build_toy if args.toy else build_drell_yan)(args.n_events, seed)
        print(
            f"seed {seed}: {'toy' if args.toy else 'Drell-Yan'}: {events.n_events} weighted events in "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        table, var = run(
            events,
            truth,
            ranges,
            n_list,
            seed=seed,
            methods=tuple(args.methods.split(",")),
            test_scale=args.test_scale,
            epochs=epochs,
            n_test_thetas=args.n_test_thetas,
            n_test_per_theta=args.n_test_per_theta,
        )
        tables.append(table)
        variances.append(var)
    print(format_table(tables, variances, n_list, seeds))
    print(f"\nepochs per N: {dict(zip(n_list, epochs))}; total wall time {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
