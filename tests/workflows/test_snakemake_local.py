"""workflows/Snakefile through the local profile at toy size: complete, idempotent, σ of shards averaged."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lhcgold.io.events import EventFile

from .conftest import outputs, snakemake


def _xsec_and_error(path):
    ef = EventFile(path)
    w = np.concatenate([c.weights[:, 0] for c in ef.iter_chunks(100_000)])
    return float(w.sum()), float(np.sqrt(np.sum(w**2)))


@pytest.mark.slow
def test_local_profile_toy_run_is_complete_and_reruns_do_nothing(local_toy):
    out = local_toy
    for rel in (
        "setup.h5",
        "parton/events.h5",
        "events.h5",
        "models/sally/manifest.json",
        "models/alices/manifest.json",
        "models/sally_parton/manifest.json",
        "fisher.json",
        "limits/ml_2d.json",
        "limits/truth_parton_2d.json",
        "plots/contours.png",
        "report.md",
    ):
        assert (out / rel).is_file(), rel
    assert not list(out.glob("shards/*")), "shards are temporary"
    report = (out / "report.md").read_text()
    for label in ("| ml |", "| sally |", "| histogram |", "| rate |", "| truth (parton) |", "| sally (parton) |"):
        assert label in report
    cfg = json.loads((out / "run.json").read_text())
    assert cfg["shards"] == 2 and cfg["run"]["n_events"] == 800 and cfg["run"]["luminosity_ifb"] == 300
    before = outputs(out)
    for _ in range(2):
        proc = snakemake(out.parent, "local")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Nothing to be done" in proc.stdout + proc.stderr
        assert outputs(out) == before


@pytest.mark.slow
def test_sharded_sigma_equals_a_single_run_within_stat_error(local_toy, tmp_path):
    """Two shards of one sample average: the combined σ agrees with one unsharded run (another seed)
    within the statistical error, at parton level and after Pythia 8 + detector + cuts (concatenating the
    shards, as the workflow did before, doubles it)."""
    single_cfg = tmp_path / "single.yaml"
    single_cfg.write_text("shards: 1\nrun: {seed: 7}\n")
    proc = snakemake(
        tmp_path,
        "local",
        str(tmp_path / "wf" / "parton" / "events.h5"),
        str(tmp_path / "wf" / "events.h5"),
        configfiles=(single_cfg,),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for rel in ("parton/events.h5", "events.h5"):
        sharded, single = _xsec_and_error(local_toy / rel), _xsec_and_error(tmp_path / "wf" / rel)
        assert EventFile(local_toy / rel).n_events > 0.8 * EventFile(tmp_path / "wf" / rel).n_events
        diff, err = abs(sharded[0] - single[0]), float(np.hypot(sharded[1], single[1]))
        assert diff < 3.5 * err, (rel, sharded, single)
        assert 0.5 * single[0] < sharded[0] < 1.5 * single[0]


@pytest.mark.slow
def test_one_shard_reproduces_lhcgold_run(tmp_path):
    """With shards: 1 the workflow is the main job cut into jobs: the same limits, Fisher information and
    report tables as `lhcgold run` with the same settings, byte for byte."""
    import yaml

    from lhcgold.config import load_card
    from lhcgold.run import RunConfig, run

    from .conftest import CARD, TOY

    toy = yaml.safe_load(TOY.read_text())["run"]
    cfg = RunConfig.from_card(load_card(CARD), **{k: tuple(v) if isinstance(v, list) else v for k, v in toy.items()})
    run(CARD, tmp_path / "main", config=cfg)
    single = tmp_path / "single.yaml"
    single.write_text("shards: 1\n")
    proc = snakemake(tmp_path, "local", configfiles=(single,))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    main, wf = tmp_path / "main", tmp_path / "wf"
    names = sorted(p.name for p in (main / "limits").glob("*.json"))
    assert len(names) == 18 and names == sorted(p.name for p in (wf / "limits").glob("*.json"))
    for rel in [f"limits/{n}" for n in names] + ["fisher.json", "histogram_choice.json"]:
        assert (main / rel).read_bytes() == (wf / rel).read_bytes(), rel

    def tables(path):
        text = path.read_text()
        return text[text.index("## Samples") : text.index("## Distributions")]

    assert tables(main / "report.md") == tables(wf / "report.md")
