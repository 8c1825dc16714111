"""Benchmark of the embedded LO generator (one core): speed, unweighting, memory, time to 1 %.

Run from the repository root: ``python benchmarks/generate.py [--events N]``. Prints, per process
(cards/dy.yaml, cards/wh.yaml):

* weighted events/s with all morphing component weights (event loop: phase space, PDFs, |M|²
  components, channel and flavour selection, momenta and observables), and including the VEGAS
  warm-up;
* the unweighting efficiency ⟨w⟩/w_max at the SM;
* the time from scratch to a 1 % MC error on σ_SM;
* LHE writing and observed-level truth evaluation rates;
* the peak resident memory.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lhcgold.config import load_card  # noqa: E402
from lhcgold.generate.embedded import TruthModel, generate  # noqa: E402
from lhcgold.generate.sampling import Sampler  # noqa: E402
from lhcgold.physics.morphing import component_factors  # noqa: E402


def time_to_precision(card, target: float = 0.01, batch: int = 5000) -> tuple[float, int]:  # noqa: ANN001
    """Seconds (including the VEGAS warm-up) until δσ_SM/σ_SM < target, and the events used."""
    from lhcgold.generate.embedded import build_process

    t0 = time.perf_counter()
    proc = build_process(card)
    rng = np.random.default_rng(1)
    s = Sampler.adapted(proc, n_iterations=5, n_points=20_000, rng=rng)
    f = component_factors(np.zeros(len(card.parameters)), proc.components)
    sums = np.zeros(2)
    n = 0
    while True:
        _, ch, m = s.draw(batch, rng)
        w = m @ f
        sums += (w.sum(), (w * w).sum())
        n += batch
        mean = sums[0] / n
        err = np.sqrt(max(sums[1] / n - mean**2, 0) / n)
        if err < target * mean:
            return time.perf_counter() - t0, n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    args = ap.parse_args()
    print(f"lhcgold embedded generator benchmark (one core, {args.events} weighted events per process)")
    for name in ("dy", "wh"):
        card = load_card(ROOT / "cards" / f"{name}.yaml")
        generate(card, n_events=2000, rng=0)  # warm caches (PDF grid read, imports)
        t0 = time.perf_counter()
        res = generate(card, n_events=args.events, rng=1)
        total = time.perf_counter() - t0
        ev = res.timing["events"]
        print(f"\n[{name}] {res.process.name}: {res.n_events} weighted events, {res.components.shape[0]} components")
        print(f"  event loop:              {res.n_events / ev:12.0f} events/s")
        print(f"  incl. VEGAS warm-up:     {res.n_events / (ev + res.timing['adapt']):12.0f} events/s")
        print(f"  end to end (incl. xsec): {res.n_events / total:12.0f} events/s")
        sig = res.xsec_components[0]
        print(f"  sigma_SM = {sig * 1e3:.4f} fb  (sample: {res.component_weights[:, 0].sum() * 1e3:.4f} fb)")
        unw = generate(card, n_events=20_000, rng=2, unweighted=True)
        print(f"  unweighting efficiency at SM (shat_bias = {res.process.shat_bias}): {unw.unweighting_efficiency:.4f}")
        t1pc, n1pc = time_to_precision(card)
        print(f"  time to 1% on sigma_SM:  {t1pc:.2f} s ({n1pc} events)")
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            res.write_lhe(Path(tmp) / "ev.lhe.gz")
            dt = time.perf_counter() - t
            print(f"  LHE writing (gzip):      {res.n_events / dt:12.0f} events/s")
        truth = TruthModel(res.process, res.xsec_components)
        nx = 20_000 if name == "dy" else 2000
        t = time.perf_counter()
        truth.components(res.observed[:nx])
        dt = time.perf_counter() - t
        print(f"  truth m̄_c(x):            {nx / dt:12.0f} events/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
