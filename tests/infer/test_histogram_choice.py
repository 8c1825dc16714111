"""The histogram baseline is fair: among the main job's candidate observables a CP-odd one (the signed
angle φ*) carries a₃ information at the SM, every CP-even histogram is blind to a₃ within its
Monte-Carlo noise floor, and choosing the 2-D histogram by its Fisher information picks φ*.

Physics (PROCESSES.md §2(b)): a₃ enters the W H amplitudes with ±i, so its interference with the SM
appears only in sin φ* and sin 2φ*; it vanishes in every φ*-symmetric distribution. The events are a
small weighted W H sample of the embedded generator (cards/wh.yaml, reconstructed angles with the
neutrino p_z ambiguity and the guessed quark direction)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.config import load_card
from lhcgold.io.events import EventFile, EventWriter

ROOT = Path(__file__).resolve().parents[2]
LUMI_IFB = 300.0
CP_EVEN = ("pt_h", "mt_wh", "m_wh", "pt_l", "cos_Theta", "cos_theta_star", "abs_phi_star")


@pytest.fixture(scope="module")
def wh_sm_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 000 weighted W±H events with φ* ∈ (−π, π] (from the generator's sin φ*, cos φ*) and |φ*|."""
    from lhcgold.generate.embedded import generate_to_files

    tmp = tmp_path_factory.mktemp("wh")
    card = load_card(ROOT / "cards" / "wh.yaml")
    generate_to_files(card, events_path=tmp / "parton.h5", n_events=30_000, rng=5, unweighted=False)
    ef = EventFile(tmp / "parton.h5")
    ch = ef.read()
    names = list(ef.observables)
    phi = np.arctan2(ch.observations[:, names.index("sin_phi_star")], ch.observations[:, names.index("cos_phi_star")])
    x = np.column_stack([ch.observations, phi, np.abs(phi)])
    path = tmp / "events.h5"
    with EventWriter(path, ef.setup, [*names, "phi_star", "abs_phi_star"], store_components=True) as wr:
        wr.append(x, ch.weights, sampling_benchmarks=ch.sampling_benchmarks, component_weights=ch.components())
    return path


