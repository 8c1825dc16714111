"""Bad parallelism and device options: ``reconstruct -j``, ``shower -j``, ``fisher/limits --device``.
Each is one clear error, no output and nothing left behind; ``--device cpu`` gives the default's result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lhcgold.exceptions import ConfigError

from .conftest import assert_clean_error, assert_no_leftovers, snapshot
from .test_infer import _write

DATA = Path(__file__).resolve().parents[1] / "data"
LHE = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
CARD = """lhcgold_card: 1
name: wgamma
parameters:
  - {name: cwww, max_power: 2, range: [-10, 10]}
benchmarks:
  sm: {cwww: 0}
  cwww_p10: {cwww: 10}
  cwww_m10: {cwww: -10}
morphing: {max_overall_power: 2}
observables:
  pt_a: {expression: "a[0].pt", default: 0.0}
"""

JOBS_CASES = {
    "reconstruct-j-zero": ("reconstruct {lhe} --card {card} -j 0", r"Invalid value for '-j'"),
    "reconstruct-j-negative": ("reconstruct {lhe} --card {card} -j -2", r"Invalid value for '-j'"),
    "reconstruct-j-text": ("reconstruct {lhe} --card {card} --jobs two", r"'two' is not a valid integer"),
    "reconstruct-j-float": ("reconstruct {lhe} --card {card} -j 1.5", r"'1.5' is not a valid integer"),
    "shower-j-zero": ("shower {lhe} -j 0", r"Invalid value for '-j'"),
    "shower-j-text": ("shower {lhe} -j many", r"'many' is not a valid integer"),
}


@pytest.mark.parametrize("case", sorted(JOBS_CASES))
def test_bad_jobs(case: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    args, match = JOBS_CASES[case]
    shutil.copy(LHE, tmp_path / LHE.name)
    (tmp_path / "card.yaml").write_text(CARD)
    before = snapshot(tmp_path)
    out = tmp_path / "out.h5"
    names = {"lhe": tmp_path / LHE.name, "card": tmp_path / "card.yaml"}
    res = run_cli("-q", *[a.format(**names) for a in args.split()], "-o", out)
    assert_clean_error(res, match, code=2)
    assert not out.exists()
    assert_no_leftovers(tmp_path, before)


@pytest.mark.parametrize("n_workers", [0, -1, True, 1.5, "2"])
def test_reconstruct_api_bad_n_workers(n_workers: object, tmp_path: Path) -> None:
    from lhcgold.config import load_card_text
    from lhcgold.reconstruct import analysis_from_card, reconstruct
    from lhcgold.setup import build_setup

    card = load_card_text(CARD)
    with pytest.raises(ConfigError, match="n_workers"):
        reconstruct(
            [LHE],
            tmp_path / "o.h5",
            setup=build_setup(card, rng=1),
            n_workers=n_workers,  # type: ignore[arg-type]
            **analysis_from_card(card),
        )
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def model_assets(tmp_path_factory):  # type: ignore[no-untyped-def]
    """An events file and a tiny trained SALLY model."""
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta as Bench
    from lhcgold.ml import SALLY, TrainConfig

    d = tmp_path_factory.mktemp("device_assets")
    ev = _write(d / "events.h5", 2000)
    sally = SALLY(n_hidden=(8,))
    sally.train(
        augment.sample_local(ev, theta=Bench("sm"), n_samples=500, rng=1),
        config=TrainConfig(n_epochs=1, batch_size=128, seed=1, validation_split=0.0),
    )
    sally.save(d / "sally")
    return d


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


DEVICE_CASES = {
    "fisher-cuda-absent": ("fisher {ev} -m sally --model {sally} --device cuda", r"CUDA is not available", True),
    "limits-cuda1-absent": (
        "limits {ev} -m sally --model {sally} --device cuda:1 --resolution 3",
        r"CUDA is not available|CUDA device\(s\)",
        True,
    ),
    "fisher-unknown-device": ("fisher {ev} -m sally --model {sally} --device gpu0", r"unknown device 'gpu0'", False),
    "limits-unknown-device": (
        "limits {ev} -m sally --model {sally} --device tpu --resolution 3",
        r"unknown device 'tpu'",
        False,
    ),
    "fisher-device-without-model": (
        "fisher {ev} -m truth --device cpu",
        r"--device cpu is used by the estimator",
        False,
    ),
    "limits-device-without-model": (
        "limits {ev} -m rate --device cuda",
        r"--device cuda is used by the estimator",
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(DEVICE_CASES))
def test_bad_device(case: str, model_assets: Path, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    args, match, needs_no_cuda = DEVICE_CASES[case]
    if needs_no_cuda and _cuda_available():
        pytest.skip("this machine has CUDA")
    work = tmp_path / "work"
    shutil.copytree(model_assets, work)
    before = snapshot(work)
    out = work / "result.json"
    names = {"ev": work / "events.h5", "sally": work / "sally"}
    res = run_cli("-q", *[a.format(**names) for a in args.split()], "-o", out)
    assert_clean_error(res, match, code=1)
    assert not out.exists()
    assert_no_leftovers(work, before)


@pytest.mark.parametrize("verb", ["fisher", "limits"])
def test_device_cpu_matches_default(verb: str, model_assets: Path, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    extra = ["--resolution", "3"] if verb == "limits" else []
    common = [verb, model_assets / "events.h5", "-m", "sally", "--model", model_assets / "sally", *extra]
    assert run_cli("-q", *common, "-o", tmp_path / "a.json").code == 0
    assert run_cli("-q", *common, "--device", "cpu", "-o", tmp_path / "b.json").code == 0
    a, b = (json.loads((tmp_path / n).read_text())["data"] for n in ("a.json", "b.json"))
    key = "matrix" if verb == "fisher" else "p_values"
    assert key in a, sorted(a)
    np.testing.assert_allclose(np.asarray(b[key], dtype=float), np.asarray(a[key], dtype=float), rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_during_parallel_reconstruct_cleans_up(sig: str, tmp_path: Path) -> None:
    """A signal while the workers shower: they are ended, the temporaries removed, no output."""
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    pytest.importorskip("pythia8mc")
    (tmp_path / "card.yaml").write_text(CARD)
    out = tmp_path / "out.h5"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lhcgold.cli",
            "-q",
            "reconstruct",
            str(LHE),
            "--card",
            str(tmp_path / "card.yaml"),
            "-o",
            str(out),
            "-j",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    workers: list = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        kids = [k for k in psutil.Process(proc.pid).children(recursive=True) if "spawn_main" in " ".join(k.cmdline())]
        if len(kids) >= 2 and list(tmp_path.glob(".lhcgold-reco-*/*.part*")):
            workers = kids
            break
        time.sleep(0.2)
    if not workers:
        proc.kill()
        pytest.fail(f"the workers did not start: {proc.communicate()[1]}")
    time.sleep(1.0)
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == "SIGTERM" else 130), err
    assert "Traceback" not in err and "temporary files removed" in err, err
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers left running: {alive}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.yaml"]
