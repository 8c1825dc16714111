"""Fast detector simulation: presets, overrides, efficiencies and resolutions against the preset
formulas (synthetic single particles), isolation, jets, b-tagging, MET, and the Drell-Yan m_ll
resolution after Pythia + detector."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.detector import available_presets, detector_from_card, load_preset, simulate
from lhcgold.exceptions import ConfigError
from lhcgold.shower import ShowerChunk

DATA = Path(__file__).resolve().parents[1] / "data"


def _chunk(
    particles: list[list[tuple[float, float, float, float, int]]], b: list[list[tuple]] | None = None
) -> ShowerChunk:
    """Events from (pt, eta, phi, mass, pid) tuples."""

    def rec(rows: list[tuple]) -> dict:
        pt, eta, phi, m, pid = (np.array(c, dtype=float) for c in zip(*rows)) if rows else [np.zeros(0)] * 5
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
        charge = (
            np.where(np.abs(pid) == 11, -np.sign(pid), 0.0)
            + np.where(np.abs(pid) == 13, -np.sign(pid), 0.0)
            + np.where(np.abs(pid) == 211, np.sign(pid), 0.0)
        )
        return {"px": px, "py": py, "pz": pz, "E": e, "pid": pid.astype(np.int64), "charge": charge}

    def jag(events: list[list[tuple]]) -> ak.Array:
        recs = [rec(ev) for ev in events]
        flat = {k: np.concatenate([r[k] for r in recs]) for k in recs[0]}
        return ak.unflatten(ak.zip(flat, with_name="Momentum4D"), [len(ev) for ev in events])

    n = len(particles)
    bh = jag(b) if b is not None else jag([[] for _ in range(n)])
    return ShowerChunk(
        particles=jag(particles),
        bhadrons=bh,
        chadrons=jag([[] for _ in range(n)]),
        weights=np.ones((n, 1)),
        weight_names=("nominal",),
    )


def test_presets_and_overrides() -> None:
    assert {"atlas", "cms"} <= set(available_presets())
    det = load_preset("cms", overrides={"jet": {"radius": 0.8}, "electron": {"isolation": {"max_relative": 0.5}}})
    assert det["jet"]["radius"] == 0.8 and det["jet"]["pt_min"] == 20.0
    assert det["electron"]["isolation"] == {"delta_r": 0.3, "max_relative": 0.5, "min_pt": 0.5}
    with pytest.raises(ConfigError, match="detector.jet.radius"):
        load_preset("atlas", overrides={"jet": {"radius": -1}})
    with pytest.raises(ConfigError, match="detector.muon.efficiency.*unknown name 'et'"):
        load_preset("atlas", overrides={"muon": {"efficiency": "et > 3"}})
    with pytest.raises(ConfigError, match="did you mean 'atlas'"):
        load_preset("atlass")


def test_card_section(tmp_path: Path) -> None:
    base = "lhcgold_card: 1\nparameters: [{name: a, max_power: 2, range: [-1, 1]}]\n"
    card = load_card_text(base + "detector: {preset: cms, photon: {pt_min: 25}}\n")
    det = detector_from_card(card)
    assert det.name == "cms" and det["photon"]["pt_min"] == 25 and det["photon"]["eta_max"] == 2.5
    assert detector_from_card(card, preset="atlas")["photon"]["pt_min"] == 25
    with pytest.raises(ConfigError, match="detector.photon"):  # the card is validated whole when loaded
        load_card_text(base + "detector: {preset: cms, photon: {ptmin: 25}}\n")


def test_electron_efficiency_and_energy_resolution_follow_the_preset() -> None:
    n = 20000
    rng = np.random.default_rng(0)
    eta = rng.uniform(-2.4, 2.4, n)
    chunk = _chunk([[(100.0, float(e), 0.3, 0.000511, 11)] for e in eta])
    reco = simulate(chunk, preset="atlas", rng=1)
    found = ak.to_numpy(ak.num(reco.electrons)) == 1
    central = np.abs(eta) <= 1.5
    # efficiencies 0.95 (|eta| <= 1.5) and 0.85 (1.5 < |eta| <= 2.47) from the preset
    assert found[central].mean() == pytest.approx(0.95, abs=4 * np.sqrt(0.95 * 0.05 / central.sum()))
    assert found[~central].mean() == pytest.approx(0.85, abs=4 * np.sqrt(0.85 * 0.15 / (~central).sum()))
    # energy resolution: central sigma(E) = sqrt(E^2 0.007^2 + E 0.10^2 + 0.25^2)
    e_true = 100.0 * np.cosh(eta)
    el = reco.electrons[found]
    e_reco = ak.to_numpy(el.pt[:, 0]) * np.cosh(ak.to_numpy(el.eta[:, 0]))
    c = central[found]
    sig = np.sqrt(e_true[found] ** 2 * 0.007**2 + e_true[found] * 0.10**2 + 0.25**2)
    pull = (e_reco - e_true[found]) / sig
    assert np.std(pull[c]) == pytest.approx(1.0, abs=0.03)
    assert abs(np.mean(pull[c])) < 0.03
    np.testing.assert_allclose(ak.to_numpy(el.eta[:, 0]), eta[found], rtol=1e-12)  # direction unchanged
    assert set(ak.to_numpy(el.charge[:, 0])) == {-1.0}


def test_muon_pt_resolution_and_acceptance() -> None:
    n = 10000
    chunk = _chunk([[(200.0, 0.2, 1.0, 0.10566, -13)] for _ in range(n)] + [[(200.0, 2.9, 1.0, 0.10566, 13)]])
    reco = simulate(chunk, preset="cms", rng=2)
    assert ak.num(reco.muons)[-1] == 0  # |eta| > 2.4
    pt = ak.to_numpy(ak.flatten(reco.muons.pt[:-1]))
    expected = 200.0 * np.sqrt(0.01**2 + (200.0 * 1e-4) ** 2)
    assert np.std(pt) == pytest.approx(expected, rel=0.04)
    assert len(pt) / n == pytest.approx(0.95, abs=0.01)
    # MET is minus the visible sum, with the smeared muon in it: here exactly the muon's pT
    met = ak.to_numpy(reco.met.pt[:-1])
    np.testing.assert_allclose(met[ak.to_numpy(ak.num(reco.muons)[:-1]) == 1], pt, rtol=1e-9)


def test_isolation_rejects_electrons_in_jets() -> None:
    iso = [(50.0, 0.5, 0.0, 0.000511, 11), (2.0, 0.5, 0.1, 0.1396, 211)]  # 4 % nearby activity
    non = [(50.0, 0.5, 0.0, 0.000511, 11), (20.0, 0.6, 0.1, 0.1396, 211)]  # 40 %
    far = [(50.0, 0.5, 0.0, 0.000511, 11), (20.0, -1.5, 2.0, 0.1396, 211)]  # outside the cone
    det = load_preset("atlas", overrides={"electron": {"efficiency": "1.0"}})
    reco = simulate(_chunk([iso, non, far]), preset=det, rng=0)
    assert ak.to_list(ak.num(reco.electrons)) == [1, 0, 1]


def test_jets_btag_and_met() -> None:
    # two sprays of pions (a jet at phi=0 with a b hadron, one at phi=pi) and a neutrino
    def spray(pt: float, eta: float, phi: float, n: int = 10) -> list[tuple]:
        return [(pt / n, eta + 0.02 * k, phi + 0.01 * k, 0.1396, 211) for k in range(n)]

    events = [spray(100.0, 0.0, 0.0) + spray(60.0, 1.0, np.pi - 0.1) + [(40.0, 0.0, 1.5, 0.0, 12)] for _ in range(4000)]
    bhad = [[(30.0, 0.05, 0.03, 5.3, 521)] for _ in range(4000)]
    det = load_preset("atlas", overrides={"jet": {"energy_resolution": "0.0"}})
    chunk = _chunk(events, bhad)
    reco = simulate(chunk, preset=det, rng=5)
    assert ak.all(ak.num(reco.jets) == 2)
    np.testing.assert_allclose(ak.to_numpy(reco.jets.pt[:, 0]), 100.0 * np.cos(0.0), rtol=2e-3)
    lead = reco.jets[:, 0]
    assert ak.all(lead.flavour == 5) and ak.all(reco.jets[:, 1].flavour == 0)
    assert ak.mean(lead.btag) == pytest.approx(0.70, abs=0.03)  # b efficiency of the preset
    assert ak.mean(reco.jets[:, 1].btag) == pytest.approx(0.005, abs=0.004)  # light mistag
    # no jet smearing: MET is minus the vector sum of the pions (the neutrino is not seen)
    vis = chunk.particles[chunk.particles.pid == 211]
    mx, my = -ak.to_numpy(ak.sum(vis.px, axis=1)), -ak.to_numpy(ak.sum(vis.py, axis=1))
    np.testing.assert_allclose(ak.to_numpy(reco.met.pt), np.hypot(mx, my), rtol=1e-9)
    np.testing.assert_allclose(ak.to_numpy(reco.met.phi), np.arctan2(my, mx), rtol=1e-9)
    smeared = simulate(chunk, preset="atlas", rng=5)  # with jet smearing the MET moves
    assert np.std(ak.to_numpy(smeared.met.pt)) > 1.0


def test_rng_reproducibility() -> None:
    chunk = _chunk([[(100.0, 0.1, 0.3, 0.000511, 11)] for _ in range(50)])
    a = simulate(chunk, preset="cms", rng=3)
    b = simulate(chunk, preset="cms", rng=3)
    c = simulate(chunk, preset="cms", rng=4)
    assert ak.all(ak.flatten(a.electrons.pt) == ak.flatten(b.electrons.pt))
    assert not ak.all(ak.flatten(a.electrons.pt)[:40] == ak.flatten(c.electrons.pt)[:40])


DY_CARD = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, max_power: 2, range: [-0.1, 0.1]}
  - {name: C_LR, max_power: 2, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0.0, C_LR: 0.0}
  ll_p: {C_LL: 0.1, C_LR: 0.0}
  ll_m: {C_LL: -0.1, C_LR: 0.0}
  lr_p: {C_LL: 0.0, C_LR: 0.1}
  lr_m: {C_LL: 0.0, C_LR: -0.1}
  mix: {C_LL: 0.05, C_LR: 0.05}
morphing: {max_overall_power: 2}
process:
  name: drell_yan
  sqrt_s_gev: 13000
  pdf: NNPDF23_lo_as_0130_qed_0000.dat
  scale_gev: 91.1876
  lepton: LEPTON
  ew: {scheme: pythia}
  mll_gev: [200, 3000]
generate: {seed: 1, unweighted: true, generation_benchmark: sm, adapt: {iterations: 3, points: 5000, bins: 30}}
"""


