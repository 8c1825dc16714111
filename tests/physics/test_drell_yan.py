"""Drell–Yan |M̄|²: golden values, analytic limits, coupling structure (PROCESSES.md §2(a), §3.2)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lhcgold.physics.drell_yan import DY_PARAMETERS, DrellYanME
from lhcgold.physics.ew import PYTHIA_EW, EWInputs

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "physics" / "golden_me2.json").read_text())
#: the golden values' scheme (tests/data/physics/README.md): PDG widths held fixed, Γ_Z = 2.4952, Γ_W = 2.085
GOLDEN_EW = EWInputs(gz=2.4952, gw=2.085)


@pytest.mark.parametrize("entry", GOLDEN["DY_u_ubar"], ids=lambda e: f"{e['sqrt_shat']}-{sorted(e['C_GeV-2'])}")
def test_golden_values(entry: dict) -> None:
    me = DrellYanME(("C_LL", "C_LR"), ew=GOLDEN_EW)
    theta = [entry["C_GeV-2"].get("LL", 0.0) * 1e6, entry["C_GeV-2"].get("LR", 0.0) * 1e6]  # GeV^-2 -> TeV^-2
    got = me.me2(np.array([entry["sqrt_shat"] ** 2]), np.array([entry["cos_theta_q_lminus"]]), "u", theta)[0]
    assert got == pytest.approx(entry["M2"], rel=1e-10)


def _sigma_hat(me: DrellYanME, shat: float, quark: str, theta: list[float] | None = None) -> float:
    x, w = np.polynomial.legendre.leggauss(8)
    th = theta if theta is not None else [0.0] * len(me.parameters)
    m2 = me.me2(np.full(8, shat), x, quark, th)
    return float(w @ m2) / (32 * math.pi * shat)


def test_pure_qed_limit() -> None:
    """At √ŝ = 1 GeV the photon dominates: σ̂ = 4πα²Q²/(9ŝ) (Z effects ~1e-4)."""
    me = DrellYanME(())
    shat = 1.0
    for q, charge in (("u", 2 / 3), ("d", -1 / 3)):
        ref = 4 * math.pi * PYTHIA_EW.alpha**2 * charge**2 / (9 * shat)
        assert _sigma_hat(me, shat, q) == pytest.approx(ref, rel=1e-3)


def test_partonic_afb_uubar_1tev() -> None:
    """Partonic A_FB for u ū at √ŝ = 1 TeV in the SM is 0.606 (PROCESSES.md §2(a))."""
    me = DrellYanME(())
    x, w = np.polynomial.legendre.leggauss(16)
    c = 0.5 * (x + 1)
    f = me.me2(np.full(16, 1e6), c, "u", []) @ w
    b = me.me2(np.full(16, 1e6), -c, "u", []) @ w
    assert (f - b) / (f + b) == pytest.approx(0.606, abs=1e-3)


def test_closed_form_partonic_sigma() -> None:
    """σ̂ = ŝ/(144π) Σ_ij |A_ij|² against the angular integral of |M̄|², with contact terms."""
    me = DrellYanME(("C_LL", "C_LR", "C_RL", "C_RR"))
    theta = [0.3, -0.2, 0.1, 0.4]
    shat = 800.0**2
    amps = me.sm_amplitudes(np.array(shat), 1) + np.array(theta) * 1e-6
    ref = shat / (144 * math.pi) * np.sum(np.abs(amps) ** 2)
    assert _sigma_hat(me, shat, "u", theta) == pytest.approx(ref, rel=1e-12)


def test_no_ll_lr_cross_term_and_exact_quadratic() -> None:
    me = DrellYanME(("C_LL", "C_LR"))
    rng = np.random.default_rng(3)
    s = rng.uniform(200, 3000, 50) ** 2
    c = rng.uniform(-1, 1, 50)
    m = me.me2_components(s, c, "d")
    cross = [i for i, row in enumerate(me.components.tolist()) if row == [1, 1]][0]
    assert np.all(m[:, cross] == 0.0)
    # components reproduce a direct |A|² evaluation at random θ
    for _ in range(5):
        th = rng.uniform(-1, 1, 2)
        a = me.sm_amplitudes(s, 0) + np.array([th[0], th[1], 0, 0]) * 1e-6
        t2 = (s * (1 - c) / 2) ** 2
        u2 = (s * (1 + c) / 2) ** 2
        direct = (
            u2 * (np.abs(a[:, 0]) ** 2 + np.abs(a[:, 3]) ** 2) + t2 * (np.abs(a[:, 1]) ** 2 + np.abs(a[:, 2]) ** 2)
        ) / 3
        np.testing.assert_allclose(me.me2(s, c, "d", th), direct, rtol=1e-12)


def test_smeft_mapping() -> None:
    """C^u_LL = C_lq1 − C_lq3, C^d_LL = C_lq1 + C_lq3, C_RR = C_eu/C_ed, C_RL = C_lu/C_ld, C_LR = C_qe."""
    assert set(DY_PARAMETERS) >= {"C_lq1", "C_lq3", "C_eu", "C_ed", "C_lu", "C_ld", "C_qe"}
    smeft = DrellYanME(("C_lq1", "C_lq3", "C_eu", "C_ed", "C_lu", "C_ld", "C_qe"))
    per = DrellYanME(("C_LL_u", "C_LL_d", "C_RR_u", "C_RR_d", "C_RL_u", "C_RL_d", "C_LR_u", "C_LR_d"))
    s = np.array([500.0**2, 1500.0**2])
    c = np.array([0.3, -0.7])
    a, b, eu, ed, lu, ld, qe = 0.2, -0.3, 0.1, 0.05, -0.2, 0.3, 0.15
    for q in ("u", "d"):
        got = smeft.me2(s, c, q, [a, b, eu, ed, lu, ld, qe])
        ref = per.me2(s, c, q, [a - b, a + b, eu, ed, lu, ld, qe, qe])
        np.testing.assert_allclose(got, ref, rtol=1e-13)
    # flavour-dependent: C_lq3 enters C^u_LL with -1 and C^d_LL with +1
    one = DrellYanME(("C_lq3",))
    ref_u = DrellYanME(("C_LL_u",)).me2_components(s, c, "u")[:, 1]
    ref_d = DrellYanME(("C_LL_d",)).me2_components(s, c, "d")[:, 1]
    np.testing.assert_allclose(one.me2_components(s, c, "u")[:, 1], -ref_u, rtol=1e-13)
    np.testing.assert_allclose(one.me2_components(s, c, "d")[:, 1], ref_d, rtol=1e-13)


def test_unknown_parameter() -> None:
    with pytest.raises(KeyError):
        DrellYanME(("C_XX",))
