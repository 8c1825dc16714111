#!/usr/bin/env python
"""lhcgold inference stages on the madminer peer-benchmark events file, side by side with madminer 0.9.6.

The peer benchmark (``/work/shared/bench/madminer_pipeline.py``, run with
``run_peer_bench.sh``) writes ``mm_work_N/data/events.h5`` (madminer layout) and trains an
ALICES and a SALLY model (``mm_work_N/models/{alices,sally}*``). This module runs the same
inference workload with lhcgold on that very file:

  fisher_truth    truth Fisher information at the SM, L = 10 fb⁻¹
  fisher_sally    SALLY Fisher information (kinematic part on the test partition + rate)
  limits_ml       25 × 25 expected limits, ALICES ratio model (``NeuralRatio``)
  limits_sally    25 × 25 expected limits, 8 × 8 histogram of the SALLY score (``ScoreHistogram``)
  limits_histo    25 × 25 expected limits, 8 × 8 histogram of (pt_v, cos_theta) (``Histogram``)

with madminer's data conventions (templates from the train partition [0, 0.8 N), Asimov data
from the test partition [0.8 N + 1, N) scaled by 1/0.2, n_obs rounded, ``madminer_compat``
histograms). By default it uses madminer's own trained networks through a small torch
adapter (so that the methods coincide and the log-likelihood ratios can be compared); pass
lhcgold models (``score(x)``, ``log_ratio(x, thetas)``) to time those instead.

With ``--madminer-python`` it also runs madminer on the same file in a subprocess (that
interpreter must have madminer 0.9.6), dumps madminer's arrays to ``.npy`` and compares.

Standalone::

    python benchmarks/_stages_infer.py --events /work/bench-work/mm_work_100000/data/events.h5 \\
        --workdir /tmp/infer_bench --madminer-python /work/mm-venv/bin/python

``run_stages(...)`` returns the timings and results as a dict (used by compare_madminer.py).

Speed of the library's ML-limits path (fast vs the estimator's plain ``log_ratio``) on the
output directory of ``lhcgold run``::

    python benchmarks/_stages_infer.py --time-ml-limits wh-demo --grid-resolution 25
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

GRID_RANGE = (-20.0, 20.0)
LUMINOSITY_PB = 10_000.0
HISTO_VARS = ("pt_v", "cos_theta")
TEST_SPLIT = 0.2


# ----------------------------------------------------------------------------------------------------------
# timing helpers (same as the peer benchmark: wall, CPU, stage-local peak RSS)
# ----------------------------------------------------------------------------------------------------------
def _vm(key: str) -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class _Stage:
    def __init__(self, results: dict[str, Any], name: str):
        self.results, self.name = results, name

    def __enter__(self) -> _Stage:
        _reset_peak()
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.results[self.name] = {
            "wall_s": time.perf_counter() - self.t0,
            "cpu_s": time.process_time() - self.c0,
            "peak_rss_mib": _vm("VmHWM"),
            "ok": exc[0] is None,
        }


# ----------------------------------------------------------------------------------------------------------
# madminer's trained networks as lhcgold-protocol models (torch, float32 as madminer evaluates them)
# ----------------------------------------------------------------------------------------------------------
class MadminerScoreModel:
    """A madminer ``ScoreEstimator`` (DenseLocalScoreModel) with ``score(x) -> (N, P)``."""

    def __init__(self, prefix: str | Path, observables: tuple[str, ...] | None = None):
        import torch

        prefix = str(prefix)
        settings = json.loads(Path(prefix + "_settings.json").read_text())
        if settings.get("activation", "tanh") != "tanh" or settings.get("features") is not None:
            raise ValueError("only tanh networks on all features are supported")
        sd = torch.load(prefix + "_state_dict.pt", map_location="cpu", weights_only=True)
        self.layers = [(sd[f"layers.{i}.weight"], sd[f"layers.{i}.bias"]) for i in range(len(settings["n_hidden"]) + 1)]
        self.x_mean = np.load(prefix + "_x_means.npy").astype(np.float64)
        self.x_std = np.load(prefix + "_x_stds.npy").astype(np.float64)
        self.observables = observables
        self.torch = torch

    def score(self, x: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            h = torch.as_tensor((x - self.x_mean) / self.x_std, dtype=torch.float32)
            for i, (w, b) in enumerate(self.layers):
                if i > 0:
                    h = torch.tanh(h)
                h = torch.nn.functional.linear(h, w, b)
            return h.numpy().astype(np.float64)


def MadminerRatioModel(prefix: str | Path, observables: tuple[str, ...] | None = None) -> Any:  # noqa: N802
    """A madminer ``ParameterizedRatioEstimator`` (single parameterised, tanh) as an lhcgold ``ALICES``.

    madminer's network is cat(θ, x) → Linear/tanh → … → Linear with standardised inputs, exactly
    lhcgold's ``RatioNet``: the weights and the standardisation are copied over (float32, as madminer
    evaluates them), so the limits run through the library's own fast path
    (:class:`lhcgold.infer.fastratio.FastRatioNetwork`, used by ``NeuralRatio``) — the path users get.
    """
    import torch

    from lhcgold.ml import ALICES

    prefix = str(prefix)
    settings = json.loads(Path(prefix + "_settings.json").read_text())
    if settings.get("activation", "tanh") != "tanh" or settings.get("features") is not None:
        raise ValueError("only tanh networks on all features are supported")
    n_par = int(settings["n_parameters"])
    sd = torch.load(prefix + "_state_dict.pt", map_location="cpu", weights_only=True)
    x_mean = np.load(prefix + "_x_means.npy").astype(np.float64)
    n_obs = len(x_mean)
    est = ALICES(n_hidden=tuple(settings["n_hidden"]), activation="tanh")
    est.observables = tuple(observables) if observables is not None else tuple(f"x{i}" for i in range(n_obs))
    est.parameters = tuple(f"theta{i}" for i in range(n_par))
    est.n_observables, est.n_parameters = n_obs, n_par
    est.theta_ref = np.zeros(n_par)
    est.net = est._build()
    linears = [m for m in est.net.mlp.layers if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for i, lin in enumerate(linears):
            lin.weight.copy_(sd[f"layers.{i}.weight"])
            lin.bias.copy_(sd[f"layers.{i}.bias"])
        est.net.x_mean.copy_(torch.as_tensor(x_mean))
        est.net.x_std.copy_(torch.as_tensor(np.load(prefix + "_x_stds.npy").astype(np.float64)))
        est.net.theta_mean.copy_(torch.as_tensor(np.load(prefix + "_theta_means.npy").astype(np.float64)))
        est.net.theta_std.copy_(torch.as_tensor(np.load(prefix + "_theta_stds.npy").astype(np.float64)))
    est.net.eval()
    return est


def time_ml_limits(run_dir: str | Path, *, grid_resolution: int = 25, repeats: int = 1) -> dict[str, Any]:
    """Wall time of the ML (ALICES) expected limits of an ``lhcgold run`` directory, through the library's fast
    path (``NeuralRatio(fast=True)``, the default) and through the estimator's plain ``log_ratio``
    (``fast=False``, the path before the fast one moved into the library); max |Δq| between them."""
    from lhcgold import infer
    from lhcgold.augment import partition_bounds
    from lhcgold.io.events import EventFile
    from lhcgold.ml import load_model

    run_dir = Path(run_dir)
    events = run_dir / "events.h5"
    start, stop, factor = partition_bounds(EventFile(events).n_events, "test")
    sample = infer.EventsView(events, start, stop, weight_scale=factor)
    grids = json.loads((run_dir / "summary.json").read_text())["grids"]["detector"]
    grid = infer.LimitGrid([tuple(r) for r in grids], grid_resolution)
    model = load_model(run_dir / "models" / "alices")
    out: dict[str, Any] = {"n_events": sample.n_events, "grid": f"{grid_resolution}^{len(grids)}"}
    results = {}
    for name, fast in (("plain", False), ("fast", True)):
        best, best_cpu = np.inf, np.inf
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            results[name] = infer.expected_limits(
                infer.NeuralRatio(model, fast=fast), sample, grid=grid, luminosity_ifb=300.0, asimov_theta="sm"
            )
            best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
        out[f"{name}_s"], out[f"{name}_cpu_s"] = best, best_cpu
    out["speedup"] = out["plain_s"] / out["fast_s"]
    out["speedup_cpu"] = out["plain_cpu_s"] / out["fast_cpu_s"]
    out["max_abs_dq"] = float(np.max(np.abs(results["plain"].q - results["fast"].q)))
    return out


# ----------------------------------------------------------------------------------------------------------
# lhcgold stages
# ----------------------------------------------------------------------------------------------------------
def _partitions(n: int, test_split: float = TEST_SPLIT) -> tuple[int, int]:
    """madminer's partition bounds: train [0, end), test [start, n)."""
    return int(round((1 - test_split) * n)), int(round((1 - test_split) * n)) + 1


