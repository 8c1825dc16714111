"""Safe expressions (ast whitelist), observables, defaults, cuts, efficiencies and card sections."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import ConfigError
from lhcgold.observables import (
    Cut,
    Efficiency,
    Observable,
    RecoEvents,
    compute,
    default_observables,
    from_card,
    make_met,
    make_objects,
)
from lhcgold.observables.expr import compile_expression


def _events() -> RecoEvents:
    # event 0: 2 electrons, 1 photon, 0 jets; event 1: 1 muon, 0 photons, 2 jets (one b); event 2: nothing
    e = make_objects(
        ak.Array([[40.0, 60.0], [], []]),
        ak.Array([[0.1, -0.5], [], []]),
        ak.Array([[0.0, 3.0], [], []]),
        ak.Array([[0.0, 0.0], [], []]),
        charge=ak.Array([[-1.0, 1.0], [], []]),
    )
    mu = make_objects(
        ak.Array([[], [25.0], []]),
        ak.Array([[], [1.0], []]),
        ak.Array([[], [-1.0], []]),
        ak.Array([[], [0.1], []]),
        charge=ak.Array([[], [1.0], []]),
    )
    a = make_objects(
        ak.Array([[120.0], [], []]), ak.Array([[0.3], [], []]), ak.Array([[1.0], [], []]), ak.Array([[0.0], [], []])
    )
    j = make_objects(
        ak.Array([[], [30.0, 80.0], []]),
        ak.Array([[], [0.0, 2.0], []]),
        ak.Array([[], [1.0, -2.0], []]),
        ak.Array([[], [5.0, 10.0], []]),
        btag=ak.Array([[], [1, 0], []]),
        tautag=ak.Array([[], [0, 0], []]),
    )
    met = make_met(np.array([10.0, 50.0, 0.0]), np.array([0.5, 2.0, 0.0]))
    return RecoEvents(
        electrons=e,
        muons=mu,
        photons=a,
        jets=j,
        met=met,
        weights=np.arange(6.0).reshape(3, 2),
        weight_names=("sm", "bsm"),
    )


@pytest.mark.parametrize(
    "text, what",
    [
        ("__import__('os').system('ls')", "unknown function '__import__'"),
        ("e.__class__", "attribute '__class__' is not allowed"),
        ("(lambda: 1)()", "only whitelisted functions"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[x for x in e]", "ListComp is not allowed"),
        ("e[0].ptt", "did you mean 'pt'"),
        ("elec[0].pt", "unknown name 'elec'"),
        ("e[-1].pt", "non-negative integer index"),
        ("e[0:2]", "non-negative integer index"),
        ("'text'", "is not a number"),
        ("e[0].pt >", "syntax error"),
        ("max(e.pt, key=abs)", "keyword arguments"),
        ("open('x')", "unknown function 'open'"),
    ],
)
def test_whitelist_rejects(text: str, what: str) -> None:
    with pytest.raises(ConfigError, match=what):
        compile_expression(text, names={"e", "mu"})


def test_expression_semantics() -> None:
    ev = _events()
    ns = ev.namespace()

    def run(text: str) -> np.ndarray:
        return np.asarray(compile_expression(text, names=set(ns)).__call__(ns), dtype=float)

    np.testing.assert_array_equal(run("e[0].pt"), [60.0, np.nan, np.nan])
    np.testing.assert_array_equal(run("n(e) + len(j)"), [2, 2, 0])
    np.testing.assert_allclose(
        run("(e[0] + e[1]).m"), [np.sqrt(2 * 40 * 60 * (np.cosh(0.6) - np.cos(3.0))), np.nan, np.nan]
    )
    np.testing.assert_array_equal(run("sum(j.pt)"), [0.0, 110.0, 0.0])
    np.testing.assert_array_equal(run("max(j.pt)"), [np.nan, 80.0, np.nan])
    np.testing.assert_array_equal(run("max(met.pt, 20)"), [20.0, 50.0, 20.0])
    np.testing.assert_array_equal(run("n(b)"), [0, 1, 0])
    np.testing.assert_array_equal(run("b[0].pt"), [np.nan, 30.0, np.nan])
    np.testing.assert_array_equal(run("l[0].pt"), [60.0, 25.0, np.nan])
    np.testing.assert_array_equal(run("l[0].charge"), [1.0, 1.0, np.nan])
    np.testing.assert_array_equal(run("met.pt > 5 and n(e) >= 1"), [1, 0, 0])
    np.testing.assert_array_equal(run("not (met.pt > 5) or n(j) == 2"), [0, 1, 1])
    np.testing.assert_array_equal(run("1 if n(j) > 0 else -1"), [-1, 1, -1])
    np.testing.assert_array_equal(run("0 < met.pt <= 10"), [1, 0, 0])
    np.testing.assert_allclose(
        run("mt(l[0], met)"),
        [np.sqrt(2 * 60 * 10 * (1 - np.cos(2.5))), np.sqrt(2 * 25 * 50 * (1 - np.cos(3.0))), np.nan],
    )
    np.testing.assert_allclose(run("e[0].deltaphi(e[1])"), [3.0, np.nan, np.nan])
    np.testing.assert_allclose(run("abs(j[1].eta) + sqrt(4) + pi"), [np.nan, 2.0 + np.pi, np.nan])
    np.testing.assert_array_equal(run("nan_to(e[0].pt, -1)"), [60.0, -1, -1])
    np.testing.assert_allclose(run("visible.pt")[2], 0.0)


def test_compute_defaults_required_cuts_efficiencies_and_callables() -> None:
    ev = _events()
    obs = [
        Observable("pt_e", "e[0].pt", default=0.0),
        Observable("pt_j", "j[0].pt"),
        Observable("twice_met", lambda events: 2 * np.asarray(events.met.pt)),
        Observable("mt", "mt(l[0], met)", required=True),
    ]
    res = compute(
        ev,
        obs,
        cuts=[Cut("twice_met >= 20")],
        efficiencies=[Efficiency("0.5 if n(e) > 0 else 1"), Efficiency("j[0].pt / 100", default=0.9)],
    )
    assert res.names == ("pt_e", "pt_j", "twice_met", "mt")
    np.testing.assert_array_equal(res.mask, [True, True, False])  # event 2: no lepton (required mt)
    np.testing.assert_array_equal(res.values[:, 0], [60.0, 0.0])  # default for the missing electron
    assert np.isnan(res.values[0, 1]) and res.values[1, 1] == 80.0
    np.testing.assert_allclose(res.efficiency, [0.5 * 0.9, 1.0 * 0.8])
    np.testing.assert_allclose(res.weights, ev.weights[:2] * res.efficiency[:, None])
    # a cut on a missing object drops the event (NaN comparisons are false)
    res2 = compute(ev, [Observable("pt_j", "j[0].pt")], cuts=[Cut("pt_j > 10")])
    np.testing.assert_array_equal(res2.mask, [False, True, False])
    res3 = compute(ev, [Observable("x", "met.pt")], cuts=[Cut(lambda e: np.asarray(e.met.pt) < 40)])
    np.testing.assert_array_equal(res3.mask, [True, False, True])
    with pytest.raises(ConfigError, match="one value per event|pick an element"):
        compute(ev, [Observable("bad", "e.pt")])
    with pytest.raises(ConfigError, match="defined twice"):
        compute(ev, [Observable("x", "met.pt"), Observable("x", "met.phi")])
    with pytest.raises(ConfigError, match="clashes"):
        compute(ev, [Observable("met", "met.pt")])
    with pytest.raises(ConfigError, match="uses p"):
        compute(ev, [Observable("x", "p[0].pt")])  # no truth particles at detector level
    defaults = default_observables()
    res4 = compute(ev, defaults)
    assert "pt_l1" in res4.names and res4.values.shape == (3, len(defaults))


BASE = "lhcgold_card: 1\nparameters: [{name: a, max_power: 2, range: [-1, 1]}]\n"


def test_card_sections() -> None:
    card = load_card_text(
        BASE
        + """
