"""The Delphes backend: Pythia -> HepMC -> Delphes (through the runtime seam) -> the ROOT reader.

Without Delphes here, a stand-in ``DelphesHepMC3`` checks the HepMC file it is given (events and
named weights, read by pyhepmc) and writes the reference Delphes file of the same W gamma sample
(real Delphes 3.5 output); the real program is tested when ``DELPHES_HOME`` is set."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("pyhepmc")

from lhcgold.detector.delphes import delphes_from_lhe, find_delphes_card, run_delphes  # noqa: E402
from lhcgold.exceptions import ConfigError, EventFileError, ExternalToolError  # noqa: E402
from lhcgold.io.delphes import read_delphes  # noqa: E402

DATA = Path(__file__).parents[1] / "data"
LHE = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
ROOT_REF = DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"

STAND_IN = """#!{python}
import shutil, sys
import pyhepmc
card, out, hepmc = sys.argv[1:]
assert open(card).read().startswith("# stand-in card")
with pyhepmc.open(hepmc) as f:
    events = list(f)
assert len(events) == {n}, len(events)
names = list(events[0].run_info.weight_names)
assert names[:3] == ["nominal", "sm", "cwww_m10"], names
assert all(len(e.weights) == 10 for e in events)
print("stand-in Delphes: read", len(events), "events")
shutil.copyfile({ref!r}, out)
"""


@pytest.fixture
def delphes_home(tmp_path: Path) -> Path:
    home = tmp_path / "Delphes"
    (home / "cards").mkdir(parents=True)
    (home / "cards" / "delphes_card_CMS.tcl").write_text("# stand-in card\n")
    exe = home / "DelphesHepMC3"
    exe.write_text(STAND_IN.format(python=sys.executable, n=25, ref=str(ROOT_REF)))
    exe.chmod(0o755)
    return home


def test_chain_through_the_runtime(tmp_path: Path, delphes_home: Path) -> None:
    out = tmp_path / "out" / "wa.delphes.root"
    res = delphes_from_lhe(
        LHE, out, card="delphes_card_CMS.tcl", delphes_home=delphes_home, seed=3, n_events=25, mpi=False
    )
    assert res.path == out and res.n_events == 200
    assert "read 25 events" in res.log_path.read_text()
    ev = read_delphes(out, lhe=LHE)
    assert ev.weight_names[:2] == ("nominal", "sm") and ev.weights.shape == (200, 10)
    assert sorted(p.name for p in out.parent.iterdir()) == ["wa.delphes.root", "wa.delphes.root.log"]
    with pytest.raises(EventFileError, match="refusing to overwrite"):
        delphes_from_lhe(LHE, out, card="delphes_card_CMS.tcl", delphes_home=delphes_home, n_events=25)


def test_missing_delphes_and_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delphes_home: Path) -> None:
    monkeypatch.delenv("DELPHES_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ExternalToolError, match="Delphes not found.*set DELPHES_HOME"):
        delphes_from_lhe(LHE, tmp_path / "x.root", card=delphes_home / "cards" / "delphes_card_CMS.tcl")
    with pytest.raises(ConfigError, match="Delphes card 'nope.tcl' not found"):
        find_delphes_card("nope.tcl", delphes_home=delphes_home)
    assert not (tmp_path / "x.root").exists()


def test_failing_delphes(tmp_path: Path, delphes_home: Path) -> None:
    (delphes_home / "DelphesHepMC3").write_text(
        f"#!{sys.executable}\nimport sys\nprint('** ERROR: bad card')\nsys.exit(1)\n"
    )
    hepmc = tmp_path / "e.hepmc"
    hepmc.write_text("HepMC::Version 3.02.06\n")
    with pytest.raises(ExternalToolError, match="bad card") as info:
        run_delphes(hepmc, tmp_path / "o.root", card="delphes_card_CMS.tcl", delphes_home=delphes_home)
    assert info.value.returncode == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Delphes", "e.hepmc"]


@pytest.mark.external
def test_real_delphes(tmp_path: Path) -> None:
    home = os.environ.get("DELPHES_HOME")
    if not home or not (Path(home) / "DelphesHepMC3").is_file():
        pytest.skip("DELPHES_HOME is not set to a Delphes 3.5 installation")
    res = delphes_from_lhe(
        LHE, tmp_path / "wa.root", card="delphes_card_CMS.tcl", delphes_home=home, seed=3, n_events=50
    )
    ev = read_delphes(res.path, lhe=LHE)
    assert len(ev) == 50 and ev.weights.shape == (50, 10)
