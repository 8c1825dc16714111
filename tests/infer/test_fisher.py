"""Fisher information against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.exceptions import ConfigError
from lhcgold.physics.wh import WHME

LUMI_IFB = 10.0
L_PB = LUMI_IFB * 1000.0


def _poisson_expected_ll_hessian(weights, theta0: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """−∂²/∂θ² of E_θ0[log L(θ)] for a Poisson process with one cell per event, by central differences."""
    nu0 = L_PB * weights(theta0)

    def ell(th):
        nu = L_PB * weights(th)
        return float(np.sum(nu0 * np.log(nu) - nu))

    p = len(theta0)
    hess = np.zeros((p, p))
    for i in range(p):
        for j in range(p):
            ei, ej = np.eye(p)[i] * h, np.eye(p)[j] * h
            hess[i, j] = (
                ell(theta0 + ei + ej) - ell(theta0 + ei - ej) - ell(theta0 - ei + ej) + ell(theta0 - ei - ej)
            ) / (4 * h * h)
    return -hess


@pytest.mark.parametrize("theta", [[0.0, 0.0], [0.7, -0.4]])
def test_truth_information_equals_poisson_finite_differences(two_param_events, theta):
    path, d = two_param_events
    th = np.array(theta)
    info = infer.truth_information(path, theta=th, luminosity_ifb=LUMI_IFB, chunk_size=1000)
    expected = _poisson_expected_ll_hessian(d["weights"], th)
    np.testing.assert_allclose(info.matrix, expected, rtol=2e-5, atol=1e-6 * np.abs(expected).max())
    assert info.parameter_names == ("ca", "cb")
    assert info.method == "truth"


def test_truth_information_analytic_one_parameter(quad_events):
    # dσ/dx = (1+θx)²: I(θ) = L ∫ (2x(1+θx))² / (1+θx)² dx = L ∫ 4x² dx = 8L/3 for every θ
    path, _ = quad_events
    for th in (0.0, 0.4):
        info = infer.truth_information(path, theta=[th], luminosity_ifb=LUMI_IFB)
        assert info.matrix[0, 0] == pytest.approx(8 * L_PB / 3, rel=1e-10)


def test_rate_information_analytic(quad_events):
    # σ = 2 + 2θ²/3: I = L σ'² / σ
    path, _ = quad_events
    th = 0.6
    sigma, dsigma = 2 + 2 * th**2 / 3, 4 * th / 3
    info = infer.rate_information(path, theta=[th], luminosity_ifb=LUMI_IFB)
    assert info.matrix[0, 0] == pytest.approx(L_PB * dsigma**2 / sigma, rel=1e-10)


def test_histogram_information_independent_binned_computation(two_param_events):
    path, d = two_param_events
    th = np.array([0.3, -0.2])
    edges_u = np.array([0.0, 0.3, 0.8, 1.5, 3.0])
    edges_v = np.array([-1.0, -0.2, 0.4, 1.0])
    info = infer.histogram_information(path, ["u", "v"], bins=[edges_u, edges_v], theta=th, luminosity_ifb=LUMI_IFB)

    # independent: bin cross sections by np.histogram2d with clamped overflow, derivatives by differences
    x = d["x"]
    xu = np.clip(x[:, 0], edges_u[0], edges_u[-1])
    xv = np.clip(x[:, 1], edges_v[0], edges_v[-1])

    def sigma_bins(t):
        h, _, _ = np.histogram2d(xu, xv, bins=[edges_u, edges_v], weights=d["weights"](t))
        return h.ravel()

    eps = 1e-5
    s0 = sigma_bins(th)
    grads = np.stack([(sigma_bins(th + eps * e) - sigma_bins(th - eps * e)) / (2 * eps) for e in np.eye(2)], axis=1)
    expected = L_PB * (grads / s0[:, None]).T @ grads
    np.testing.assert_allclose(info.matrix, expected, rtol=1e-6)
    # one bin = rate information
    one = infer.histogram_information(path, "u", bins=1, theta=th, luminosity_ifb=LUMI_IFB)
    rate = infer.rate_information(path, theta=th, luminosity_ifb=LUMI_IFB)
    np.testing.assert_allclose(one.matrix, rate.matrix, rtol=1e-10)


def test_histogram_information_bounded_by_truth(two_param_events):
    path, _ = two_param_events
    th = np.array([0.2, 0.1])
    truth = infer.truth_information(path, theta=th, luminosity_ifb=LUMI_IFB).matrix
    for obs, bins in ((["u"], 10), (["v"], 30), (["u", "w"], (6, 6)), (["u", "v", "w"], 4)):
        h = infer.histogram_information(path, obs, bins=bins, theta=th, luminosity_ifb=LUMI_IFB).matrix
        eig = np.linalg.eigvalsh(truth - h)
        assert eig.min() > -1e-9 * np.abs(truth).max(), (obs, eig)
        assert np.trace(h) > 0


def test_adaptive_bins_have_equal_cross_section(two_param_events):
    path, _ = two_param_events
    info = infer.histogram_information(path, "u", bins=8, theta=[0.5, 0.5], luminosity_ifb=LUMI_IFB)
    edges = np.asarray(info.details["edges"][0])
    assert len(edges) == 9
    ef_setup = info  # noqa: F841
    from lhcgold.io.events import EventFile
    from lhcgold.physics.morphing import component_factors

    ch = EventFile(path).read()
    w = ch.components() @ component_factors(np.array([0.5, 0.5]), ch.setup.components)
    idx = np.clip(np.searchsorted(edges[1:-1], ch.observations[:, 0], side="right"), 0, 7)
    frac = np.bincount(idx, weights=w, minlength=8) / w.sum()
    np.testing.assert_allclose(frac, 1 / 8, atol=2e-3)


@pytest.fixture
def wh_cp_events(tmp_path, helpers):
    """WH at fixed √ŝ = 600 GeV, W on shell, angles sampled flat; each event paired with φ* → −φ*.

    Parameters (gc, a3). The pairing makes every φ*-symmetric (CP-even) histogram blind to the
    linear a3 term exactly, as it is in the infinite-statistics limit.
    """
    rng = np.random.default_rng(3)
    n = 3000
    me = WHME(["gc", "a3"])
    shat = 600.0**2
    mw2 = me.ew.mw**2
    cT = rng.uniform(-1, 1, n)
    ct = rng.uniform(-1, 1, n)
    ph = rng.uniform(-np.pi, np.pi, n)
    cT, ct, ph = np.concatenate([cT, cT]), np.concatenate([ct, ct]), np.concatenate([ph, -ph])
    m = me.me2_components(np.full(2 * n, shat), cT, np.full(2 * n, mw2), ct, ph)
    m = m / m[:, 0].sum()  # normalise: σ_SM = 1 pb
    comps = me.components
    basis = np.array([[0, 0], [0.02, 0], [-0.02, 0], [0, 0.15], [0, -0.15], [0.02, 0.15]])
    setup = helpers.make_setup(["gc", "a3"], [(-0.02, 0.02), (-0.15, 0.15)], comps, basis)
    x = np.stack([cT, ct, ph, np.cos(ph), np.sin(ph), np.sin(2 * ph)], axis=1)
    path = helpers.write_events(
        tmp_path / "wh.h5", setup, ["cos_Theta", "cos_theta_star", "phi_star", "cos_phi", "sin_phi", "sin_2phi"], x, m
    )
    return path


def test_cp_even_histograms_carry_no_a3_information(wh_cp_events):
    path = wh_cp_events
    truth = infer.truth_information(path, theta="b0", luminosity_ifb=300.0).matrix
    assert truth[1, 1] > 0
    for obs, bins in (
        (["cos_Theta"], 20),
        (["cos_theta_star"], 20),
        (["cos_phi"], 20),
        (["cos_Theta", "cos_theta_star"], (8, 8)),
    ):
        h = infer.histogram_information(path, obs, bins=bins, theta="b0", luminosity_ifb=300.0).matrix
        assert abs(h[1, 1]) < 1e-10 * truth[1, 1], obs
        assert h[0, 0] > 0.01 * truth[0, 0]  # gc is measured by the same histograms
    # a CP-odd observable recovers a3 information, bounded by the truth
    odd = infer.histogram_information(path, ["sin_phi"], bins=20, theta="b0", luminosity_ifb=300.0).matrix
    assert 0.05 * truth[1, 1] < odd[1, 1] <= truth[1, 1] * (1 + 1e-9)


class _ExactScore:
    """Stand-in SALLY model for the (1+θx)² toy: the exact score at θ0, t(x) = 2x/(1+θ0 x) − σ'/σ."""

    observables = ("x",)

    def __init__(self, theta0: float):
        self.theta = np.array([theta0])

    def score(self, x):
        th = self.theta[0]
        return (2 * x[:, 0] / (1 + th * x[:, 0]) - (4 * th / 3) / (2 + 2 * th**2 / 3))[:, None]


