"""``ParameterPoint``: the one spelling of θ at the API boundaries (CLI strings, benchmarks, grids)."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.config import Benchmark, ParameterPoint, load_card_text
from lhcgold.exceptions import ConfigError

NAMES = ("gc", "a2", "a3")


def test_spellings_agree():
    named = ParameterPoint.parse("a3=0.5,gc=-0.1", NAMES)
    positional = ParameterPoint.parse("-0.1, 0, 0.5", NAMES)
    mapping = ParameterPoint.from_mapping({"gc": -0.1, "a3": 0.5}, NAMES)
    array = ParameterPoint.from_array(np.array([-0.1, 0.0, 0.5]), NAMES)
    assert named == positional == mapping == array
    assert len({named, positional, mapping, array}) == 1  # frozen and hashable
    assert named.as_dict() == {"gc": -0.1, "a2": 0.0, "a3": 0.5}
    np.testing.assert_array_equal(named.as_array(), [-0.1, 0.0, 0.5])
    np.testing.assert_array_equal(np.asarray(named), [-0.1, 0.0, 0.5])  # inner loops take it as an array
    assert named["a3"] == 0.5 and list(named) == [-0.1, 0.0, 0.5] and len(named) == 3
    assert str(named) == "gc=-0.1,a2=0,a3=0.5" and ParameterPoint.parse(str(named), NAMES) == named
    with pytest.raises(AttributeError):
        named.values = (0.0, 0.0, 0.0)  # type: ignore[misc]


def test_order_is_the_cards():
    p = ParameterPoint(("a3", "gc", "a2"), (0.5, -0.1, 0.0))
    assert p != ParameterPoint.parse("a3=0.5,gc=-0.1", NAMES)  # a different order is a different spelling
    assert p.reordered(NAMES) == ParameterPoint.parse("a3=0.5,gc=-0.1", NAMES)
    with pytest.raises(ConfigError, match="unknown parameter 'a3'"):
        p.reordered(("gc", "a2"))
    with pytest.raises(ConfigError, match="no value for a4"):
        p.reordered((*NAMES, "a4"))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a33=0.1", r"unknown parameter 'a33'.*did you mean 'a3'.*known: gc, a2, a3"),
        ("gc=0.1,gc=0.2", r"gc given twice"),
        ("gc=0.1,0.2", r"name every value"),
        ("0.1,0.2", r"needs 3 values \(gc, a2, a3\), got 2"),
        ("gc=inf", r"gc not finite"),
        ("gc=abc", r"'abc' is not a number for gc"),
        ("", r"invalid parameter point"),
        ("gc=0.1,,a2=0", r"invalid parameter point"),
        ("smm", r"unknown benchmark 'smm'.*did you mean 'sm'"),
    ],
)
def test_clear_errors(text: str, match: str):
    with pytest.raises(ConfigError, match=match):
        ParameterPoint.parse(text, NAMES, benchmarks={"sm": [0, 0, 0], "bsm": [1, 0, 0]})


def test_constructor_checks():
    with pytest.raises(ConfigError, match="2 values for 3 parameters"):
        ParameterPoint(NAMES, (0.0, 1.0))
    with pytest.raises(ConfigError, match="listed twice"):
        ParameterPoint(("gc", "gc"), (0.0, 1.0))
    with pytest.raises(ConfigError, match="no value for a2, a3"):
        ParameterPoint.from_mapping({"gc": 1.0}, NAMES, missing=None)


def test_card_benchmarks_and_setup_points():
    card = load_card_text(
        """
lhcgold_card: 1
parameters:
  - {name: gc, range: [-1, 1]}
  - {name: a2, range: [-1, 1]}
  - {name: a3, range: [-1, 1]}
benchmarks: {sm: {gc: 0}, odd: {a3: 0.4, gc: 0.1}}
"""
    )
    points = card.benchmark_points()
    assert points["odd"] == ParameterPoint(NAMES, (0.1, 0.0, 0.4))
    assert card.benchmarks[1].point(card.parameter_names) == points["odd"]
    np.testing.assert_array_equal(points["odd"].as_array(), card.benchmark_values[1])
    # every accepted spelling of the same θ gives the same point
    for spelling in ("odd", "a3=0.4,gc=0.1", "0.1,0,0.4", {"gc": 0.1, "a3": 0.4}, [0.1, 0.0, 0.4], points["odd"]):
        assert card.point(spelling) == points["odd"], spelling
    with pytest.raises(ConfigError, match="unknown parameter 'a4'"):
        Benchmark("x", {"a4": 1.0}).point(card.parameter_names)


def test_inference_takes_points_and_strings():
    """The inference API resolves a ParameterPoint, a benchmark name and a NAME=VALUE string alike."""
    from lhcgold.infer._data import resolve_theta

    card = load_card_text(
        "lhcgold_card: 1\nparameters: [{name: gc, range: [-1, 1]}, {name: a3, range: [-1, 1]}]\n"
        "benchmarks: {sm: {gc: 0}, w: {gc: 0.5, a3: -0.5}}\n"
    )
    expected = [0.5, -0.5]
    for theta in ("w", "a3=-0.5,gc=0.5", ParameterPoint(("a3", "gc"), (-0.5, 0.5)), np.array(expected)):
        np.testing.assert_array_equal(resolve_theta(theta, card), expected)
    np.testing.assert_array_equal(resolve_theta(None, card), [0.0, 0.0])


def test_limit_grid_points():
    from lhcgold.infer import LimitGrid

    grid = LimitGrid([(-1.0, 1.0), 0.25], resolutions=3)
    pts = grid.parameter_points(("gc", "a3"))
    assert [p.as_dict() for p in pts] == [{"gc": v, "a3": 0.25} for v in (-1.0, 0.0, 1.0)]
    np.testing.assert_array_equal(np.stack([p.as_array() for p in pts]), grid.points)
    with pytest.raises(ConfigError, match="2 parameters"):
        grid.parameter_points(NAMES)
