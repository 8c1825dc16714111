"""Fisher information of the exact likelihood: the same extended likelihood as every estimator.

Checked against independent numbers: the analytic information of a toy, finite differences of the
generator's own exact log-likelihood and of σ(θ), the Drell–Yan rate polynomial of PROCESSES.md §2(a),
and the bound exact ≥ any estimator (positive semi-definite difference, up to Monte-Carlo error).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.io.events import EventFile

LUMI_IFB = 300.0
L_PB = LUMI_IFB * 1e3
CARD = Path(__file__).resolve().parents[2] / "cards" / "dy.yaml"


class _ToyTruth:
    """Exact observed-level densities of the (1 + θx)² toy: dσ_c/dx = (1, 2x, x²), σ_c = (2, 0, 2/3)."""

    observed_names = ("x",)

    def truth_components(self, x):
        return np.stack([np.ones(len(x)), 2 * x[:, 0], x[:, 0] ** 2], axis=1)

    def xsec_components(self):
        return np.array([2.0, 0.0, 2.0 / 3.0])


@pytest.mark.parametrize("theta", [0.0, 0.3, -0.7])
def test_exact_information_toy_analytic(quad_events, theta):
    """dσ/dx = (1 + θx)² on [-1, 1]: I = L ∫ (∂_θ dσ)²/dσ dx = 8L/3 for every θ (rate included);
    the rate part is L σ'²/σ with σ = 2 + 2θ²/3, σ' = 4θ/3."""
    path, _ = quad_events
    sigma, dsigma = 2 + 2 * theta**2 / 3, 4 * theta / 3
    full = infer.exact_information(path, _ToyTruth(), theta=[theta], luminosity_ifb=LUMI_IFB)
    assert full.method == "exact" and full.details["include_rate"] is True
    np.testing.assert_allclose(full.matrix, [[8 * L_PB / 3]], rtol=1e-9)
    shape = infer.exact_information(path, _ToyTruth(), theta=[theta], luminosity_ifb=LUMI_IFB, include_rate=False)
    assert shape.method == "exact (shape only)"
    np.testing.assert_allclose(shape.matrix, [[L_PB * (8 / 3 - dsigma**2 / sigma)]], rtol=1e-9)
    # here x is the whole event (no latent variables): exact = truth from the weights
    joint = infer.truth_information(path, theta=[theta], luminosity_ifb=LUMI_IFB)
    np.testing.assert_allclose(full.matrix, joint.matrix, rtol=1e-9)


@pytest.fixture(scope="module")
def dy(tmp_path_factory):
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, build_process, generate

    card = load_card(CARD)
    path = tmp_path_factory.mktemp("dy") / "dy.h5"
    generate(card, n_events=6000, rng=3).write_events(path)
    return path, TruthModel(build_process(card))


def test_dy_exact_information_equals_finite_differences(dy):
    """Score by central differences of the generator's exact log p(x|θ), rate term by central
    differences of σ(θ): the information L Σ w t tᵀ + L σ'σ'ᵀ/σ, from neither the
    component gradients nor the library's Fisher code."""
    path, tm = dy
    ef = EventFile(path)
    ch = ef.read()
    cols = [ef.observables.index(n) for n in tm.observed_names]
    x = ch.observations[:, cols]
    m = ch.components()
    comps = EventFile(path).setup.components
    from lhcgold.physics.morphing import component_factors

    def w(theta):
        return m @ component_factors(np.asarray(theta, float), comps)

    def sigma(theta):  # the file's precise σ_c (quadrature for Drell–Yan), as the rate term uses
        return ef.component_xsec() @ component_factors(np.asarray(theta, float), comps)

    h = 1e-5  # central differences: O(h²) ≈ 1e-8 relative here
    th0 = np.zeros(2)
    t = np.zeros((len(x), 2))
    dsig = np.zeros(2)
    for p in range(2):
        e = np.eye(2)[p] * h
        t[:, p] = (tm.log_likelihood(x, th0 + e) - tm.log_likelihood(x, th0 - e)) / (2 * h)
        dsig[p] = (sigma(th0 + e) - sigma(th0 - e)) / (2 * h)
    w0 = w(th0)
    expected = L_PB * ((t * w0[:, None]).T @ t + np.outer(dsig, dsig) / sigma(th0))
    got = infer.exact_information(path, tm, theta="sm", luminosity_ifb=LUMI_IFB)
    np.testing.assert_allclose(got.matrix, expected, rtol=1e-6)


