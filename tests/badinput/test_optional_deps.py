"""Optional dependencies missing: one clean ``Error:`` line naming the extra to install, nothing left behind.

fastjet (GPL-2.0-or-later) is the optional extra ``detector``; its absence is simulated by blocking its import.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

DATA = Path(__file__).resolve().parents[1] / "data"
RUN1 = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"


@pytest.fixture
def no_fastjet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastjet", None)  # `import fastjet` now raises ImportError


def test_cli_reconstruct_without_fastjet_is_one_clean_error(no_fastjet: None, run_cli, tmp_path: Path) -> None:
    card = tmp_path / "wgamma.yaml"
    card.write_text(
        "\n".join(
            [
                "lhcgold_card: 1",
                "name: wgamma",
                "parameters:",
                "  - {name: cwww, max_power: 2, range: [-10, 10]}",
                "benchmarks:",
                "  sm: {cwww: 0}",
                "  cwww_p5: {cwww: 5}",
                "  cwww_p10: {cwww: 10}",
                "observables:",
                '  pt_l: "l[0].pt"',
                "",
            ]
        )
    )
    before = snapshot(tmp_path)
    result = run_cli(
        "reconstruct",
        RUN1,
        "--card",
        card,
        "-o",
        tmp_path / "events.h5",
        "--level",
        "detector",
        "--no-shower",
        "--n-events",
        "50",
    )
    assert_clean_error(result, r"fastjet.*lhcgold\[detector\]", code=1)
    assert_no_leftovers(tmp_path, before)
