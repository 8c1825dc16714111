"""Nuisance parameters: profiled limits and information against closed forms; embedded Drell-Yan."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.special import wrightomega

from lhcgold import infer
from lhcgold.exceptions import ConfigError
from lhcgold.infer._data import components_of, factors
from lhcgold.infer.nuisance import Normalisation, WeightVariation, profile_limits, profiled_information
from lhcgold.io.view import as_view

CARD = Path(__file__).resolve().parents[2] / "cards" / "dy.yaml"


def _analytic_rate_profile(mu: np.ndarray, n: float, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Profile of n log(μ e^{κν}) − μ e^{κν} − ν²/2 over ν in closed form (Lambert W).

    Stationarity ν = κ (n − μ e^{κν}); with u = κν and v = κ²n − u: v e^v = κ²μ e^{κ²n}, so
    v = W(e^{log(κ²μ) + κ²n}) = ω(log(κ²μ) + κ²n) (Wright omega).
    """
    k = np.log1p(delta)
    u = k * k * n - np.real(wrightomega(np.log(k * k * mu) + k * k * n))
    nu = u / k
    ll = n * (np.log(mu) + u) - mu * np.exp(u) - 0.5 * nu**2
    return -2 * (ll - ll.max()), nu


def _event_rate(path, thetas, lumi_ifb):
    s = as_view(path)
    m = np.concatenate([p[1] for p in s.component_chunks()])
    return 1000 * lumi_ifb * (factors(thetas, components_of(s.setup)) @ m.sum(axis=0))


def test_rate_only_normalisation_matches_analytic_profile(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 41)
    res = profile_limits(
        infer.RateOnly(),
        path,
        nuisances=[Normalisation("lumi", 0.05)],
        grid=grid,
        luminosity_ifb=0.5,
        asimov_theta=[0.3],
    )
    mu = _event_rate(path, grid.points, 0.5)
    q, nu = _analytic_rate_profile(mu, float(_event_rate(path, np.array([0.3]), 0.5)), 0.05)
    np.testing.assert_allclose(res.q_profiled, q, atol=1e-3)
    np.testing.assert_allclose(res.nu_hat[:, 0], nu, atol=1e-3)
    assert np.all(res.q_profiled <= res.q_fixed + 1e-9)


def test_profiled_information_closed_form(quad_events):
    """Rate only, one normalisation: I_prof = I_θθ / (1 + μ κ²); the profiled q has that curvature."""
    path, _ = quad_events
    nus = [Normalisation("lumi", 0.1)]
    info = profiled_information(infer.RateOnly(), path, nuisances=nus, theta=[0.4], luminosity_ifb=0.5)
    h = 1e-6
    mu = _event_rate(path, np.array([[0.4 - h], [0.4], [0.4 + h]]), 0.5)
    dmu = (mu[2] - mu[0]) / (2 * h)
    i_tt = dmu**2 / mu[1]
    kap2 = np.log1p(0.1) ** 2
    np.testing.assert_allclose(info.fixed[0, 0], i_tt, rtol=1e-6)
    np.testing.assert_allclose(info.profiled[0, 0], i_tt / (1 + mu[1] * kap2), rtol=1e-6)
    np.testing.assert_allclose(info.impacts["lumi"][0] ** 2, 1 / info.profiled[0, 0] - 1 / i_tt, rtol=1e-6)
    d = 0.01
    res = profile_limits(
        infer.RateOnly(),
        path,
        nuisances=nus,
        grid=[[0.4 - d], [0.4], [0.4 + d]],
        luminosity_ifb=0.5,
        asimov_theta=[0.4],
    )
    curvature = 0.5 * (res.q_profiled[0] + res.q_profiled[2]) / d**2  # the cubic term cancels
    np.testing.assert_allclose(curvature, info.profiled[0, 0], rtol=2e-3)


def test_weight_variation_coefficients():
    a, b = WeightVariation("s", np.array([1.2, 1.0]), np.array([0.9, 1.0])).coefficients(2)
    np.testing.assert_allclose(a, [0.5 * np.log(1.2 / 0.9), 0.0])
    np.testing.assert_allclose(b, [0.5 * np.log(1.2 * 0.9), 0.0])
    # w(ν=±1) reproduces the up/down weights exactly
    np.testing.assert_allclose(np.exp(a + b), [1.2, 1.0])
    np.testing.assert_allclose(np.exp(-a + b), [0.9, 1.0])