observables:
  pt_a: "a[0].pt"
  mt_l: {expression: "mt(l[0], met)", default: 0.0}
  m_ee: {expression: "(e[0] + e[1]).m", required: true}
cuts:
  - "pt_a > 100"
  - {expression: "n(l) >= 1"}
reconstruct:
  efficiencies: ["0.9"]
"""
    )
    obs, cuts, effs = from_card(card)
    assert [o.name for o in obs] == ["pt_a", "mt_l", "m_ee"]
    assert obs[1].default == 0.0 and obs[2].required
    assert [c.definition for c in cuts] == ["pt_a > 100", "n(l) >= 1"]
    res = compute(_events(), obs, cuts=cuts, efficiencies=effs)
    np.testing.assert_array_equal(res.mask, [True, False, False])
    np.testing.assert_allclose(res.weights, [[0.0, 0.9]])


@pytest.mark.parametrize(
    "section, match",
    [
        ('observables: {pt_a: "a[0].ptt"}', r"observables\.pt_a.*did you mean 'pt'"),
        ('observables: {pt_a: {expresion: "a[0].pt"}}', r"observables"),
        ('observables: {"1x": "a[0].pt"}', r"observables"),
        ('cuts: ["pt_x > 1"]', r"cuts\[0\].*unknown name 'pt_x'"),
        ("cuts: [3]", r"cuts"),
    ],
)
def test_card_errors_name_the_key(section: str, match: str) -> None:
    # schema errors surface when the card is loaded (validated whole), expression errors in from_card
    with pytest.raises(ConfigError, match=match):
        from_card(load_card_text(BASE + section + "\n"))
