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
TINY = dict(
    n_events=800,
    n_parton=3000,
    n_train=1500,
    n_theta0=20,
    epochs=1,
    grid_resolution=5,
    scan_resolution=9,
    hidden=(16,),
    score_bins=4,
)


@pytest.mark.slow
def test_main_job_at_toy_size(tmp_path):
    from lhcgold.config import load_card

    cfg = RunConfig.from_card(load_card(CARD), **TINY)
    out = tmp_path / "wh"
    result = run(CARD, out, config=cfg)
    for rel in (
        "setup.h5",
        "parton/events.h5",
        "gen/events.lhe.gz",
        "events.h5",
        "models/sally/manifest.json",
        "models/alices/manifest.json",
        "models/sally_parton/manifest.json",
        "fisher.json",
        "plots/contours.png",
        "plots/scans.png",
        "plots/fisher.png",
        "report.md",
    ):
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
    # the histogram baseline (infer.choose_histogram): ranked by det of the information; a CP-even pair
    # has no a3 information at the SM, so its estimate stays within the Monte-Carlo noise floor
    choice = json.loads((out / "histogram_choice.json").read_text())
    assert summary["histogram"]["observables"] == choice["observables"] == choice["candidates"][0]["observables"]
    dets = [c["det"] for c in choice["candidates"]]
    assert len(dets) == 21 and dets == sorted(dets, reverse=True)
    for c in choice["candidates"]:
        np.testing.assert_allclose(np.linalg.det(c["information"]), c["det"], rtol=1e-9)
        if "phi_star" not in c["observables"]:
            assert "a3" in c["blind_to"], c  # (at toy size the floor may hide gc as well)

    # self-checks: every limit result carries its closure check, the report shows them and the calibration
    for label in ("ml", "sally", "histogram", "rate", "truth_parton", "sally_parton"):
        for job in ("2d", "gc", "a3"):
            closure = LimitResult.load(out / "limits" / f"{label}_{job}.json").details["closure"]
            assert closure["theta_true"] == [0.0, 0.0][: len(closure["theta_true"])]
    diag = json.loads((out / "diagnostics.json").read_text())
    assert set(diag["closure"]) == set(summary["limits"])
    assert diag["closure"]["rate"]["2d"]["passed"]  # rate-only Asimov data: the SM exactly
    assert len(diag["ratio"]["calibration"]) == 4 and diag["ratio"]["normalized"]
    for label in ("truth (parton)", "sally", "rate"):
        err = np.asarray(diag["fisher_mc"][label]["std_error"])
        assert err.shape == (2, 2) and np.all(err >= 0) and err[0, 0] > 0
    assert set(diag["area_mc"]) == set(summary["limits"])
    assert "## Self-checks" in report and "closure at the SM" in report and "plots/calibration.png" in report
    assert (out / "plots" / "calibration.png").is_file()
    for line in result.warnings:  # every failed check is written in the report
        assert line in report
    # ALICES learns θ0 where the limits are computed (the detector-level grid), not over the whole range
    from lhcgold.io.samples import read_training_set

    theta0 = read_training_set(out / "samples" / "alices.h5").theta0
    for k, (lo, hi) in enumerate(summary["grids"]["detector"]):
        assert lo <= theta0[:, k].min() and theta0[:, k].max() <= hi
    assert json.loads((out / "run.json").read_text())["card_hash"] == summary["card_hash"]

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


def test_resume_checks_card_and_settings_before_any_stage(tmp_path):
    from lhcgold.config import load_card
    from lhcgold.run import prepare_output

    card = load_card(CARD)
    cfg = RunConfig.from_card(card, **TINY)
    out = tmp_path / "wh"
    prepare_output(out, card, cfg, resume=False)
    (out / "events.h5").write_bytes(b"x")
    other = tmp_path / "other.yaml"
    other.write_text(CARD.read_text().replace("luminosity_ifb: 300", "luminosity_ifb: 100"))
    with pytest.raises(ConfigError, match="different card"):
        run(other, out, config=cfg, resume=True)
    with pytest.raises(ConfigError, match=r"settings differ .*epochs: 1 -> 2"):
        run(CARD, out, config=RunConfig.from_card(card, **{**TINY, "epochs": 2}), resume=True)
    (out / "run.json").unlink()
    with pytest.raises(ConfigError, match="not an lhcgold run directory"):
        run(CARD, out, config=cfg, resume=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["events.h5", "gen", "limits", "models", "parton", "plots", "samples"]
    )


def test_run_config_rejects_nonsense():
    from lhcgold.config import load_card

    with pytest.raises(ConfigError, match="luminosity_ifb"):
        RunConfig.from_card(load_card(CARD), luminosity_ifb=float("nan"))


