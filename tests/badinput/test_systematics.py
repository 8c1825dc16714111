"""``lhcgold limits`` with an ensemble (band), nuisances and coverage: bad input stops cleanly, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot
from .test_cards_models_cli import _copy_model, _tamper_weights, events, events_master, models, setup  # noqa: F401


def _break_member(model: Path) -> None:
    _tamper_weights(model / "member_1")


def _no_members(model: Path) -> None:
    import json

    man = json.loads((model / "manifest.json").read_text())
    man["members"] = []
    (model / "manifest.json").write_text(json.dumps(man))


CASES = {
    "ensemble_of_the_wrong_family": (["-m", "ml"], None, r"ensemble of score estimators; --method ml needs ratio"),
    "tampered_member": (["-m", "sally"], _break_member, r"member_1.*weights\.pt: content does not match the sha256"),
    "empty_ensemble": (["-m", "sally"], _no_members, r"needs a non-empty 'members' list"),
    "norm_uncertainty_zero": (["-m", "sally", "--norm-uncertainty", "0"], None, r"must be a positive number, got 0"),
    "nuisances_not_stored": (["-m", "sally", "--profile-systematics"], None, r"stores no nuisance parameters"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_ensemble_limits(name, tmp_path, models, events, run_cli):  # noqa: F811
    args, edit, match = CASES[name]
    model = _copy_model(models, "ensemble", tmp_path)
    if edit is not None:
        edit(model)
    before = snapshot(tmp_path)
    res = run_cli("limits", events, "-o", tmp_path / "lim.json", *args, "--model", model, "--resolution", "5")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)
    assert not (tmp_path / "lim.json").exists()
