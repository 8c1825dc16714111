"""Bad requests for HepMC with the shower history: one clean error, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

LHE = Path(__file__).resolve().parents[1] / "data" / "lhe" / "pylhe-testfile-madgraph-2.0.0-wbj.lhe.gz"


def test_history_needs_a_hepmc_format(run_cli, tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    before = snapshot(tmp_path)
    result = run_cli("shower", LHE, "-o", tmp_path / "x.h5", "--hepmc-history", "--n-events", "2")
    assert_clean_error(result, r"--hepmc-history needs --format hepmc3 or hepmc2", code=2)
    assert_no_leftovers(tmp_path, before)


def test_history_needs_the_event_record(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    pytest.importorskip("pyhepmc")
    from lhcgold.exceptions import ConfigError
    from lhcgold.shower import iter_shower
    from lhcgold.shower.hepmc import write_hepmc

    with pytest.raises(ConfigError, match=r"needs the event record: iter_shower\(\.\.\., keep_record=True\)"):
        write_hepmc(iter_shower(LHE, n_events=2, mpi=False), tmp_path / "x.hepmc", beam_energy_gev=3500, history=True)
    assert list(tmp_path.iterdir()) == []
