"""Observable library against closed forms and independent constructions."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import vector

from lhcgold.observables import library as lib

vector.register_awkward()


def _p4(px, py, pz, e) -> ak.Array:  # type: ignore[no-untyped-def]
    return ak.zip(
        {
            "px": np.asarray(px, float),
            "py": np.asarray(py, float),
            "pz": np.asarray(pz, float),
            "E": np.asarray(e, float),
        },
        with_name="Momentum4D",
    )


def _ptetaphim(pt, eta, phi, m) -> ak.Array:  # type: ignore[no-untyped-def]
    return ak.zip(
        {
            "pt": np.asarray(pt, float),
            "eta": np.asarray(eta, float),
            "phi": np.asarray(phi, float),
            "mass": np.asarray(m, float),
        },
        with_name="Momentum4D",
    )


def _boost_z(p: tuple, rapidity: np.ndarray) -> tuple:
    px, py, pz, e = p
    ch, sh = np.cosh(rapidity), np.sinh(rapidity)
    return px, py, ch * pz + sh * e, ch * e + sh * pz


def test_basic_kinematics() -> None:
    a = _ptetaphim([30.0, 50.0], [0.5, -1.0], [3.0, -3.0], [0.0, 0.0])
    b = _ptetaphim([40.0, 20.0], [-0.5, 1.0], [-3.0, 3.0], [0.0, 0.0])
    dphi = lib.delta_phi(a, b)
    np.testing.assert_allclose(dphi, [6.0 - 2 * np.pi, 2 * np.pi - 6.0])  # wrapped, signed
    np.testing.assert_allclose(lib.delta_phi(b, a), -dphi)
    np.testing.assert_allclose(lib.delta_r(a, b), np.hypot([1.0, -2.0], dphi))
    # massless pair: m^2 = 2 pT1 pT2 (cosh deta - cos dphi)
    m2 = 2 * 30 * 40 * (np.cosh(1.0) - np.cos(dphi[0]))
    assert lib.mass(a[:1], b[:1])[0] == pytest.approx(np.sqrt(m2), rel=1e-12)
    assert lib.mll(a[:1], b[:1])[0] == pytest.approx(np.sqrt(m2), rel=1e-12)
    mt = lib.mt(a, b)
    np.testing.assert_allclose(mt, np.sqrt(2 * np.array([1200.0, 1000.0]) * (1 - np.cos(dphi))))
    nan = _ptetaphim([np.nan], [np.nan], [np.nan], [np.nan])  # a missing object, as pick() makes it
    assert np.isnan(lib.mass(nan, b[:1])[0]) and np.isnan(lib.delta_r(nan, b[:1])[0])
    # rapidity of a massive particle
    p = _p4([3.0], [4.0], [12.0], [14.0])
    assert lib.rapidity(p)[0] == pytest.approx(0.5 * np.log(26 / 2))


def test_collins_soper_against_rest_frame_construction() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    m = rng.uniform(100, 500, n)
    cos_t = rng.uniform(-1, 1, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    sin_t = np.sqrt(1 - cos_t**2)
    lm = (m / 2 * sin_t * np.cos(phi), m / 2 * sin_t * np.sin(phi), m / 2 * cos_t, m / 2)
    lp = (-lm[0], -lm[1], -lm[2], lm[3])
    y = rng.uniform(-2, 2, n)
    a, b = _p4(*_boost_z(lm, y)), _p4(*_boost_z(lp, y))
    # Q_T = 0: cos theta_CS is the l- polar angle in the rest frame, signed by the boost direction
    np.testing.assert_allclose(lib.cos_theta_star_cs(a, b), np.sign(y) * cos_t, atol=1e-10)
    # with Q_T: compare with the explicit CS axis (bisector of the beams in the rest frame), via vector
    qt = rng.uniform(5, 80, n)
    a2 = a.boost_p4(_p4(qt, 0 * qt, 0 * qt, np.sqrt(qt**2 + 1e6)))
    b2 = b.boost_p4(_p4(qt, 0 * qt, 0 * qt, np.sqrt(qt**2 + 1e6)))
    q = a2 + b2
    beam_a = _p4(0 * qt, 0 * qt, 6500.0 + 0 * qt, 6500.0 + 0 * qt).boostCM_of_p4(q)
    beam_b = _p4(0 * qt, 0 * qt, -6500.0 + 0 * qt, 6500.0 + 0 * qt).boostCM_of_p4(q)
    axis = beam_a.to_3D().unit() - beam_b.to_3D().unit()
    axis = axis.unit()
    lrest = a2.boostCM_of_p4(q).to_3D().unit()
    expected = np.sign(ak.to_numpy(q.pz)) * ak.to_numpy(lrest.dot(axis))
    np.testing.assert_allclose(lib.cos_theta_star_cs(a2, b2), expected, atol=1e-9)


def _wh_event(n: int, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """Forward construction of u d~ -> W+ (-> l+ nu) H from the angles of PROCESSES.md 2(b)."""
    mw, mh = 80.4, 125.0
    sqrt_s = rng.uniform(300, 1500, n)
    cos_big = rng.uniform(-1, 1, n)
    cos_star = rng.uniform(-1, 1, n)
    phi_star = rng.uniform(-np.pi, np.pi, n)
    alpha = rng.uniform(-np.pi, np.pi, n)  # W azimuth (irrelevant)
    ew = (sqrt_s**2 + mw**2 - mh**2) / (2 * sqrt_s)
    k = np.sqrt(ew**2 - mw**2)
    sb = np.sqrt(1 - cos_big**2)
    zw = np.stack([sb * np.cos(alpha), sb * np.sin(alpha), cos_big])
    quark = np.stack([0 * alpha, 0 * alpha, 1 + 0 * alpha])
    yv = np.cross(quark.T, zw.T).T
    yv /= np.linalg.norm(yv, axis=0)
    xv = np.cross(yv.T, zw.T).T
    ss = np.sqrt(1 - cos_star**2)
    d = ss * np.cos(phi_star) * xv + ss * np.sin(phi_star) * yv + cos_star * zw
    # lepton in the W rest frame, then boost along zw with beta = k / ew
    el = mw / 2
    pl = el * d
    gamma, bg = ew / mw, k / mw
    par = (pl * zw).sum(axis=0)
    lep3 = pl + ((gamma - 1) * par + bg * el) * zw
    lep_e = gamma * el + bg * par
    w3 = k * zw
    nu3, nu_e = w3 - lep3, ew - lep_e
    h3, h_e = -w3, sqrt_s - ew
    y = rng.uniform(-1.5, 1.5, n)
    lep = _boost_z((lep3[0], lep3[1], lep3[2], lep_e), y)
    nu = _boost_z((nu3[0], nu3[1], nu3[2], nu_e), y)
    h = _boost_z((h3[0], h3[1], h3[2], h_e + 0 * y), y)
    return lep, nu, h, cos_big, cos_star, phi_star, y, sqrt_s


def test_wh_angles_recover_the_generated_angles() -> None:
    rng = np.random.default_rng(7)
    lep, nu, h, cos_big, cos_star, phi_star, y, sqrt_s = _wh_event(3000, rng)
    out = lib.wh_angles(_p4(*lep), _p4(*nu), _p4(*h), quark_direction="+z")
    np.testing.assert_allclose(out["cos_Theta"], cos_big, atol=1e-9)
    np.testing.assert_allclose(out["cos_theta_star"], cos_star, atol=1e-9)
    dphi = (out["phi_star"] - phi_star + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(dphi, 0, atol=1e-7)
    np.testing.assert_allclose(out["m_wh"], sqrt_s, rtol=1e-9)
    # quark along -z: Theta -> pi - Theta and the frame's y' flips, so phi* -> -phi* (x' keeps sign... )
    flipped = lib.wh_angles(_p4(*lep), _p4(*nu), _p4(*h), quark_direction=-np.ones(len(y)))
    np.testing.assert_allclose(flipped["cos_Theta"], -cos_big, atol=1e-9)
    np.testing.assert_allclose(flipped["cos_theta_star"], cos_star, atol=1e-9)
    # "boost" picks the sign of the system's p_z
    guess = lib.wh_angles(_p4(*lep), _p4(*nu), _p4(*h))
    np.testing.assert_allclose(guess["cos_Theta"], np.sign(y) * cos_big, atol=1e-9)


def test_neutrino_pz_and_mt_wh() -> None:
    rng = np.random.default_rng(3)
    lep, nu, h, *_ = _wh_event(2000, rng)
    lep4, nu4, h4 = _p4(*lep), _p4(*nu), _p4(*h)
    met = _ptetaphim(ak.to_numpy(nu4.pt), 0 * nu[0], ak.to_numpy(nu4.phi), 0 * nu[0])
    plus = lib.neutrino_pz(lep4, met, m_w=80.4, choice="plus")
    minus = lib.neutrino_pz(lep4, met, m_w=80.4, choice="minus")
    true = nu[2]
    best = np.minimum(np.abs(plus - true), np.abs(minus - true))
    assert np.median(best / np.abs(true).clip(1)) < 1e-8
    # both solutions satisfy the W mass constraint
    for pz in (plus, minus):
        e = np.sqrt(ak.to_numpy(met.px) ** 2 + ak.to_numpy(met.py) ** 2 + pz**2)
        m = lib.mass(lep4, _p4(ak.to_numpy(met.px), ak.to_numpy(met.py), pz, e))
        np.testing.assert_allclose(m, 80.4, rtol=1e-8)
    smaller = lib.neutrino_pz(lep4, met, m_w=80.4)
    assert np.all(np.abs(smaller) <= np.maximum(np.abs(plus), np.abs(minus)))
    # m_T(WH) <= m(WH), equal to the transverse construction from its definition
    mt = lib.mt_wh(lep4, met, h4)
    assert np.all(mt <= lib.mass(lep4, nu4, h4) * (1 + 1e-9))
    et_w = ak.to_numpy(lep4.pt + met.pt)
    et_h = np.sqrt(ak.to_numpy(h4.mass) ** 2 + ak.to_numpy(h4.pt) ** 2)
    sx = ak.to_numpy(lep4.px + met.px + h4.px)
    sy = ak.to_numpy(lep4.py + met.py + h4.py)
    np.testing.assert_allclose(mt, np.sqrt((et_w + et_h) ** 2 - sx**2 - sy**2), rtol=1e-9)


def test_wh_angles_with_reconstructed_neutrino() -> None:
    """With the MET as the neutrino's pT and an on-shell W, one of the two p_z solutions is the true
    one: choosing it per event recovers the generated angles; the expression functions agree."""
    from lhcgold.observables.expr import compile_expression

    rng = np.random.default_rng(11)
    lep, nu, h, cos_big, cos_star, phi_star, y, _ = _wh_event(1000, rng)
    lep4, h4 = _p4(*lep), _p4(*h)
    met = _ptetaphim(np.hypot(nu[0], nu[1]), 0 * nu[0], np.arctan2(nu[1], nu[0]), 0 * nu[0])
    out = {c: lib.wh_angles_reco(lep4, met, h4, m_w=80.4, choice=c, quark_direction="+z") for c in ("plus", "minus")}
    plus = lib.neutrino_pz(lep4, met, m_w=80.4, choice="plus")
    minus = lib.neutrino_pz(lep4, met, m_w=80.4, choice="minus")
    right = np.where(np.abs(plus - nu[2]) < np.abs(minus - nu[2]), "plus", "minus")
    got = np.where(right == "plus", out["plus"]["cos_theta_star"], out["minus"]["cos_theta_star"])
    np.testing.assert_allclose(got, cos_star, atol=1e-6)
    got = np.where(right == "plus", out["plus"]["cos_Theta"], out["minus"]["cos_Theta"])
    np.testing.assert_allclose(got, cos_big, atol=1e-6)
    f = compile_expression("wh_cos_theta_star(l, met, h)", names={"l", "met", "h"})
    default = lib.wh_angles_reco(lep4, met, h4)
    np.testing.assert_array_equal(np.asarray(f({"l": lep4, "met": met, "h": h4})), default["cos_theta_star"])