class _ExactRatio:
    """Stand-in parameterised ratio model for the toy: log p(x|θ) − log p(x|0)."""

    observables = ("x",)

    def log_ratio(self, x, thetas):
        th = np.asarray(thetas)[:, 0][:, None]
        xx = x[:, 0][None, :]
        return np.log((1 + th * xx) ** 2 / (2 + 2 * th**2 / 3)) - np.log(0.5)


def test_sally_and_ml_information_with_exact_models_equal_truth(quad_events):
    path, _ = quad_events
    for th in (0.0, 0.3):
        truth = infer.truth_information(path, theta=[th], luminosity_ifb=LUMI_IFB).matrix
        sally = infer.sally_information(path, _ExactScore(th), theta=[th], luminosity_ifb=LUMI_IFB).matrix
        ml = infer.ml_information(path, _ExactRatio(), theta=[th], luminosity_ifb=LUMI_IFB).matrix
        np.testing.assert_allclose(sally, truth, rtol=1e-9)
        np.testing.assert_allclose(ml, truth, rtol=1e-5)
        kin = infer.sally_information(
            path, _ExactScore(th), theta=[th], luminosity_ifb=LUMI_IFB, include_rate=False
        ).matrix
        rate = infer.rate_information(path, theta=[th], luminosity_ifb=LUMI_IFB).matrix
        np.testing.assert_allclose(kin + rate, truth, rtol=1e-9)


