"""lhcgold.workflow: shard sizes and seeds, and σ of shards of one sample averaged (not added)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lhcgold import workflow
from lhcgold.config import load_card
from lhcgold.exceptions import ConfigError
from lhcgold.generate.embedded import generate_to_files
from lhcgold.io.events import EventFile
from lhcgold.run import RunConfig

from .conftest import CARD


def test_shard_sizes_cover_all_events_and_differ_by_at_most_one():
    sizes = workflow.shard_sizes(1003, 4)
    assert sizes == [251, 251, 251, 250] and sum(sizes) == 1003
    with pytest.raises(ConfigError, match="cannot cut 3 events into 4 shards"):
        workflow.shard_sizes(3, 4)


def test_shard_zero_uses_the_stage_seed_of_the_main_job_and_others_differ():
    assert workflow.shard_seed(1234, 0) == 1234
    seeds = {workflow.shard_seed(1234, i) for i in range(50)}
    assert len(seeds) == 50


def test_config_is_the_card_run_section_with_overrides(tmp_path):
    wf = workflow.write_config(CARD, tmp_path / "run.json", shards=3, overrides={"n_events": 900, "hidden": [8, 8]})
    expected = RunConfig.from_card(load_card(CARD), n_events=900, hidden=(8, 8))
    assert wf.run_config() == expected
    assert workflow.WorkflowConfig.load(tmp_path / "run.json").run_config() == expected
    assert json.loads((tmp_path / "run.json").read_text())["shards"] == 3
    # the stage seeds are those of `lhcgold run` (SeedSequence of the master seed)
    assert wf.seeds() == np.random.SeedSequence(expected.seed).generate_state(8).tolist()


def test_shards_of_one_sample_average_their_cross_sections(tmp_path):
    card = load_card(CARD)
    wf = workflow.write_config(CARD, tmp_path / "run.json", shards=2, overrides={"n_parton": 1200})
    workflow.stage_setup(wf)
    for shard in (0, 1):
        workflow.stage_generate(wf, "parton", shard)
    combined = workflow.stage_combine(wf, "parton")
    single = tmp_path / "single.h5"
    generate_to_files(card, events_path=single, n_events=1200, rng=99, unweighted=False)

    def xsec(path):
        w = np.concatenate([c.weights[:, 0] for c in EventFile(path).iter_chunks(10_000)])
        return w.sum(), np.sqrt(np.sum(w**2))

    (s_comb, e_comb), (s_one, e_one) = xsec(combined), xsec(single)
    shard_sigmas = [xsec(tmp_path / f"shards/parton{i}.h5")[0] for i in (0, 1)]
    assert EventFile(combined).n_events == 1200
    np.testing.assert_allclose(s_comb, np.mean(shard_sigmas), rtol=1e-10)
    assert abs(s_comb - s_one) < 3.5 * np.hypot(e_comb, e_one)