def _info_and_floor(path: Path, obs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    info = infer.histogram_information(path, obs, bins=8, theta="sm", luminosity_ifb=LUMI_IFB)
    floor = infer.histogram_noise_floor(path, obs, edges=info.details["edges"], theta="sm", luminosity_ifb=LUMI_IFB)
    return info.matrix, floor


def test_noise_floor_is_the_mean_information_of_sign_randomised_gradients(wh_sm_events: Path) -> None:
    """B = L Σ_k Σ_{i∈k} g_i g_iᵀ / σ_k equals the mean a₃ information (numpy's histogramdd, same edges)
    of the events with a random sign on each event's a₃ gradient: E[(Σ_i ±g_i)²] = Σ_i g_i²."""
    ef = EventFile(wh_sm_events)
    ch = ef.read()
    comps = np.asarray(ef.setup.components)
    m = ch.components()
    w_sm, g_a3 = m[:, _component(comps, (0, 0))], m[:, _component(comps, (0, 1))]  # at θ = 0
    obs = ["pt_h", "cos_Theta"]
    x = ch.observations[:, [ef.observables.index(o) for o in obs]]
    info = infer.histogram_information(wh_sm_events, obs, bins=8, theta="sm", luminosity_ifb=LUMI_IFB)
    floor = infer.histogram_noise_floor(
        wh_sm_events, obs, edges=info.details["edges"], theta="sm", luminosity_ifb=LUMI_IFB
    )
    edges = [np.asarray(e) for e in info.details["edges"]]
    sigma = np.histogramdd(x, bins=edges, weights=w_sm)[0]
    rng = np.random.default_rng(2)
    draws = [
        np.sum(np.histogramdd(x, bins=edges, weights=g_a3 * rng.choice([-1.0, 1.0], len(g_a3)))[0] ** 2 / sigma)
        for _ in range(200)
    ]
    assert floor[1, 1] == pytest.approx(1000.0 * LUMI_IFB * np.mean(draws), rel=0.03)
    assert floor[1, 1] > 0 and np.all(np.linalg.eigvalsh(floor) >= 0)


def _component(comps: np.ndarray, powers: tuple[int, int]) -> int:
    return int(np.flatnonzero((comps[:, 0] == powers[0]) & (comps[:, 1] == powers[1]))[0])


def test_cp_even_histograms_are_blind_to_a3_and_phi_star_is_not(wh_sm_events: Path) -> None:
    for obs in [[o] for o in CP_EVEN] + [["pt_h", "cos_Theta"], ["mt_wh", "abs_phi_star"], ["m_wh", "pt_l"]]:
        info, floor = _info_and_floor(wh_sm_events, obs)
        assert info[1, 1] < 2.5 * floor[1, 1], (obs, info[1, 1], floor[1, 1])  # ≈ 0 within MC error
        assert info[0, 0] > 100 * floor[0, 0], obs  # g_c is measured by the same histograms
    for obs in (["phi_star"], ["sin_phi_star"], ["mt_wh", "phi_star"], ["phi_star", "cos_Theta"]):
        info, floor = _info_and_floor(wh_sm_events, obs)
        assert info[1, 1] > 8 * floor[1, 1], (obs, info[1, 1], floor[1, 1])


def test_choice_by_information_picks_the_signed_angle(wh_sm_events: Path) -> None:
    """The main job's candidates (the WH process's ``histogram_observables``) include φ*; the choice picks it."""
    from lhcgold.processes import get_process_class
    from lhcgold.run import RunConfig

    candidates = get_process_class("wh").defaults.histogram_observables
    assert RunConfig.from_card(load_card(ROOT / "cards" / "wh.yaml")).histogram_observables == candidates
    assert "phi_star" in candidates
    assert "phi_star" in load_card(ROOT / "cards" / "wh.yaml").raw["observables"]
    choice = infer.choose_histogram(wh_sm_events, candidates, bins=8, luminosity_ifb=LUMI_IFB)
    assert "phi_star" in choice.observables
    assert choice.best.blind_to() == ()
    even = [c for c in choice.candidates if "phi_star" not in c.observables]
    assert even and all(c.blind_to() == ("a3",) for c in even)
    assert choice.candidates[0].det > 5 * max(c.det for c in even)
    d = choice.to_dict()
    assert d["observables"] == choice.observables and len(d["candidates"]) == len(choice.candidates)


def test_choice_needs_enough_candidates(wh_sm_events: Path) -> None:
    from lhcgold.exceptions import ConfigError

    with pytest.raises(ConfigError, match="need 2 histogram candidates"):
        infer.choose_histogram(wh_sm_events, ["pt_h", "no_such"], bins=8)


def test_histogram_limits_on_a3_come_from_the_signed_angle(wh_sm_events: Path) -> None:
    """The histogram likelihood (``lhcgold limits --method histogram``): near the SM, where a₃ enters the
    rate and the CP-even shapes only at O(a₃²), a (m_T^WH, φ*) histogram excludes small |a₃| that the
    CP-even (m_T^WH, p_T^H) histogram cannot see; the q values of ±a₃ are equal (Asimov at the SM)."""
    grid = infer.LimitGrid([0.0, (-0.01, 0.01)], 3)
    kw = {"grid": grid, "luminosity_ifb": LUMI_IFB, "asimov_theta": [0.0, 0.0]}
    odd = infer.expected_limits(infer.Histogram(["mt_wh", "phi_star"], bins=(8, 8)), wh_sm_events, **kw)
    even = infer.expected_limits(infer.Histogram(["mt_wh", "pt_h"], bins=(8, 8)), wh_sm_events, **kw)
    q_odd, q_even = odd.q[[0, 2]], even.q[[0, 2]]
    assert odd.q[1] == pytest.approx(0.0, abs=1e-9) and even.q[1] == pytest.approx(0.0, abs=1e-9)
    assert np.all(q_odd > 5 * q_even) and np.all(q_odd > 1.0), (q_odd, q_even)
    assert q_odd[0] == pytest.approx(q_odd[1], rel=0.2)