@pytest.mark.parametrize(
    "nuisances,match",
    [
        ([Normalisation("a", 0.1), Normalisation("a", 0.2)], "unique"),
        ([WeightVariation("s", np.ones(3))], "ratios for"),
    ],
)
def test_bad_nuisances(quad_events, nuisances, match):
    path, _ = quad_events
    with pytest.raises(ConfigError, match=match):
        profile_limits(
            infer.RateOnly(), path, nuisances=nuisances, grid=infer.LimitGrid([(-1.0, 1.0)], 5), luminosity_ifb=0.5
        )


def test_bad_input(quad_events):
    path, _ = quad_events
    with pytest.raises(ConfigError, match="uncertainty"):
        Normalisation("n", 0.0)
    with pytest.raises(ConfigError, match="not a likelihood model"):
        profile_limits(
            object(),
            path,
            nuisances=[],
            grid=infer.LimitGrid([(-1.0, 1.0)], 5),  # type: ignore[arg-type]
            luminosity_ifb=0.5,
        )


# ---------------------------------------------------------------------------------------------- Drell-Yan
@pytest.fixture(scope="module")
def dy(tmp_path_factory):
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import generate

    card = load_card(CARD)
    res = generate(card, n_events=10_000, rng=2)
    path = tmp_path_factory.mktemp("dy") / "dy.h5"
    res.write_events(path)
    return path, res, card


def test_embedded_events_store_scale_variations(dy, tmp_path):
    """write_events(variations=...) stores μ_F as a MadMiner nuisance: read back as the same ratios, streamed
    by the view, profiled like the hand-made WeightVariation; bad ratios are refused before writing."""
    from lhcgold.generate.variations import scale_variation_ratios

    _, res, _ = dy
    r = scale_variation_ratios(res, factors=(0.5, 2.0))
    path = res.write_events(tmp_path / "dyv.h5", variations={"mu_F": (r["muf_2"], r["muf_0.5"])})
    (stored,) = infer.nuisances_from_file(path)
    np.testing.assert_allclose(stored.up, r["muf_2"], rtol=1e-12)
    np.testing.assert_allclose(stored.down, r["muf_0.5"], rtol=1e-12)
    assert as_view(path).nuisance_names == ("mu_F",)
    with pytest.raises(ConfigError, match="positive finite"):
        res.write_events(tmp_path / "bad.h5", variations={"mu_F": (-r["muf_2"], None)})
    assert not (tmp_path / "bad.h5").exists()