def test_model_on_other_observables_is_an_error(quad_events):
    path, _ = quad_events
    model = _ExactScore(0.0)
    model.observables = ("pt_w",)
    with pytest.raises(ConfigError, match="trained on observables"):
        infer.sally_information(path, model, luminosity_ifb=1.0)


def test_unknown_observable_suggests(two_param_events):
    path, _ = two_param_events
    with pytest.raises(ConfigError, match="did you mean 'u'"):
        infer.histogram_information(path, "uu", bins=3)


def test_projection_profiling_and_ellipse():
    m = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    info = infer.FisherInformation(m, ("a", "b", "c"), np.zeros(3), 1.0, "test")
    np.testing.assert_allclose(info.project(["a", "c"]).matrix, [[4.0, 0.5], [0.5, 2.0]])
    # profiled information = inverse of the covariance sub-block
    cov = np.linalg.inv(m)
    np.testing.assert_allclose(info.profile(["a", "c"]).matrix, np.linalg.inv(cov[np.ix_([0, 2], [0, 2])]), rtol=1e-12)
    pts = info.ellipse(parameters=("a", "b"), distance=2.0, profile=False)
    sub = m[:2, :2]
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", pts, sub, pts), 4.0, rtol=1e-10)
    pts68 = infer.fisher_ellipse(sub, (1.0, -1.0), cl=0.68)
    d = pts68 - [1.0, -1.0]
    from scipy.stats import chi2

    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", d, sub, d), chi2.ppf(0.68, 2), rtol=1e-10)
    # rank one (rate only): two parallel lines at Δθᵀ I Δθ = d², separated by a NaN row
    g = np.array([1.0, 2.0])
    band = infer.fisher_ellipse(np.outer(g, g), (0.5, 0.5), distance=1.5, n_points=100)
    ok = ~np.isnan(band).any(axis=1)
    assert np.count_nonzero(~ok) == 1
    d = band[ok] - 0.5
    np.testing.assert_allclose(np.abs(d @ g), 1.5, rtol=1e-10)
    assert np.ptp(d @ np.array([2.0, -1.0])) > 100  # extends along the uninformed direction
    with pytest.raises(ConfigError):
        infer.fisher_ellipse(np.zeros((2, 2)))


def test_fisher_save_load(tmp_path, quad_events):
    path, _ = quad_events
    info = infer.truth_information(path, theta=[0.1], luminosity_ifb=LUMI_IFB)
    for name in ("fi.json", "fi.h5"):
        info.save(tmp_path / name)
        back = infer.FisherInformation.load(tmp_path / name)
        np.testing.assert_array_equal(back.matrix, info.matrix)
        assert back.parameter_names == info.parameter_names
        with pytest.raises(OSError, match="refusing to overwrite"):
            info.save(tmp_path / name)
        info.save(tmp_path / name, overwrite=True)
