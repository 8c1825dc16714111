#!/usr/bin/env python
"""lhcgold's augmentation and training stages on the madminer peer-benchmark events file.

Run the peer benchmark once
(``bash /work/shared/bench/run_peer_bench.sh VENV 100000 --n-workers 0``),
then::

    python benchmarks/_stages_ml.py --events mm_work_100000/data/events.h5 \
        [--madminer-results results_100000.json] [--mm-python /work/mm-venv/bin/python]

Same workload constants as ``madminer_pipeline.py``: 10^5 ratio samples at 1000 random θ0 drawn
from a Gaussian(0, 15) prior vs θ1 = SM; 10^5 local samples at SM; 10^4 test samples; ALICES and
SALLY with (60, 60) tanh, 10 epochs, batch 128, α = 1. With ``--mm-python`` it also checks that
lhcgold's joint ratios and scores equal madminer's (computed by madminer's own code, float64) on
the same events and θ.

The functions are imported by ``benchmarks/compare_madminer.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

N_TRAIN_SAMPLES = 100_000
N_TEST_SAMPLES = 10_000
N_THETA_TRAIN = 1000
THETA_PRIOR_SIGMA = 15.0
N_HIDDEN = (60, 60)
ACTIVATION = "tanh"
N_EPOCHS = 10
BATCH_SIZE = 128
ALPHA = 1.0
SEED = 1234


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_ratio_sampling(
    events: str | Path,
    *,
    n_samples: int = N_TRAIN_SAMPLES,
    n_theta: int = N_THETA_TRAIN,
    prior_sigma: float = THETA_PRIOR_SIGMA,
    seed: int = SEED,
) -> tuple[float, Any]:
    """Seconds for ``sample_ratio`` (random morphing θ0 vs SM) and the training set."""
    from lhcgold.augment import BenchmarkTheta, Gaussian, Prior, RandomMorphing, sample_ratio

    t0 = time.perf_counter()
    ts = sample_ratio(
        events,
        theta0=RandomMorphing(n_theta, Prior(Gaussian(0.0, prior_sigma))),
        theta1=BenchmarkTheta("sm"),
        n_samples=n_samples,
        rng=seed,
    )
    return time.perf_counter() - t0, ts


def time_local_sampling(events: str | Path, *, n_samples: int = N_TRAIN_SAMPLES, seed: int = SEED) -> tuple[float, Any]:
    from lhcgold.augment import BenchmarkTheta, sample_local

    t0 = time.perf_counter()
    ts = sample_local(events, theta=BenchmarkTheta("sm"), n_samples=n_samples, rng=seed)
    return time.perf_counter() - t0, ts


def time_test_sampling(events: str | Path, *, n_samples: int = N_TEST_SAMPLES, seed: int = SEED) -> tuple[float, Any]:
    from lhcgold.augment import BenchmarkTheta, sample_test

    t0 = time.perf_counter()
    ts = sample_test(events, theta=BenchmarkTheta("sm"), n_samples=n_samples, rng=seed)
    return time.perf_counter() - t0, ts


def time_train(
    method: str,
    ts: Any,
    *,
    n_epochs: int = N_EPOCHS,
    batch_size: int = BATCH_SIZE,
    seed: int = SEED,
    device: str = "cpu",
) -> tuple[float, Any]:
    """Seconds to train ``method`` (alices or sally) with the peer benchmark's settings."""
    from lhcgold.ml import TrainConfig, estimator_class

    est = estimator_class(method)(n_hidden=N_HIDDEN, activation=ACTIVATION)
    cfg = TrainConfig(n_epochs=n_epochs, batch_size=batch_size, alpha=ALPHA, seed=seed, device=device)
    t0 = time.perf_counter()
    est.train(ts, config=cfg)
    return time.perf_counter() - t0, est


# ------------------------------------------------------------------------------------- gold check
def _match_events(events: str | Path, x: np.ndarray, stop: int) -> np.ndarray:
    import h5py

    with h5py.File(events, "r") as f:
        obs = np.asarray(f["samples/observations"][:stop], dtype=np.float64)
    lookup = {row.tobytes(): i for i, row in enumerate(obs)}
    idx = np.array([lookup.get(np.ascontiguousarray(r).tobytes(), -1) for r in x], dtype=np.int64)
    if np.any(idx < 0):
        raise RuntimeError(f"{int((idx < 0).sum())} sampled events not found in the train partition")
    return idx


def gold_check(events: str | Path, ts: Any, *, mm_python: str, n_theta: int = 12) -> dict[str, float]:
    """Compare lhcgold's log r(x,z|θ0,θ1) and t(x,z|θ0) with madminer's (float64), same samples.

    Uses the samples of ``n_theta`` distinct θ0 (both halves). Returns the max absolute and
    relative deviations.
    """
    import h5py

    with h5py.File(events, "r") as f:
        n_events = f["samples/weights"].shape[0]
    stop = int(round(0.6 * n_events))
    th0u = np.unique(ts.theta0, axis=0)[:n_theta]
    sel = np.flatnonzero((ts.theta0[:, None, :] == th0u[None]).all(-1).any(1))
    idx = _match_events(events, ts.x[sel], stop)
    samp = np.where(ts.y[sel, None] == 0, ts.theta0[sel], ts.theta1[sel])
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(inp, index=idx, theta0=ts.theta0[sel], theta1=ts.theta1[sel], sampling=samp)
        subprocess.run([mm_python, __file__, "--madminer-gold", str(events), str(inp), str(out)], check=True)
        mm = np.load(out)
        mm_logr, mm_t = mm["log_r"], mm["t"]
    ours_logr, ours_t = ts.log_r_xz[sel], ts.t_xz[sel]
    return {
        "n_samples": float(len(sel)),
        "log_r_max_abs_dev": float(np.max(np.abs(ours_logr - mm_logr))),
        "r_max_rel_dev": float(np.max(np.abs(np.expm1(ours_logr - mm_logr)))),
        "t_max_abs_dev": float(np.max(np.abs(ours_t - mm_t))),
        "t_max_rel_dev": float(np.max(np.abs(ours_t - mm_t) / np.maximum(np.abs(mm_t), 1e-300))),
        "t_scale": float(np.max(np.abs(mm_t))),
    }


