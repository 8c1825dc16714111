"""The process registry and the whole-card validation it feeds."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import ConfigError
from lhcgold.generate.card import parse_card
from lhcgold.observables.expr import FUNCTIONS, compile_expression, register_function
from lhcgold.processes import EmbeddedProcess, ProcessDefaults, get_process_class, process_names, register_process
from lhcgold.processes import base as registry

DY = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, max_power: 2, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0.0}
  p: {C_LL: 0.1}
process:
  name: drell_yan
  mll_gev: [500, 3000]
"""


def test_builtin_processes_are_found_by_name() -> None:
    names = process_names()
    assert {"drell_yan", "wh"} <= set(names)
    for name in names:
        cls = get_process_class(name)
        assert cls.name == name and issubclass(cls, EmbeddedProcess)
        assert cls.parameter_names, name
        assert set(cls.defaults.histogram_observables) <= set(cls.defaults.observables), name


def test_unknown_process_name_suggests_the_near_miss() -> None:
    with pytest.raises(ConfigError, match=r"unknown process 'drell_yann' \(did you mean 'drell_yan'\?\)"):
        load_card_text(DY.replace("name: drell_yan", "name: drell_yann"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("mll_gev: [500, 3000]", "mll_gv: [500, 3000]", r"unknown key 'mll_gv' \(did you mean 'mll_gev'\?\)"),
        ("mll_gev: [500, 3000]", "w_mode: nwa", r"unknown key 'w_mode'"),  # a WH key in a DY card
        ("C_LL", "gc", r"unknown drell_yan parameter 'gc'"),  # a WH parameter in a DY card
        (
            "mll_gev: [500, 3000]",
            "mll_gev: [500, 3000]\nshower: {hadronization: true}",
            r"did you mean 'hadronisation'",
        ),
        ("mll_gev: [500, 3000]", "mll_gev: [500, 3000]\ngenerate: {n_event: 10}", r"did you mean 'n_events'"),
        ("mll_gev: [500, 3000]", "mll_gev: [500, 3000]\ndetector: {presett: cms}", r"unknown key 'presett'"),
        ("mll_gev: [500, 3000]", "mll_gev: [3000, 500]", r"the cuts leave no phase space"),
    ],
)
def test_card_is_validated_whole_at_load(old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_card_text(DY.replace(old, new))


def test_process_defaults_fill_the_sections_a_card_leaves_out() -> None:
    card = load_card_text(DY)
    dy = get_process_class("drell_yan").defaults
    assert card.effective_section("observables") == dict(dy.observables)
    assert card.effective_section("cuts") == list(dy.cuts)
    own = load_card_text(DY + "observables:\n  m: (l[0] + l[1]).m\n")
    assert own.effective_section("observables") == {"m": "(l[0] + l[1]).m"}
    assert not own.effective_section("cuts")  # the card's own observables: no default cuts imposed
    from lhcgold.observables import from_card

    obs, cuts, _ = from_card(card)
    assert [o.name for o in obs] == list(dy.observables) and len(cuts) == len(dy.cuts)


@pytest.fixture
def toy_process():
    """A process registered from outside the package, as a plug-in would."""

    class ToyProcess(EmbeddedProcess):
        name = "toy_contact"
        parameter_names = ("c1", "c2")
        options_schema: ClassVar[dict[str, Any]] = {"window_gev": {"type": "number", "exclusiveMinimum": 0}}
        defaults = ProcessDefaults(observables={"pt": "toy_twice_pt(l[0].pt)"}, histogram_observables=("pt",))
        observable_functions: ClassVar[dict[str, Any]] = {"toy_twice_pt": lambda pt: 2.0 * np.asarray(pt)}

        @classmethod
        def options_from_card(cls, section, *, sqrt_s, ew, source=None):
            w = float(section.get("window_gev", 100.0))
            if w >= sqrt_s:
                raise ConfigError("window above sqrt_s", path="process.window_gev", source=source)
            return {"window": w}

        def __init__(self, parameters, components, pdf, *, window: float = 100.0, lepton: int = 13, **common):
            super().__init__(parameters, components, pdf, **common)
            self.window = window

    register_process(ToyProcess)
    yield ToyProcess
    registry._REGISTRY.pop("toy_contact")
    FUNCTIONS.pop("toy_twice_pt")


def test_a_new_process_needs_only_its_class(toy_process) -> None:
    text = DY.replace("C_LL", "c1").replace(
        "name: drell_yan\n  mll_gev: [500, 3000]", "name: toy_contact\n  window_gev: 250"
    )
    card = load_card_text(text)
    popts, _ = parse_card(card)
    assert popts.name == "toy_contact" and dict(popts.options) == {"window": 250.0}
    assert card.effective_section("observables") == {"pt": "toy_twice_pt(l[0].pt)"}
    # its own parameters, not another process's
    with pytest.raises(ConfigError, match=r"unknown toy_contact parameter 'C_LL'.*known: c1, c2"):
        load_card_text(text.replace("c1", "C_LL"))
    with pytest.raises(ConfigError, match=r"unknown key 'mll_gev'"):
        load_card_text(text + "  mll_gev: [1, 2]\n")
    with pytest.raises(ConfigError, match="window above sqrt_s"):
        load_card_text(text.replace("window_gev: 250", "window_gev: 20000"))
    proc = toy_process(("c1",), np.array([[0], [1], [2]]), None, sqrt_s=13000.0, window=popts.options["window"])
    assert proc.window == 250.0 and proc.n_components == 3


def test_register_refuses_a_taken_name_or_no_name(toy_process) -> None:
    class Other(EmbeddedProcess):
        name = "toy_contact"

    with pytest.raises(ValueError, match=re.escape("process name 'toy_contact' is taken")):
        register_process(Other)

    class Nameless(EmbeddedProcess):
        pass

    with pytest.raises(ValueError, match="needs an identifier"):
        register_process(Nameless)


def test_scale_variations_follow_the_process_capability() -> None:
    assert get_process_class("drell_yan").supports_scale_variations
    assert not get_process_class("wh").supports_scale_variations


def test_a_process_adds_functions_to_the_observables_language(toy_process) -> None:
    expr = compile_expression("toy_twice_pt(pt_l) + 1", names={"pt_l"})
    np.testing.assert_allclose(np.asarray(expr({"pt_l": np.array([10.0, 30.0])})), [21.0, 61.0])
    with pytest.raises(ValueError, match="exists already"):
        register_function("toy_twice_pt", lambda pt: pt)
    with pytest.raises(ValueError, match="cannot register"):
        register_function("pi", lambda: 3.0)
