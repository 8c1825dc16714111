"""Asimov and observed limits against closed forms and independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.special import erfc, gammaln

from lhcgold import infer
from lhcgold.exceptions import ConfigError, LhcgoldError

LUMI_IFB = 0.05  # n_obs = 50 pb⁻¹ × σ ≈ 100 events for the (1+θx)² toy
L_PB = LUMI_IFB * 1000.0


def _sigma(th):
    return 2 + 2 * np.asarray(th) ** 2 / 3


def test_wilks_p_values_closed_forms():
    q = np.array([0.0, 0.5, 1.0, 3.84, 10.0])
    np.testing.assert_allclose(infer.asymptotic_p_values(q, 1), erfc(np.sqrt(q / 2)), rtol=1e-12)
    np.testing.assert_allclose(infer.asymptotic_p_values(q, 2), np.exp(-q / 2), rtol=1e-12)
    with pytest.raises(ConfigError):
        infer.asymptotic_p_values(q, 0)


@pytest.mark.parametrize("theta_true", [0.0, 0.4])
def test_rate_only_asimov_is_exact(quad_events, theta_true):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 41)
    res = infer.expected_limits(infer.RateOnly(), path, grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[theta_true])
    th = grid.points[:, 0]
    nu0, nu = L_PB * _sigma(theta_true), L_PB * _sigma(th)
    # closed form: q = 2 [ν − ν0 + ν0 log(ν0/ν)] relative to the grid maximum
    q_closed = 2 * (nu - nu0 + nu0 * np.log(nu0 / nu))
    q_closed -= q_closed.min()
    np.testing.assert_allclose(res.q, q_closed, atol=1e-9)
    np.testing.assert_allclose(res.p_values, erfc(np.sqrt(q_closed / 2)), atol=1e-12)
    np.testing.assert_allclose(res.log_likelihood_rate, nu0 * np.log(nu) - nu - gammaln(nu0 + 1), rtol=1e-12)
    assert res.n_observed == pytest.approx(nu0)
    assert res.dof == 1
    assert res.best_fit[0] == pytest.approx(
        theta_true if theta_true == 0 else abs(theta_true) * np.sign(res.best_fit[0])
    )


def test_histogram_with_one_bin_equals_rate_only(two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 7)
    rate = infer.expected_limits(infer.RateOnly(), path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.2, 0.1])
    for bins in (1, [np.array([-5.0, 50.0])]):
        one = infer.expected_limits(
            infer.Histogram(["u"], bins=bins), path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.2, 0.1]
        )
        np.testing.assert_allclose(one.log_likelihood_kinematic, 0.0, atol=1e-9)
        np.testing.assert_allclose(one.log_likelihood, rate.log_likelihood, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(one.p_values, rate.p_values, atol=1e-12)


def test_histogram_limits_equal_bruteforce_binned_poisson(two_param_events):
    path, d = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-0.5, 0.5)], (5, 4))
    edges = [np.array([0.0, 0.5, 1.0, 2.0, 4.0]), np.array([-1.0, 0.0, 1.0])]
    th_true = np.array([0.3, -0.1])
    res = infer.expected_limits(
        infer.Histogram(["u", "v"], bins=edges, epsilon=0.0), path, grid=grid, luminosity_ifb=2.0, asimov_theta=th_true
    )
    x = d["x"]
    xu, xv = (np.clip(x[:, i], e[0], e[-1]) for i, e in zip((0, 1), edges))

    def nu_bins(t):
        h, _, _ = np.histogram2d(xu, xv, bins=edges, weights=d["weights"](t))
        return 2000.0 * h.ravel()

    n = nu_bins(th_true)  # Asimov counts
    ll = np.array([np.sum(n * np.log(nu_bins(t)) - nu_bins(t)) for t in grid.points])  # binned Poisson
    q = -2 * (ll - ll.max())
    np.testing.assert_allclose(res.q, q, rtol=1e-8, atol=1e-8)
    assert np.argmax(ll) == res.best_fit_index
    np.testing.assert_allclose(res.p_values, np.exp(-q / 2), atol=1e-10)  # dof = 2


class _ExactRatio:
    observables = ("x",)

    def log_ratio(self, x, thetas):
        th = np.asarray(thetas)[:, 0][:, None]
        return np.log((1 + th * x[:, 0][None, :]) ** 2 / _sigma(th)) + 3.0  # arbitrary reference


class _ToyProcess:
    """Truth protocol for the (1+θx)² toy: dσ_c/dx and σ_c."""

    observables = ("x",)

    def truth_components(self, x):
        return np.stack([np.ones(len(x)), 2 * x[:, 0], x[:, 0] ** 2], axis=1)

    def xsec_components(self):
        return np.array([2.0, 0.0, 2.0 / 3.0])


@pytest.mark.parametrize("theta_true", [0.0, 0.5])
def test_truth_and_exact_ratio_match_quadrature(quad_events, theta_true):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    truth = infer.expected_limits(
        infer.Truth(_ToyProcess()), path, grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[theta_true]
    )
    ml = infer.expected_limits(
        infer.NeuralRatio(_ExactRatio(), theta_batch=7, max_elements=300),
        path,
        grid=grid,
        luminosity_ifb=LUMI_IFB,
        asimov_theta=[theta_true],
    )
    th = grid.points[:, 0]
    nu0 = L_PB * _sigma(theta_true)

    def p(x, t):
        return (1 + t * x) ** 2 / _sigma(t)

    # independent: expected kinematic log-likelihood by adaptive quadrature, plus the rate term
    kin = np.array(
        [
            nu0
            * integrate.quad(
                lambda x, t=t: p(x, theta_true) * np.log(p(x, t)),
                -1,
                1,
                points=[-1 / t] if abs(t) > 1 else None,
                limit=200,
            )[0]
            if t != 0
            else nu0 * integrate.quad(lambda x: p(x, theta_true) * np.log(p(x, 0.0)), -1, 1)[0]
            for t in th
        ]
    )
    # θ = ±1 puts a zero of p at the boundary: integrable log singularity, quad copes
    ll = kin + nu0 * np.log(L_PB * _sigma(th)) - L_PB * _sigma(th)
    q = -2 * (ll - ll.max())
    np.testing.assert_allclose(truth.q, q, rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(ml.q, truth.q, rtol=1e-9, atol=1e-9)
    assert truth.best_fit[0] == pytest.approx(theta_true)


class _ScoreIsX:
    """Stand-in SALLY model: t̂(x) = 2x (the exact score of the toy at θ = 0)."""

    observables = ("x",)

    def score(self, x):
        return 2.0 * x[:, :1]


def test_score_histogram_equals_histogram_of_monotonic_summary(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 11)
    a = infer.expected_limits(
        infer.ScoreHistogram(_ScoreIsX(), bins=6), path, grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[0.3]
    )
    b = infer.expected_limits(
        infer.Histogram(["x"], bins=6), path, grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[0.3]
    )
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood, rtol=1e-12)
    assert a.method == "sally" and b.method == "histogram(x)"
    # more bins approach the truth from below (less information: smaller q away from θ_true)
    t = infer.expected_limits(infer.Truth(_ToyProcess()), path, grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[0.3])
    assert np.all(b.q <= t.q + 1e-9)


def test_profiling_and_fixed_parameters(two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], (9, 11))
    like = infer.Histogram(["u"], bins=5, binning=[0.0, 0.0])  # same binning for every grid
    full = infer.expected_limits(like, path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.25, 0.2])
    prof = infer.expected_limits(like, path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.25, 0.2], profile=["cb"])
    ll = full.log_likelihood.reshape(9, 11)
    np.testing.assert_allclose(prof.log_likelihood, ll.max(axis=1))
    assert prof.parameter_names == ("ca",) and prof.profiled == ("cb",) and prof.dof == 1
    np.testing.assert_allclose(prof.profiled_values[:, 0], grid.axes[1][np.argmax(ll, axis=1)])
    np.testing.assert_allclose(prof.p_values, erfc(np.sqrt(prof.q / 2)), atol=1e-12)
    fixed = infer.expected_limits(
        like, path, grid=infer.LimitGrid([(-1.0, 1.0), 0.2], 9), luminosity_ifb=5.0, asimov_theta=[0.25, 0.2]
    )
    assert fixed.fixed == {"cb": 0.2} and fixed.thetas.shape == (9, 1)
    # the fixed slice at cb = 0.2 is the full grid's column 6 (0.2 on an 11-point axis over [-1, 1])
    np.testing.assert_allclose(fixed.log_likelihood, ll[:, 6], rtol=1e-12)
    with pytest.raises(ConfigError, match="regular LimitGrid"):
        infer.expected_limits(like, path, grid=grid.points, luminosity_ifb=5.0, profile=["cb"])


def test_scattered_points_equal_grid(two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 5)
    like = infer.Histogram(["v"], bins=4)
    a = infer.expected_limits(like, path, grid=grid, luminosity_ifb=5.0)
    b = infer.expected_limits(like, path, grid=grid.points, luminosity_ifb=5.0)
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood)
    assert b.grid_axes is None
    with pytest.raises(ConfigError):
        _ = b.p_value_hist


def test_observed_limits_histogram_independent(two_param_events):
    path, d = two_param_events
    rng = np.random.default_rng(5)
    x_obs = d["x"][rng.choice(len(d["x"]), 300, replace=False)]
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 5)
    edges = [np.array([0.0, 0.7, 1.5, 3.0])]
    res = infer.observed_limits(
        infer.Histogram(["u"], bins=edges, epsilon=0.0), x_obs, path, grid=grid, luminosity_ifb=0.1
    )
    counts = np.bincount(np.clip(np.searchsorted(edges[0][1:-1], x_obs[:, 0], side="right"), 0, 2), minlength=3)
    xu = np.clip(d["x"][:, 0], edges[0][0], edges[0][-1])
    ll = []
    for t in grid.points:
        nu = 100.0 * np.histogram(xu, bins=edges[0], weights=d["weights"](t))[0]
        ll.append(np.sum(counts * np.log(nu) - nu))
    ll = np.array(ll)
    np.testing.assert_allclose(res.q, -2 * (ll - ll.max()), rtol=1e-8, atol=1e-8)
    assert res.n_observed == 300 and res.asimov_theta is None


def test_toy_p_values_rate_only_match_wilks(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    res = infer.expected_limits(infer.RateOnly(), path, grid=grid, luminosity_ifb=1.0, asimov_theta=[0.0])
    # one-sided structure of σ(θ) ∝ 1 + θ²/3 makes Wilks approximate; test where q is moderate
    j = 15  # θ = 0.5
    p_toy = infer.toy_p_values(
        infer.RateOnly(), path, grid=grid, observed_q=res.q, luminosity_ifb=1.0, n_toys=4000, points=[j], rng=1
    )
    assert np.isnan(p_toy[0])
    assert p_toy[j] == pytest.approx(res.p_values[j], abs=0.05)
    assert 0 < p_toy[j] < 1


def test_bad_inputs(two_param_events, quad_events):
    path, _ = two_param_events
    with pytest.raises(ConfigError, match="outside the range of parameter 'ca'"):
        infer.expected_limits(infer.RateOnly(), path, grid=infer.LimitGrid([(-3.0, 1.0), (-1.0, 1.0)], 5))
    res = infer.expected_limits(
        infer.RateOnly(), path, grid=infer.LimitGrid([(-3.0, 1.0), (-1.0, 1.0)], 5), allow_outside=True
    )
    assert len(res.thetas) == 25
    with pytest.raises(ConfigError, match="shape"):
        infer.expected_limits(infer.RateOnly(), path, grid=np.zeros((4, 3)))
    with pytest.raises(ConfigError, match="trained on observables"):
        ratio = _ExactRatio()
        infer.expected_limits(infer.NeuralRatio(ratio), path, grid=infer.LimitGrid([(-1, 1), (-1, 1)], 3))
    with pytest.raises(ConfigError, match="did you mean"):
        infer.expected_limits(infer.Histogram(["vv"]), path, grid=infer.LimitGrid([(-1, 1), (-1, 1)], 3))
    with pytest.raises(ConfigError):
        infer.Histogram(["u"], bins=[np.array([1.0, 0.0])])
    with pytest.raises(ConfigError):
        infer.LimitGrid([(1.0, -1.0)], 5)
    with pytest.raises(ConfigError):
        infer.expected_limits(infer.RateOnly(), path, grid=infer.LimitGrid([(-1, 1), (-1, 1)], 3), luminosity_ifb=-1)


def test_empty_bins_error_and_epsilon(quad_events, helpers, tmp_path):
    # template events only at x < 0.5, Asimov data at all x: the last bin is empty in the templates
    path, d = quad_events
    tpl = infer.EventsView(path, 0, 250)  # GL nodes are sorted: the first 250 lie below x ≈ 0.39
    edges = [np.array([-1.0, 0.0, 0.5, 1.0])]
    grid = infer.LimitGrid([(-1.0, 1.0)], 5)
    with pytest.raises(LhcgoldError, match="template is empty"):
        infer.expected_limits(
            infer.Histogram(["x"], bins=edges, templates=tpl, empty_bins="error"),
            path,
            grid=grid,
            luminosity_ifb=LUMI_IFB,
        )
    res = infer.expected_limits(
        infer.Histogram(["x"], bins=edges, templates=tpl), path, grid=grid, luminosity_ifb=LUMI_IFB
    )
    assert np.all(np.isfinite(res.log_likelihood))
    # each empty-bin data fraction costs n_obs × f × log ε
    assert res.log_likelihood_kinematic.max() < -10


def test_limit_result_io_and_hist(tmp_path, two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-2.0, 2.0)], (5, 9))
    res = infer.expected_limits(
        infer.Histogram(["u"], bins=4), path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.5, 0.0]
    )
    h = res.p_value_hist
    assert h.axes[0].name == "ca" and h.axes[1].name == "cb"
    np.testing.assert_allclose(h.axes[0].centers, grid.axes[0])
    np.testing.assert_allclose(h.axes[1].centers, grid.axes[1])
    np.testing.assert_array_equal(h.values(), res.p_values.reshape(5, 9))
    for name in ("lim.json", "lim.h5"):
        res.save(tmp_path / name)
        back = infer.LimitResult.load(tmp_path / name)
        np.testing.assert_array_equal(back.log_likelihood, res.log_likelihood)
        np.testing.assert_array_equal(back.p_values, res.p_values)
        np.testing.assert_array_equal(back.thetas, res.thetas)
        assert back.grid_shape == (5, 9) and back.method == res.method
        np.testing.assert_array_equal(back.asimov_theta, [0.5, 0.0])
        with pytest.raises(OSError, match="refusing"):
            res.save(tmp_path / name)
    with pytest.raises(OSError, match="does not exist"):
        infer.LimitResult.load(tmp_path / "nothere.json")
    infer.truth_information(path, luminosity_ifb=1.0).save(tmp_path / "fisher.json")
    with pytest.raises(OSError, match="not a 'limit_result'"):
        infer.LimitResult.load(tmp_path / "fisher.json")


class _ToyProcessTuple:
    """Truth protocol in the generator's shape: observed_names, and xsec_components() -> (σ_c, δσ_c)."""

    observed_names = ("x",)
    calls = 0

    def truth_components(self, x):
        return _ToyProcess().truth_components(x)

    def xsec_components(self):
        type(self).calls += 1
        return np.array([2.0, 0.0, 2.0 / 3.0]), np.zeros(3)


