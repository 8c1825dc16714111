#!/usr/bin/env python
"""Event store speed and memory.

    python benchmarks/event_store.py [--n-events 1000000] [--n-stream 10000000] [--workdir DIR]

Measures, each phase in its own process so that peak RSS belongs to that phase alone:
- write rate: 10^6 events x 20 benchmarks (+ 10 observables), appended in chunks;
- read rate: the same file streamed back with ``EventFile.iter_chunks``;
- streaming 10^7 events: written and then read chunk by chunk, with peak RSS
  (it must stay under 500 MB and not grow with the file).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CARD = """
lhcgold_card: 1
parameters:
  - {name: a, max_power: 2, range: [-1, 1]}
  - {name: b, max_power: 2, range: [-1, 1]}
benchmarks: {sm: {a: 0, b: 0}}
morphing: {max_overall_power: 2, seed: 1, n_extra_benchmarks: 14}
"""
CHUNK = 100_000


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_write(path: str, n: int) -> dict:
    from lhcgold.config import load_card_text
    from lhcgold.io.events import EventWriter
    from lhcgold.setup import build_setup

    setup = build_setup(load_card_text(CARD))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(CHUNK, 10))
    w = rng.uniform(0.5, 1.5, size=(CHUNK, setup.n_benchmarks))
    t0 = time.perf_counter()
    with EventWriter(path, setup, [f"x{i}" for i in range(10)], overwrite=True) as writer:
        for lo in range(0, n, CHUNK):
            k = min(CHUNK, n - lo)
            writer.append(x[:k], w[:k], sampling_benchmarks=0)
    dt = time.perf_counter() - t0
    return {
        "seconds": dt,
        "rate": n / dt,
        "rss_mib": _rss_mib(),
        "benchmarks": setup.n_benchmarks,
        "mb": Path(path).stat().st_size / 1e6,
    }


def phase_read(path: str, n: int) -> dict:
    from lhcgold.io.events import EventFile

    t0 = time.perf_counter()
    total = 0.0
    count = 0
    for chunk in EventFile(path).iter_chunks(CHUNK):
        total += float(chunk.weights[:, 0].sum())
        count += len(chunk)
    dt = time.perf_counter() - t0
    assert count == n
    return {"seconds": dt, "rate": n / dt, "rss_mib": _rss_mib()}


def _child(phase: str, path: Path, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--path", str(path), "--n", str(n)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-events", type=int, default=1_000_000)
    ap.add_argument("--n-stream", type=int, default=10_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--phase", choices=["write", "read"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        fn = phase_write if args.phase == "write" else phase_read
        print(json.dumps(fn(args.path, args.n)))
        return
    work = Path(tempfile.mkdtemp(prefix="lhcgold-bench-", dir=args.workdir))
    try:
        small = work / "events_1e6.h5"
        w = _child("write", small, args.n_events)
        r = _child("read", small, args.n_events)
        print(
            f"event store, {args.n_events:.0e} events x {w['benchmarks']} benchmarks + 10 observables "
            f"({w['mb']:.0f} MB):"
        )
        print(
            f"  write: {w['seconds']:.2f} s = {w['rate']:.3g} events/s ({w['mb'] / w['seconds']:.0f} MB/s), "
            f"peak RSS {w['rss_mib']:.0f} MiB"
        )
        print(f"  read:  {r['seconds']:.2f} s = {r['rate']:.3g} events/s, peak RSS {r['rss_mib']:.0f} MiB")
        small.unlink()
        big = work / "events_stream.h5"
        w = _child("write", big, args.n_stream)
        r = _child("read", big, args.n_stream)
        print(f"streaming {args.n_stream:.0e} events ({w['mb'] / 1e3:.2f} GB):")
        print(f"  write: {w['seconds']:.1f} s, peak RSS {w['rss_mib']:.0f} MiB")
        print(
            f"  read:  {r['seconds']:.1f} s, peak RSS {r['rss_mib']:.0f} MiB  "
            f"({'OK' if max(w['rss_mib'], r['rss_mib']) < 500 else 'OVER'} the 500 MB limit)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