@pytest.mark.slow
def test_drell_yan_scale_variation_matches_quadrature_at_varied_scale(dy):
    from lhcgold.generate.embedded import build_process, parse_card
    from lhcgold.generate.variations import scale_variation_ratios

    path, res, card = dy
    ratios = scale_variation_ratios(res, factors=(0.5, 2.0))
    np.testing.assert_array_equal(ratios["mur_2"], 1.0)  # no α_s at LO
    popts, _ = parse_card(card)
    w = res.component_weights
    # high masses (large x): the μ_F dependence is several per cent; the quadrature of the
    # process restricted to that mass window at μ_F = k μ_0 is the independent reference
    window = popts.with_options(mll=(1500.0, 3000.0))
    sel = res.observed[:, list(res.observed_names).index("m_ll")] > 1500.0
    base = build_process(card, process_options=window).xsec_components()
    for k in (0.5, 2.0):
        varied = build_process(card, process_options=dataclasses.replace(window, scale=popts.scale * k))
        nz = base != 0  # the (C_LL, C_LR) interference component vanishes
        expect = varied.xsec_components()[nz] / base[nz]
        got = (w[sel][:, nz] * ratios[f"muf_{k:g}"][sel, None]).sum(axis=0) / w[sel][:, nz].sum(axis=0)
        np.testing.assert_allclose(got, expect, rtol=2e-3)
        assert abs(expect[0] - 1) > 0.05  # an 8 % effect: the check is not trivial


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rate", "histogram"])
def test_drell_yan_profiled_limits_are_wider(dy, method):
    from lhcgold.generate.variations import scale_variation_ratios

    path, res, _ = dy
    r = scale_variation_ratios(res, factors=(0.5, 2.0))
    nus = [Normalisation("norm", 0.05), WeightVariation("scale_muf", r["muf_2"], r["muf_0.5"])]
    like = infer.RateOnly() if method == "rate" else infer.Histogram(["m_ll", "cos_theta_star"], bins=(5, 4))
    grid = infer.LimitGrid([(-0.06, 0.06), 0.0], 61)
    out = profile_limits(like, path, nuisances=nus, grid=grid, luminosity_ifb=100.0)
    assert np.all(out.q_profiled <= out.q_fixed + 1e-9)
    lo_f, hi_f = out.interval(0.68, profiled=False)
    lo_p, hi_p = out.interval(0.68, profiled=True)
    assert lo_p <= lo_f and hi_p >= hi_f and (hi_p - lo_p) > (hi_f - lo_f)
    if method == "rate":  # the normalisation alone: the numerical profile is the analytic one
        alone = profile_limits(like, path, nuisances=nus[:1], grid=grid, luminosity_ifb=100.0)
        mu = _event_rate(path, grid.points, 100.0)
        q, _ = _analytic_rate_profile(mu, float(_event_rate(path, np.zeros(2), 100.0)), 0.05)
        np.testing.assert_allclose(alone.q_profiled, q, atol=1e-3)
        assert alone.interval(0.68) != alone.interval(0.68, profiled=False)


def test_nuisances_from_file_madminer_layout(quad_events, tmp_path, helpers):
    """Nuisance benchmarks appended in MadMiner's layout come back as ratios to the reference column."""
    import shutil

    from lhcgold.infer.nuisance import nuisances_from_file

    src, _ = quad_events
    path = tmp_path / "with_nuisances.h5"
    shutil.copy(src, path)
    assert nuisances_from_file(path) == []
    down = helpers.append_madminer_nuisances(path)
    scale, pdf = nuisances_from_file(path)
    np.testing.assert_allclose(scale.up, 1.1)
    np.testing.assert_allclose(scale.down, np.linspace(0.8, 0.9, len(down)))
    assert pdf.down is None
    np.testing.assert_allclose(pdf.up, 1.05)
    # the file still reads as events, and the stored nuisances profile like hand-made ones
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    a = profile_limits(infer.RateOnly(), path, nuisances=[scale, pdf], grid=grid, luminosity_ifb=0.5)
    b = profile_limits(
        infer.RateOnly(),
        src,
        nuisances=[WeightVariation("s", scale.up, scale.down), WeightVariation("p", pdf.up)],
        grid=grid,
        luminosity_ifb=0.5,
    )
    np.testing.assert_allclose(a.q_profiled, b.q_profiled, atol=1e-9)


# ------------------------------------------------------------------------------ unbinned (per-event factors)
class _QuadTruth:
    """dσ/dx = (1 + θx)² on [-1, 1]: component densities (1, 2x, x²), σ_c = (2, 0, 2/3)."""

    observables = ("x",)

    def truth_components(self, x):
        x = np.asarray(x)[:, 0]
        return np.stack([np.ones_like(x), 2 * x, x * x], axis=1)

    def xsec_components(self):
        return np.array([2.0, 0.0, 2.0 / 3.0])


class _QuadRatio:
    """The exact log r(x|θ) = log p(x|θ) − log p(x|0) of the same toy (reference θ = 0)."""

    observables = ("x",)
    theta_ref = np.zeros(1)

    def log_ratio(self, x, thetas):
        x = np.asarray(x)[:, 0]
        th = np.asarray(thetas)[:, :1]
        return np.log((1 + th * x[None, :]) ** 2 / (2 + 2 * th**2 / 3)) - np.log(0.5)


