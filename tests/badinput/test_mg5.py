"""Bad input to ``lhcgold generate`` with the MG5 backend: one clean error, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

DATA = Path(__file__).resolve().parents[1] / "data"
WGAMMA = (DATA / "mg5_cards" / "wgamma.yaml").read_text().replace("../mg5/", str(DATA / "mg5") + "/")

CASES = {
    "parameter without lha entry": (("lha_block: dim6, lha_id: 2, ", ""), (), r"'CWL2' needs lha_block and lha_id"),
    "unknown backend": (("backend: mg5", "backend: mg6"), (), r"unknown generator backend 'mg6'.*mg5"),
    "unknown key": (("  sqrt_s_gev: 13000", "  sqrts_gev: 13000"), (), r"unknown key 'sqrts_gev'.*sqrt_s_gev"),
    "unknown engine": (
        ("  sqrt_s_gev: 13000", "  runtime: {engine: podmn}\n  sqrt_s_gev: 13000"),
        (),
        r"generator.runtime.engine",
    ),
    "container without image": (
        ("  sqrt_s_gev: 13000", "  runtime: {engine: podman}\n  sqrt_s_gev: 13000"),
        (),
        r"needs an image",
    ),
    "unknown run benchmark": (("benchmark: cwww_p10,", "benchmark: cwww_p11,"), (), r"unknown benchmark 'cwww_p11'"),
    "missing param_card": (
        (
            "param_card: " + str(DATA / "mg5") + "/wgamma_ewdim6/Cards/param_card_run01_sm.dat",
            "param_card: /nonexistent/param_card.dat",
        ),
        ("--cards-only",),
        r"cannot read the param_card",
    ),
    "mg5 not configured": (("", ""), (), r"MG5_aMC not configured"),
    "cards-only with the embedded backend": (
        ("", ""),
        ("--cards-only", "--backend", "embedded"),
        r"--cards-only needs the mg5 backend",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_mg5_input(case: str, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (old, new), extra, match = CASES[case]
    monkeypatch.delenv("MG5_HOME", raising=False)
    text = WGAMMA.replace(old, new) if old else WGAMMA
    assert text != WGAMMA or not old
    card = tmp_path / "card.yaml"
    card.write_text(text)
    before = snapshot(tmp_path)
    result = run_cli("generate", card, "-o", tmp_path / "out", *extra)
    assert_clean_error(result, match, code=(1, 2))
    assert_no_leftovers(tmp_path, before)


def test_failing_mg5_leaves_only_its_work_directory(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "MG5"
    (home / "bin").mkdir(parents=True)
    exe = home / "bin" / "mg5_aMC"
    exe.write_text(f"#!{sys.executable}\nimport sys\nprint('InvalidCmd: No model EWdim6 found')\nsys.exit(1)\n")
    exe.chmod(0o755)
    monkeypatch.setenv("MG5_HOME", str(home))
    card = tmp_path / "card.yaml"
    card.write_text(WGAMMA)
    result = run_cli("generate", card, "-o", tmp_path / "out")
    assert_clean_error(result, r"No model EWdim6 found", code=1)
    assert "exit code: 1" in result.err
    assert_no_leftovers(tmp_path)
    # the work directory keeps the cards and the log for the user; no LHE, no manifest
    assert (tmp_path / "out" / "mg5" / "sm" / "mg5_output.log").is_file()
    assert not list((tmp_path / "out").glob("*.lhe.gz")) and not (tmp_path / "out" / "runs.json").exists()


def test_hepmc_without_pyhepmc(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pythia8mc")
    monkeypatch.setitem(sys.modules, "pyhepmc", None)  # `import pyhepmc` now raises ImportError
    lhe = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
    before = snapshot(tmp_path)
    result = run_cli("shower", lhe, "-o", tmp_path / "wa.hepmc", "--format", "hepmc3", "--n-events", "2")
    assert_clean_error(result, r"pyhepmc.*lhcgold\[hepmc\]", code=1)
    assert_no_leftovers(tmp_path, before)
