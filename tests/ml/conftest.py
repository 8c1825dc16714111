"""Toy training sets (exact Gaussian-mixture toy) and test points with exact log r and score."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from lhcgold.augment import (
    ArrayEvents,
    BenchmarkTheta,
    Flat,
    Prior,
    sample_density,
    sample_local,
    sample_more_ratios,
    sample_ratio,
)  # noqa: E402
from lhcgold.toys import GaussianMixtureToy  # noqa: E402

N_TRAIN = 20_000


@pytest.fixture(scope="session")
def toy():
    return GaussianMixtureToy()


@pytest.fixture(scope="session")
def toy_array_events(toy):
    x, m, _ = toy.weighted_events(40_000, rng=1)
    return ArrayEvents(
        x,
        m,
        toy.components,
        ["a", "b"],
        ranges=np.array([[-1.0, 1.0], [-1.0, 1.0]]),
        benchmark_names=["sm"],
        benchmark_values=np.zeros((1, 2)),
    )


@pytest.fixture(scope="session")
def ratio_set(toy_array_events):
    return sample_ratio(
        toy_array_events,
        theta0=Prior(Flat(-1, 1)),
        theta1=BenchmarkTheta("sm"),
        n_samples=N_TRAIN,
        rng=2,
        partition="all",
    )


@pytest.fixture(scope="session")
def more_ratios_set(toy_array_events):
    return sample_more_ratios(
        toy_array_events,
        theta0=Prior(Flat(-1, 1)),
        theta1=Prior(Flat(-1, 1)),
        n_samples=N_TRAIN,
        rng=2,
        partition="all",
    )


@pytest.fixture(scope="session")
def local_set(toy_array_events):
    return sample_local(toy_array_events, theta=BenchmarkTheta("sm"), n_samples=N_TRAIN, rng=3, partition="all")


@pytest.fixture(scope="session")
def density_set(toy_array_events):
    return sample_density(toy_array_events, theta=Prior(Flat(-1, 1)), n_samples=N_TRAIN, rng=3, partition="all")


@pytest.fixture(scope="session")
def test_points(toy):
    """x drawn at random θ0, with θ0, θ1 (N, 2) per event."""
    g = np.random.default_rng(9)
    th0, th1 = g.uniform(-1, 1, (2000, 2)), g.uniform(-1, 1, (2000, 2))
    x = toy.simulate(th0, rng=6)[0]
    return x, th0, th1
