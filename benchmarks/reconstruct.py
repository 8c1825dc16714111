"""Reconstruction benchmarks: LHE read rate (vs a plain pylhe loop), Pythia events/s with and
without hadronisation, fast-detector events/s, and peak RSS of the streaming pipeline at 1e5 and
1e6 events (each measurement in a fresh process).

Usage::

    python benchmarks/reconstruct.py            # everything (a few minutes on 2 cores)
    python benchmarks/reconstruct.py --quick    # smaller sizes
    python benchmarks/reconstruct.py --parallel 3000   # only: reconstruct -j 1 vs -j 2 (Pythia + detector)

Inputs are the MG5 W gamma test file (tests/data/mg5/...); the 1e5 / 1e6-event LHE files are
made by repeating its events (written gzipped to a temporary directory).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LHE = ROOT / "tests" / "data" / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
DY = ROOT / "tests" / "data" / "mg5" / "dy_sm" / "unweighted_events.lhe.gz"

CARD = """lhcgold_card: 1
name: bench
parameters:
  - {name: cwww, max_power: 2, range: [-10, 10]}
  - {name: cw, max_power: 2, range: [-10, 10]}
benchmarks:
  sm: {cwww: 0, cw: 0}
  cwww_m10: {cwww: -10, cw: 0}
  cwww_m5: {cwww: -5, cw: 0}
  cwww_p5: {cwww: 5, cw: 0}
  cwww_p10: {cwww: 10, cw: 0}
  cw_m10: {cwww: 0, cw: -10}
  cw_p10: {cwww: 0, cw: 10}
  mix_p5_p5: {cwww: 5, cw: 5}
  mix_m5_p10: {cwww: -5, cw: 10}
morphing: {max_overall_power: 2}
observables:
  pt_a: "a[0].pt"
  pt_l: "l[0].pt"
  mt: {expression: "mt(l[0], met)", default: 0.0}
  dphi: "delta_phi(l[0], a[0])"
cuts: ["pt_a > 100"]
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_big_lhe(n: int, out: Path) -> Path:
    text = gzip.open(LHE, "rt").read()
    head = text[: text.index("<event>")]
    events = re.findall(r"<event>.*?</event>\n", text, re.S)
    with gzip.open(out, "wt", compresslevel=1) as f:
        f.write(head)
        block = "".join(events)
        for _ in range(n // len(events)):
            f.write(block)
        f.write("".join(events[: n % len(events)]))
        f.write("</LesHouchesEvents>\n")
    return out


# ---------------------------------------------------------------------------------------------
# measurements run in child processes


def child_read(path: str) -> dict:
    from lhcgold.io.lhe import iter_lhe

    t = time.perf_counter()
    n = sum(len(c) for c in iter_lhe(path, chunk_size=20_000))
    dt = time.perf_counter() - t
    return {"n": n, "s": dt, "rate": n / dt, "rss_mb": peak_rss_mb()}


def child_pylhe(path: str, n_max: int) -> dict:
    import pylhe

    t = time.perf_counter()
    n = 0
    for ev in pylhe.LHEFile.fromfile(path).events:
        _ = ev.eventinfo.weight, ev.weights, [p.px for p in ev.particles]
        n += 1
        if n >= n_max:
            break
    dt = time.perf_counter() - t
    return {"n": n, "s": dt, "rate": n / dt, "rss_mb": peak_rss_mb()}


def child_pipeline(path: str, out: str) -> dict:
    from lhcgold.config import load_card_text
    from lhcgold.reconstruct import analysis_from_card, reconstruct
    from lhcgold.setup import build_setup

    card = load_card_text(CARD)
    setup = build_setup(card, rng=1)
    opts = analysis_from_card(card)
    opts["level"] = "parton"
    opts["chunk_size"] = 20_000
    t = time.perf_counter()
    res = reconstruct([path], out, setup=setup, overwrite=True, **opts)
    dt = time.perf_counter() - t
    return {"n": res.n_read, "written": res.n_written, "s": dt, "rate": res.n_read / dt, "rss_mb": peak_rss_mb()}


def child_detector_loop(n_loops: int) -> dict:
    import numpy as np

    from lhcgold.config import load_card_text
    from lhcgold.detector import load_preset, simulate
    from lhcgold.io.events import EventWriter
    from lhcgold.observables import compile_analysis, compute, from_card
    from lhcgold.setup import build_setup
    from lhcgold.shower import shower_lhe

    card = load_card_text(CARD)
    setup = build_setup(card, rng=1)
    obs, cuts, effs = from_card(card)
    comp = compile_analysis(obs, cuts=cuts, efficiencies=effs)
    showered = shower_lhe(LHE, n_events=1000, seed=1, batch_size=1000)
    det = load_preset("atlas")
    rng = np.random.default_rng(1)
    n = 0
    t = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as tmp,
        EventWriter(Path(tmp) / "d.h5", setup, [o.name for o in obs], negative_weights="keep") as w,
    ):
        for _ in range(n_loops):
            reco = simulate(showered, preset=det, rng=rng)
            res = compute(reco, obs, compiled=comp)
            w.append(res.values, res.weights[:, 1:], sampling_benchmarks=0)
            n += len(reco)
    dt = time.perf_counter() - t
    return {"n": n, "s": dt, "rate": n / dt, "rss_mb": peak_rss_mb()}


