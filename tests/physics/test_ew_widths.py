"""W and Z widths follow the electroweak inputs: against the widths Pythia 8 computes from the same inputs.

Pythia recomputes the W and Z total widths and branching ratios at initialisation from α, s_W², the
masses, the CKM matrix and α_s (with fermion masses, which we neglect: ~0.05% on Γ_W, ~0.2% on Γ_Z).
"""

from __future__ import annotations

import math

import pytest

from lhcgold.config import load_card_text
from lhcgold.generate.card import parse_card
from lhcgold.physics.ew import MG5_SM_EW, PYTHIA_EW, EWInputs

# (α, s_W², m_W, α_s(m_Z)) inside Pythia's allowed ranges (α_em(m_Z) ∈ [0.0078, 0.00783], s_W² ∈ [0.225, 0.24])
INPUTS = [(0.0078125, 0.2312, 80.385, 0.130), (0.0078, 0.225, 79.5, 0.118), (0.00783, 0.24, 81.0, 0.130)]


def _pythia_widths(alpha: float, sw2: float, mw: float, alpha_s: float) -> dict[str, float]:
    pythia8mc = pytest.importorskip("pythia8mc")
    py = pythia8mc.Pythia("", False)
    for s in (
        "Beams:eCM = 13000.",
        "SigmaProcess:alphaEMorder = -1",
        f"StandardModel:alphaEMmZ = {alpha}",
        f"StandardModel:sin2thetaW = {sw2}",
        f"StandardModel:sin2thetaWbar = {sw2}",
        f"SigmaProcess:alphaSvalue = {alpha_s}",
        "PartonLevel:all = off",
        "HadronLevel:all = off",
        "Print:quiet = on",
        f"24:m0 = {mw}",
        "23:m0 = 91.1876",
        "25:m0 = 125.0",
        "HiggsSM:ffbar2HW = on",
    ):
        assert py.readString(s), s
    assert py.init()
    out = {}
    for pid, lep in ((24, (-13, 14)), (23, (-13, 13))):
        pe = py.particleData.particleDataEntryPtr(pid)
        out[f"width_{pid}"] = pe.mWidth()
        for i in range(pe.sizeChannels()):
            ch = pe.channel(i)
            if sorted(ch.product(j) for j in range(ch.multiplicity())) == sorted(lep):
                out[f"br_{pid}"] = ch.bRatio()
    return out


@pytest.mark.parametrize(("alpha", "sw2", "mw", "alpha_s"), INPUTS)
def test_widths_equal_pythia_with_the_same_inputs(alpha: float, sw2: float, mw: float, alpha_s: float) -> None:
    ew = EWInputs(alpha=alpha, sw2=sw2, mw=mw, alpha_s=alpha_s)
    ref = _pythia_widths(alpha, sw2, mw, alpha_s)
    assert ew.gw == pytest.approx(ref["width_24"], rel=1e-3)
    assert ew.width_w_to_lnu() / ew.gw == pytest.approx(ref["br_24"], rel=1e-3)
    assert ew.gz == pytest.approx(ref["width_23"], rel=4e-3)
    assert ew.width_z_to_ll() / ew.gz == pytest.approx(ref["br_23"], rel=4e-3)


def test_partial_widths_closed_forms() -> None:
    """Γ(W→ℓν) = α m_W/(12 s_W²) and Γ(Z→νν̄) = G_F m_Z³/(12√2π) with G_F/√2 = g_Z²/(8 m_Z²); Γ_W at LO
    without QCD is 9 Γ(W→ℓν) for a unitary CKM."""
    ew = EWInputs(ckm=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), alpha_s=1e-12)
    assert ew.width_w_to_lnu() == pytest.approx(ew.alpha * ew.mw / (12 * ew.sw2), rel=1e-12)
    assert ew.gw == pytest.approx(9 * ew.width_w_to_lnu(), rel=1e-9)
    gf = math.sqrt(2) * ew.gz_coupling**2 / (8 * ew.mz**2)
    gamma_nu = gf * ew.mz**3 / (12 * math.sqrt(2) * math.pi)
    sw2 = ew.sw2
    ll = ((-0.5 + 2 * sw2) ** 2 + 0.25) / 0.5
    uu = ((0.5 - 4 / 3 * sw2) ** 2 + 0.25) / 0.5
    dd = ((-0.5 + 2 / 3 * sw2) ** 2 + 0.25) / 0.5
    assert ew.gz == pytest.approx(gamma_nu * (3 + 3 * ll + 3 * 2 * uu + 3 * 3 * dd), rel=1e-9)


def test_widths_follow_changed_inputs_and_explicit_widths_stay() -> None:
    """A card that changes α or s_W² gets the widths of those inputs; explicit widths are kept as given."""
    changed = PYTHIA_EW.with_inputs(sw2=0.225)
    assert changed.gw == pytest.approx(PYTHIA_EW.gw * 0.2312 / 0.225, rel=1e-12)
    assert changed == EWInputs(sw2=0.225)
    fixed = EWInputs(gw=2.085, gz=2.4952)
    assert fixed.fixed_widths == ("gz", "gw")
    assert fixed.with_inputs(sw2=0.225).gw == 2.085
    assert MG5_SM_EW.gw == pytest.approx(MG5_SM_EW.lo_width_w(), rel=1e-15)

    card = """
lhcgold_card: 1
name: wh
parameters:
  - {{name: gc, range: [-0.02, 0.02]}}
morphing: {{max_overall_power: 2}}
process: {{name: wh, ew: {ew}}}
"""
    popts, _ = parse_card(load_card_text(card.format(ew="{alpha: 0.0078, sw2: 0.225}")))
    assert popts.ew.gw == pytest.approx(EWInputs(alpha=0.0078, sw2=0.225).lo_width_w(), rel=1e-12)
    popts, _ = parse_card(load_card_text(card.format(ew="{sw2: 0.225, gw: 2.085}")))
    assert popts.ew.gw == 2.085 and popts.ew.gz == pytest.approx(EWInputs(sw2=0.225).gz, rel=1e-12)
    popts, _ = parse_card(load_card_text(card.format(ew="{scheme: mg5_sm, sw2: 0.23}")))
    assert popts.ew.alpha == MG5_SM_EW.alpha and popts.ew.gw == pytest.approx(
        EWInputs(alpha=MG5_SM_EW.alpha, sw2=0.23, mw=MG5_SM_EW.mw, ckm=MG5_SM_EW.ckm).gw, rel=1e-12
    )
