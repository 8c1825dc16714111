#!/usr/bin/env python
"""Compatibility with madminer 0.9.6, both ways, checked with the real madminer.

madminer is never an lhcgold dependency: it runs in its own throwaway virtual environment
(it needs numpy<1.24), named with ``--madminer-python``::

    python3 -m venv /tmp/mm && /tmp/mm/bin/pip install torch==2.13.0 \\
        -r shared/bench/requirements-madminer.txt
    python tools/madminer_compat.py --madminer-python /tmp/mm/bin/python

1. lhcgold writes a setup file and an events file; madminer loads the setup
   (``MadMiner.load``), builds a ``SampleAugmenter`` on the events file, draws local-score
   and ratio samples, and its morphing weights are compared with lhcgold's.
2. madminer writes a setup and an events file with its own writers; lhcgold reads them
   (``EventFile``) and the observations, weights, benchmarks and morphing are compared.

Prints one line per check and exits non-zero if any fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lhcgold.config import load_card_text  # noqa: E402
from lhcgold.io.events import EventFile, EventWriter  # noqa: E402
from lhcgold.io.setupfile import write_setup  # noqa: E402
from lhcgold.physics import gold  # noqa: E402
from lhcgold.setup import build_setup  # noqa: E402

CARD = """
lhcgold_card: 1
name: compat
parameters:
  - {name: CWL2, lha_block: dim6, lha_id: 2, max_power: 2, range: [-20, 20], card_scale: 16.52}
  - {name: CPWL2, lha_block: dim6, lha_id: 5, max_power: 2, range: [-20, 20], card_scale: 16.52}
benchmarks:
  sm: {CWL2: 0, CPWL2: 0}
  w: {CWL2: 15.2, CPWL2: 0.1}
morphing: {max_overall_power: 2, seed: 7}
"""

MADMINER_SIDE = r"""
import json, sys
from collections import OrderedDict
import numpy as np
from madminer import MadMiner, SampleAugmenter
from madminer.sampling import benchmark, random_morphing_points
from madminer.models import Observable
from madminer.utils.interfaces.hdf5 import save_events, save_nuisance_setup

setup_path, events_path, workdir = sys.argv[1:4]
out = {}
miner = MadMiner()
miner.load(setup_path)
out["parameters"] = list(miner.parameters)
out["benchmarks"] = list(miner.benchmarks)
sa = SampleAugmenter(events_path)
x, theta, t_xz, _ = sa.sample_train_local(theta=benchmark("sm"), n_samples=2000, folder=workdir,
                                          filename="local")
out["local_shape"] = list(x.shape)
out["t_xz_finite"] = bool(np.all(np.isfinite(t_xz)))
x, th0, th1, y, r_xz, t_xz, _ = sa.sample_train_ratio(
    theta0=random_morphing_points(20, [("gaussian", 0.0, 10.0)] * 2), theta1=benchmark("sm"),
    n_samples=2000, folder=workdir, filename="ratio")
out["ratio_shape"] = list(x.shape)
thetas = np.array([[3.0, -7.0], [12.0, 4.0], [-18.0, 19.0]])
np.save(workdir + "/mm_morphing_weights.npy", np.array([sa.morpher.calculate_morphing_weights(t) for t in thetas]))
np.save(workdir + "/mm_morphing_gradients.npy",
        np.array([sa.morpher.calculate_morphing_weight_gradient(t) for t in thetas]))

# madminer writes its own setup + events
mm = MadMiner()
mm.add_parameter(lha_block="dim6", lha_id=2, parameter_name="CWL2", morphing_max_power=2,
                 param_card_transform="16.52*theta", parameter_range=(-20.0, 20.0))
mm.add_parameter(lha_block="dim6", lha_id=5, parameter_name="CPWL2", morphing_max_power=2,
                 param_card_transform="16.52*theta", parameter_range=(-20.0, 20.0))
mm.add_benchmark({"CWL2": 0.0, "CPWL2": 0.0}, "sm")
mm.set_morphing(include_existing_benchmarks=True, max_overall_power=2)
mm.save(workdir + "/mm_setup.h5")
rng = np.random.default_rng(3)
n = 1000
names = list(mm.benchmarks)
obs = rng.normal(size=(n, 2))
w = rng.uniform(0.1, 1.0, size=(n, len(names))) * 1e-3
save_nuisance_setup(file_name=workdir + "/mm_events.h5", file_override=True, nuisance_benchmarks=[],
                    nuisance_parameters={}, reference_benchmark="sm", copy_from_path=workdir + "/mm_setup.h5")
save_events(file_name=workdir + "/mm_events.h5", file_override=True,
            observables=OrderedDict((o, Observable(name=o, val_expression=o)) for o in ("pt_a", "eta_a")),
            observations=OrderedDict((o, obs[:, i]) for i, o in enumerate(("pt_a", "eta_a"))),
            weights=OrderedDict((b, w[:, j]) for j, b in enumerate(names)),
            sampling_benchmarks=[0] * n, num_signal_events=[n] + [0] * (len(names) - 1), num_background_events=0)
