"""``shower -j N`` on one LHE file: N processes on contiguous parts, joined into one file with the same
events, sigma and sample identity as one process (checked against the LHE file's own weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold.io.lhe import read_lhe
from lhcgold.shower import (
    concatenate_showered,
    iter_showered,
    shower_files,
    showered_n_events,
    showered_source_identity,
)

LHE = Path(__file__).resolve().parents[1] / "data" / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
N = 60


@pytest.mark.slow
def test_one_file_in_two_processes(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    opts = {"n_events": N, "mpi": False, "hadronisation": False, "seed": 4, "batch_size": 25}
    [(p1, n1)] = shower_files([LHE], [tmp_path / "j1.h5"], n_workers=1, **opts)
    [(p2, n2)] = shower_files([LHE], [tmp_path / "j2.h5"], n_workers=2, **opts)
    assert n1 == n2 == N == showered_n_events(p2)
    assert showered_source_identity(p2) == showered_source_identity(p1) is not None
    one, two = (concatenate_showered(list(iter_showered(p))) for p in (p1, p2))
    assert one.weight_names == two.weight_names
    lhe = read_lhe(LHE, n_events=N, normalise=False)
    for name in ("mix_m5_p10", "cwww_p10"):
        raw = lhe.weights[:, lhe.weight_names.index(name)] / N  # event_norm = average
        k = two.weight_names.index(name)
        # the events come in file order: each LHE event exactly once, with its own weight
        np.testing.assert_allclose(two.weights[:, k], raw, rtol=1e-12)
        np.testing.assert_allclose(two.weights[:, k].sum(), one.weights[:, k].sum(), rtol=1e-12)
    # the second part had its own seed: not the one-process showers
    assert not all(
        np.array_equal(a, b) for a, b in zip(one.particles.px[N // 2 :].tolist(), two.particles.px[N // 2 :].tolist())
    )
    assert {p.name for p in tmp_path.iterdir()} == {"j1.h5", "j2.h5"}  # no temporaries left