def child_pythia(n: int, hadronisation: bool, mpi: bool = True) -> dict:
    from lhcgold.shower import iter_shower

    t = time.perf_counter()
    count = 0
    for chunk in iter_shower(DY, n_events=n, hadronisation=hadronisation, mpi=mpi, seed=3, batch_size=500):
        count += len(chunk)
    dt = time.perf_counter() - t
    return {"n": count, "s": dt, "rate": count / dt, "rss_mb": peak_rss_mb()}


def child_reco_jobs(n: int, jobs: int, out: str) -> dict:
    """Detector-level reconstruct (Pythia shower + fast detector) of the first n W gamma events, -j jobs."""
    import os

    from lhcgold.config import load_card_text
    from lhcgold.reconstruct import analysis_from_card, reconstruct
    from lhcgold.setup import build_setup

    card = load_card_text(CARD)
    setup = build_setup(card, rng=1)
    opts = analysis_from_card(card)
    opts["level"] = "detector"
    opts["rng"] = 7
    t = time.perf_counter()
    res = reconstruct([LHE], out, setup=setup, overwrite=True, n_events=n, n_workers=jobs, **opts)
    dt = time.perf_counter() - t
    cpu = sum(
        getattr(resource.getrusage(who), f)
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        for f in ("ru_utime", "ru_stime")
    )
    return {
        "n": res.n_read,
        "written": res.n_written,
        "s": dt,
        "rate": res.n_read / dt,
        "cpu_s": cpu,
        "sigma_pb": float(res.xsec_pb[0]),
        "cpu_count": os.cpu_count(),
        "load": os.getloadavg()[0],
    }


def parallel(n: int) -> None:
    """reconstruct -j 1 and -j 2 on the same file: events/s and the speed-up (fresh processes)."""
    print(
        f"== reconstruct -j 1 vs -j 2: first {n} MG5 W gamma events, Pythia (MPI, hadronisation) + ATLAS-like "
        "fast detector + events file, wall clock incl. process start-up =="
    )
    with tempfile.TemporaryDirectory() as tmp:
        r = {j: run_child("recojobs", str(n), str(j), str(Path(tmp) / f"j{j}.h5")) for j in (1, 2)}
    for j, q in r.items():
        print(
            f"-j {j}: {q['n']} events in {q['s']:6.1f} s = {q['rate']:6.1f} events/s ({q['cpu_s']:.1f} CPU s in "
            f"all processes, incl. imports), {q['written']} pass; "
            f"sigma[sm] after cuts = {q['sigma_pb']:.6g} pb (1-min load at end {q['load']:.2f}, "
            f"{q['cpu_count']} CPUs)"
        )
    print(f"speed-up -j 2 / -j 1: {r[2]['rate'] / r[1]['rate']:.2f}x")


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs="+")
    parser.add_argument(
        "--parallel", type=int, default=None, metavar="N", help="only time reconstruct -j 1 vs -j 2 on N events"
    )
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        fn = {
            "read": child_read,
            "pylhe": child_pylhe,
            "pipeline": child_pipeline,
            "detector": child_detector_loop,
            "pythia": child_pythia,
            "recojobs": child_reco_jobs,
        }[kind]
        conv = [int(r) if r.isdigit() else (r == "True" if r in ("True", "False") else r) for r in rest]
        print("RESULT " + json.dumps(fn(*conv)))
        return
    if args.parallel:
        parallel(args.parallel)
        return
    sizes = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"== LHE reading (MG5 W gamma events repeated, 9 <rwgt> weights, gzipped, {sizes[0]} events) ==")
        path = make_big_lhe(sizes[0], Path(tmp) / "read.lhe.gz")
        r = run_child("read", str(path))
        p = run_child("pylhe", str(path), "30000")
        print(
            f"lhcgold iter_lhe : {r['rate']:9.0f} events/s ({r['n']} events into awkward/numpy arrays, "
            "incl. the event-count pass)"
        )
        print(
            f"plain pylhe loop : {p['rate']:9.0f} events/s ({p['n']} events, LHEEvent objects, "
            "touching weights and momenta)"
        )
        path.unlink()
        print("== Pythia 8 (MG5 Drell-Yan, mll > 200 GeV) ==")
        npy = 200 if args.quick else 1000
        for had, mpi in ((True, True), (False, True), (True, False), (False, False)):
            q = run_child("pythia", str(npy), str(had), str(mpi))
            print(
                f"hadronisation {'on ' if had else 'off'}, MPI {'on ' if mpi else 'off'}: {q['rate']:7.1f} events/s "
                f"({q['n']} events, incl. init and conversion to awkward)"
            )
        print("== fast detector (ATLAS-like preset) + observables + events file, showered W gamma looped ==")
        for loops in (5, 20) if args.quick else (10, 40):
            d = run_child("detector", str(loops))
            print(f"{d['n']:>8} events: {d['rate']:7.0f} events/s, peak RSS {d['rss_mb']:.0f} MB")
        print("== streaming pipeline: LHE -> observables -> cuts -> events file -> out-of-core shuffle ==")
        for n in sizes:
            path = make_big_lhe(n, Path(tmp) / f"big_{n}.lhe.gz")
            rd = run_child("read", str(path))
            pl = run_child("pipeline", str(path), str(Path(tmp) / f"ev_{n}.h5"))
            print(
                f"{n:>8} events: read {rd['rate']:7.0f} events/s (peak RSS {rd['rss_mb']:.0f} MB); "
                f"full pipeline {pl['rate']:7.0f} events/s, peak RSS {pl['rss_mb']:.0f} MB"
            )
            path.unlink()


if __name__ == "__main__":
    main()