np.save(workdir + "/mm_obs.npy", obs)
np.save(workdir + "/mm_w.npy", w)
out["mm_benchmarks"] = names
out["mm_benchmark_values"] = [[mm.benchmarks[b].values[p] for p in ("CWL2", "CPWL2")] for b in names]
json.dump(out, open(workdir + "/mm_out.json", "w"))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--madminer-python", required=True, help="python of a venv with madminer 0.9.6")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="lhcgold-mm-compat-"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, bool, str]] = []

    # 1. lhcgold writes
    setup = build_setup(load_card_text(CARD))
    write_setup(work / "setup.h5", setup, overwrite=True)
    rng = np.random.default_rng(1)
    n = 5000
    a, b, c = rng.uniform(0.5, 1.5, n), rng.normal(size=(n, 2)) / 20, rng.normal(size=(n, 2)) / 20
    m = (
        np.stack(
            [
                a**2,
                2 * a * b[:, 1],
                b[:, 1] ** 2 + c[:, 1] ** 2,
                2 * a * b[:, 0],
                2 * (b[:, 0] * b[:, 1] + c[:, 0] * c[:, 1]),
                b[:, 0] ** 2 + c[:, 0] ** 2,
            ],
            axis=1,
        )
        * 1e-3
    )
    w = gold.event_weights(m, setup.components, setup.benchmark_values).T
    x = np.stack([a, b[:, 0], c[:, 1]], axis=1) + rng.normal(scale=0.01, size=(n, 3))
    with EventWriter(
        work / "events.h5", setup, ["obs_a", "obs_b", "obs_c"], store_components=True, overwrite=True
    ) as writer:
        writer.append(x, w, sampling_benchmarks=0, component_weights=m)

    script = work / "madminer_side.py"
    script.write_text(textwrap.dedent(MADMINER_SIDE))
    proc = subprocess.run(
        [args.madminer_python, str(script), str(work / "setup.h5"), str(work / "events.h5"), str(work)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        print("FAIL madminer could not load lhcgold's files (see above)")
        return 1
    out = json.loads((work / "mm_out.json").read_text())
    results.append(
        (
            "madminer MadMiner.load reads lhcgold setup (parameters, benchmarks)",
            out["parameters"] == list(setup.parameter_names) and out["benchmarks"] == list(setup.benchmark_names),
            f"{out['parameters']} / {len(out['benchmarks'])} benchmarks",
        )
    )
    results.append(
        (
            "madminer SampleAugmenter.sample_train_local on lhcgold events",
            out["local_shape"] == [2000, 3] and out["t_xz_finite"],
            f"x shape {out['local_shape']}",
        )
    )
    results.append(
        (
            "madminer SampleAugmenter.sample_train_ratio on lhcgold events",
            out["ratio_shape"] == [2000, 3],
            f"x shape {out['ratio_shape']}",
        )
    )
    thetas = np.array([[3.0, -7.0], [12.0, 4.0], [-18.0, 19.0]])
    mm_w = np.load(work / "mm_morphing_weights.npy")
    mm_g = np.load(work / "mm_morphing_gradients.npy")
    ours_w = setup.morpher.weights(thetas)
    ours_g = setup.morpher.weight_gradients(thetas)
    dev = max(np.abs(mm_w - ours_w).max() / np.abs(ours_w).max(), np.abs(mm_g - ours_g).max() / np.abs(ours_g).max())
    results.append(("morphing weights and gradients equal madminer's", dev < 1e-10, f"max rel dev {dev:.1e}"))

    # 2. lhcgold reads madminer's files
    ef = EventFile(work / "mm_events.h5")
    chunk = ef.read()
    ok = (
        np.array_equal(chunk.observations, np.load(work / "mm_obs.npy"))
        and np.array_equal(chunk.weights, np.load(work / "mm_w.npy"))
        and list(ef.setup.benchmark_names) == out["mm_benchmarks"]
        and np.allclose(ef.setup.benchmark_values, out["mm_benchmark_values"])
        and ef.observables == ("pt_a", "eta_a")
    )
    results.append(
        (
            "lhcgold EventFile reads madminer's events file",
            ok,
            f"{ef.n_events} events, {ef.setup.n_benchmarks} benchmarks, transform scale "
            f"{ef.setup.parameters[0].card_scale}",
        )
    )
    m_back = chunk.components()
    w_again = gold.event_weights(m_back, ef.setup.components, ef.setup.benchmark_values[:6]).T
    dev = float(np.abs(w_again / chunk.weights[:, :6] - 1).max())
    results.append(
        (
            "madminer's morphing matrix used by lhcgold reproduces its benchmark weights",
            dev < 1e-10,
            f"max rel dev {dev:.1e}",
        )
    )

    failed = 0
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}  ({detail})")
        failed += not ok
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
