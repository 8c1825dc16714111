"""Bad Z H cards on the CLI: one clear error naming the key, exit code 1, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("mll_gev: [75, 105]", "mll_gev: [105, 75]", r"process\.mll_gev.*no phase space|no phase space.*mll_gev"),
        ("mll_gev: [75, 105]", "mll_gev: [75, 105]\n  max_sqrt_shat_gev: 150", r"Z H threshold .* above"),
        ("contact: left", "contact: right", r"contact"),
        ("z_mode: offshell", "w_mode: offshell", r"unknown key 'w_mode'"),
        ("z_mode: offshell", "z_mode: narrow", r"z_mode"),
        (
            "  - {name: a3, max_power: 2, range: [-0.15, 0.15]}",
            "  - {name: a3, max_power: 2, range: [-0.15, 0.15]}\n  - {name: C_LL, max_power: 2, range: [-1, 1]}",
            r"unknown zh parameter 'C_LL'",
        ),
    ],
)
def test_bad_zh_card(tmp_path: Path, run_cli, old: str, new: str, match: str) -> None:  # noqa: ANN001
    text = (ROOT / "cards" / "zh.yaml").read_text()
    assert old in text
    card = tmp_path / "zh.yaml"
    card.write_text(text.replace(old, new, 1))
    before = snapshot(tmp_path)
    result = run_cli("generate", card, "-o", tmp_path / "out", "-n", "200")
    assert_clean_error(result, match, code=1)
    assert not (tmp_path / "out").exists()
    assert_no_leftovers(tmp_path, before)