def _quadrature_profile(thetas, theta_true, lumi_pb, g):
    """q(θ) of the extended likelihood of p(x|θ,ν) ∝ (1+θx)² g(x,ν) by adaptive quadrature and a 1-D fit."""
    from scipy.integrate import quad
    from scipy.optimize import minimize_scalar

    sig_t = 2 + 2 * theta_true**2 / 3
    n = lumi_pb * sig_t

    def ll(th, nu):
        kin = quad(lambda x: (1 + theta_true * x) ** 2 / sig_t * np.log((1 + th * x) ** 2 * g(x, nu)), -1, 1)[0]
        mu = lumi_pb * quad(lambda x: (1 + th * x) ** 2 * g(x, nu), -1, 1)[0]
        return n * kin - mu - 0.5 * nu * nu

    prof = np.array([-minimize_scalar(lambda v, t=t: -ll(t, v), bounds=(-5, 5), method="bounded").fun for t in thetas])
    return -2 * (prof - prof.max())


@pytest.mark.parametrize("kind", ["truth", "ratio"])
def test_unbinned_profile_matches_quadrature(quad_events, kind):
    """Truth and an exact ratio model, profiled with an x-dependent two-sided variation: the profile of the
    extended likelihood computed independently by quadrature."""
    path, info = quad_events
    x = info["nodes"]
    up, down = 1 + 0.3 * x, 1 - 0.2 * x  # w(ν=±1)/w(0)
    a, b = 0.5 * np.log(up / down), 0.5 * np.log(up * down)
    like = infer.Truth(_QuadTruth()) if kind == "truth" else infer.NeuralRatio(_QuadRatio(), fast=False)
    grid = infer.LimitGrid([(-0.6, 0.6)], 13)
    res = profile_limits(
        like,
        path,
        nuisances=[WeightVariation("shape", up, down)],
        grid=grid,
        luminosity_ifb=0.2,
        asimov_theta=[0.1],
    )

    def g(xx, nu):
        return np.exp(
            0.5 * np.log((1 + 0.3 * xx) / (1 - 0.2 * xx)) * nu + 0.5 * np.log((1 + 0.3 * xx) * (1 - 0.2 * xx)) * nu**2
        )

    q = _quadrature_profile(grid.points[:, 0], 0.1, 200.0, g)
    np.testing.assert_allclose(res.q_profiled, q, atol=2e-5)
    # the unprofiled scan is the model's own expected_limits scan
    plain = infer.expected_limits(like, path, grid=grid, luminosity_ifb=0.2, asimov_theta=[0.1])
    np.testing.assert_allclose(res.q_fixed, plain.q, atol=1e-8)
    assert np.all(res.q_profiled <= res.q_fixed + 1e-9) and res.q_profiled[0] < 0.9 * res.q_fixed[0]
    assert np.ptp(a) > 0 and np.ptp(b) > 0  # a genuine shape variation


def test_unbinned_normalisation_is_the_rate_closed_form(quad_events):
    """A pure normalisation on the truth model: profiled − fixed is the Lambert-W rate profile's shift."""
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    res = profile_limits(
        infer.Truth(_QuadTruth()),
        path,
        nuisances=[Normalisation("lumi", 0.05)],
        grid=grid,
        luminosity_ifb=0.5,
        asimov_theta=[0.3],
    )
    mu = _event_rate(path, grid.points, 0.5)
    n = float(_event_rate(path, np.array([0.3]), 0.5))
    q_rate_prof, nu = _analytic_rate_profile(mu, n, 0.05)
    ll_rate_fixed = n * np.log(mu) - mu
    ll = res.log_likelihood_fixed - ll_rate_fixed + (-0.5 * q_rate_prof)  # kinematic part + profiled rate
    np.testing.assert_allclose(res.q_profiled, -2 * (ll - ll.max()), atol=1e-6)
    np.testing.assert_allclose(res.nu_hat[:, 0], nu, atol=1e-4)


