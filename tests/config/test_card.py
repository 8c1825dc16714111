"""Analysis card: schema, semantics, clear errors with key paths."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from lhcgold.config import check_section, load_card, load_card_text
from lhcgold.exceptions import ConfigError, MorphingError
from lhcgold.setup import build_setup

GOOD = """
lhcgold_card: 1
name: wgamma
parameters:
  - {name: CWWWL2, lha_block: dim6, lha_id: 1, max_power: 2, range: [-20, 20]}
  - {name: CWL2, lha_block: dim6, lha_id: 2, max_power: 2, range: [-20, 20], card_scale: 2.0}
benchmarks:
  sm: {CWWWL2: 0, CWL2: 0}
  w: {CWWWL2: 10}
morphing: {max_overall_power: 2, seed: 3}
"""


def card(text: str):
    return load_card_text(textwrap.dedent(text))


def test_good_card_gives_frozen_dataclasses(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text(GOOD)
    c = load_card(path)
    assert c.parameter_names == ("CWWWL2", "CWL2")
    assert c.benchmark_names == ("sm", "w")
    np.testing.assert_array_equal(c.benchmark_values, [[0, 0], [10, 0]])  # missing values are 0
    assert c.parameter("CWL2").card_value(1.5) == 3.0
    assert c.parameter("CWL2").transform == "2.0*theta+0.0"
    assert len(c.card_hash) == 64 and c.source == path
    with pytest.raises(AttributeError):
        c.name = "other"  # type: ignore[misc]


def test_setup_from_card_keeps_benchmarks_and_adds_a_basis():
    setup = build_setup(card(GOOD))
    assert setup.benchmark_names[:2] == ("sm", "w")
    assert setup.n_benchmarks == 6 and setup.components.shape == (6, 2)
    assert np.all(np.abs(setup.benchmark_values) <= 20)
    again = build_setup(card(GOOD))
    np.testing.assert_array_equal(setup.benchmark_values, again.benchmark_values)  # seeded


@pytest.mark.parametrize(
    "text, message, path",
    [
        ("lhcgold_card: 1\nparameters: [{name: a, range: [0, 1]}\n", "malformed YAML at line", None),
        (
            GOOD.replace("w: {CWWWL2: 10}", "w: {CWWWL3: 10}"),
            "unknown parameter 'CWWWL3'.*did you mean 'CWWWL2'",
            "benchmarks.w.CWWWL3",
        ),
        (GOOD.replace("name: CWL2,", "name: CWWWL2,"), "duplicate parameter name", "parameters[1].name"),
        (GOOD.replace("w: {CWWWL2: 10}", "sm: {CWWWL2: 10}"), "duplicate key 'sm'", None),
        (
            GOOD.replace("max_power: 2, range: [-20, 20], card", "max_power: -1, range: [-20, 20], card"),
            "max_power must be >= 0",
            "parameters[1].max_power",
        ),
        (GOOD.replace("w: {CWWWL2: 10}", "w: {CWWWL2: 30}"), "outside the range", "benchmarks.w.CWWWL2"),
        (GOOD.replace("range: [-20, 20]}", "range: [20, -20]}", 1), "low < high", "parameters[0].range"),
        (GOOD.replace("seed: 3", "sed: 3"), "unknown key 'sed'.*did you mean 'seed'", "morphing"),
        (GOOD.replace("lhcgold_card: 1", "lhcgold_card: 2"), "1 was expected", "lhcgold_card"),
        (GOOD.replace("name: wgamma", "name: wgamma\ndetectr: {}"), "unknown key 'detectr'.*'detector'", None),
        ("parameters: []\n", "lhcgold_card", None),
    ],
)
def test_bad_cards_name_the_problem_and_the_key(text, message, path):
    with pytest.raises(ConfigError, match=message) as info:
        card(text)
    if path is not None:
        assert info.value.path == path


def test_missing_card_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_card(tmp_path / "nope.yaml")


def test_fewer_benchmarks_than_components_without_search():
    text = GOOD.replace("seed: 3", "seed: 3, optimize: false")
    with pytest.raises(MorphingError, match="at least 6 benchmarks"):
        build_setup(card(text))


def test_stage_sections_are_checked_by_their_stage():
    # the whole card is validated at load, each section against the schema its stage registered
    with pytest.raises(ConfigError, match="unknown key 'muon_eff'") as info:
        card(GOOD + "detector: {preset: atlas, muon_eff: 2}\n")
    assert info.value.path == "detector"
    c = card(GOOD + "detector: {preset: atlas}\n")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"preset": {"enum": ["atlas", "cms"]}, "muon_efficiency": {"type": "number"}},
    }
    assert check_section(c, "detector", schema) == {"preset": "atlas"}
    assert check_section(card(GOOD), "detector", schema) == {}