def test_truth_accepts_generator_style_process(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 5)
    like = infer.Truth(_ToyProcessTuple())
    a = infer.expected_limits(like, path, grid=grid, luminosity_ifb=LUMI_IFB)
    b = infer.expected_limits(like, path, grid=grid, luminosity_ifb=LUMI_IFB)
    ref = infer.expected_limits(infer.Truth(_ToyProcess()), path, grid=grid, luminosity_ifb=LUMI_IFB)
    np.testing.assert_allclose(a.log_likelihood, ref.log_likelihood, rtol=1e-12)
    np.testing.assert_array_equal(a.log_likelihood, b.log_likelihood)
    assert _ToyProcessTuple.calls == 1  # σ_c computed once and cached
    with pytest.raises(ConfigError, match="did you mean"):
        infer.expected_limits(infer.Truth(_ToyProcess(), observables=("xx",)), path, grid=grid)


def _madminer_histo_loglik(x_tpl, w_tpl, x_data, edges, eps=1e-12):
    """Independent re-implementation of MadMiner 0.9.6 ``Histo`` (fill with np.histogramdd over the
    outer-edge range, normalise, add ε, divide by bin volumes; evaluate with clamped indices)."""
    h, _ = np.histogramdd(x_tpl, bins=edges, range=[(e[0], e[-1]) for e in edges], weights=w_tpl)
    h /= h.sum()
    h += eps
    h /= h.sum()
    vol = np.ones(h.shape)
    for d, e in enumerate(edges):
        e = e.copy()
        if len(e) > 2:
            e[0] = max(e[0], e[1] - 2.0 * (e[2] - e[1]))
            e[-1] = min(e[-1], e[-1] + 2.0 * (e[-1] - e[-2]))
        shape = [1] * len(edges)
        shape[d] = -1
        vol = vol * np.diff(e).reshape(shape)
    h /= vol
    idx = []
    for d, e in enumerate(edges):
        i = np.searchsorted(e, x_data[:, d], side="right") - 1
        idx.append(np.clip(i, 0, len(e) - 2))
    return np.log(h[tuple(idx)])