def run_stages(
    events: str | Path,
    workdir: str | Path,
    *,
    grid_resolution: int = 25,
    luminosity_pb: float = LUMINOSITY_PB,
    ratio_model: Any = None,
    score_model: Any = None,
    models_dir: str | Path | None = None,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the lhcgold inference stages; returns {"stages": {name: timings}, "results": {...}}.

    Models default to madminer's trained networks in ``models_dir`` (default: ``<events>/../../models``).
    Results (Fisher matrices, limit scans) are also written to ``workdir`` as JSON.
    """
    from lhcgold import infer
    from lhcgold.io.events import EventFile

    events = Path(events)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    ef = EventFile(events)
    obs = ef.observables
    models_dir = Path(models_dir) if models_dir is not None else events.parent.parent / "models"
    if score_model is None and "limits_sally" not in skip:
        score_model = MadminerScoreModel(models_dir / "sally", observables=obs)
    if ratio_model is None and "limits_ml" not in skip:
        ratio_model = MadminerRatioModel(models_dir / "alices", observables=obs)

    n_train_end, n_test_start = _partitions(ef.n_events)
    train = infer.EventsView(ef, 0, n_train_end)
    test = infer.EventsView(ef, n_test_start, None, weight_scale=1.0 / TEST_SPLIT)
    lumi_ifb = luminosity_pb / 1000.0
    sm = np.zeros(ef.setup.n_parameters)
    grid = infer.LimitGrid([GRID_RANGE] * ef.setup.n_parameters, grid_resolution)
    stages: dict[str, Any] = {}
    results: dict[str, Any] = {}
    common = dict(grid=grid, luminosity_ifb=lumi_ifb, asimov_theta=sm, round_n_observed=True)

    if "fisher_truth" not in skip:
        with _Stage(stages, "fisher_truth"):
            fi = infer.truth_information(ef, theta=sm, luminosity_ifb=lumi_ifb)
        results["fisher_truth"] = fi.matrix.tolist()
        fi.save(workdir / "fisher_truth.json", overwrite=True)
    if "fisher_sally" not in skip and score_model is not None:
        with _Stage(stages, "fisher_sally"):
            # madminer: kinematic part on the test partition normalised to the full σ(θ), rate from all events
            from lhcgold.infer._data import factors

            comps = ef.setup.components
            full_sigma = float(factors(sm, comps) @ ef.component_xsec())
            test_sigma = float(factors(sm, comps) @ infer.EventsView(ef, n_test_start).component_xsec())
            kin = infer.sally_information(
                infer.EventsView(ef, n_test_start, weight_scale=full_sigma / test_sigma),
                score_model,
                theta=sm,
                luminosity_ifb=lumi_ifb,
                include_rate=False,
            )
            rate = infer.rate_information(ef, theta=sm, luminosity_ifb=lumi_ifb)
            fs = kin.matrix + rate.matrix
        results["fisher_sally"] = fs.tolist()
    runs = []
    if "limits_ml" not in skip and ratio_model is not None:
        # madminer does not calibrate the ratio (normalize=False); lhcgold's fast path evaluates the network
        runs.append(("limits_ml", infer.NeuralRatio(ratio_model, theta_batch=1000, normalize=False)))
    if "limits_sally" not in skip and score_model is not None:
        runs.append(
            ("limits_sally", infer.ScoreHistogram(score_model, bins=(8, 8), templates=train, madminer_compat=True))
        )
    if "limits_histo" not in skip:
        runs.append(("limits_histo", infer.Histogram(HISTO_VARS, bins=(8, 8), templates=train, madminer_compat=True)))
    for name, like in runs:
        chunk = 100_000
        with _Stage(stages, name):
            res = infer.expected_limits(like, test, chunk_size=chunk, **common)
        res.save(workdir / f"{name}.json", overwrite=True)
        results[name] = {
            "llr": res.log_likelihood_ratio.tolist(),
            "p_values": res.p_values.tolist(),
            "best_fit": res.best_fit.tolist(),
            "n_points_p_gt_0.32": int(np.sum(res.p_values > 0.32)),
        }
    return {
        "stages": stages,
        "results": results,
        "meta": {
            "events": str(events),
            "n_events": ef.n_events,
            "grid": f"{grid_resolution}x{grid_resolution}",
            "luminosity_pb": luminosity_pb,
            "models_dir": str(models_dir),
        },
    }


# ----------------------------------------------------------------------------------------------------------
# madminer side (runs under the madminer interpreter; imports neither lhcgold nor its dependencies)
# ----------------------------------------------------------------------------------------------------------
def dump_madminer(events: str, models_dir: str, out_dir: str, modes: str, grid_resolution: int) -> None:
    """Run madminer's Fisher and expected limits on ``events``; save arrays and timings to ``out_dir``."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    from madminer import AsymptoticLimits, FisherInformation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stages: dict[str, Any] = {}
    np.random.seed(1234)  # noqa: NPY002 (madminer draws from the legacy global state)
    fi = FisherInformation(events)
    with _Stage(stages, "fisher_truth"):
        m, _ = fi.truth_information(theta=[0.0, 0.0], luminosity=LUMINOSITY_PB)
    np.save(out / "mm_fisher_truth.npy", m)
    if "sally" in modes:
        with _Stage(stages, "fisher_sally"):
            m, _ = fi.full_information(
                theta=[0.0, 0.0], model_file=f"{models_dir}/sally", luminosity=LUMINOSITY_PB, include_xsec_info=True
            )
        np.save(out / "mm_fisher_sally.npy", m)
    limits = AsymptoticLimits(events)
    grid = dict(
        theta_true=[0.0, 0.0],
        grid_ranges=[GRID_RANGE, GRID_RANGE],
        grid_resolutions=[grid_resolution, grid_resolution],
        luminosity=LUMINOSITY_PB,
        include_xsec=True,
    )
    for mode in modes.split(","):
        kw: dict[str, Any] = {}
        if mode == "ml":
            kw = dict(model_file=f"{models_dir}/alices")
        elif mode == "sally":
            kw = dict(model_file=f"{models_dir}/sally", n_histo_toys=100_000)
        elif mode == "histo":
            kw = dict(hist_vars=list(HISTO_VARS), n_histo_toys=100_000)
        with _Stage(stages, f"limits_{mode}"):
            theta_grid, p_values, i_ml, log_r_kin, log_p_xsec, _ = limits.expected_limits(mode=mode, **grid, **kw)
        log_r = np.asarray(log_r_kin, dtype=np.float64) + np.asarray(log_p_xsec, dtype=np.float64)
        np.save(out / f"mm_limits_{mode}_llr.npy", log_r - log_r[i_ml])
        np.save(out / f"mm_limits_{mode}_p.npy", p_values)
        np.save(out / "mm_theta_grid.npy", theta_grid)
    (out / "mm_stages.json").write_text(json.dumps(stages, indent=1))


def run_madminer(
    python: str,
    events: str | Path,
    models_dir: str | Path,
    out_dir: str | Path,
    *,
    modes: str = "histo,sally,ml",
    grid_resolution: int = 25,
    timeout: float = 1800,
) -> dict[str, Any]:
    """Run :func:`dump_madminer` with another interpreter (argument list, no shell); returns its timings."""
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--dump-madminer",
        "--events",
        str(events),
        "--models",
        str(models_dir),
        "--workdir",
        str(out_dir),
        "--madminer-modes",
        modes,
        "--grid-resolution",
        str(grid_resolution),
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"madminer run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads((Path(out_dir) / "mm_stages.json").read_text())


def compare(lhcgold_run: dict[str, Any], mm_dir: str | Path, mm_stages: dict[str, Any]) -> dict[str, Any]:
    """Speed-ups and agreement of the log-likelihood ratios (max |Δ llr| over the grid) and Fisher matrices."""
    mm_dir = Path(mm_dir)
    out: dict[str, Any] = {}
    for name, t in lhcgold_run["stages"].items():
        entry: dict[str, Any] = {"lhcgold_s": t["wall_s"]}
        if name in mm_stages:
            entry["madminer_s"] = mm_stages[name]["wall_s"]
            entry["speedup"] = mm_stages[name]["wall_s"] / max(t["wall_s"], 1e-9)
        res = lhcgold_run["results"].get(name)
        if name.startswith("limits_") and (mm_dir / f"mm_{name}_llr.npy").exists():
            mm_llr = np.load(mm_dir / f"mm_{name}_llr.npy")
            ours = np.asarray(res["llr"])
            finite = np.isfinite(mm_llr) & np.isfinite(ours)
            entry["max_abs_dllr"] = float(np.max(np.abs(mm_llr[finite] - ours[finite])))
            entry["max_abs_llr"] = float(np.max(np.abs(mm_llr[finite])))
            entry["max_abs_dp"] = float(np.max(np.abs(np.load(mm_dir / f"mm_{name}_p.npy") - res["p_values"])))
        if name.startswith("fisher_") and (mm_dir / f"mm_{name}.npy").exists():
            mm = np.load(mm_dir / f"mm_{name}.npy")
            entry["max_rel_dfisher"] = float(np.max(np.abs(mm - np.asarray(res)) / np.abs(mm).max()))
        out[name] = entry
    return out


def _table(cmp: dict[str, Any]) -> str:
    lines = [
        "| stage | lhcgold [s] | madminer 0.9.6 [s] | speed-up | max abs Δllr (max abs llr) | max abs Δp |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, e in cmp.items():
        mm = f"{e['madminer_s']:.2f}" if "madminer_s" in e else "-"
        su = f"{e['speedup']:.1f}x" if "speedup" in e else "-"
        dl = (
            f"{e['max_abs_dllr']:.2e} ({e['max_abs_llr']:.3g})"
            if "max_abs_dllr" in e
            else (f"rel Δ {e['max_rel_dfisher']:.1e}" if "max_rel_dfisher" in e else "-")
        )
        dp = f"{e['max_abs_dp']:.1e}" if "max_abs_dp" in e else "-"
        lines.append(f"| {name} | {e['lhcgold_s']:.3f} | {mm} | {su} | {dl} | {dp} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", default=None, help="madminer-format events file of the peer benchmark")
    p.add_argument(
        "--time-ml-limits",
        metavar="RUN_DIR",
        default=None,
        help="only time the ML limits of an `lhcgold run` directory: library fast path vs plain path",
    )
    p.add_argument("--workdir", default=None, help="output directory (required unless --time-ml-limits)")
    p.add_argument("--models", default=None, help="madminer models directory (default: <events>/../../models)")
    p.add_argument("--grid-resolution", type=int, default=25)
    p.add_argument("--skip", default="", help="comma-separated stages to skip")
    p.add_argument("--madminer-python", default=None, help="interpreter with madminer 0.9.6: run it side by side")
    p.add_argument("--madminer-modes", default="histo,sally,ml")
    p.add_argument(
        "--madminer-dir",
        default=None,
        help="reuse madminer dumps written by an earlier --madminer-python run (no rerun)",
    )
    p.add_argument("--dump-madminer", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.time_ml_limits:
        res = time_ml_limits(args.time_ml_limits, grid_resolution=args.grid_resolution)
        print(json.dumps(res, indent=1))
        return 0
    if not args.events or not args.workdir:
        p.error("--events and --workdir are required")
    models = args.models or str(Path(args.events).resolve().parent.parent / "models")
    if args.dump_madminer:
        dump_madminer(args.events, models, args.workdir, args.madminer_modes, args.grid_resolution)
        return 0
    run = run_stages(
        args.events,
        args.workdir,
        grid_resolution=args.grid_resolution,
        models_dir=models,
        skip=tuple(s for s in args.skip.split(",") if s),
    )
    report: dict[str, Any] = {"lhcgold": run}
    for name, t in run["stages"].items():
        print(
            f"[lhcgold] {name:14s} wall {t['wall_s']:8.3f} s  cpu {t['cpu_s']:8.3f} s  "
            f"peak RSS {t['peak_rss_mib']:7.0f} MiB"
        )
    if args.madminer_python or args.madminer_dir:
        if args.madminer_dir:
            mm_dir = Path(args.madminer_dir)
            mm_stages = json.loads((mm_dir / "mm_stages.json").read_text())
        else:
            mm_dir = Path(args.workdir) / "madminer"
            mm_stages = run_madminer(
                args.madminer_python,
                args.events,
                models,
                mm_dir,
                modes=args.madminer_modes,
                grid_resolution=args.grid_resolution,
            )
        cmp = compare(run, mm_dir, mm_stages)
        report["madminer_stages"] = mm_stages
        report["comparison"] = cmp
        print(_table(cmp))
    (Path(args.workdir) / "infer_bench.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
