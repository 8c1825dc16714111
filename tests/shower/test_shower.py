"""Pythia 8 shower: weights carried through (against the LHE text), switches, seeds,
momentum conservation, files and parallel processes."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

pytest.importorskip("pythia8mc")

from lhcgold.io.lhe import read_lhe  # noqa: E402
from lhcgold.shower import iter_shower, iter_showered, shower_files, shower_lhe  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"
WA = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
DY = DATA / "mg5" / "dy_sm" / "unweighted_events.lhe.gz"


@pytest.fixture(scope="module")
def showered():  # type: ignore[no-untyped-def]
    return shower_lhe(WA, n_events=60, seed=11, batch_size=25)


def test_every_named_weight_is_carried_through(showered) -> None:  # type: ignore[no-untyped-def]
    lhe = read_lhe(WA, n_events=60)
    assert showered.weight_names == ("nominal", *lhe.weight_names)
    assert len(showered) == 60
    # Pythia keeps the LHE event order; weights normalised like the LHE reader (event_norm = average)
    np.testing.assert_allclose(showered.weights[:, 1:], lhe.weights, rtol=1e-12)
    np.testing.assert_allclose(showered.weights[:, 0], lhe.nominal, rtol=1e-12)


def test_final_state_conserves_momentum_and_is_hadronic(showered) -> None:  # type: ignore[no-untyped-def]
    p = showered.particles
    for c, target in (("px", 0.0), ("py", 0.0), ("pz", 0.0), ("E", 13000.0)):
        np.testing.assert_allclose(ak.to_numpy(ak.sum(p[c], axis=1)), target, atol=1e-3 * 13000)
    apid = np.abs(ak.to_numpy(ak.flatten(p.pid)))
    assert not np.isin(apid, [1, 2, 3, 4, 5, 21]).any()  # hadronised: no free partons
    assert np.isin(apid, [211, 321, 2212]).any()
    # the hard W gamma final state survives: a positron and a neutrino in every event
    assert ak.all(ak.any(p.pid == -11, axis=1)) and ak.all(ak.any(p.pid == 12, axis=1))
    q = ak.to_numpy(ak.flatten(p.charge))
    np.testing.assert_array_equal(q[ak.to_numpy(ak.flatten(p.pid)) == -11], 1.0)


def test_switches_change_the_final_state() -> None:
    no_had = shower_lhe(DY, n_events=30, seed=1, hadronisation=False)
    apid = np.abs(ak.to_numpy(ak.flatten(no_had.particles.pid)))
    assert np.isin(apid, [1, 2, 3, 4, 21]).any()  # partons left
    assert not np.isin(apid, [111, 211, 2212]).any()
    with_mpi = shower_lhe(DY, n_events=30, seed=1, hadronisation=False, mpi=True)
    without = shower_lhe(DY, n_events=30, seed=1, hadronisation=False, mpi=False)
    assert ak.mean(ak.num(with_mpi.particles)) > 1.5 * ak.mean(ak.num(without.particles))


def test_seeds() -> None:
    a = shower_lhe(DY, n_events=20, seed=5)
    b = shower_lhe(DY, n_events=20, seed=5)
    c = shower_lhe(DY, n_events=20, seed=6)
    assert ak.all(ak.flatten(a.particles.px) == ak.flatten(b.particles.px))
    assert ak.to_list(ak.num(a.particles)) != ak.to_list(ak.num(c.particles))


def test_files_and_parallel_processes(tmp_path: Path) -> None:
    outs = [tmp_path / "a.h5", tmp_path / "b.h5"]
    res = shower_files([DY, WA], outs, n_workers=2, n_events=15, seed=3, batch_size=10)
    assert [n for _, n in res] == [15, 15]
    serial = shower_files(
        [DY, WA], [tmp_path / "c.h5", tmp_path / "d.h5"], n_workers=1, n_events=15, seed=3, batch_size=10
    )
    assert [n for _, n in serial] == [15, 15]
    for x, y in ((outs[1], tmp_path / "d.h5"),):
        cx = list(iter_showered(x))
        cy = list(iter_showered(y))
        assert [len(c) for c in cx] == [10, 5]
        np.testing.assert_array_equal(np.concatenate([c.weights for c in cx]), np.concatenate([c.weights for c in cy]))
        # float32 storage of the same events
        np.testing.assert_array_equal(
            ak.to_numpy(ak.flatten(cx[0].particles.px)), ak.to_numpy(ak.flatten(cy[0].particles.px))
        )
    direct = next(iter_shower(WA, n_events=10, seed=1, batch_size=10))
    assert direct.weight_names == next(iter_showered(outs[1])).weight_names
    with pytest.raises(Exception, match="exists"):
        shower_files([DY], [outs[0]], n_events=2)


def test_cli_shower(tmp_path: Path) -> None:
    from lhcgold.cli import main

    out = tmp_path / "dy.h5"
    assert main(["-q", "shower", str(DY), "-o", str(out), "--n-events", "5", "--seed", "2", "--no-mpi"]) == 0
    chunks = list(iter_showered(out))
    assert sum(len(c) for c in chunks) == 5
    assert main(["-q", "shower", str(DY), "-o", str(out), "--n-events", "5"]) == 1  # exists


def test_a_showered_subset_keeps_the_cross_section(showered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """60 of 3000 MG5 events showered: their weights still sum to MG5's cross section (the banner's
    <init> 0.04066757 pb), not to 60/3000 of it; the showered file read back with a smaller
    n_events keeps it too."""
    from lhcgold.reconstruct import _showered_subset

    assert showered.weights[:, 0].sum() == pytest.approx(0.04066757, rel=1e-9)
    ((out, n),) = shower_files([WA], [tmp_path / "wa.h5"], n_events=60, seed=11, batch_size=25)
    assert n == 60
    sub = list(_showered_subset(out, 20))
    assert sum(len(c) for c in sub) == 20
    assert sum(c.weights[:, 0].sum() for c in sub) == pytest.approx(0.04066757, rel=1e-9)
