#!/usr/bin/env python
"""Morphing speed: weights and gradients for 10^6 parameter points.

    python benchmarks/morphing.py [--n-thetas 1000000]

Prints the wall time and rate for (2 parameters, 6 components) and (5 parameters,
21 components), vectorised over all points at once, in blocks to bound memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lhcgold.physics.morphing import Morpher, find_components, optimize_basis  # noqa: E402


def run(n_par: int, n_thetas: int, block: int = 250_000) -> tuple[int, float, float]:
    comps = find_components([2] * n_par, 2)
    basis = optimize_basis(comps, [[-1, 1]] * n_par, n_trials=20, rng=1).basis
    morpher = Morpher(comps, basis)
    thetas = np.random.default_rng(0).uniform(-1, 1, size=(n_thetas, n_par))
    t0 = time.perf_counter()
    for lo in range(0, n_thetas, block):
        morpher.weights(thetas[lo : lo + block])
    t_w = time.perf_counter() - t0
    t0 = time.perf_counter()
    for lo in range(0, n_thetas, block):
        morpher.weight_gradients(thetas[lo : lo + block])
    t_g = time.perf_counter() - t0
    return len(comps), t_w, t_g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-thetas", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"morphing weights and gradients for {args.n_thetas:.0e} theta points (numpy {np.__version__})")
    print(f"{'parameters':>10} {'components':>10} {'weights [s]':>12} {'gradients [s]':>14} {'points/s (w+grad)':>18}")
    for n_par in (2, 5):
        n_c, t_w, t_g = run(n_par, args.n_thetas)
        print(f"{n_par:>10} {n_c:>10} {t_w:>12.3f} {t_g:>14.3f} {args.n_thetas / (t_w + t_g):>18.3g}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