def test_interpolated_interval_and_impacts(quad_events):
    from lhcgold.infer.nuisance import interpolated_interval

    # q = θ² on a coarse grid: the 68 % ends (q = 0.989) are interpolated between grid points
    th = np.linspace(-2, 2, 9)
    lo, hi = interpolated_interval(th, th**2, 1.0)
    assert lo == pytest.approx(-1.0) and hi == pytest.approx(1.0)
    lo, hi = interpolated_interval(th, (th - 0.25) ** 2, 1.0)
    assert (lo, hi) == pytest.approx((-0.5 - 0.4375 * 0.5, 1.0 + 0.4375 * 0.5))  # chords of the parabola
    path, _ = quad_events
    res = profile_limits(
        infer.RateOnly(),
        path,
        nuisances=[Normalisation("a", 0.05), Normalisation("b", 1e-9)],
        grid=infer.LimitGrid([(-1.0, 1.0)], 81),
        luminosity_ifb=0.5,
        asimov_theta=[0.3],
        impacts=True,
    )
    imp = res.impacts()
    assert set(imp) == {"a", "b"} and imp["b"] < 1e-3 * imp["a"]
    h_fixed, h_prof = res.half_width(profiled=False), res.half_width()
    assert imp["a"] == pytest.approx(np.sqrt(h_prof**2 - h_fixed**2), rel=1e-3)  # b changes nothing


@pytest.fixture(scope="module")
def dy_sally(dy):
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta
    from lhcgold.ml import SALLY, TrainConfig

    path, _, _ = dy
    est = SALLY(n_hidden=(16, 16))
    est.train(
        augment.sample_local(path, theta=BenchmarkTheta("sm"), n_samples=5000, rng=1),
        config=TrainConfig(n_epochs=10, seed=1),
    )
    return est


@pytest.mark.slow
def test_drell_yan_profiled_sally_limits(dy, dy_sally):
    """SALLY's score histogram with a 5 % normalisation and the μ_F scale nuisance: profiled intervals are
    wider; shrinking both nuisances to nothing gives back the unprofiled scan."""
    from lhcgold.generate.variations import scale_variation_ratios

    path, res, _ = dy
    r = scale_variation_ratios(res, factors=(0.5, 2.0))
    like = infer.ScoreHistogram(dy_sally, bins=10, components=(0,))
    grid = infer.LimitGrid([(-0.06, 0.06), 0.0], 61)
    nus = [Normalisation("norm", 0.05), WeightVariation("scale_muf", r["muf_2"], r["muf_0.5"])]
    out = profile_limits(like, path, nuisances=nus, grid=grid, luminosity_ifb=100.0, impacts=True)
    assert np.all(out.q_profiled <= out.q_fixed + 1e-9)
    lo_f, hi_f = out.interval(0.68, profiled=False)
    lo_p, hi_p = out.interval(0.68, profiled=True)
    assert lo_p <= lo_f and hi_p >= hi_f and (hi_p - lo_p) > 1.2 * (hi_f - lo_f)
    assert all(v > 0 for v in out.impacts().values())
    # the unprofiled scan is SALLY's own binned likelihood (same bins, Poisson counts)
    plain = infer.expected_limits(like, path, grid=grid, luminosity_ifb=100.0)
    assert np.max(plain.q[plain.q < 10]) > 1  # a non-trivial scan
    tiny = [Normalisation("norm", 1e-7), WeightVariation("scale_muf", r["muf_2"] ** 1e-6, r["muf_0.5"] ** 1e-6)]
    gone = profile_limits(like, path, nuisances=tiny, grid=grid, luminosity_ifb=100.0)
    np.testing.assert_allclose(gone.q_profiled, gone.q_fixed, atol=1e-4)
    np.testing.assert_allclose(gone.q_fixed, out.q_fixed, atol=1e-9)
    # the Fisher information of the same binned model: profiling costs information
    info = infer.profiled_information(like, path, nuisances=nus, luminosity_ifb=100.0, grid=grid)
    assert info.profiled[0, 0] < 0.5 * info.fixed[0, 0]


