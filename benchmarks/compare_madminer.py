#!/usr/bin/env python
"""lhcgold and madminer 0.9.6 side by side, on the very same events file, in one run.

    python benchmarks/compare_madminer.py --madminer-python /path/to/mm-venv/bin/python \\
        [--peer-script ../shared/bench/madminer_pipeline.py] [--n-events 100000] [--workdir DIR]

1. Runs the madminer peer benchmark (``madminer_pipeline.py``: setup, synthetic events written
   by madminer's own writers, ratio/local/test sampling, ALICES and SALLY training, Fisher
   information, 25x25 expected limits) in madminer's own virtual environment, which records
   each stage's time. ``--reuse-peer DIR`` reuses an earlier run instead.
2. Runs lhcgold's augmentation and training stages on madminer's events file
   (``_stages_ml.py``) with the same workload constants, and checks that the joint ratios
   and scores equal madminer's.
3. Runs lhcgold's Fisher information and expected limits (``_stages_infer.py``) with
   madminer's trained networks and compares times and log-likelihood ratios.

madminer is never an lhcgold dependency: make its environment with
``python3 -m venv VENV && VENV/bin/pip install torch==2.13.0 -r requirements-madminer.txt``
(the peer benchmark's requirements pin numpy<1.24).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _load(name: str):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--madminer-python", required=True, help="python of a venv with madminer 0.9.6")
    ap.add_argument("--peer-script", type=Path, default=HERE.parents[1] / "shared" / "bench" / "madminer_pipeline.py")
    ap.add_argument("--n-events", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=Path("compare-madminer"))
    ap.add_argument(
        "--reuse-peer",
        type=Path,
        default=None,
        help="directory of an earlier peer run (holds mm_work_N/ and results_N.json)",
    )
    args = ap.parse_args(argv)
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    n = args.n_events

    peer = (args.reuse_peer or work).resolve()
    results_json = peer / f"results_{n}.json"
    mm_work = peer / f"mm_work_{n}"
    if args.reuse_peer is None:
        if not args.peer_script.exists():
            ap.error(f"peer script {args.peer_script} not found (pass --peer-script)")
        cmd = [
            args.madminer_python,
            str(args.peer_script),
            "--n-events",
            str(n),
            "--workdir",
            str(mm_work),
            "--results",
            str(peer / f"results_{n}.md"),
            "--json",
            str(results_json),
            "--n-workers",
            "0",
        ]
        print("running the madminer peer benchmark (several minutes) ...", flush=True)
        subprocess.run(cmd, check=True, cwd=peer)
    events = mm_work / "data" / "events.h5"

    ml = _load("_stages_ml")
    ml_res = ml.run_all(events, mm_python=args.madminer_python)
    print("\n## Augmentation and training (same events file, same workload)\n")
    print(ml.table(ml_res, ml.madminer_times(results_json)))

    infer = _load("_stages_infer")
    models = mm_work / "models"
    run = infer.run_stages(events, work / "infer", models_dir=str(models))
    mm_dir = work / "infer" / "madminer"
    mm_stages = infer.run_madminer(args.madminer_python, events, models, mm_dir)
    cmp = infer.compare(run, mm_dir, mm_stages)
    print("\n## Fisher information and expected limits (madminer's trained networks)\n")
    print(infer._table(cmp))
    (work / "compare_madminer.json").write_text(json.dumps({"ml": ml_res, "infer": cmp}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
