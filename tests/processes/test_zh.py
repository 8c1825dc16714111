"""Z H → ℓ⁻ℓ⁺H: the closed-form |M̄|² against independent formulas, the generator, the truth, Pythia.

Independent references (never the code against itself): an explicit Dirac-matrix spinor sum over all
16 helicities, built here from the Feynman rules; Pythia 8's ``ffbar2HZ`` decay weight and its live
cross section; the textbook σ̂(q q̄ → Z H); Gauss–Legendre quadrature of the decay-integrated partonic
cross section; finite differences; numerical Jacobians of the generator's phase-space map.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from lhcgold.physics import gold
from lhcgold.physics.ew import GEV2_TO_PB, PYTHIA_EW
from lhcgold.physics.morphing import find_components
from lhcgold.physics.phasespace import boost, boost_z, minkowski_dot
from lhcgold.processes.zh import ZHME, ZHProcess, zh_angles

EW = PYTHIA_EW
COMPS = find_components([2, 2, 2], 2)
RANGES = np.array([0.02, 0.05, 0.15])
_ROWS = [tuple(int(v) for v in r) for r in COMPS]

# ---------------------------------------------------------------------------------------------
# an explicit spinor calculation (chiral basis, γ⁵ = iγ⁰γ¹γ²γ³ = diag(−1, −1, 1, 1), ε^{0123} = +1)
_SIG = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], complex)]
_Z2, _I2 = np.zeros((2, 2)), np.eye(2)
_GAMMA = [np.block([[_Z2, _I2], [_I2, _Z2]]).astype(complex)] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIG]
_G5 = 1j * _GAMMA[0] @ _GAMMA[1] @ _GAMMA[2] @ _GAMMA[3]
_PL, _PR = (np.eye(4) - _G5) / 2, (np.eye(4) + _G5) / 2
_METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
_EPS = np.zeros((4, 4, 4, 4))
for _perm in itertools.permutations(range(4)):
    _EPS[_perm] = np.linalg.det(np.eye(4)[list(_perm)])


def _helicity_spinors(p: np.ndarray) -> list[np.ndarray]:
    """u_L(p), u_R(p) of a massless momentum; Σ u ū = Σ v v̄ = p̸, so they span the spin sums of both."""
    n = p[1:] / np.linalg.norm(p[1:])
    _, vec = np.linalg.eigh(sum(n[i] * _SIG[i] for i in range(3)))
    root = math.sqrt(2 * p[0])
    return [root * np.concatenate([vec[:, 0], [0, 0]]), root * np.concatenate([[0, 0], vec[:, 1]])]


def _current(bra: np.ndarray, ket: np.ndarray, g_l: float, g_r: float) -> np.ndarray:
    """Lower-index ψ̄_bra γ_μ (g_L P_L + g_R P_R) ψ_ket."""
    bar = bra.conj() @ _GAMMA[0]
    return _METRIC @ np.array([bar @ _GAMMA[m] @ (g_l * _PL + g_r * _PR) @ ket for m in range(4)])


def _spinor_me2(p1, p2, p3, p4, quark, gc, a2, a3, contact):  # noqa: ANN001, ANN202, PLR0913
    """Σ|M|²/12 for q(p1) q̄(p2) → ℓ⁻(p3) ℓ⁺(p4) H from the Feynman rules of the module docstring."""
    mz2, gz = EW.mz**2, EW.gz_coupling
    big_p, k = p1 + p2, p3 + p4
    ds = big_p @ _METRIC @ big_p - mz2 + 1j * EW.mz * EW.gz
    dz = k @ _METRIC @ k - mz2 + 1j * EW.mz * EW.gz
    t3, q = {"u": (0.5, 2 / 3), "d": (-0.5, -1 / 3)}[quark]
    gl_q, gr_q, gl_l, gr_l = t3 - q * EW.sw2, -q * EW.sw2, -0.5 + EW.sw2, EW.sw2
    g_up = np.linalg.inv(_METRIC)
    odd = np.einsum("rsab,a,b->rs", _EPS, _METRIC @ big_p, _METRIC @ k)

    def vertex(a1: complex) -> np.ndarray:  # Γ^{ρσ}/(g_Z m_Z), ρ: Z*, σ: Z
        return a1 * g_up + a2 / mz2 * ((big_p @ _METRIC @ k) * g_up - np.outer(k, big_p)) + a3 / mz2 * odd

    a1_left = 1 + gc * ds / (2 * mz2)
    v_left, v_right = vertex(a1_left), vertex(a1_left if contact == "universal" else 1.0)
    total = 0.0
    for u1, v2, u3, v4 in itertools.product(*(_helicity_spinors(p) for p in (p1, p2, p3, p4))):
        lep = _current(u3, v4, gl_l, gr_l)
        amp = _current(v2, u1, gl_q, 0.0) @ v_left @ lep + _current(v2, u1, 0.0, gr_q) @ v_right @ lep
        total += abs(gz**3 * EW.mz * amp / (ds * dz)) ** 2
    return total / 12.0


def _random_event(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """q q̄ → ℓ⁻ℓ⁺H momenta built without lhcgold, then rotated at random (beams off the z axis)."""
    rs, m = rng.uniform(250, 2500), rng.uniform(30, 160)
    k = math.sqrt((rs**2 - (m + EW.mh) ** 2) * (rs**2 - (m - EW.mh) ** 2)) / (2 * rs)
    n_z = rng.normal(size=3)
    n_z /= np.linalg.norm(n_z)
    p_z = np.concatenate([[math.hypot(k, m)], k * n_z])
    d = rng.normal(size=3)
    d /= np.linalg.norm(d)
    beta = p_z[1:] / p_z[0]
    gam = 1 / math.sqrt(1 - beta @ beta)

    def boost(p: np.ndarray) -> np.ndarray:
        bp = beta @ p[1:]
        return np.concatenate([[gam * (p[0] + bp)], p[1:] + ((gam - 1) / (beta @ beta) * bp + gam * p[0]) * beta])

    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))

    def rot(p: np.ndarray) -> np.ndarray:
        return np.concatenate([[p[0]], q @ p[1:]])

    beams = (np.array([rs / 2, 0, 0, rs / 2]), np.array([rs / 2, 0, 0, -rs / 2]))
    leptons = (boost(np.concatenate([[m / 2], m / 2 * d])), boost(np.concatenate([[m / 2], -m / 2 * d])))
    return tuple(rot(p) for p in beams + leptons)


@pytest.mark.parametrize("contact", ["left", "universal"])
@pytest.mark.parametrize("quark", ["u", "d"])
def test_closed_form_equals_explicit_spinor_sum(contact: str, quark: str) -> None:
    """Helicity closed form = 16-helicity Dirac-matrix sum to 1e-10, Z off shell, any (g_c, a₂, a₃)."""
    rng = np.random.default_rng(7 if quark == "u" else 8)
    me = ZHME(("gc", "a2", "a3"), contact=contact)
    thetas = ([0, 0, 0], [0.3, 0, 0], [0, 0.4, 0], [0, 0, 0.7], [0, 0, -2.0], [0.1, -0.2, 0.3])
    for _ in range(4):
        ev = _random_event(rng)
        angles = zh_angles(*(p[None] for p in ev))
        for th in thetas:
            got = me.me2(*angles, theta=np.array(th, float), quark=quark)[0]
            assert got == pytest.approx(_spinor_me2(*ev, quark, *th, contact), rel=1e-10), th


def test_sm_equals_pythia_ffbar2hz_decay_weight() -> None:
    """SM: |M̄|² = (4g_Z⁶m_Z²/3)[(l_q²l_ℓ² + r_q²r_ℓ²)(p₁·p₃)(p₂·p₄) + (l_q²r_ℓ² + r_q²l_ℓ²)(p₁·p₄)(p₂·p₃)]
    / (|D_s|²|D_Z|²).

    Pythia's ``Sigma2ffbar2HZ::weightDecay`` orders f̄(1) f(2) → H f′(3) f̄′(4): p₁ the antiquark,
    p₃ the ℓ⁻; l, r = g_L, g_R (Pythia's are 2 g_L, 2 g_R: a common factor).
    """
    rng = np.random.default_rng(3)
    me = ZHME(())
    for quark, (t3, q) in (("u", (0.5, 2 / 3)), ("d", (-0.5, -1 / 3))):
        lq, rq, ll, rl = t3 - q * EW.sw2, -q * EW.sw2, -0.5 + EW.sw2, EW.sw2
        for _ in range(20):
            pq, pqb, lm, lp = _random_event(rng)
            s, m2 = minkowski_dot(pq + pqb, pq + pqb), minkowski_dot(lm + lp, lm + lp)
            den = abs(s - EW.mz**2 + 1j * EW.mz * EW.gz) ** 2 * abs(m2 - EW.mz**2 + 1j * EW.mz * EW.gz) ** 2
            p13, p24 = minkowski_dot(pqb, lm), minkowski_dot(pq, lp)
            p14, p23 = minkowski_dot(pqb, lp), minkowski_dot(pq, lm)
            wt = (lq**2 * ll**2 + rq**2 * rl**2) * p13 * p24 + (lq**2 * rl**2 + rq**2 * ll**2) * p14 * p23
            ref = 4 * EW.gz_coupling**6 * EW.mz**2 / 3 * wt / den
            got = me.me2_components_from_momenta(pq[None], pqb[None], lm[None], lp[None], quark=quark)[0, 0]
            assert got == pytest.approx(ref, rel=1e-10)


def test_a3_is_cp_odd() -> None:
    """a₃'s interference is ∝ sin φ*, sin 2φ*: zero once φ* is integrated, not point by point; the g_c·a₃
    and a₂·a₃ terms vanish once the polar angles are integrated too (no such terms in the rate)."""
    me = ZHME(("gc", "a2", "a3"))
    nphi = 48
    phs = (np.arange(nphi) + 0.5) * 2 * np.pi / nphi
    rng = np.random.default_rng(4)
    lin = _ROWS.index((0, 0, 1))
    for _ in range(4):
        s, cT, ct = rng.uniform(250, 2000) ** 2, rng.uniform(-1, 1), rng.uniform(-1, 1)
        m = me.me2_components(np.full(nphi, s), cT, EW.mz**2, ct, phs, quark="d")
        assert abs(m[:, lin].mean()) < 1e-12 * m[:, 0].mean()
        assert np.max(np.abs(m[:, lin])) > 1e-3 * m[:, 0].mean()
    x, w = np.polynomial.legendre.leggauss(6)
    cT, ct, ph = np.meshgrid(x, x, phs, indexing="ij")
    wt = (w[:, None, None] * w[None, :, None] * np.ones(nphi)).ravel()
    for s in (300.0**2, 1500.0**2):
        for quark in ("u", "d"):
            tot = wt @ me.me2_components(np.full(cT.size, s), cT.ravel(), 88.0**2, ct.ravel(), ph.ravel(), quark=quark)
            for row in ((0, 0, 1), (1, 0, 1), (0, 1, 1)):
                assert abs(tot[_ROWS.index(row)]) < 1e-12 * tot[0], row
            assert tot[_ROWS.index((0, 0, 2))] > 0


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pdf():  # noqa: ANN201
    from lhcgold.io.pdfgrid import load_pdf

    return load_pdf(None)


def _process(pdf, **kw) -> ZHProcess:  # noqa: ANN001
    return ZHProcess(
        ("gc", "a2", "a3"), COMPS, pdf, sqrt_s=13000.0, scale=91.1876, proposal_ranges=RANGES, shat_bias=0.5, **kw
    )


def _sigma_hat_nwa(shat: np.ndarray, quark: str, contact: str) -> np.ndarray:
    """σ̂_c(ŝ) (…, C) of q q̄ → Z(→ℓℓ)H in the narrow-width limit, integrated over every angle by hand:
    ∫dΩ*|Σ_λ F_λ d¹_{σλ} e^{iλφ*} d¹_{λτ}|² = (4π/3) Σ_λ |F_λ|² |d¹_{σλ}(Θ)|², ∫dΩ |d¹_{σλ}|² = 4π/3."""
    mz2 = EW.mz**2
    rs = np.sqrt(shat)
    e_z = (shat + mz2 - EW.mh**2) / (2 * rs)
    k = np.sqrt(np.maximum(e_z**2 - mz2, 0))
    ds = shat - mz2 + 1j * EW.mz * EW.gz
    t3, q = {"u": (0.5, 2 / 3), "d": (-0.5, -1 / 3)}[quark]
    g_lep2 = (-0.5 + EW.sw2) ** 2 + EW.sw2**2
    out = np.zeros(shat.shape + (len(_ROWS),))
    for g_q, left in ((t3 - q * EW.sw2, True), (-q * EW.sw2, False)):
        gc_on = 1.0 if (left or contact == "universal") else 0.0
        # F_λ per unit θ: rows SM, gc, a2, a3; columns λ = +1, 0, −1
        f = np.array(
            [
                [np.ones_like(rs), e_z / EW.mz, np.ones_like(rs)],
                [gc_on * ds / (2 * mz2), gc_on * ds / (2 * mz2) * e_z / EW.mz, gc_on * ds / (2 * mz2)],
                [rs * e_z / mz2, rs * EW.mz / mz2, rs * e_z / mz2],
                [-1j * rs * k / mz2, 0 * rs, 1j * rs * k / mz2],
            ],
            dtype=complex,
        )
        for c, row in enumerate(_ROWS):
            factors = [i + 1 for i, n in enumerate(row) for _ in range(n)]  # θ-indices of the monomial
            a, b = ([0, 0] + factors)[-2:] if len(factors) < 2 else factors
            val = (f[a] * np.conj(f[b])).real.sum(axis=0)
            out[..., c] += g_q**2 * (val if a == b else 2 * val)
    pref = EW.gz_coupling**6 * mz2 / 3 * shat * mz2 / np.abs(ds) ** 2 / (2 * EW.mz * EW.gz) * g_lep2
    phase = (4 * np.pi / 3) / (32 * np.pi**2) * (4 * np.pi / 3) * k / (16 * np.pi**2 * rs)
    return out * (pref * phase / (2 * shat))[..., None]


def test_sm_partonic_cross_section_is_the_textbook_formula() -> None:
    """σ̂(q q̄ → ZH) = G_F² m_Z⁴ (v̂_q² + â_q²) √λ (λ + 12m_Z²/ŝ) / (288π ŝ (1 − m_Z²/ŝ)²) (colour-averaged;
    Djouadi, Phys. Rept. 457 (2008) 1, eq. 3.3), v̂ = 2T³ − 4Q s_W², â = 2T³, with G_F/√2 = g_Z²/(8m_Z²) and
    |D_s|² for the pole; × BR(Z → ℓℓ) in the narrow-width limit."""
    shat = np.array([220.0, 300.0, 700.0, 2000.0]) ** 2
    mz2 = EW.mz**2
    gf = math.sqrt(2) * EW.gz_coupling**2 / (8 * mz2)
    lam = (1 - (EW.mh + EW.mz) ** 2 / shat) * (1 - (EW.mh - EW.mz) ** 2 / shat)
    br = EW.width_z_to_ll() / EW.gz
    for quark, (t3, q) in (("u", (0.5, 2 / 3)), ("d", (-0.5, -1 / 3))):
        v, a = 2 * t3 - 4 * q * EW.sw2, 2 * t3
        pole = np.abs(shat - mz2 + 1j * EW.mz * EW.gz) ** 2 / shat**2
        ref = gf**2 * EW.mz**4 * (v * v + a * a) * np.sqrt(lam) * (lam + 12 * mz2 / shat) / (288 * np.pi * shat * pole)
        np.testing.assert_allclose(_sigma_hat_nwa(shat, quark, "left")[:, 0], ref * br, rtol=1e-12)


def _rate_by_quadrature(proc: ZHProcess, n_tau: int = 48, n_y: int = 32) -> np.ndarray:
    """σ_c [pb] = Σ_q ∫ dτ dy F_q(x₁)F_q̄(x₂)/τ σ̂_c(τs) (both orientations), Gauss–Legendre in (log τ, y)."""
    tau0 = (EW.mz + EW.mh) ** 2 / proc.s
    gt, wt = np.polynomial.legendre.leggauss(n_tau)
    gy, wy = np.polynomial.legendre.leggauss(n_y)
    total = np.zeros(len(_ROWS))
    edges = np.log(tau0) * np.array([1.0, 0.9, 0.75, 0.5, 0.0])  # log τ pieces, dense near threshold
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        ltau = lo + (hi - lo) * (gt + 1) / 2
        tau = np.exp(ltau)
        wtau = wt * (hi - lo) / 2 * tau  # dτ
        ymax = -0.5 * ltau
        y = (ymax[:, None] * gy[None, :]).ravel()
        w = (wtau[:, None] * ymax[:, None] * wy[None, :]).ravel()
        tt = np.repeat(tau, n_y)
        x1, x2 = np.sqrt(tt) * np.exp(y), np.sqrt(tt) * np.exp(-y)
        for quark, flavours in (("d", (1, 3, 5)), ("u", (2, 4))):
            ids = list(flavours) + [-q for q in flavours]
            f1, f2 = proc.pdf.xfx(ids, x1, 91.1876**2), proc.pdf.xfx(ids, x2, 91.1876**2)
            n = len(flavours)
            lum = (f1[:, :n] * f2[:, n:] + f1[:, n:] * f2[:, :n]).sum(axis=1)
            total += (w * lum / tt) @ _sigma_hat_nwa(tt * proc.s, quark, proc.contact)
    return total * GEV2_TO_PB


@pytest.mark.parametrize("contact", ["left", "universal"])
def test_rate_polynomial_by_quadrature(pdf, contact: str) -> None:  # noqa: ANN001
    """σ_c of the generator's adaptive MC (NWA) = quadrature of the hand-integrated σ̂_c, within the MC error."""
    proc = _process(pdf, z_mode="nwa", contact=contact)
    sig, err = proc.xsec_components_with_errors(n_points=150_000, rng=2)
    ref = _rate_by_quadrature(proc)
    assert np.all(np.abs(sig - ref) < 4 * err + 2e-4 * ref[0]), (sig / sig[0], ref / ref[0], err / sig[0])
    assert abs(ref[_ROWS.index((0, 0, 1))]) < 1e-14 * ref[0]  # CP odd: no linear a3 term in the rate


# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(pdf):  # noqa: ANN001, ANN201
    """Off-shell Z H events of the generator's sampler: (process, component weights (N, C), channels, x)."""
    from lhcgold.generate.sampling import Sampler

    proc = _process(pdf)
    rng = np.random.default_rng(11)
    sampler = Sampler.adapted(proc, n_iterations=3, n_points=8000, rng=rng)
    n = 30_000
    batch, channel, m = sampler.draw(n, rng)
    keep = np.flatnonzero(np.any(m != 0, axis=1))
    sub = type(batch)(
        batch.u[keep], batch.comps[keep], batch.proposal[keep], {k: v[keep] for k, v in batch.kin.items()}
    )
    rec, obs, x = proc.realise(sub, channel[keep], rng)
    sig, _ = proc.xsec_components_with_errors(n_points=100_000, rng=99)  # independent of the sample
    return proc, m[keep] / n, channel[keep], x, sig, rec, obs


def test_joint_score_equals_finite_differences(sample) -> None:  # noqa: ANN001
    """t(x,z|θ) of the generator's weights = central differences of log|M|² − log σ, with the ME re-evaluated."""
    proc, m, channel, x, sig, _, _ = sample
    theta = np.array([0.006, -0.02, 0.08])
    t = gold.joint_score(m[:500], COMPS, theta, sigma_c=sig)
    me = ZHME(("gc", "a2", "a3"))
    kin = x[:500]
    pm, pp = kin[:, 0:3], kin[:, 3:6]
    pth = -(pm[:, :2] + pp[:, :2])
    lab = [np.concatenate([np.linalg.norm(v, axis=1)[:, None], v], axis=1) for v in (pm, pp)]
    eh = np.sqrt(np.sum(pth**2, 1) + kin[:, 6] ** 2 + EW.mh**2)
    etot, pz = lab[0][:, 0] + lab[1][:, 0] + eh, pm[:, 2] + pp[:, 2] + kin[:, 6]
    xa, xb = (etot + pz) / 13000, (etot - pz) / 13000
    beam_a = np.stack([xa * 6500, 0 * xa, 0 * xa, xa * 6500], 1)
    beam_b = np.stack([xb * 6500, 0 * xb, 0 * xb, -xb * 6500], 1)
    ch = channel[:500]
    pq = np.where((ch % 2 == 0)[:, None], beam_a, beam_b)
    pqb = np.where((ch % 2 == 0)[:, None], beam_b, beam_a)
    h = 1e-6
    for p in range(3):
        e = np.zeros(3)
        e[p] = h

        def logp(th: np.ndarray) -> np.ndarray:
            out = np.zeros(len(ch))
            for k, quark in enumerate(("d", "u")):
                sel = ch // 2 == k
                out[sel] = np.log(
                    me.me2(*zh_angles(pq[sel], pqb[sel], lab[0][sel], lab[1][sel]), theta=th, quark=quark)
                )
            return out - np.log(gold.xsec(sig, COMPS, th))

        fd = (logp(theta + e) - logp(theta - e)) / (2 * h)
        np.testing.assert_allclose(t[:, p], fd, rtol=1e-5, atol=1e-5)


def _weighted_mean_err(values: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = w.size
    mean = (w[:, None] * values).sum(0) / w.sum()
    err = np.sqrt(((w[:, None] * (values - mean)) ** 2).sum(0)) / w.sum() * np.sqrt(n / (n - 1))
    return mean, err


def test_expected_joint_score_vanishes_and_ratio_is_one(sample) -> None:  # noqa: ANN001
    """E_θ[t(x,z|θ)] = 0 and E_θ₁[r(x,z|θ₀,θ₁)] = 1, σ_c from a separate MC run."""
    _, m, _, _, sig, _, _ = sample
    for th0, th1 in ((np.zeros(3), np.array([0.01, -0.03, 0.1])), (np.array([-0.01, 0.02, -0.12]), np.zeros(3))):
        w = gold.event_weights(m, COMPS, th0)
        mean, err = _weighted_mean_err(gold.joint_score(m, COMPS, th0, sigma_c=sig), w)
        assert np.all(np.abs(mean) < 4 * err), (mean, err)
        r = np.exp(gold.joint_log_ratio(m, COMPS, th0, th1, sigma_c=sig))
        mean, err = _weighted_mean_err(r[:, None], gold.event_weights(m, COMPS, th1))
        assert abs(mean[0] - 1) < 4 * err[0], (mean, err)


def test_truth_times_jacobian_is_the_generator_density(sample) -> None:  # noqa: ANN001
    """m̄_c(x) |∂x/∂u| = dσ_c/du of the generator per channel (so ∫ p(x|θ) dx = 1); x = (p_ℓ⁻, p_ℓ⁺, p_zH),
    Jacobian by central differences of the generator's own momentum map."""
    proc = sample[0]
    u = np.random.default_rng(8).uniform(0.05, 0.95, (6, proc.dim))
    batch = proc.evaluate(u)

    def x_of_u(uu: np.ndarray, orientation: int) -> np.ndarray:
        k = proc.evaluate(uu).kin
        lm, lp, ph, _ = proc.momenta_quark_frame(k["shat"], k["cT"], k["phi"], k["m2"], k["ct"], k["phs"])
        out = []
        for p in (lm, lp, ph):
            p = p.copy()
            if orientation == 1:
                p[:, 2:4] *= -1
            out.append(boost_z(p, k["y"]))
        return np.concatenate([out[0][:, 1:4], out[1][:, 1:4], out[2][:, 3:4]], axis=1)

    h = 1e-6
    for k in range(proc.n_channels):
        x = x_of_u(u, k % 2)
        jac = np.zeros((u.shape[0], 7, 7))
        for d in range(7):
            e = np.zeros(7)
            e[d] = h
            jac[:, :, d] = (x_of_u(u + e, k % 2) - x_of_u(u - e, k % 2)) / (2 * h)
        f = proc.joint_density_components(x[:, 0:3], x[:, 3:6], x[:, 6], channel=k)
        assert np.all(batch.comps[:, k, 0] > 0)
        np.testing.assert_allclose(f * np.abs(np.linalg.det(jac))[:, None], batch.comps[:, k], rtol=2e-5)


def test_truth_is_the_conditional_expectation_of_joint_quantities(sample) -> None:  # noqa: ANN001
    """r(x|θ₀,θ₁) = E[r(x,z)|x] and t(x|θ) = E[t(x,z)|x] over the latent quark type and beam orientation."""
    from lhcgold.generate.embedded import TruthModel

    proc, _, _, x, sig, _, _ = sample
    x = x[:300]
    per = np.stack([proc.joint_density_components(x[:, :3], x[:, 3:6], x[:, 6], channel=k) for k in range(4)], 1)
    assert np.all(per[:, :, 0].sum(1) > 0)
    truth = TruthModel(proc, sig)
    np.testing.assert_allclose(per.sum(1), truth.components(x), rtol=1e-12)
    th0, th1 = np.array([0.01, 0.03, -0.1]), np.array([-0.015, -0.02, 0.12])
    flat = per.reshape(-1, per.shape[2])
    w1 = gold.event_weights(flat, COMPS, th1).reshape(per.shape[:2])
    post = w1 / w1.sum(1, keepdims=True)
    r_z = np.exp(gold.joint_log_ratio(flat, COMPS, th0, th1, sigma_c=sig)).reshape(per.shape[:2])
    np.testing.assert_allclose(np.log((post * r_z).sum(1)), truth.log_ratio(x, th0, th1), rtol=1e-10, atol=1e-12)
    t_z = gold.joint_score(flat, COMPS, th1, sigma_c=sig).reshape(per.shape[:2] + (3,))
    np.testing.assert_allclose((post[..., None] * t_z).sum(1), truth.score(x, th1), rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------------------------------------
#: Pythia's hard process with the PROCESSES.md §3.1 inputs (α = 1/128 fixed, s_W² = 0.2312 for gauge and
#: vector couplings, μ_F = m_Z fixed, the same NNPDF2.3 LO grid)
PYTHIA_SETTINGS = [
    "Beams:eCM = 13000.",
    "SigmaProcess:alphaEMorder = -1",
    "StandardModel:alphaEMmZ = 0.0078125",
    "StandardModel:sin2thetaW = 0.2312",
    "StandardModel:sin2thetaWbar = 0.2312",
    "SigmaProcess:factorScale1 = 2",  # ffbar2HZ is an s-channel process: Pythia takes its 2 -> 1 scale choice
    "SigmaProcess:factorScale2 = 5",
    "SigmaProcess:factorFixScale = 8315.18",
    "PartonLevel:all = off",
    "HadronLevel:all = off",
    "ProcessLevel:resonanceDecays = off",
    "PhaseSpace:useBreitWigners = off",
    "HiggsSM:ffbar2HZ = on",
    "23:m0 = 91.1876",
    "25:m0 = 125.0",
    "Next:numberCount = 0",
    "Init:showChangedSettings = off",
    "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    "Print:quiet = on",
    "Random:setSeed = on",
    "Random:seed = 17",
]


@pytest.mark.slow
def test_on_shell_rate_against_pythia(pdf) -> None:  # noqa: ANN001
    """σ(pp → ZH), Z on shell, 13 TeV: ours (narrow width / BR(Z → ℓℓ)) = Pythia 8's ``ffbar2HZ`` within the
    MC errors, and = the quadrature of the hand-integrated σ̂."""
    pythia8mc = pytest.importorskip("pythia8mc")
    py = pythia8mc.Pythia("", False)
    for s in PYTHIA_SETTINGS + [f"23:mWidth = {EW.gz}"]:
        assert py.readString(s), s
    assert py.init()
    for _ in range(60_000):
        py.next()
    info = py.infoPython()
    ref, ref_err = info.sigmaGen() * 1e9, info.sigmaErr() * 1e9  # mb -> pb
    proc = _process(pdf, z_mode="nwa")
    sig, err = proc.xsec_components_with_errors(n_points=600_000, rng=5)
    br = EW.width_z_to_ll() / EW.gz
    ours, ours_err = sig[0] / br, err[0] / br
    assert abs(ours - ref) < 3 * math.hypot(ours_err, ref_err), (ours, ours_err, ref, ref_err)
    assert ours == pytest.approx(_rate_by_quadrature(proc, 96, 64)[0] / br, rel=3e-3)


def test_card_observables_on_parton_level_objects(sample) -> None:  # noqa: ANN001
    """The card's detector-level expressions, fed the parton-level leptons and two jets from the Higgs, give the
    generator's own observables: m_ℓℓ, p_T^ℓℓ, m_ZH and the CP-odd sin 2φ* (computed there with boosts) and
    signed sin Δφ_ℓℓ."""
    import awkward as ak
    import yaml

    from lhcgold.observables.expr import compile_expression
    from lhcgold.observables.objects import RecoEvents, make_met, make_objects

    proc, rec, obs = sample[0], sample[5], sample[6]
    n = 400
    lm, lp, ph = rec.momenta[:n, 4], rec.momenta[:n, 5], rec.momenta[:n, 3]
    obs = obs[:n]

    def polar(p: np.ndarray) -> tuple[np.ndarray, ...]:
        pt = np.hypot(p[:, 1], p[:, 2])
        return pt, np.arcsinh(p[:, 3] / pt), np.arctan2(p[:, 2], p[:, 1])

    def objects(momenta: list[np.ndarray], masses: list[float], **extra: list[float]) -> ak.Array:
        cols = [polar(p) for p in momenta]
        field = {k: ak.Array(np.stack([c[i] for c in cols], 1)) for i, k in enumerate(("pt", "eta", "phi"))}
        more = {k: ak.Array(np.tile(v, (n, 1))) for k, v in extra.items()}
        return make_objects(field["pt"], field["eta"], field["phi"], ak.Array(np.tile(masses, (n, 1))), **more)

    def empty() -> ak.Array:
        none = ak.Array(np.zeros((n, 0)))
        return make_objects(none, none, none, none, charge=none)

    # the Higgs as two massless jets, back to back in its rest frame along a random direction
    d = np.random.default_rng(5).normal(size=(n, 3))
    d *= (EW.mh / 2 / np.linalg.norm(d, axis=1))[:, None]
    rest = np.concatenate([np.full((n, 1), EW.mh / 2), d], axis=1)
    jet1, jet2 = (boost(r, ph[:, 1:] / ph[:, :1]) for r in (rest, rest * [1, -1, -1, -1]))
    muons = objects([lm, lp], [0.0, 0.0], charge=[-1.0, 1.0])
    jets = objects([jet1, jet2], [0.0, 0.0])
    events = RecoEvents(empty(), muons, empty(), jets, make_met(np.zeros(n), np.zeros(n)), np.ones((n, 1)), ("w",))
    card = yaml.safe_load((ROOT / "cards" / "zh.yaml").read_text())
    ns = events.namespace()
    names = list(proc.observable_names)

    for name, text in card["observables"].items():  # in card order: later ones may use earlier ones
        ns[name] = np.asarray(compile_expression(text, names=ns)(ns), float)

    def value(name: str) -> np.ndarray:
        return ns[name]

    np.testing.assert_allclose(value("m_ll"), obs[:, names.index("m_ll")], rtol=1e-9)
    np.testing.assert_allclose(value("pt_ll"), obs[:, names.index("pt_ll")], rtol=1e-9)
    np.testing.assert_allclose(value("m_h"), EW.mh, rtol=1e-9)
    np.testing.assert_allclose(value("m_zh"), obs[:, names.index("m_zh")], rtol=1e-9)
    np.testing.assert_allclose(value("sin_dphi_ll"), obs[:, names.index("sin_dphi_ll")], atol=1e-9)
    np.testing.assert_allclose(value("sin_2phi_star"), obs[:, names.index("sin_2phi_star")], atol=1e-7)
    assert np.all(value("cos_theta_cs") ** 2 <= 1)
    assert set(card["observables"]) >= {"sin_dphi_ll", "m_ll", "pt_h"}


# ---------------------------------------------------------------------------------------------
# through the registry: the card, the generator, the event store, the exact likelihood

ROOT = Path(__file__).resolve().parents[2]
CARD = """
lhcgold_card: 1
name: zh
parameters:
  - {name: gc, range: [-0.02, 0.02]}
  - {name: a3, range: [-0.15, 0.15]}
benchmarks:
  sm: {gc: 0, a3: 0}
  gc_p: {gc: 0.02, a3: 0}
  gc_m: {gc: -0.02, a3: 0}
  a3_p: {gc: 0, a3: 0.15}
  a3_m: {gc: 0, a3: -0.15}
  mix: {gc: 0.01, a3: 0.1}
morphing: {max_overall_power: 2}
process: {name: zh, scale_gev: 91.1876, mll_gev: [75, 105]}
generate: {seed: 3, shat_bias: 0.5, adapt: {iterations: 3, points: 8000}}
"""


def test_registered_and_the_card_uses_the_process_defaults() -> None:
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import build_process
    from lhcgold.processes import get_process_class

    cls = get_process_class("zh")
    assert cls is ZHProcess and set(cls.parameter_names) == {"gc", "a2", "a3"}
    card = load_card(ROOT / "cards" / "zh.yaml")
    # the card spells out what the process would fill in: the same observables and cuts
    assert card.section("observables") == dict(cls.defaults.observables)
    assert card.section("cuts") == list(cls.defaults.cuts)
    assert {"sin_2phi_star", "sin_dphi_ll"} <= set(cls.defaults.histogram_observables)  # CP-odd: a fair baseline
    assert tuple(card.section("infer")["histogram_observables"]) == cls.defaults.histogram_observables
    proc = build_process(card)
    assert isinstance(proc, ZHProcess)
    assert (proc.z_mode, proc.mll, proc.contact, proc.lepton) == ("offshell", (75.0, 105.0), "left", 13)


def test_generate_through_the_card(tmp_path: Path) -> None:
    """generate(card): momentum conservation, the Z record, the leptons and the observed x in the truth's support."""
    from lhcgold.config import load_card_text
    from lhcgold.generate.embedded import TruthModel, generate

    res = generate(load_card_text(CARD.replace("mll_gev: [75, 105]", "lepton: e, contact: universal")), n_events=2000)
    p = res.particles.momenta
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2] + p[:, 3], atol=1e-6)
    np.testing.assert_allclose(p[:, 2], p[:, 4] + p[:, 5], atol=1e-6)
    np.testing.assert_array_equal(res.particles.pdg[:, 2:], np.tile([23, 25, 11, -11], (res.n_events, 1)))
    np.testing.assert_array_equal(np.sign(res.particles.pdg[:, 0]), -np.sign(res.particles.pdg[:, 1]))
    assert res.process.contact == "universal"
    m_ll = res.observables[:, list(res.observable_names).index("m_ll")]
    assert 75 <= m_ll.min() and m_ll.max() <= 105
    assert np.all(TruthModel(res.process, res.xsec_components).components(res.observed[:200])[:, 0] > 0)
    out = res.write_lhe(tmp_path / "zh.lhe.gz")
    from lhcgold.io.lhe import read_lhe

    chunk = read_lhe(out)
    np.testing.assert_allclose(chunk.weights[:, :6], res.benchmark_weights, rtol=1e-9)


@pytest.mark.slow
def test_exact_information_against_histograms(tmp_path: Path) -> None:
    """Exact (truth) Fisher information at the SM ≥ every histogram's; CP-even histograms are blind to a₃ (up to the
    Monte-Carlo noise of the linear a₃ weights), the CP-odd sin 2φ* recovers a good part of it, sin φ* far less
    (the Z couples to leptons almost vector-like)."""
    from lhcgold import infer
    from lhcgold.config import load_card_text
    from lhcgold.generate.embedded import TruthModel, generate

    res = generate(load_card_text(CARD), n_events=20_000, rng=3)
    path = res.write_events(tmp_path / "zh.h5")
    sig, _ = res.process.xsec_components_with_errors(n_points=100_000, rng=9)
    exact = infer.exact_information(path, TruthModel(res.process, sig), theta="sm").matrix
    hist = {
        tuple(obs): infer.histogram_information(path, obs, bins=bins, theta="sm").matrix
        for obs, bins in (
            (["pt_ll", "m_zh"], (8, 8)),
            (["cos_Theta", "cos_theta_star"], (8, 8)),
            (["cos_phi_star"], 16),
            (["sin_phi_star"], 16),
            (["sin_2phi_star"], 16),
        )
    }
    for obs, h in hist.items():
        assert np.linalg.eigvalsh(exact - h).min() > -1e-6 * np.trace(exact), obs
        assert h[0, 0] > 0.2 * exact[0, 0], obs  # gc is seen in every histogram
    for obs in (("pt_ll", "m_zh"), ("cos_Theta", "cos_theta_star"), ("cos_phi_star",)):
        assert hist[obs][1, 1] < 0.01 * exact[1, 1], obs
    assert hist[("sin_2phi_star",)][1, 1] > 0.1 * exact[1, 1]
    assert hist[("sin_2phi_star",)][1, 1] > 5 * hist[("sin_phi_star",)][1, 1]