@pytest.mark.parametrize("kind", ["truth", "ratio"])
def test_unbinned_profiled_information_closed_form(quad_events, kind):
    """Truth / exact ratio with a normalisation κ = ln 1.1: I_fixed = I_kin + μ'²/μ and
    I_prof = I_kin + (μ'²/μ) / (1 + μκ²), with I_kin = n ∫ p (∂_θ log p)² by quadrature."""
    from scipy.integrate import quad

    path, _ = quad_events
    th, lumi = 0.3, 0.5
    like = infer.Truth(_QuadTruth()) if kind == "truth" else infer.NeuralRatio(_QuadRatio(), fast=False)
    nus = [Normalisation("lumi", 0.1)]
    info = profiled_information(like, path, nuisances=nus, theta=[th], luminosity_ifb=lumi)
    sig = 2 + 2 * th**2 / 3
    mu, dmu = 1000 * lumi * sig, 1000 * lumi * 4 * th / 3
    dlogp = lambda x: 2 * x / (1 + th * x) - (4 * th / 3) / sig  # noqa: E731
    i_kin = mu * quad(lambda x: (1 + th * x) ** 2 / sig * dlogp(x) ** 2, -1, 1)[0]
    kap2 = np.log1p(0.1) ** 2
    np.testing.assert_allclose(info.fixed[0, 0], i_kin + dmu**2 / mu, rtol=1e-4)
    np.testing.assert_allclose(info.profiled[0, 0], i_kin + dmu**2 / mu / (1 + mu * kap2), rtol=1e-4)
    np.testing.assert_allclose(info.full[1, 1], mu * kap2 + 1, rtol=1e-6)
    assert info.impacts["lumi"][0] > 0


# ------------------------------------------------------------------------------ learned nuisance factors
@pytest.fixture
def latent_variation_events(quad_events, tmp_path, helpers):
    """The quadrature toy with every node split into two latent histories z = 0, 1 of half weight whose
    scale variation differs: r₊(x,z) = 1 + 0.3x ± 0.15, r₋ = 1 − 0.2x, so E[r₊|x] = 1 + 0.3x."""
    from lhcgold.io.events import EventWriter
    from lhcgold.io.lhe_weights import NuisanceLayout
    from lhcgold.physics.morphing import component_factors

    _, info = quad_events
    x = np.repeat(info["nodes"], 2)
    z = np.tile([0.0, 1.0], len(info["nodes"]))
    m = 0.5 * np.repeat(info["gw"], 2)[:, None] * np.stack([np.ones_like(x), 2 * x, x * x], axis=1)
    setup = info["setup"]
    w = m @ component_factors(setup.benchmark_values, setup.components).T
    up, down = 1 + 0.3 * x + 0.15 * (2 * z - 1), 1 - 0.2 * x
    layout = NuisanceLayout(
        systematics=(("scale", "scale", "0.5,1.0,2.0", "mu"),),
        nuisance_parameters=(("scale_nuisance_param_0", "scale", "s_up", "s_down"),),
        benchmark_ids={"s_down": "s_down", "s_up": "s_up"},
    )
    path = tmp_path / "latent.h5"
    with EventWriter(path, setup, ["x"], store_components=True, nuisance=layout) as wr:
        wr.append(
            x[:, None],
            w,
            sampling_benchmarks=0,
            component_weights=m,
            nuisance_weights=w[:, :1] * np.stack([down, up], 1),
        )
    return path


def test_learned_nuisance_factors_give_the_observable_profile(latent_variation_events, tmp_path):
    """Stored per-event ratios that depend on the latent history overstate what the data know about ν;
    ratio factors learned from the augmented sample (E[r|x]) give the profile of p(x|θ,ν) computed
    independently by quadrature with g(x, ν) from r₊ = 1 + 0.3x, r₋ = 1 − 0.2x."""
    from lhcgold.augment import Point, sample_local
    from lhcgold.ml import NuisanceRatioEstimator, TrainConfig, load_model

    path = latent_variation_events
    ts = sample_local(path, theta=Point([0.0]), n_samples=20000, partition="all", rng=4, nuisances=True)
    est = NuisanceRatioEstimator(n_hidden=(32,))
    est.train(ts, config=TrainConfig(n_epochs=20, batch_size=128, seed=2, validation_split=0.0))
    xs = np.linspace(-0.9, 0.9, 7)[:, None]
    up, down = est.ratios(xs)
    np.testing.assert_allclose(up[:, 0], 1 + 0.3 * xs[:, 0], atol=0.02)
    np.testing.assert_allclose(down[:, 0], 1 - 0.2 * xs[:, 0], atol=0.02)
    loaded = load_model(est.save(tmp_path / "nuis_model"))
    np.testing.assert_allclose(loaded.ratios(xs)[0], up, rtol=1e-6)

    like, grid = infer.Truth(_QuadTruth()), infer.LimitGrid([(-0.6, 0.6)], 13)
    kw = dict(grid=grid, luminosity_ifb=0.2, asimov_theta=[0.1])
    learned = profile_limits(like, path, nuisances=infer.learned_variations(loaded, path), **kw)
    stored = profile_limits(like, path, nuisances=infer.nuisances_from_file(path), **kw)

    def g(xx, nu):
        return np.exp(
            0.5 * np.log((1 + 0.3 * xx) / (1 - 0.2 * xx)) * nu + 0.5 * np.log((1 + 0.3 * xx) * (1 - 0.2 * xx)) * nu**2
        )

    q = _quadrature_profile(grid.points[:, 0], 0.1, 200.0, g)
    far = np.abs(grid.points[:, 0] - 0.1) > 0.15
    np.testing.assert_allclose(learned.q_profiled[far], q[far], rtol=0.03)
    # the stored ratios take the latent spread for information on ν: far less widening at the lower end
    assert stored.q_profiled[0] > 2 * q[0] and learned.q_profiled[0] < 0.25 * learned.q_fixed[0]