def _madminer_gold(events: str, inp: str, out: str) -> None:  # runs inside the madminer venv
    import h5py
    from madminer import SampleAugmenter

    d = np.load(inp)
    sa = SampleAugmenter(events)
    with h5py.File(events, "r") as f:
        wb_all = np.asarray(f["samples/weights"][()], dtype=np.float64)
    n_b = sa.morpher.n_benchmarks if hasattr(sa.morpher, "n_benchmarks") else wb_all.shape[1]
    log_r = np.empty(len(d["index"]))
    t = np.empty((len(d["index"]), d["theta0"].shape[1]))
    keys = np.concatenate([d["theta0"], d["theta1"], d["sampling"]], axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = np.asarray(inv).reshape(-1)
    p = d["theta0"].shape[1]
    for g, key in enumerate(uniq):
        th0, th1, ths = key[:p], key[p : 2 * p], key[2 * p :]
        rows = np.flatnonzero(inv == g)
        xs, _ = sa.xsecs(
            thetas=[th0, th1],
            partition="train",
            test_split=0.2,
            validation_split=0.2,
            generated_close_to=ths,
        )
        xg = sa.xsec_gradients(
            thetas=[th0],
            partition="train",
            test_split=0.2,
            validation_split=0.2,
            gradients="theta",
            generated_close_to=ths,
        )
        wb = wb_all[d["index"][rows]][:, :n_b] / 0.6
        w0 = wb @ sa.morpher.calculate_morphing_weights(th0)[:n_b]
        w1 = wb @ sa.morpher.calculate_morphing_weights(th1)[:n_b]
        gw0 = wb @ sa.morpher.calculate_morphing_weight_gradient(th0)[:, :n_b].T
        log_r[rows] = np.log((w0 / xs[0]) / (w1 / xs[1]))
        t[rows] = gw0 / w0[:, None] - np.asarray(xg)[0][None, :] / xs[0]
    np.savez(out, log_r=log_r, t=t)


# ------------------------------------------------------------------------------------- driver
def run_all(
    events: str | Path, *, mm_python: str | None = None, device: str = "cpu", train: bool = True
) -> dict[str, Any]:
    """All stages; returns {stage: seconds, ..., "gold_check": {...}, "peak_rss_mib": ...}."""
    import lhcgold.io.events  # noqa: F401  (imports outside the timings, as in the peer script)
    import lhcgold.ml.estimators  # noqa: F401

    res: dict[str, Any] = {}
    res["sample_train_ratio"], ts_r = time_ratio_sampling(events)
    res["sample_train_local"], ts_l = time_local_sampling(events)
    res["sample_test"], _ = time_test_sampling(events)
    if train:
        res["train_alices"], _ = time_train("alices", ts_r, device=device)
        res["train_sally"], _ = time_train("sally", ts_l, device=device)
    if mm_python:
        res["gold_check"] = gold_check(events, ts_r, mm_python=mm_python)
    res["peak_rss_mib"] = _peak_mib()
    return res


def madminer_times(results_json: str | Path) -> dict[str, float]:
    data = json.loads(Path(results_json).read_text())
    return {s["stage"]: float(s["wall_s"]) for s in data["stages"]}


def table(res: dict[str, Any], mm: dict[str, float] | None = None) -> str:
    lines = ["| stage | madminer [s] | lhcgold [s] | speed-up |", "|---|---:|---:|---:|"]
    for stage in (
        "sample_train_ratio",
        "sample_train_local",
        "sample_test",
        "train_alices",
        "train_sally",
    ):
        if stage not in res:
            continue
        ours = res[stage]
        theirs = (mm or {}).get(stage)
        lines.append(
            f"| {stage} | {theirs:.2f} | {ours:.3f} | {theirs / ours:.1f}x |"
            if theirs
            else f"| {stage} | - | {ours:.3f} | - |"
        )
    if "gold_check" in res:
        g = res["gold_check"]
        lines.append("")
        lines.append(
            f"gold vs madminer on {int(g['n_samples'])} samples: "
            f"max |Δlog r| = {g['log_r_max_abs_dev']:.2e}, "
            f"max |Δr|/r = {g['r_max_rel_dev']:.2e}, max |Δt| = {g['t_max_abs_dev']:.2e} "
            f"(|t| up to {g['t_scale']:.3g})"
        )
    lines.append(f"peak RSS {res.get('peak_rss_mib', float('nan')):.0f} MiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--madminer-gold":
        _madminer_gold(*argv[1:4])
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", required=True)
    ap.add_argument("--madminer-results", default=None, help="results_N.json of the peer benchmark")
    ap.add_argument("--mm-python", default=None, help="python of the madminer venv (enables the gold check)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args(argv)
    res = run_all(args.events, mm_python=args.mm_python, device=args.device, train=not args.no_train)
    mm = madminer_times(args.madminer_results) if args.madminer_results else None
    print(table(res, mm))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
