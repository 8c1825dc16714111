"""Fixtures for the inference tests: small events files with exactly known component weights."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import Benchmark, Parameter, Setup
from lhcgold.io.events import EventWriter
from lhcgold.physics.morphing import Morpher, component_factors


def make_setup(
    names: Sequence[str], ranges: Sequence[tuple[float, float]], components: np.ndarray, basis: np.ndarray
) -> Setup:
    params = tuple(
        Parameter(name=n, max_power=int(components[:, i].max()), range=tuple(r))
        for i, (n, r) in enumerate(zip(names, ranges))
    )
    benches = tuple(
        Benchmark(name=f"b{j}", values={n: float(v) for n, v in zip(names, th)}) for j, th in enumerate(basis)
    )
    morpher = Morpher(components, basis)
    return Setup(
        parameters=params,
        benchmarks=benches,
        components=np.asarray(components, dtype=np.int64),
        morphing_matrix=morpher.matrix,
    )


def write_events(
    path: Path,
    setup: Setup,
    observables: Sequence[str],
    x: np.ndarray,
    m: np.ndarray,
    *,
    store_components: bool = True,
    sampling: int | np.ndarray = 0,
) -> Path:
    """Events with component weights m (n, C); benchmark weights follow by morphing."""
    f_b = component_factors(setup.benchmark_values, setup.components)  # (B, C)
    w = m @ f_b.T
    with EventWriter(path, setup, observables, store_components=store_components, negative_weights="keep") as wr:
        wr.append(x, w, sampling_benchmarks=sampling, component_weights=m if store_components else None)
    return path


@pytest.fixture
def quad_events(tmp_path: Path) -> tuple[Path, dict]:
    """1-parameter toy on Gauss-Legendre nodes: dσ/dx = (1 + θx)² on x ∈ [-1, 1] (exact quadrature).

    σ(θ) = 2 + 2θ²/3; component weights m_i = g_i (1, 2x_i, x_i²) with GL weights g_i, so sums
    over events are exact integrals of polynomials and smooth functions are integrated to high
    precision.
    """
    nodes, gw = np.polynomial.legendre.leggauss(400)
    comps = np.array([[0], [1], [2]])
    setup = make_setup(["theta"], [(-1.0, 1.0)], comps, np.array([[0.0], [0.5], [-0.5]]))
    m = gw[:, None] * np.stack([np.ones_like(nodes), 2 * nodes, nodes**2], axis=1)
    path = write_events(tmp_path / "quad.h5", setup, ["x"], nodes[:, None], m)
    return path, {"nodes": nodes, "gw": gw, "setup": setup}


@pytest.fixture
def two_param_events(tmp_path: Path) -> tuple[Path, dict]:
    """2 parameters, quadratic morphing: w_i(θ) = g_i [(1 + a_i·θ)² + (b_i·θ)²] on random events."""
    rng = np.random.default_rng(7)
    n = 4000
    x = np.stack([rng.exponential(1.0, n), rng.uniform(-1, 1, n), rng.normal(size=n)], axis=1)
    a = np.stack([0.3 * x[:, 0], 0.2 * x[:, 1]], axis=1)
    b = np.stack([0.1 * x[:, 2], 0.25 * x[:, 1] * x[:, 0]], axis=1)
    g = rng.uniform(0.5, 1.5, n) / n
    # components in madminer order: (0,0),(0,1),(0,2),(1,0),(1,1),(2,0)
    comps = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
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
    basis = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float)
    setup = make_setup(["ca", "cb"], [(-2.0, 2.0), (-2.0, 2.0)], comps, basis)
    path = write_events(tmp_path / "two.h5", setup, ["u", "v", "w"], x, m)

    def weights(theta: np.ndarray) -> np.ndarray:
        th = np.asarray(theta, dtype=float)
        return g * ((1 + a @ th) ** 2 + (b @ th) ** 2)

    return path, {"x": x, "weights": weights, "setup": setup, "m": m}


def append_madminer_nuisances(path: Path) -> np.ndarray:
    """Append two nuisances in MadMiner's layout to the events file ``path`` (weights of ±1 benchmarks of
    the first benchmark): ``mu_nuisance_param_0``, two-sided with ratios 1.1 up and 0.8 … 0.9 down per
    event, and ``pdf_nuisance_param_0``, one-sided with 1.05. Returns the per-event down ratios."""
    import h5py

    from lhcgold.io.h5common import encode_strings

    with h5py.File(path, "r+") as f:
        w = f["samples/weights"][()]
        down = np.linspace(0.8, 0.9, len(w))
        names = [s.decode() for s in f["benchmarks/names"][()]]
        del f["samples/weights"]
        f["samples/weights"] = np.hstack([w, w[:, :1] * 1.1, w[:, :1] * down[:, None], w[:, :1] * 1.05])
        new = ["mu_nuisance_param_0_benchmark_0", "mu_nuisance_param_0_benchmark_1", "pdf_nuisance_param_0_benchmark_0"]
        for key, val in (
            ("names", encode_strings(names + new)),
            ("is_nuisance", np.array([0] * len(names) + [1, 1, 1])),
            ("values", np.vstack([f["benchmarks/values"][()], np.zeros((3, f["benchmarks/values"].shape[1]))])),
        ):
            del f[f"benchmarks/{key}"]
            f[f"benchmarks/{key}"] = val
        f["nuisance_parameters/names"] = encode_strings(["mu_nuisance_param_0", "pdf_nuisance_param_0"])
        f["nuisance_parameters/systematics"] = encode_strings(["mu", "pdf"])
        f["nuisance_parameters/benchmark_positive"] = encode_strings(new[::2])
        f["nuisance_parameters/benchmark_negative"] = encode_strings([new[1], "None"])
    return down


@pytest.fixture
def helpers():
    """make_setup, write_events and append_madminer_nuisances for tests that build their own files."""
    from types import SimpleNamespace

    return SimpleNamespace(
        make_setup=make_setup, write_events=write_events, append_madminer_nuisances=append_madminer_nuisances
    )