def _latent_exact_information(th: float, lumi_pb: float) -> tuple[np.ndarray, np.ndarray]:
    """I = L Σ_nodes w s sᵀ + diag(0, 1) of the latent toy, s = (2x/(1+θx), E_z[a(x,z)]); and the node weights."""
    nodes, gw = np.polynomial.legendre.leggauss(400)
    a_z = [0.5 * np.log((1 + 0.3 * nodes + 0.15 * s) / (1 - 0.2 * nodes)) for s in (-1, 1)]
    s = np.stack([2 * nodes / (1 + th * nodes), 0.5 * (a_z[0] + a_z[1])], axis=1)
    w = gw * (1 + th * nodes) ** 2
    return lumi_pb * (s * w[:, None]).T @ s + np.diag([0.0, 1.0]), w


def test_sally_with_nuisance_score_matches_the_exact_information(latent_variation_events):
    """A SALLY trained on (θ, ν) scores: its profiled information against the exact one of the toy,
    I = L Σ_nodes w s sᵀ with s = (2x/(1+θx), E_z[a(x,z)]) plus the unit constraint, computed here."""
    from lhcgold.augment import Point, sample_local
    from lhcgold.ml import SALLY, TrainConfig

    path, th = latent_variation_events, 0.1
    ts = sample_local(path, theta=Point([th]), n_samples=20000, partition="all", rng=3, nuisances=True)
    with pytest.raises(ConfigError, match="with_nuisance_score"):
        sally = SALLY(n_hidden=(32,))
        sally.train(ts, config=TrainConfig(n_epochs=1, seed=1, validation_split=0.0))
        infer.sally_profiled_information(path, sally, theta=[th], luminosity_ifb=0.2)
    sally = SALLY(n_hidden=(32,))
    sally.train(ts.with_nuisance_score(), config=TrainConfig(n_epochs=20, batch_size=128, seed=1, validation_split=0.0))
    info = infer.sally_profiled_information(path, sally, theta=[th], luminosity_ifb=0.2)

    exact, w = _latent_exact_information(th, 200.0)
    np.testing.assert_allclose(info.full, exact, rtol=0.05)
    prof_exact = exact[0, 0] - exact[0, 1] ** 2 / exact[1, 1]
    np.testing.assert_allclose(info.profiled[0, 0], prof_exact, rtol=0.05)
    assert info.profiled[0, 0] < 0.8 * info.fixed[0, 0]  # the nuisance matters in this toy
    # a normalisation adds only to the rate: its closed form on top
    both = infer.sally_profiled_information(
        path, sally, theta=[th], luminosity_ifb=0.2, normalisations=[infer.Normalisation("lumi", 0.05)]
    )
    k = np.log1p(0.05)
    sigma = w.sum()
    np.testing.assert_allclose(both.full[2, 2], 200.0 * sigma * k * k + 1.0, rtol=1e-9)
    np.testing.assert_allclose(both.full[:2, :2], info.full, rtol=1e-12)


