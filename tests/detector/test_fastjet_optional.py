"""fastjet (GPL-2.0-or-later) is the optional extra ``detector``: without it the fast detector raises
MissingDependencyError naming the extra (the CLI case is in tests/badinput/test_optional_deps.py).
fastjet's absence is simulated by blocking its import."""

from __future__ import annotations

import sys

import awkward as ak
import numpy as np
import pytest

from lhcgold.detector import simulate
from lhcgold.exceptions import MissingDependencyError
from lhcgold.shower import ShowerChunk


@pytest.fixture
def no_fastjet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastjet", None)  # `import fastjet` now raises ImportError


def _one_electron_chunk(n: int = 3) -> ShowerChunk:
    pt, eta, phi, m = 50.0, 0.3, 0.1, 0.000511
    rec = {
        "px": np.full(n, pt * np.cos(phi)),
        "py": np.full(n, pt * np.sin(phi)),
        "pz": np.full(n, pt * np.sinh(eta)),
        "E": np.full(n, np.sqrt((pt * np.cosh(eta)) ** 2 + m**2)),
        "pid": np.full(n, 11),
        "charge": np.full(n, -1.0),
    }
    parts = ak.unflatten(ak.zip(rec, with_name="Momentum4D"), np.ones(n, dtype=np.int64))
    none = {k: v[:0] for k, v in rec.items()}
    empty = ak.unflatten(ak.zip(none, with_name="Momentum4D"), np.zeros(n, dtype=np.int64))
    return ShowerChunk(
        particles=parts, bhadrons=empty, chadrons=empty, weights=np.ones((n, 1)), weight_names=("nominal",)
    )


def test_simulate_without_fastjet_names_the_detector_extra(no_fastjet: None) -> None:
    with pytest.raises(MissingDependencyError, match=r"fastjet.*lhcgold\[detector\]"):
        simulate(_one_electron_chunk(), preset="atlas", rng=0)


def test_simulate_with_fastjet_still_works() -> None:
    pytest.importorskip("fastjet")
    reco = simulate(_one_electron_chunk(), preset="atlas", rng=0)
    assert len(reco.electrons) == 3