DY_CARD = Path(__file__).parents[1] / "cards" / "dy.yaml"
DY_TOY_SECTIONS = """
run: {n_events: 1000, n_parton: 2000, seed: 3}
augment: {n_train: 1000, n_theta0: 10}
train: {epochs: 1, hidden: [16]}
infer: {grid_resolution: 5, scan_resolution: 9, score_bins: 4}
"""


def test_card_sections_set_the_main_job_and_the_cli_overrides_them(tmp_path):
    from lhcgold.config import load_card
    from lhcgold.processes import get_process_class

    card_path = tmp_path / "dy.yaml"
    card_path.write_text(
        DY_CARD.read_text() + DY_TOY_SECTIONS.replace("score_bins: 4", "score_bins: 4, histogram_bins: 5")
    )
    card = load_card(card_path)
    cfg = RunConfig.from_card(card)
    assert (cfg.n_events, cfg.n_parton, cfg.seed) == (1000, 2000, 3)
    assert (cfg.n_train, cfg.n_theta0, cfg.epochs, cfg.hidden) == (1000, 10, 1, (16,))
    assert (cfg.grid_resolution, cfg.scan_resolution, cfg.score_bins, cfg.histogram_bins) == (5, 9, 4, 5)
    # what the card leaves out: the process's histogram observables, the trainer's defaults
    assert cfg.histogram_observables == get_process_class("drell_yan").defaults.histogram_observables
    assert "m_ll" in cfg.histogram_observables and "pt_h" not in cfg.histogram_observables
    assert (cfg.batch_size, cfg.activation, cfg.test_split) == (128, "tanh", 0.2)
    over = RunConfig.from_card(card, epochs=4, luminosity_ifb=30.0, n_train=500, seed=None)
    assert (over.epochs, over.luminosity_ifb, over.n_train, over.seed) == (4, 30.0, 500, 3)


def test_train_section_activations_are_the_networks():
    from lhcgold.ml.nets import ACTIVATIONS
    from lhcgold.ml.settings import TRAIN_SCHEMA

    assert set(TRAIN_SCHEMA["properties"]["activation"]["enum"]) == set(ACTIVATIONS)


@pytest.mark.slow
def test_drell_yan_main_job_at_toy_size_and_run_is_its_stage_verbs(tmp_path):
    """`lhcgold run cards/dy.yaml` (process defaults for observables, cuts, shower, detector, histogram and
    plots; no detector-level neutrino) runs end to end, every method closes at the SM, and `run` is exactly
    the sequence of its stage verbs: called by hand they write byte-identical limits and Fisher information."""
    from lhcgold import run as job
    from lhcgold.config import load_card
    from lhcgold.io.events import EventFile

    card_path = tmp_path / "dy.yaml"
    card_path.write_text(DY_CARD.read_text() + DY_TOY_SECTIONS)
    assert main(["run", str(card_path), "-o", str(tmp_path / "cli")]) == 0
    out = tmp_path / "cli"
    # the events pass the process's default cuts (two opposite-sign leptons, m_ll > 400 GeV)
    events = EventFile(out / "events.h5")
    assert events.n_events > 0.4 * 1000 and "m_ll" in events.observables and "pt_h" not in events.observables
    diag = json.loads((out / "diagnostics.json").read_text())
    for label, jobs in diag["closure"].items():
        for name, check in jobs.items():
            assert check is None or check["passed"], (label, name, check)
    report = (out / "report.md").read_text()
    assert "C_LL" in report and "neutrino" not in report and "which beam carried the quark" in report
    assert (out / "plots" / "distributions.png").is_file()

    card = load_card(card_path)
    ctx = job.RunContext.create(card, RunConfig.from_card(card), tmp_path / "verbs")
    job.prepare_output(ctx.out, card, ctx.cfg, resume=False)
    s = job.setup(ctx)
    job.reconstruct(ctx, s, job.generate(ctx, s))
    job.train(ctx, ("sally", "sally_parton"))
    fi = job.fisher(ctx)
    gr = job.grids(ctx, fi)
    job.train(ctx, ("alices",), gr)
    li = job.limits(ctx, fi, gr)
    names = sorted(p.name for p in (out / "limits").glob("*.json"))
    assert len(names) == 18
    for rel in [f"limits/{n}" for n in names] + ["fisher.json", "histogram_choice.json"]:
        assert (out / rel).read_bytes() == (ctx.out / rel).read_bytes(), rel
    assert li.limits == json.loads((out / "summary.json").read_text())["limits"]
