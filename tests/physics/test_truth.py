"""Gold and truth for the embedded processes (PROCESSES.md §1.1 identities, §3.2 items 5 and 6).

Independent references: finite differences, quadrature (DY σ_c), importance sampling with a
proposal that is not the generator's, scipy's adaptive integration of the W±H neutrino p_z, and
numerical Jacobians of the generator's phase-space map.
"""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.generate.embedded import TruthModel, generate
from lhcgold.physics import gold
from lhcgold.physics import truth as tr

DY = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, range: [-0.1, 0.1]}
  - {name: C_LR, range: [-0.1, 0.1]}
benchmarks: {sm: {C_LL: 0, C_LR: 0}}
morphing: {max_overall_power: 2}
process: {name: drell_yan, mll_gev: [500, 3000], scale_gev: 91.1876}
generate: {seed: 3, adapt: {iterations: 4, points: 10000}}
"""

WH = """
lhcgold_card: 1
name: wh
parameters:
  - {name: gc, range: [-0.02, 0.02]}
  - {name: a3, range: [-0.15, 0.15]}
benchmarks: {sm: {gc: 0, a3: 0}}
morphing: {max_overall_power: 2}
process: {name: wh, scale_gev: 91.1876, w_mode: offshell, mlnu_gev: [10, null]}
generate: {seed: 4, adapt: {iterations: 4, points: 10000}}
"""


@pytest.fixture(scope="module")
def dy():  # noqa: ANN201
    card = load_card_text(DY)
    res = generate(card, n_events=60_000, rng=3)
    return res


@pytest.fixture(scope="module")
def wh():  # noqa: ANN201
    card = load_card_text(WH)
    res = generate(card, n_events=40_000, rng=4)
    proc = res.process
    sig, err = proc.xsec_components_with_errors(n_points=400_000, rng=99)  # independent of the sample
    return res, sig, err


def _fd_score(m: np.ndarray, comps: np.ndarray, sig: np.ndarray, theta: np.ndarray, h: float) -> np.ndarray:
    out = np.zeros((m.shape[0], theta.size))
    for p in range(theta.size):
        e = np.zeros_like(theta)
        e[p] = h

        def logp(t: np.ndarray) -> np.ndarray:
            return np.log(gold.event_weights(m, comps, t)) - np.log(gold.xsec(sig, comps, t))

        out[:, p] = (logp(theta + e) - logp(theta - e)) / (2 * h)
    return out


def test_joint_score_equals_finite_differences(dy, wh) -> None:  # noqa: ANN001
    for res, sig, theta, h in (
        (dy, dy.xsec_components, np.array([0.03, -0.02]), 1e-7),
        (wh[0], wh[1], np.array([0.005, 0.05]), 1e-7),
    ):
        m = res.component_weights[:2000]
        t = gold.joint_score(m, res.components, theta, sigma_c=sig)
        np.testing.assert_allclose(t, _fd_score(m, res.components, sig, theta, h), rtol=1e-5, atol=1e-5)


def _weighted_mean_err(values: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of values under weights w and its MC error (ratio estimator)."""
    n = w.size
    mean = (w[:, None] * values).sum(0) / w.sum()
    resid = w[:, None] * (values - mean)
    err = np.sqrt((resid**2).sum(0)) / w.sum() * np.sqrt(n / (n - 1))
    return mean, err


def test_expected_joint_score_vanishes_and_ratio_is_one(dy, wh) -> None:  # noqa: ANN001
    """E_θ[t(x,z|θ)] = 0 and E_θ1[r(x,z|θ0,θ1)] = 1 with σ_c not taken from the sample."""
    cases = (
        (dy, dy.xsec_components, np.array([0.05, -0.05]), np.array([-0.04, 0.03])),
        (wh[0], wh[1], np.array([0.01, 0.1]), np.array([-0.01, -0.08])),
    )
    for res, sig, th0, th1 in cases:
        m = res.component_weights
        comps = res.components
        w = gold.event_weights(m, comps, th0)
        t = gold.joint_score(m, comps, th0, sigma_c=sig)
        mean, err = _weighted_mean_err(t, w)
        assert np.all(np.abs(mean) < 4 * err + 1e-12), (mean, err)
        r = np.exp(gold.joint_log_ratio(m, comps, th0, th1, sigma_c=sig))
        w1 = gold.event_weights(m, comps, th1)
        mean, err = _weighted_mean_err(r[:, None], w1)
        assert abs(mean[0] - 1) < 4 * err[0], (mean, err)


