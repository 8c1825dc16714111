"""Bad input to the workflow jobs (python -m lhcgold.workflow): one clean error, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from lhcgold.workflow import main

CARD = Path(__file__).parents[2] / "cards" / "wh.yaml"


@pytest.mark.parametrize(
    ("args", "match", "code"),
    [
        (["--set", "n_event=800"], "n_event", 1),
        (["--set", "n_events=5"], "n_events", 1),
        (["--set", "noequals"], "is not KEY=VALUE", 2),
        (["--shards", "4", "--set", "n_events=100", "--set", "n_parton=100", "--shards", "200"], "shards", 1),
    ],
)
def test_bad_workflow_config(tmp_path, capsys, args, match, code):
    out = tmp_path / "wf" / "run.json"
    assert main(["config", str(CARD), str(out), *args]) == code
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert not out.exists()


def test_missing_workflow_config_is_a_clean_error(tmp_path, capsys):
    bad = tmp_path / "run.json"
    bad.write_text("{not json")
    assert main(["setup", str(bad)]) == 1
    assert "cannot read the workflow configuration" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
