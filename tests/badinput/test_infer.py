"""Bad input to ``lhcgold fisher`` and ``lhcgold limits``: one clear error, no output, nothing left behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.config import Benchmark, Parameter, Setup
from lhcgold.io.events import EventWriter
from lhcgold.physics.morphing import Morpher, component_factors

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

COMPS = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
BASIS = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float)


def _setup() -> Setup:
    params = tuple(Parameter(name=n, max_power=2, range=(-2.0, 2.0)) for n in ("ca", "cb"))
    benches = tuple(
        Benchmark(name="sm" if j == 0 else f"b{j}", values={"ca": float(a), "cb": float(b)})
        for j, (a, b) in enumerate(BASIS)
    )
    return Setup(parameters=params, benchmarks=benches, components=COMPS, morphing_matrix=Morpher(COMPS, BASIS).matrix)


def _write(path: Path, n: int, seed: int = 7) -> Path:
    """w_i(θ) = g_i [(1 + a_i·θ)² + (b_i·θ)²] on random events, observables (u, v, w)."""
    rng = np.random.default_rng(seed)
    x = np.stack([rng.exponential(1.0, n), rng.uniform(-1, 1, n), rng.normal(size=n)], axis=1)
    a = np.stack([0.3 * x[:, 0], 0.2 * x[:, 1]], axis=1)
    b = np.stack([0.1 * x[:, 2], 0.25 * x[:, 1] * x[:, 0]], axis=1)
    g = rng.uniform(0.5, 1.5, n) / n
    m = (
        np.stack(
            [
                np.ones(n),
                2 * a[:, 1],
                a[:, 1] ** 2 + b[:, 1] ** 2,
                2 * a[:, 0],
                2 * (a[:, 0] * a[:, 1] + b[:, 0] * b[:, 1]),
                a[:, 0] ** 2 + b[:, 0] ** 2,
            ],
            axis=1,
        )
        * g[:, None]
    )
    setup = _setup()
    with EventWriter(path, setup, ["u", "v", "w"], store_components=True) as wr:
        wr.append(x, m @ component_factors(setup.benchmark_values, COMPS).T, sampling_benchmarks=0, component_weights=m)
    return path


def _poison(path: Path, event: int, what: str) -> Path:
    """Put a NaN into one event of a valid file (as a corrupted or hand-edited file would have)."""
    with h5py.File(path, "r+") as f:
        if what == "weight":
            f["samples/weights"][event, 0] = np.nan
            f["lhcgold/component_weights"][event, 0] = np.nan
        else:
            f["samples/observations"][event, 0] = np.nan
    return path


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """A valid events file, a one-event file, NaN files and two tiny trained models (score, ratio)."""
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta as Bench
    from lhcgold.augment import Flat, Prior, RandomMorphing
    from lhcgold.ml import ALICES, SALLY, TrainConfig

    d = tmp_path_factory.mktemp("infer_assets")
    ev = _write(d / "events.h5", 2000)
    _write(d / "one.h5", 1)
    _poison(_write(d / "nan_weight.h5", 2000), 1913, "weight")  # in the test partition (last 400)
    _poison(_write(d / "nan_obs.h5", 2000), 1700, "observable")
    cfg = TrainConfig(n_epochs=1, batch_size=128, seed=1, validation_split=0.0)
    sally = SALLY(n_hidden=(8,))
    sally.train(augment.sample_local(ev, theta=Bench("sm"), n_samples=500, rng=1), config=cfg)
    sally.save(d / "sally")
    alices = ALICES(n_hidden=(8,))
    alices.train(
        augment.sample_ratio(
            ev, theta0=RandomMorphing(5, Prior(Flat(-1, 1), Flat(-1, 1))), theta1=Bench("sm"), n_samples=500, rng=2
        ),
        config=cfg,
    )
    alices.save(d / "alices")
    return d


# (arguments after the verb, with {ev} {one} {nan_weight} {nan_obs} {sally} {alices}; expected message)
CASES = {
    "grid-unknown-parameter": ("limits {ev} -m rate --grid cx=0", r"unknown parameter 'cx'"),
    "grid-empty-range": ("limits {ev} -m rate --grid ca=1:-1", r"empty range"),
    "grid-one-point": ("limits {ev} -m rate --grid ca=-1:1:1", r"number of points >= 2"),
    "grid-fractional-points": ("limits {ev} -m rate --grid ca=-1:1:2.5", r"integer number of points"),
    "grid-not-numbers": ("limits {ev} -m rate --grid ca=a:b", r"not numbers"),
    "grid-nan": ("limits {ev} -m rate --grid ca=nan", r"finite"),
    "grid-twice": ("limits {ev} -m rate --grid ca=0 --grid ca=1", r"given twice"),
    "grid-no-equals": ("limits {ev} -m rate --grid ca", r"expected NAME=LO:HI"),
    "limits-lumi-zero": ("limits {ev} -m rate -L 0", r"luminosity-ifb must be positive"),
    "fisher-lumi-negative": ("fisher {ev} -L -3", r"luminosity-ifb must be positive"),
    "fisher-lumi-nan": ("fisher {ev} -L nan", r"luminosity-ifb must be positive"),
    "fisher-sally-given-ratio-model": ("fisher {ev} -m sally --model {alices}", r"ratio estimator.*needs a score"),
    "fisher-ml-given-score-model": ("fisher {ev} -m ml --model {sally}", r"score estimator.*needs a ratio"),
    "limits-sally-given-ratio-model": ("limits {ev} -m sally --model {alices}", r"needs a score estimator"),
    "limits-ml-given-score-model": ("limits {ev} -m ml --model {sally}", r"needs a ratio or likelihood"),
    "fisher-model-with-truth": ("fisher {ev} -m truth --model {sally}", r"--model is used by --method sally or ml"),
    "fisher-no-test-partition": ("fisher {one}", r"one.h5 has no usable test partition"),
    "limits-no-test-partition": ("limits {one} -m rate", r"one.h5 has no usable test partition"),
    "fisher-test-split-zero": ("fisher {ev} --test-split 0", r"no test partition.*--all-events"),
    "fisher-nan-weight": ("fisher {nan_weight}", r"nan_weight.h5: event 1913 has a non-finite weight"),
    "limits-nan-weight": (
        "limits {nan_weight} -m rate --resolution 3",
        r"nan_weight.h5: event 1913 has a non-finite weight",
    ),
    "fisher-nan-weight-all-events": (
        "fisher {nan_weight} --all-events",
        r"nan_weight.h5: event 1913 has a non-finite weight",
    ),
    "fisher-nan-observable-histogram": (
        "fisher {nan_obs} -m histogram --observable u",
        r"nan_obs.h5: event 1700 has a non-finite observable",
    ),
    "limits-nan-observable-histogram": (
        "limits {nan_obs} -m histogram --observable u --resolution 3",
        r"nan_obs.h5: event 1700 has a non-finite observable",
    ),
    "fisher-nan-observable-sally": (
        "fisher {nan_obs} -m sally --model {sally}",
        r"nan_obs.h5: event 1700 has a non-finite observable",
    ),
    "fisher-bins-zero": ("fisher {ev} -m histogram --observable u --bins 0", r"--bins must be positive"),
    "limits-resolution-one": ("limits {ev} -m rate --resolution 1", r"resolution"),
    "fisher-chunk-size-zero": ("fisher {ev} --chunk-size 0", r"chunk-size"),
    "fisher-test-split-one": ("fisher {ev} --test-split 1", r"test-split"),
    "fisher-theta-wrong-length": ("fisher {ev} --theta 0.1", r"theta .0\.1. needs 2 values \(ca, cb\), got 1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_infer_cli_misuse(case, assets, tmp_path, run_cli):
    args, match = CASES[case]
    work = tmp_path / "work"
    shutil.copytree(assets, work)
    names = {
        k: work / v
        for k, v in (
            ("ev", "events.h5"),
            ("one", "one.h5"),
            ("nan_weight", "nan_weight.h5"),
            ("nan_obs", "nan_obs.h5"),
            ("sally", "sally"),
            ("alices", "alices"),
        )
    }
    before = snapshot(work)
    out = work / "result.json"
    argv = ["-q"] + [a.format(**names) for a in args.split()] + ["-o", str(out)]
    res = run_cli(*argv)
    assert_clean_error(res, match)
    assert not out.exists()
    assert_no_leftovers(work, before)
