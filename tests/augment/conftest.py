"""Toy events files (exact Gaussian-mixture toy) shared by the augment tests."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.toys import GaussianMixtureToy, write_toy_events

N_EVENTS = 20_000


@pytest.fixture(scope="session")
def toy() -> GaussianMixtureToy:
    return GaussianMixtureToy()


@pytest.fixture(scope="session")
def toy_events(tmp_path_factory, toy):
    """(path, latent classes k per event in file order)."""
    path = tmp_path_factory.mktemp("toy") / "events.h5"
    k = write_toy_events(str(path), toy, N_EVENTS, rng=11)
    return path, k


@pytest.fixture(scope="session")
def toy_events_benchmarks_only(tmp_path_factory, toy):
    """The same without stored component weights (madminer-like: morphed from benchmarks)."""
    path = tmp_path_factory.mktemp("toy") / "events_bw.h5"
    k = write_toy_events(str(path), toy, 5_000, rng=12, store_components=False)
    return path, k


def _match_rows(path, x: np.ndarray) -> np.ndarray:
    from lhcgold.io.events import EventFile

    obs = EventFile(path).read().observations
    lookup = {row.tobytes(): i for i, row in enumerate(obs)}
    return np.array([lookup[np.ascontiguousarray(r).tobytes()] for r in x])


@pytest.fixture(scope="session")
def match_rows():
    """File row index of each sampled x (exact float match)."""
    return _match_rows
