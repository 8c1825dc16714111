"""Cross sections of the embedded processes: live Pythia 8 runs and the rate polynomials of PROCESSES.md.

Pythia runs its hard process only (PartonLevel/HadronLevel off) with the §3.1 settings: α fixed at
1/128, s_W² = 0.2312 for gauge and vector couplings, μ_F = m_Z fixed, the same NNPDF2.3 LO grid;
our W±H uses Pythia's CKM matrix (the default of :mod:`lhcgold.physics.ew`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.generate.embedded import build_process

DY_CARD = """
lhcgold_card: 1
name: dy
parameters:
  - {{name: C_LL, range: [-2, 2]}}
  - {{name: C_LR, range: [-2, 2]}}
  - {{name: C_RL, range: [-2, 2]}}
  - {{name: C_RR, range: [-2, 2]}}
morphing: {{max_overall_power: 2}}
process: {{name: drell_yan, sqrt_s_gev: 13000, scale_gev: 91.1876, mll_gev: [{lo}, {hi}]}}
"""

WH_CARD = """
lhcgold_card: 1
name: wh
parameters:
  - {{name: gc, range: [-0.02, 0.02]}}
  - {{name: a2, range: [-0.05, 0.05]}}
  - {{name: a3, range: [-0.15, 0.15]}}
morphing: {{max_overall_power: 2}}
process: {{name: wh, sqrt_s_gev: 13000, scale_gev: 91.1876, w_mode: nwa, charges: {charges}}}
"""


def _dy(lo: float, hi: float):  # noqa: ANN202
    return build_process(load_card_text(DY_CARD.format(lo=lo, hi=hi)))


def _poly(proc, sigma_c: np.ndarray) -> dict[tuple[int, ...], float]:  # noqa: ANN001
    return {tuple(int(v) for v in row): float(s / sigma_c[0]) for row, s in zip(proc.components, sigma_c, strict=True)}


@pytest.mark.slow
def test_dy_rate_polynomials() -> None:
    """σ/σ_SM = 1 + A C + B C² (PROCESSES.md §2(a) table), by quadrature (no MC error)."""
    table = {
        (500, 3000): (86.43e-3, {"LL": -1.697, "LR": -1.122, "RR": -1.812, "RL": -0.894}, 23.46),
        (200, 3000): (2141.5e-3, {"LL": -0.255, "LR": -0.191, "RR": -0.294, "RL": -0.136}, 1.28),
    }
    for (lo, hi), (sm, lin, quad) in table.items():
        proc = _dy(lo, hi)
        poly = _poly(proc, proc.xsec_components())
        assert proc.xsec_components()[0] == pytest.approx(sm, rel=2e-4)
        for i, name in enumerate(("LL", "LR", "RL", "RR")):
            e = [0, 0, 0, 0]
            e[i] = 1
            assert poly[tuple(e)] == pytest.approx(lin[name], abs=1.5e-3)
            e[i] = 2
            assert poly[tuple(e)] == pytest.approx(quad, rel=2e-3)
        # different helicities never interfere
        assert all(v == 0.0 for k, v in poly.items() if sum(k) == 2 and max(k) == 1)


@pytest.mark.slow
def test_wh_rate_polynomial() -> None:
    """W⁺H: σ/σ_SM = 1 + 15.68 g_c + 7.34 a₂ + 216.4 g_c² + 25.05 a₂² + 16.74 a₃² + 68.4 g_c a₂ (§2(b))."""
    proc = build_process(load_card_text(WH_CARD.format(charges="[1]")))
    sig, err = proc.xsec_components_with_errors(n_points=600_000, rng=3)
    poly = _poly(proc, sig)
    rel_err = {tuple(int(v) for v in row): float(e / sig[0]) for row, e in zip(proc.components, err, strict=True)}
    expected = {
        (1, 0, 0): 15.68,
        (0, 1, 0): 7.34,
        (2, 0, 0): 216.4,
        (0, 2, 0): 25.05,
        (0, 0, 2): 16.74,
        (1, 1, 0): 68.4,
        (0, 0, 1): 0.0,
        (1, 0, 1): 0.0,
        (0, 1, 1): 0.0,
    }
    for key, ref in expected.items():
        tol = 3 * rel_err[key] * (1 + abs(ref)) + 0.005 * abs(ref)  # MC error plus the table's rounding
        assert abs(poly[key] - ref) < tol, (key, poly[key], ref, tol)


COMMON = [
    "Beams:eCM = 13000.",
    "SigmaProcess:alphaEMorder = -1",
    "StandardModel:alphaEMmZ = 0.0078125",
    "StandardModel:sin2thetaW = 0.2312",
    "StandardModel:sin2thetaWbar = 0.2312",
    "SigmaProcess:factorScale1 = 2",
    "SigmaProcess:factorScale2 = 5",
    "SigmaProcess:factorFixScale = 8315.18",
    "PartonLevel:all = off",
    "HadronLevel:all = off",
    "ProcessLevel:resonanceDecays = off",
    "Next:numberCount = 0",
    "Init:showChangedSettings = off",
    "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    "Print:quiet = on",
    "23:m0 = 91.1876",
    "23:mWidth = 2.4952",
    "24:m0 = 80.385",
    "24:mWidth = 2.085",
    "25:m0 = 125.0",
]


def _pythia(settings: list[str], n_events: int, seed: int) -> tuple[float, float]:
    """(σ, δσ) in pb from Pythia's hard process."""
    sigma, err, _ = _pythia_run(settings, n_events, seed)
    return sigma, err