def test_madminer_compat_histogram_reproduces_madminer_conventions(two_param_events):
    """madminer_compat: 0.1–99.9 % quantile edges of the grid-averaged weights, templates dropped
    outside the outer edges, data clamped, ε = 1e-12: equal to a per-θ MadMiner-style computation."""
    path, d = two_param_events
    x, n = d["x"], len(d["x"])
    tpl = infer.EventsView(path, 0, 3000)
    data = infer.EventsView(path, 3001, None, weight_scale=4.0)
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 4)
    res = infer.expected_limits(
        infer.Histogram(["u", "v"], bins=(5, 4), templates=tpl, madminer_compat=True),
        data,
        grid=grid,
        luminosity_ifb=3.0,
        round_n_observed=True,
    )
    # independent: grid-averaged weights -> madminer quantiles per axis
    w_avg = np.mean([d["weights"](t)[:3000] for t in grid.points], axis=0)

    def mm_edges(v, nb):
        o = np.argsort(v)
        vs, ws = v[o], w_avg[o]
        cw = np.cumsum(ws) - 0.5 * ws
        cw = (cw - cw[0]) / (cw - cw[0])[-1]
        e = np.interp(np.linspace(0.001, 0.999, nb + 1), cw, vs)
        return e[np.array(list(np.diff(e)) + [1.0]) > 1e-9]

    edges = [mm_edges(x[:3000, 0], 5), mm_edges(x[:3000, 1], 4)]
    w_true = d["weights"](np.zeros(2))[3001:]
    n_obs = 3000.0 * 4.0 * w_true.sum()
    from scipy.stats import poisson

    ll = []
    for t in grid.points:
        lp = _madminer_histo_loglik(x[:3000, :2], d["weights"](t)[:3000], x[3001:, :2], edges)
        ll.append(
            n_obs * np.sum(lp * w_true / w_true.sum())
            + poisson.logpmf(round(n_obs), 3000.0 * 4.0 * d["weights"](t)[3001:].sum())
        )
    ll = np.array(ll)
    np.testing.assert_allclose(res.log_likelihood_ratio, ll - ll.max(), atol=1e-8)
    assert n == 4000


