"""Fixtures for the plot tests: a small 2-parameter events file with known component weights."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.config import Benchmark, Parameter, Setup
from lhcgold.io.events import EventWriter
from lhcgold.physics.morphing import Morpher, component_factors


@pytest.fixture(autouse=True)
def _agg():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def events_2p(tmp_path):
    rng = np.random.default_rng(11)
    n = 3000
    x = np.stack([rng.exponential(1.0, n), rng.uniform(-1, 1, n)], axis=1)
    a = np.stack([0.5 * x[:, 0], 0.4 * x[:, 1]], axis=1)
    g = np.full(n, 1.0 / n)
    comps = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
    m = (
        np.stack(
            [np.ones(n), 2 * a[:, 1], a[:, 1] ** 2 + 0.01, 2 * a[:, 0], 2 * a[:, 0] * a[:, 1], a[:, 0] ** 2 + 0.01],
            axis=1,
        )
        * g[:, None]
    )
    basis = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float)
    names = ("ca", "cb")
    setup = Setup(
        parameters=tuple(Parameter(name=nm, range=(-1.0, 1.0)) for nm in names),
        benchmarks=tuple(
            Benchmark(name=f"b{j}", values=dict(zip(names, map(float, th)))) for j, th in enumerate(basis)
        ),
        components=comps,
        morphing_matrix=Morpher(comps, basis).matrix,
    )
    w = m @ component_factors(basis, comps).T
    path = tmp_path / "events.h5"
    with EventWriter(path, setup, ["u", "v"], store_components=True, negative_weights="keep") as wr:
        wr.append(x, w, component_weights=m)
    return path