def _pythia_run(settings: list[str], n_events: int, seed: int) -> tuple[float, float, object]:
    """(σ, δσ) in pb and the Pythia instance (its particle data hold the widths it computed)."""
    pythia8mc = pytest.importorskip("pythia8mc")
    py = pythia8mc.Pythia("", False)
    for s in COMMON + ["Random:setSeed = on", f"Random:seed = {seed}"] + settings:
        if not py.readString(s):
            raise RuntimeError(f"Pythia rejected {s!r}")
    if not py.init():
        raise RuntimeError("Pythia init failed")
    for _ in range(n_events):
        py.next()
    info = py.infoPython()
    return info.sigmaGen() * 1e9, info.sigmaErr() * 1e9, py


def _pythia_br(py: object, pid: int, products: tuple[int, int]) -> float:
    """Branching ratio of one decay channel as Pythia computed it at initialisation."""
    pe = py.particleData.particleDataEntryPtr(pid)  # type: ignore[attr-defined]
    for i in range(pe.sizeChannels()):
        ch = pe.channel(i)
        if sorted(ch.product(j) for j in range(ch.multiplicity())) == sorted(products):
            return float(ch.bRatio())
    raise KeyError(products)


def _agree(ours: float, ours_err: float, ref: float, ref_err: float) -> None:
    comb = math.hypot(ours_err, ref_err)
    assert abs(ours - ref) < 3 * comb, (ours, ours_err, ref, ref_err)
    assert abs(ours / ref - 1) < 0.01, (ours, ref)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("eta_ll", "eta_lr", "lam"), [(0, 0, 100_000.0), (1, 0, 3000.0), (-1, 0, 3000.0), (0, 1, 3000.0)]
)
def test_dy_against_pythia(eta_ll: int, eta_lr: int, lam: float) -> None:
    """Pythia's QCffbar2mumubar, 500 < m < 3000 GeV; C_ij = 4π η_ij / Λ²."""
    proc = _dy(500, 3000)
    c_ll = 4 * math.pi * eta_ll / (lam / 1000) ** 2
    c_lr = 4 * math.pi * eta_lr / (lam / 1000) ** 2
    from lhcgold.physics.morphing import component_factors

    ours = float(component_factors(np.array([c_ll, c_lr, 0.0, 0.0]), proc.components) @ proc.xsec_components())
    ref, ref_err = _pythia(
        [
            "ContactInteractions:QCffbar2mumubar = on",
            f"ContactInteractions:Lambda = {lam}",
            f"ContactInteractions:etaLL = {eta_ll}",
            f"ContactInteractions:etaLR = {eta_lr}",
            "PhaseSpace:mHatMin = 500.",
            "PhaseSpace:mHatMax = 3000.",
        ],
        50_000,
        11 + eta_ll + 3 * eta_lr,
    )
    _agree(ours, 0.0, ref, ref_err)


@pytest.mark.slow
def test_wh_on_shell_against_pythia() -> None:
    """Pythia's ffbar2HW (W±H on shell, Pythia CKM) vs our narrow-width W±H / BR(W → ℓν)."""
    proc = build_process(load_card_text(WH_CARD.format(charges="[1, -1]")))
    sig, err = proc.xsec_components_with_errors(n_points=600_000, rng=5)
    br = proc.ew.width_w_to_lnu() / proc.ew.gw
    ours, ours_err = sig[0] / br, err[0] / br
    assert ours == pytest.approx(1.0229, rel=0.01)  # PROCESSES.md semi-analytic value, 1022.9 fb
    ref, ref_err = _pythia(["HiggsSM:ffbar2HW = on", "PhaseSpace:useBreitWigners = off"], 60_000, 7)
    _agree(ours, ours_err, ref, ref_err)


@pytest.mark.slow
@pytest.mark.parametrize("sw2", [0.2312, 0.225])
def test_wh_sigma_times_br_against_pythia(sw2: float) -> None:
    """σ(pp → W±H → μνH), W on shell: ours (Γ(W→μν)/Γ_W inside |D_W|², Γ_W derived from the inputs) against
    Pythia's σ(ffbar2HW) × its own BR(W⁺ → μ⁺ν), both with s_W² = ``sw2``. A Γ_W held at 2.085 GeV is 3.2%
    high at s_W² = 0.225 (0.5% at 0.2312)."""
    card = WH_CARD.format(charges="[1, -1]").replace("w_mode: nwa,", f"w_mode: nwa, ew: {{sw2: {sw2}}},")
    proc = build_process(load_card_text(card))
    assert proc.ew.sw2 == sw2
    sig, err = proc.xsec_components_with_errors(n_points=600_000, rng=11)
    ref, ref_err, py = _pythia_run(
        [
            f"StandardModel:sin2thetaW = {sw2}",
            f"StandardModel:sin2thetaWbar = {sw2}",
            "HiggsSM:ffbar2HW = on",
            "PhaseSpace:useBreitWigners = off",
        ],
        60_000,
        13,
    )
    br = _pythia_br(py, 24, (-13, 14))
    _agree(sig[0], err[0], ref * br, ref_err * br)