def test_expected_limits_by_method(quad_events):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 9)
    res = infer.expected_limits_by_method(
        {"truth": infer.Truth(_ToyProcess()), "rate": infer.RateOnly(), "histogram": infer.Histogram(["x"], bins=4)},
        path,
        grid=grid,
        luminosity_ifb=LUMI_IFB,
        asimov_theta=[0.2],
    )
    assert list(res) == ["truth", "rate", "histogram"]
    # information ordering at every point: truth ≥ histogram ≥ rate (q grows with information)
    assert np.all(res["truth"].q >= res["histogram"].q - 1e-9)
    assert np.all(res["histogram"].q >= res["rate"].q - 1e-9)


def test_templates_with_other_column_order(two_param_events, helpers, tmp_path):
    path, d = two_param_events
    perm = helpers.write_events(tmp_path / "perm.h5", d["setup"], ["w", "v", "u"], d["x"][:, [2, 1, 0]], d["m"])
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 4)
    a = infer.expected_limits(infer.Histogram(["u", "v"], bins=3), path, grid=grid, luminosity_ifb=2.0)
    b = infer.expected_limits(
        infer.Histogram(["u", "v"], bins=3, templates=infer.EventsView(perm)), path, grid=grid, luminosity_ifb=2.0
    )
    np.testing.assert_allclose(b.log_likelihood, a.log_likelihood, rtol=1e-12)