def test_cli_sally_profiles_its_nuisance_score(latent_variation_events, tmp_path, capsys):
    """augment --nuisance-score → train -m sally → fisher -m sally --profile-systematics: the stored
    information is the exact one of the toy (5 %); a SALLY without nuisance score is refused, nothing written."""
    import json

    from lhcgold.cli import main

    path = latent_variation_events
    common = ["--kind", "local", "--theta", "point:0.1", "-n", "20000", "--partition", "all", "--seed", "3"]
    assert main(["-q", "augment", str(path), "-o", str(tmp_path / "s.h5"), "--nuisance-score", *common]) == 0
    assert main(["-q", "augment", str(path), "-o", str(tmp_path / "p.h5"), *common[:-4], "-n", "500"]) == 0
    train = ["--hidden", "32", "--epochs", "20", "--batch-size", "128", "--validation-split", "0", "--seed", "1"]
    assert main(["-q", "train", str(tmp_path / "s.h5"), "-m", "sally", "-o", str(tmp_path / "m"), *train]) == 0
    fisher = ["-m", "sally", "--theta", "0.1", "-L", "0.2", "--all-events", "--profile-systematics"]
    assert (
        main(["-q", "fisher", str(path), "-o", str(tmp_path / "f.json"), "--model", str(tmp_path / "m"), *fisher]) == 0
    )
    rec = json.loads((tmp_path / "f.json").read_text())["data"]["details"]["nuisances"]
    exact, _ = _latent_exact_information(0.1, 200.0)
    np.testing.assert_allclose(rec["fisher_profiled"][0][0], exact[0, 0] - exact[0, 1] ** 2 / exact[1, 1], rtol=0.05)
    assert rec["names"] == ["scale_nuisance_param_0"]

    train[3] = "1"
    assert main(["-q", "train", str(tmp_path / "p.h5"), "-m", "sally", "-o", str(tmp_path / "plain"), *train]) == 0
    capsys.readouterr()
    code = main(["fisher", str(path), "-o", str(tmp_path / "g.json"), "--model", str(tmp_path / "plain"), *fisher])
    err = capsys.readouterr().err
    assert code in (1, 2) and "with_nuisance_score" in err and "Traceback" not in err, err
    assert not (tmp_path / "g.json").exists()


def test_cli_limits_profile_with_a_learned_nuisance_model(latent_variation_events, tmp_path, capsys):
    """`lhcgold limits --profile-systematics --nuisance-model M` profiles the learned factors: the stored
    q is profile_limits with learned_variations; --nuisance-model alone is refused before writing."""
    import json

    from lhcgold.augment import Point, sample_local
    from lhcgold.cli import main
    from lhcgold.ml import NuisanceRatioEstimator, TrainConfig

    path = latent_variation_events
    ts = sample_local(path, theta=Point([0.0]), n_samples=5000, partition="all", rng=4, nuisances=True)
    est = NuisanceRatioEstimator(n_hidden=(16,))
    est.train(ts, config=TrainConfig(n_epochs=5, batch_size=128, seed=2, validation_split=0.0))
    model = est.save(tmp_path / "nm")
    args = ["limits", str(path), "-m", "histogram", "--observable", "x", "--bins", "8", "--all-events", "-L", "0.2"]
    args += ["--grid", "theta=-0.6:0.6:13", "--asimov", "0.1", "--profile-systematics"]
    assert main(["-q", *args, "--nuisance-model", str(model), "-o", str(tmp_path / "l.json")]) == 0
    q_cli = json.loads((tmp_path / "l.json").read_text())["data"]["details"]["nuisances"]["q_profiled"]
    from lhcgold.ml import load_model

    like = infer.Histogram(["x"], bins=8)
    grid = infer.LimitGrid([(-0.6, 0.6)], 13)
    ref = profile_limits(
        like,
        path,
        nuisances=infer.learned_variations(load_model(model), path),
        grid=grid,
        luminosity_ifb=0.2,
        asimov_theta=[0.1],
    )
    np.testing.assert_allclose(q_cli, ref.q_profiled, rtol=1e-9, atol=1e-9)
    capsys.readouterr()
    assert main([*args[:-1], "--nuisance-model", str(model), "-o", str(tmp_path / "m.json")]) != 0
    assert "--nuisance-model replaces the stored ratios" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()
