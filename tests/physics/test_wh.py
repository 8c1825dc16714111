"""W±H → ℓνH |M̄|²: golden values, SM closed form, angle conventions, CP structure (PROCESSES.md §2(b))."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lhcgold.physics.ew import PYTHIA_EW, EWInputs
from lhcgold.physics.phasespace import minkowski_dot
from lhcgold.physics.wh import WHME, wh_angles

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "physics" / "golden_me2.json").read_text())
#: the golden values' scheme (tests/data/physics/README.md): PDG widths held fixed, Γ_Z = 2.4952, Γ_W = 2.085
GOLDEN_EW = EWInputs(gz=2.4952, gw=2.085)


@pytest.mark.parametrize("entry", GOLDEN["WH_udbar_lnuH"], ids=lambda e: f"{e['sqrt_shat']}-{sorted(e['pars'])}")
def test_golden_values(entry: dict) -> None:
    me = WHME(("gc", "a2", "a3"), ew=GOLDEN_EW)
    th = [entry["pars"].get(k, 0.0) for k in ("gc", "a2", "a3")]
    got = me.me2(
        np.array([entry["sqrt_shat"] ** 2]),
        np.array([entry["cos_Theta_W"]]),
        np.array([entry["m_lnu"] ** 2]),
        np.array([entry["cos_theta_lplus_star"]]),
        np.array([entry["phi_star"]]),
        theta=th,
    )[0]
    assert got == pytest.approx(entry["M2"], rel=1e-10)


def _random_events(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Partonic-CM momenta built independently of lhcgold (quark along +z)."""
    ew = PYTHIA_EW
    rs = rng.uniform(250, 2000, n)
    m = rng.uniform(40, 120, n)
    m = np.minimum(m, rs - ew.mh - 1)
    k = np.sqrt((rs**2 - (m + ew.mh) ** 2) * (rs**2 - (m - ew.mh) ** 2)) / (2 * rs)
    ct, ph = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    st = np.sqrt(1 - ct**2)
    nw = np.stack([st * np.cos(ph), st * np.sin(ph), ct], 1)
    pw = np.concatenate([np.sqrt(k**2 + m**2)[:, None], k[:, None] * nw], 1)
    phig = np.concatenate([np.sqrt(k**2 + ew.mh**2)[:, None], -k[:, None] * nw], 1)
    # isotropic decay in the W rest frame, then a boost along the W direction
    c2, p2 = rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)
    s2 = np.sqrt(1 - c2**2)
    d = np.stack([s2 * np.cos(p2), s2 * np.sin(p2), c2], 1)
    lrest = np.concatenate([(m / 2)[:, None], (m / 2)[:, None] * d], 1)
    beta = pw[:, 1:] / pw[:, :1]
    b2 = np.sum(beta**2, 1)
    g = 1 / np.sqrt(1 - b2)

    def boost(p: np.ndarray) -> np.ndarray:
        bp = np.sum(beta * p[:, 1:], 1)
        e = g * (p[:, 0] + bp)
        v = p[:, 1:] + ((g - 1) / b2 * bp + g * p[:, 0])[:, None] * beta
        return np.concatenate([e[:, None], v], 1)

    nrest = lrest.copy()
    nrest[:, 1:] *= -1
    pl, pn = boost(lrest), boost(nrest)
    pq = np.stack([rs / 2, 0 * rs, 0 * rs, rs / 2], 1)
    pqb = np.stack([rs / 2, 0 * rs, 0 * rs, -rs / 2], 1)
    return pq, pqb, pl, pn, phig


def test_sm_closed_form_from_momenta_both_charges() -> None:
    """|M̄|² = (g⁶m_W²/3)(p_q·p_ℓ̄)(p_q̄·p_f)/(|D_s|²|D_W|²): W⁺ (p_u·p_ℓ⁺)(p_d̄·p_ν), W⁻ (p_d·p_ν̄)(p_ū·p_ℓ⁻)."""
    rng = np.random.default_rng(11)
    pq, pqb, pl, pn, ph = _random_events(200, rng)
    ew = PYTHIA_EW
    me = WHME(())
    s = minkowski_dot(pq + pqb, pq + pqb)
    m2 = minkowski_dot(pl + pn, pl + pn)
    den = np.abs(s - ew.mw**2 + 1j * ew.mw * ew.gw) ** 2 * np.abs(m2 - ew.mw**2 + 1j * ew.mw * ew.gw) ** 2
    pref = ew.g**6 * ew.mw**2 / 3 / den
    plus = me.me2_components_from_momenta(pq, pqb, pl, pn, ph, charge=+1)[:, 0]
    np.testing.assert_allclose(plus, pref * minkowski_dot(pq, pl) * minkowski_dot(pqb, pn), rtol=1e-10)
    minus = me.me2_components_from_momenta(pq, pqb, pl, pn, ph, charge=-1)[:, 0]
    np.testing.assert_allclose(minus, pref * minkowski_dot(pq, pn) * minkowski_dot(pqb, pl), rtol=1e-10)