def test_dy_truth_normalised_by_importance_sampling(dy) -> None:  # noqa: ANN001
    """∫ p(x|θ) dx = 1 with x = (m, y, cos θ*) drawn from a simple proposal (not the generator)."""
    proc = dy.process
    truth = TruthModel(proc, dy.xsec_components)
    rng = np.random.default_rng(12)
    n = 100_000
    lo, hi = 500.0, 3000.0
    u = rng.random(n)
    m = lo * (hi / lo) ** u  # density 1/(m log(hi/lo))
    ymax = -np.log(m / proc.sqrt_s)
    y = ymax * (2 * rng.random(n) - 1)
    c = 2 * rng.random(n) - 1
    q = 1 / (m * np.log(hi / lo)) / (2 * ymax) / 2
    x = np.stack([m, y, c], 1)
    mbar = truth.components(x)
    for theta in (np.zeros(2), np.array([0.1, -0.1]), np.array([-0.07, 0.02])):
        ratio = np.exp(truth.log_likelihood(x, theta, mbar=mbar)) / q
        est, err = ratio.mean(), ratio.std() / np.sqrt(n)
        assert err < 0.02
        assert abs(est - 1) < 4 * err, (theta, est, err)


def test_dy_truth_is_the_conditional_expectation_of_joint_quantities(dy) -> None:  # noqa: ANN001
    """r(x|θ0,θ1) = E[r(x,z)|x] and t(x|θ) = E[t(x,z)|x], event by event over the 10 latent terms."""
    proc = dy.process
    sig = dy.xsec_components
    comps = proc.components
    x = dy.observed[:500]
    per = proc.density_components(x[:, 0], x[:, 1], x[:, 2])  # (N, K, C) latent channels
    th0, th1 = np.array([0.08, -0.03]), np.array([-0.05, 0.06])
    truth = TruthModel(proc, sig)
    flat = per.reshape(-1, per.shape[2])
    w1 = gold.event_weights(flat, comps, th1).reshape(per.shape[:2])
    post = w1 / w1.sum(1, keepdims=True)  # p(z|x, θ1)
    r_z = np.exp(gold.joint_log_ratio(flat, comps, th0, th1, sigma_c=sig)).reshape(per.shape[:2])
    np.testing.assert_allclose(np.log((post * r_z).sum(1)), truth.log_ratio(x, th0, th1), rtol=1e-10, atol=1e-12)
    t_z = gold.joint_score(flat, comps, th1, sigma_c=sig).reshape(per.shape[:2] + (2,))
    np.testing.assert_allclose((post[..., None] * t_z).sum(1), truth.score(x, th1), rtol=1e-8, atol=1e-10)


def test_truth_score_equals_finite_differences(dy, wh) -> None:  # noqa: ANN001
    for res, sig in ((dy, dy.xsec_components), (wh[0], wh[1])):
        truth = TruthModel(res.process, sig)
        x = res.observed[:200]
        mbar = truth.components(x)
        theta = np.array([0.01, 0.02])
        t = truth.score(x, theta, mbar=mbar)
        h = 1e-5
        for p in range(2):
            e = np.zeros(2)
            e[p] = h
            fd = (truth.log_likelihood(x, theta + e, mbar=mbar) - truth.log_likelihood(x, theta - e, mbar=mbar)) / (
                2 * h
            )
            np.testing.assert_allclose(t[:, p], fd, rtol=1e-5, atol=1e-7)
        # vectorised over θ
        tt = truth.score(x, np.stack([theta, -theta]), mbar=mbar)
        assert tt.shape == (2, 200, 2)
        np.testing.assert_allclose(tt[0], t)


