"""Bad param_card entries for ``lhcgold generate --cards-only`` (MG5 backend, SMEFTsim card): one clean
error that names the parameter or entry and the param_card, and no card written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

CARDS = Path(__file__).resolve().parents[1] / "data" / "mg5_cards"
TEXT = (CARDS / "dy_smeftsim.yaml").read_text()

CASES = {
    "parameter id not in the param_card": (
        "lha_block: SMEFT, lha_id: 36,",
        "lha_block: SMEFT, lha_id: 136,",
        r"parameter 'clq3' sets SMEFT 136, which the param_card .*smeftsim_u35_massless_standin.dat.* does not have",
    ),
    "parameter block not in the param_card": (
        "lha_block: SMEFT, lha_id: 25,",
        "lha_block: SMEFTcpv, lha_id: 25,",
        r"parameter 'cHq3' sets SMEFTCPV 25, which the param_card .* does not have \(blocks: .*SMEFT",
    ),
    "param_card_set block not in the param_card": (
        "SMEFT: 0 ",
        "SMEFTcpv: 0 ",
        r"generator.param_card_set.smeftcpv: the param_card .* has no block SMEFTCPV",
    ),
    "param_card_set entry not in the param_card": (
        "{1: 1000.0}",
        "{1: 1000.0, 7: 2.0}",
        r"has no entry SMEFTCUTOFF 7",
    ),
    "param_card_set entry that is a parameter": (
        "SMEFT: 0 ",
        "SMEFT: {35: 0.1} ",
        r"SMEFT 35 is parameter 'clq1'",
    ),
    "param_card_set value not a number": ("SMEFT: 0 ", "SMEFT: zero ", r"generator.param_card_set"),
    "param_card_set id not an integer": ("{1: 1000.0}", "{one: 1000.0}", r"ids are integers, got 'one'"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_param_card_entries(case: str, run_cli, tmp_path: Path) -> None:
    old, new, match = CASES[case]
    assert old in TEXT
    shutil.copy(CARDS / "smeftsim_u35_massless_standin.dat", tmp_path)
    card = tmp_path / "card.yaml"
    card.write_text(TEXT.replace(old, new))
    before = snapshot(tmp_path)
    result = run_cli("generate", card, "-o", tmp_path / "out", "--cards-only")
    assert_clean_error(result, match, code=1)
    assert_no_leftovers(tmp_path, before)  # no half-written cards either
    assert not (tmp_path / "out").exists()


def test_missing_entry_leaves_no_half_written_cards(run_cli, tmp_path: Path) -> None:
    """Regression: the proc_card and run_card of the first run used to be written before the
    param_card's missing entry was found."""
    data = CARDS.parent / "mg5"
    text = (CARDS / "wgamma.yaml").read_text().replace("../mg5/", str(data) + "/")
    card = tmp_path / "card.yaml"
    card.write_text(text.replace("lha_block: dim6, lha_id: 2,", "lha_block: dim6, lha_id: 7,"))
    before = snapshot(tmp_path)
    result = run_cli("generate", card, "-o", tmp_path / "out", "--cards-only")
    assert_clean_error(result, r"parameter 'CWL2' sets DIM6 7, which the param_card .*param_card_run01_sm.dat", code=1)
    assert_no_leftovers(tmp_path, before)