@pytest.mark.slow
@pytest.mark.parametrize("lepton, preset", [("e", "atlas"), ("mu", "cms")])
def test_drell_yan_mll_resolution_after_shower_and_detector(tmp_path: Path, lepton: str, preset: str) -> None:
    """Embedded-generator Drell-Yan (200 < mll < 3000 GeV), showered by Pythia, through the fast
    detector: the m_ll residual against the true (bare, post-FSR) leptons has the width the preset's
    lepton resolution implies, sigma_m / m = 0.5 sqrt((sigma_1/X_1)^2 + (sigma_2/X_2)^2) with X = E for
    electrons (ECAL energy resolution) and X = pT for muons (tracker pT resolution)."""
    pytest.importorskip("pythia8mc")
    from lhcgold.generate.embedded import generate
    from lhcgold.shower import shower_lhe

    card = load_card_text(DY_CARD.replace("LEPTON", lepton))
    lhe = generate(card, n_events=700, rng=4, unweighted=True).write_lhe(tmp_path / "dy.lhe.gz")
    showered = shower_lhe(lhe, seed=21, batch_size=350)
    det = load_preset(preset)
    reco = simulate(showered, preset=det, rng=8)
    coll = reco.electrons if lepton == "e" else reco.muons
    code = 11 if lepton == "e" else 13
    two = ak.to_numpy(ak.num(coll)) >= 2
    assert two.mean() > 0.3  # no generator-level |eta| cut: many leptons fall outside the acceptance
    e = coll[two]
    truth = showered.particles[two]
    truth = truth[abs(truth.pid) == code]

    def match(k: int) -> ak.Array:
        obj = e[:, k]
        dr = np.hypot(truth.eta - obj.eta, (truth.phi - obj.phi + np.pi) % (2 * np.pi) - np.pi)
        picked = ak.flatten(ak.drop_none(truth[ak.argmin(dr, axis=1, keepdims=True)], axis=1), axis=1)
        assert len(picked) == len(obj)
        return picked

    t1, t2 = match(0), match(1)
    m_reco = ak.to_numpy((e[:, 0] + e[:, 1]).mass)
    m_true = ak.to_numpy((t1 + t2).mass)
    key = "energy_resolution" if lepton == "e" else "pt_resolution"
    formula = det.formula("electron" if lepton == "e" else "muon", key)

    def rel(t: ak.Array) -> np.ndarray:
        pt, eta, en = (ak.to_numpy(getattr(t, a)) for a in ("pt", "eta", "E"))
        sigma = np.asarray(formula({"pt": pt, "eta": eta, "phi": 0 * pt, "energy": en}))
        return sigma / (en if lepton == "e" else pt)

    sigma_m = 0.5 * np.sqrt(rel(t1) ** 2 + rel(t2) ** 2) * m_true
    pull = np.asarray((m_reco - m_true) / sigma_m)
    n = len(pull)
    assert np.median(m_true) > 200
    assert np.std(pull) == pytest.approx(1.0, abs=4 / np.sqrt(2 * n))
    assert abs(np.mean(pull)) < 4 / np.sqrt(n)
    # the preset's numbers at a few hundred GeV: ~0.7 % (ATLAS-like ECAL), ~1-2 % (CMS-like muons)
    assert 0.004 < np.median(sigma_m / m_true) < 0.03
