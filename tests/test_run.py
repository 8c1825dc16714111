"""The main job end to end, at toy size: every stage runs, writes its files, and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lhcgold.cli import main
from lhcgold.exceptions import ConfigError
from lhcgold.infer import LimitResult
from lhcgold.run import RunConfig, run

CARD = Path(__file__).parents[1] / "cards" / "wh.yaml"
TINY = dict(n_events=800, n_parton=3000, n_train=1500, n_theta0=20, epochs=1, grid_resolution=5,
            scan_resolution=9, hidden=(16,), score_bins=4)


@pytest.mark.slow
def test_main_job_at_toy_size(tmp_path):
    from lhcgold.config import load_card

    cfg = RunConfig.from_card(load_card(CARD), **TINY)
    out = tmp_path / "wh"
    result = run(CARD, out, config=cfg)
    for rel in ("setup.h5", "parton/events.h5", "gen/events.lhe.gz", "events.h5", "models/sally/manifest.json",
                "models/alices/manifest.json", "models/sally_parton/manifest.json", "fisher.json",
                "plots/contours.png", "plots/scans.png", "plots/fisher.png", "report.md"):
        assert (out / rel).is_file(), rel
    report = result.report.read_text()
    for label in ("| ml |", "| sally |", "| histogram |", "| rate |", "| truth (parton) |", "| sally (parton) |"):
        assert label in report
    # rate-only and histogram Asimov data are the templates themselves: the best fit is the SM exactly
    for label in ("rate", "histogram"):
        res = LimitResult.load(out / "limits" / f"{label}_2d.json")
        assert np.all((res.p_values >= 0) & (res.p_values <= 1))
        np.testing.assert_allclose(res.best_fit, [0.0, 0.0], atol=1e-12)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["timings_s"]) >= {"generate", "shower+detector", "train sally", "limits ml", "total"}

    # an existing output is never reused silently; --resume skips the finished stages
    with pytest.raises(ConfigError, match="not empty"):
        run(CARD, out, config=cfg)
    before = (out / "events.h5").stat().st_mtime_ns
    again = run(CARD, out, config=cfg, resume=True)
    assert (out / "events.h5").stat().st_mtime_ns == before
    assert again.timings_s["total"] < result.timings_s["total"]


def test_run_cli_rejects_bad_run_section(tmp_path, capsys):
    card = tmp_path / "wh.yaml"
    card.write_text(CARD.read_text().replace("scan_resolution: 81", "scan_resolutoin: 81"))
    assert main(["run", str(card), "-o", str(tmp_path / "out")]) == 1
    assert "did you mean 'scan_resolution'" in capsys.readouterr().err