@pytest.mark.slow
def test_wh_neutrino_quadrature_against_scipy(wh) -> None:  # noqa: ANN001
    """The two-branch tan-u Gauss–Legendre p_z integral equals scipy's adaptive integration."""
    integrate = pytest.importorskip("scipy.integrate")
    res = wh[0]
    proc = res.process
    x = res.observed[:4]
    mbar = proc.truth_components(x)
    for i in range(x.shape[0]):
        q, pl, ph = int(x[i, 0]), x[i, 1:4], x[i, 4:7]
        ptn = -(pl[:2] + ph[:2])
        peaks = [float(tr.neutrino_pz(np.array(proc.ew.mw**2), pl, ptn, b)[0]) for b in (1, -1)]
        # the m_lnu >= 10 GeV cut is a hard edge in p_z (unless m_T is above it)
        cuts = [float(tr.neutrino_pz(np.array(proc.mlnu_min**2), pl, ptn, b)[0]) for b in (1, -1)]

        def f(pz: float, q: int = q, pl: np.ndarray = pl, ph: np.ndarray = ph) -> np.ndarray:
            return proc.joint_density_components(q, pl[None], ph[None], np.array([pz]))[0]

        brute = np.zeros(proc.n_components)
        edges = sorted({-6500.0, *peaks, *cuts, 6500.0})
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            val, _ = integrate.quad_vec(f, a, b, epsabs=0, epsrel=1e-8, limit=200)
            brute += val
        np.testing.assert_allclose(mbar[i], brute, rtol=5e-4, atol=5e-4 * abs(brute[0]))


def test_wh_truth_integrand_matches_generator_by_jacobian(wh) -> None:  # noqa: ANN001
    """f(x, p_zν) |∂(p_ℓ, p_H, p_zν)/∂u| = dσ/du of the generator, per channel (so ∫ p(x|θ) dx = 1).

    The Jacobian is taken by central finite differences of the generator's own momentum map.
    """
    proc = wh[0].process
    rng = np.random.default_rng(8)
    u = rng.uniform(0.05, 0.95, (6, proc.dim))
    batch = proc.evaluate(u)

    def phi(uu: np.ndarray, o: int, q: int) -> np.ndarray:
        b = proc.evaluate(uu)
        pl, pn, ph, _ = proc.momenta_quark_frame(
            b.kin["shat"], b.kin["cT"], b.kin["phi"], b.kin["m2"], b.kin["ct"], b.kin["phs"]
        )
        from lhcgold.physics.phasespace import boost_z

        out = []
        for p in (pl, ph, pn):
            p = p.copy()
            if o == 1:
                p[:, 2:4] *= -1
            out.append(boost_z(p, b.kin["y"]))
        return np.concatenate([out[0][:, 1:4], out[1][:, 1:4], out[2][:, 3:4]], axis=1)

    h = 1e-6
    for ci, q in enumerate(proc.charges):
        for o in (0, 1):
            v = phi(u, o, q)
            jac = np.zeros((u.shape[0], 7, 7))
            for d in range(7):
                e = np.zeros(7)
                e[d] = h
                jac[:, :, d] = (phi(u + e, o, q) - phi(u - e, o, q)) / (2 * h)
            det = np.abs(np.linalg.det(jac))
            f = proc.joint_density_components(q, v[:, 0:3], v[:, 3:6], v[:, 6], orientation=o)
            np.testing.assert_allclose(f * det[:, None], batch.comps[:, 2 * ci + o], rtol=2e-5)