def test_angles_round_trip_through_generator_momenta() -> None:
    from lhcgold.physics.pdf import PDFGrid
    from lhcgold.processes.wh import WHProcess

    xs = np.geomspace(1e-6, 1, 10)
    dummy = PDFGrid(xs, [(np.array([1.0, 1e4]), np.ones((10, 2, 1)))], (21,))
    proc = WHProcess((), np.zeros((1, 0), np.int64), dummy, sqrt_s=13000.0)
    rng = np.random.default_rng(5)
    n = 100
    s = rng.uniform(300, 2000, n) ** 2
    cT, phi, ct, phs = (
        rng.uniform(-1, 1, n),
        rng.uniform(0, 2 * np.pi, n),
        rng.uniform(-1, 1, n),
        rng.uniform(0, 2 * np.pi, n),
    )
    m2 = rng.uniform(30, 150, n) ** 2
    pl, pn, ph, pw = proc.momenta_quark_frame(s, cT, phi, m2, ct, phs)
    rs = np.sqrt(s)
    pq = np.stack([rs / 2, 0 * rs, 0 * rs, rs / 2], 1)
    pqb = np.stack([rs / 2, 0 * rs, 0 * rs, -rs / 2], 1)
    np.testing.assert_allclose(pl + pn + ph, pq + pqb, atol=1e-8)
    got = wh_angles(pq, pqb, pl, pn, ph)
    for a, b in zip(got, (s, cT, m2, ct, phs), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


def _direct_me2(s, cT, m2, ct, ph, gc, a2, a3, charge=1):  # noqa: ANN001, ANN202
    """An independent plug-in of θ into F_λ (no component split)."""
    ew = PYTHIA_EW
    mw2 = ew.mw**2
    rs, mst = np.sqrt(s), np.sqrt(m2)
    e_w = (s + m2 - ew.mh**2) / (2 * rs)
    k = np.sqrt(e_w**2 - m2)
    ds = s - mw2 + 1j * ew.mw * ew.gw
    dw = m2 - mw2 + 1j * ew.mw * ew.gw
    a1 = 1 + gc * ds / (2 * mw2)
    f = {
        1: a1 + a2 * rs * e_w / mw2 - 1j * a3 * rs * k / mw2,
        0: a1 * e_w / mst + a2 * rs * mst / mw2,
        -1: a1 + a2 * rs * e_w / mw2 + 1j * a3 * rs * k / mw2,
    }
    sT, st = np.sqrt(1 - cT**2), np.sqrt(1 - ct**2)
    dT = {1: (1 - cT) / 2, 0: sT / math.sqrt(2), -1: (1 + cT) / 2}
    dt = (
        {1: (1 + ct) / 2, 0: st / math.sqrt(2), -1: (1 - ct) / 2}
        if charge > 0
        else {1: (1 - ct) / 2, 0: -st / math.sqrt(2), -1: (1 + ct) / 2}
    )
    amp = sum(f[lam] * dT[lam] * np.exp(1j * lam * ph) * dt[lam] for lam in (1, 0, -1))
    return ew.g**6 * mw2 / 12 * s * m2 / (abs(ds) ** 2 * abs(dw) ** 2) * np.abs(amp) ** 2


@pytest.mark.parametrize("charge", [1, -1])
def test_components_equal_direct_evaluation_at_random_theta(charge: int) -> None:
    rng = np.random.default_rng(2)
    me = WHME(("gc", "a2", "a3"))
    n = 64
    args = (
        rng.uniform(210, 3000, n) ** 2,
        rng.uniform(-1, 1, n),
        rng.uniform(60, 90, n) ** 2,
        rng.uniform(-1, 1, n),
        rng.uniform(0, 2 * np.pi, n),
    )
    for _ in range(5):
        th = rng.uniform(-0.2, 0.2, 3)
        np.testing.assert_allclose(
            me.me2(*args, theta=th, charge=charge), _direct_me2(*args, *th, charge=charge), rtol=1e-11
        )


def test_a3_interference_vanishes_after_phi_integration() -> None:
    """a₃ enters with ±i: its SM interference is ∝ sin φ*, sin 2φ*, zero once φ* is integrated.

    The g_c·a₃ term is ∝ Im(D_s) = m_WΓ_W with opposite signs for λ = ±1: it vanishes only once
    the production and decay polar angles are integrated too (no g_c·a₃ term in the rate).
    """
    me = WHME(("gc", "a3"))
    nphi = 64
    phs = (np.arange(nphi) + 0.5) * 2 * np.pi / nphi
    rows = me.components.tolist()
    rng = np.random.default_rng(4)
    for _ in range(5):
        s, cT, ct = rng.uniform(250, 2000) ** 2, rng.uniform(-1, 1), rng.uniform(-1, 1)
        m = me.me2_components(
            np.full(nphi, s), np.full(nphi, cT), np.full(nphi, PYTHIA_EW.mw**2), np.full(nphi, ct), phs
        )
        lin_a3 = m[:, rows.index([0, 1])]
        assert abs(lin_a3.mean()) < 1e-12 * m[:, 0].mean()
        assert np.max(np.abs(lin_a3)) > 1e-3 * m[:, 0].mean()  # but not zero point by point
    x, w = np.polynomial.legendre.leggauss(6)
    cT, ct, ph = np.meshgrid(x, x, phs, indexing="ij")
    wt = (w[:, None, None] * w[None, :, None] * np.ones(nphi)).ravel()
    for s in (300.0**2, 1500.0**2):
        m = me.me2_components(
            np.full(cT.size, s), cT.ravel(), np.full(cT.size, PYTHIA_EW.mw**2), ct.ravel(), ph.ravel()
        )
        tot = wt @ m
        assert abs(tot[rows.index([1, 1])]) < 1e-12 * tot[0]
        assert abs(tot[rows.index([0, 1])]) < 1e-12 * tot[0]


def test_missing_quadratic_component_is_an_error() -> None:
    with pytest.raises(ValueError, match="missing"):
        WHME(("gc", "a3"), components=np.array([[0, 0], [1, 0], [0, 1]]))