def test_dy_rate_term_is_the_rate_polynomial(dy):
    """PROCESSES.md §2(a), 500 < m < 3000 GeV: σ/σ_SM = 1 − 1.697 C_LL − 1.122 C_LR + …, σ_SM = 86.43 fb.
    The rate information is L σ_SM A Aᵀ; exact minus its shape-only part is exactly that term."""
    path, tm = dy
    a = np.array([-1.697, -1.122])
    rate = infer.rate_information(path, theta="sm", luminosity_ifb=LUMI_IFB).matrix
    np.testing.assert_allclose(rate, L_PB * 86.43e-3 * np.outer(a, a), rtol=3e-3)
    full = infer.exact_information(path, tm, theta="sm", luminosity_ifb=LUMI_IFB).matrix
    shape = infer.exact_information(path, tm, theta="sm", luminosity_ifb=LUMI_IFB, include_rate=False).matrix
    np.testing.assert_allclose(full - shape, rate, rtol=1e-10)


def _min_eig_with_tolerance(diff: np.ndarray, per_event: np.ndarray) -> tuple[float, float]:
    """Smallest eigenvalue of ``diff`` and 4 × the Monte-Carlo error of vᵀ I v along its eigenvector v,
    from the per-event contributions (N, P, P) of the exact information (independent weighted events)."""
    vals, vecs = np.linalg.eigh(diff)
    v = vecs[:, 0]
    q = np.einsum("p,npq,q->n", v, per_event, v)
    return float(vals[0]), float(4 * np.sqrt(np.sum(q**2)))


@pytest.mark.slow
def test_exact_information_bounds_every_estimator(dy, tmp_path):
    """On the same (test) events: exact − X is positive semi-definite for X = a trained SALLY, a 2-D
    histogram, the rate alone; the shape-only part (the old "truth (parton)" of the report) is not."""
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta
    from lhcgold.ml import SALLY, TrainConfig

    path, tm = dy
    ef = EventFile(path)
    start, stop, factor = augment.partition_bounds(ef.n_events, "test")
    test = infer.EventsView(path, start=start, stop=stop, weight_scale=factor)
    ts = augment.sample_local(ef, theta=BenchmarkTheta("sm"), n_samples=20_000, partition="train", rng=5)
    feats = [ef.observables.index(n) for n in tm.observed_names]
    sally = SALLY(features=feats, n_hidden=(32, 32), activation="tanh")
    sally.train(ts, config=TrainConfig(n_epochs=12, batch_size=256, seed=5))

    exact = infer.exact_information(test, tm, theta="sm", luminosity_ifb=LUMI_IFB).matrix
    xs, ws = [], []
    for x, m in test.component_chunks():
        xs.append(x)
        ws.append(m[:, 0])  # component (0, 0) = the SM weight
    x_all, w_all = np.concatenate(xs), np.concatenate(ws)
    t = tm.score(x_all[:, feats], np.zeros(2))
    per_event = L_PB * w_all[:, None, None] * t[:, :, None] * t[:, None, :]

    estimators = {
        "sally": infer.sally_information(test, sally, theta="sm", luminosity_ifb=LUMI_IFB).matrix,
        "histogram": infer.histogram_information(
            test, ["m_ll", "cos_theta_star"], bins=(6, 6), theta="sm", luminosity_ifb=LUMI_IFB
        ).matrix,
        "rate": infer.rate_information(test, theta="sm", luminosity_ifb=LUMI_IFB).matrix,
    }
    for name, info in estimators.items():
        lam, tol = _min_eig_with_tolerance(exact - info, per_event)
        assert lam >= -tol, (name, lam, tol, exact, info)
        assert np.trace(info) > 0.05 * np.trace(exact), name  # not trivially small
    # without its rate term the exact information is *not* above the rate alone (the old bug)
    shape = infer.exact_information(test, tm, theta="sm", luminosity_ifb=LUMI_IFB, include_rate=False).matrix
    lam, tol = _min_eig_with_tolerance(shape - estimators["rate"], per_event)
    assert lam < -tol / 4  # more than one Monte-Carlo standard deviation below zero