def test_observed_limits_from_events_file_equal_array(two_param_events, helpers, tmp_path):
    path, d = two_param_events
    x_obs = d["x"][:200]
    obs_file = helpers.write_events(tmp_path / "obs.h5", d["setup"], ["u", "v", "w"], x_obs, d["m"][:200])
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 3)
    like = infer.Histogram(["v"], bins=4)
    a = infer.observed_limits(like, x_obs, path, grid=grid, luminosity_ifb=0.1)
    b = infer.observed_limits(like, obs_file, path, grid=grid, luminosity_ifb=0.1)
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood, rtol=1e-12)
    with pytest.raises(ConfigError, match="do not match"):
        infer.observed_limits(like, x_obs[:, :2], path, grid=grid)


def test_grid_points_meant_to_be_zero_are_exactly_zero():
    """np.linspace(-0.2, 0.1, 31) misses 0 by 2.8e-17: the SM must be a grid point exactly (closure,
    the Asimov point, the report's best fit); the other points stay those of linspace."""
    grid = infer.LimitGrid([(-0.2, 0.1), (-1.0, 1.0)], (31, 5))
    ref = np.linspace(-0.2, 0.1, 31)
    near = np.argmin(np.abs(ref))
    assert ref[near] != 0.0 and grid.axes[0][near] == 0.0
    np.testing.assert_array_equal(np.delete(grid.axes[0], near), np.delete(ref, near))