def test_wh_nwa_truth_matches_generator_by_jacobian() -> None:
    """Narrow width: the two-solution truth term of the generated p_zν, times |∂(p_ℓ, p_H)/∂u|, is the
    generator's dσ/du (finite-difference Jacobian of the 6 live variables), per charge and orientation."""
    card = load_card_text(WH.replace("w_mode: offshell, mlnu_gev: [10, null]", "w_mode: nwa"))
    res = generate(card, n_events=2000, rng=6)
    proc = res.process
    mbar = proc.truth_components(res.observed)
    assert np.all(np.isfinite(mbar)) and np.all(mbar[:, 0] > 0)
    assert np.all(res.observables[:, res.observable_names.index("mt_w")] <= proc.ew.mw + 1e-6)
    from lhcgold.physics.phasespace import boost_z

    rng = np.random.default_rng(9)
    u = rng.uniform(0.05, 0.95, (6, proc.dim))
    batch = proc.evaluate(u)
    live = [0, 1, 2, 3, 5, 6]

    def phi(uu: np.ndarray, o: int) -> tuple[np.ndarray, np.ndarray]:
        b = proc.evaluate(uu)
        pl, pn, ph, _ = proc.momenta_quark_frame(
            b.kin["shat"], b.kin["cT"], b.kin["phi"], b.kin["m2"], b.kin["ct"], b.kin["phs"]
        )
        out = []
        for p in (pl, ph, pn):
            p = p.copy()
            if o == 1:
                p[:, 2:4] *= -1
            out.append(boost_z(p, b.kin["y"]))
        return np.concatenate([out[0][:, 1:4], out[1][:, 1:4]], axis=1), out[2][:, 3]

    h = 1e-6
    mg = proc.ew.mw * proc.ew.gw
    for ci, q in enumerate(proc.charges):
        for o in (0, 1):
            v, pz = phi(u, o)
            jac = np.zeros((u.shape[0], 6, 6))
            for j, d in enumerate(live):
                e = np.zeros(7)
                e[d] = h
                jac[:, :, j] = (phi(u + e, o)[0] - phi(u - e, o)[0]) / (2 * h)
            det = np.abs(np.linalg.det(jac))
            ptn = -(v[:, 0:2] + v[:, 3:5])
            el = np.linalg.norm(v[:, 0:3], axis=1)
            en = np.sqrt(np.sum(ptn**2, axis=1) + pz**2)
            dm2 = np.abs(2 * (el * pz / en - v[:, 2]))
            f = proc.joint_density_components(q, v[:, 0:3], v[:, 3:6], pz, orientation=o)
            term = f * (np.pi * mg / dm2)[:, None]
            np.testing.assert_allclose(term * det[:, None], batch.comps[:, 2 * ci + o], rtol=2e-5)


@pytest.mark.slow
def test_wh_truth_is_the_conditional_expectation_of_joint_quantities(wh) -> None:  # noqa: ANN001
    """r(x|θ0,θ1) = E[r(x,z)|x] and t(x|θ) = E[t(x,z)|x] for W±H, with z = (p_zν, orientation, flavour).

    The expectation is a dense trapezoid sum over p_zν of the generator's per-orientation joint
    densities, independent of the truth's Gauss–Legendre nodes.
    """
    res, sig, _ = wh
    proc = res.process
    comps = proc.components
    th0, th1 = np.array([0.015, -0.1]), np.array([-0.01, 0.12])
    truth = TruthModel(proc, sig)
    x = res.observed[:3]
    pz = np.linspace(-6500.0, 6500.0, 260_001)
    for i in range(x.shape[0]):
        q, pl, ph = int(x[i, 0]), x[i, 1:4], x[i, 4:7]
        lat = np.concatenate(
            [
                proc.joint_density_components(
                    q, np.broadcast_to(pl, (pz.size, 3)), np.broadcast_to(ph, (pz.size, 3)), pz, orientation=o
                )
                for o in (0, 1)
            ]
        )
        keep = lat[:, 0] > 0
        lat = lat[keep]
        w1 = gold.event_weights(lat, comps, th1)
        post = w1 / w1.sum()  # p(z | x, θ1) on the uniform p_z grid
        r_z = np.exp(gold.joint_log_ratio(lat, comps, th0, th1, sigma_c=sig))
        got = np.log(post @ r_z)
        ref = truth.log_ratio(x[i : i + 1], th0, th1)[0]
        assert got == pytest.approx(ref, abs=2e-4)
        t_z = gold.joint_score(lat, comps, th1, sigma_c=sig)
        np.testing.assert_allclose(post @ t_z, truth.score(x[i : i + 1], th1)[0], rtol=2e-3, atol=2e-3)
