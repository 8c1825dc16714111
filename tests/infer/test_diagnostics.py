"""Self-checks of the inference: ratio calibration, closure, reliability curves, MC spread, fast ratio path.

The (1+θx)² toy on Gauss-Legendre nodes integrates polynomials exactly, so the exact ratio
r(x|θ) = p(x|θ)/p(x|0) = 2 (1+θx)²/σ(θ) has E_0[r] = 1 to rounding, and every identity below is
checked against closed forms, not against the code's own output.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from lhcgold import infer
from lhcgold.exceptions import ConfigError

LUMI_IFB = 0.5  # n_obs = 500 pb⁻¹ × σ(0) = 1000 events


def _sigma(th):
    return 2.0 + 2.0 * np.asarray(th) ** 2 / 3.0


class _Ratio:
    """log r(x|θ) vs θ_ref = 0, exact, plus an x-independent offset c(θ) = slope·θ + const."""

    observables = ("x",)
    theta_ref = np.zeros(1)

    def __init__(self, slope=0.0, const=0.0):
        self.slope, self.const = slope, const

    def log_ratio(self, x, thetas):
        th = np.asarray(thetas)[:, 0][:, None]
        exact = np.log(2 * (1 + th * x[:, 0][None, :]) ** 2 / _sigma(th))
        return exact + self.slope * th + self.const


def test_unnormalised_ratio_fails_closure_and_calibration_restores_it(quad_events):
    """An x-independent offset c(θ) in log r̂ (a mis-normalised estimator) moves the best fit by
    ≈ c'/I; the calibrated NeuralRatio removes it exactly and agrees with the exact likelihood."""
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 21)
    kw = dict(grid=grid, luminosity_ifb=LUMI_IFB, asimov_theta=[0.0])
    truth_like = infer.expected_limits(infer.NeuralRatio(_Ratio(), normalize=False), path, **kw)
    biased = infer.expected_limits(infer.NeuralRatio(_Ratio(slope=0.3, const=0.7), normalize=False), path, **kw)
    fixed = infer.expected_limits(infer.NeuralRatio(_Ratio(slope=0.3, const=0.7)), path, **kw)

    assert truth_like.best_fit[0] == pytest.approx(0.0)
    assert truth_like.details["closure"]["passed"]
    # n_obs·0.3 = 300 against n_obs·I·θ (I = 4/3 per event at θ=0... ≈ 2/3·2): the fit moves ~0.2
    assert abs(biased.best_fit[0]) >= 0.2
    assert not biased.details["closure"]["passed"]
    assert biased.details["closure"]["excluded"] and biased.details["closure"]["best_fit_off"]
    np.testing.assert_allclose(fixed.q, truth_like.q, atol=1e-6)
    assert fixed.details["closure"]["passed"]
    # the recorded normalisation is E_0[r̂] = exp(c(θ)) (E_0[r] = 1 exactly on the quadrature nodes)
    e = np.asarray(fixed.details["ratio_normalization"]["expectation"])
    np.testing.assert_allclose(e, np.exp(0.3 * grid.points[:, 0]), rtol=1e-9)


def test_normalisation_from_the_simulation_for_observed_data(quad_events):
    """Observed data (not the simulation): E_ref[r̂] comes from a separate pass over the simulation."""
    path, d = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 11)
    x = np.array([[-0.5], [0.1], [0.3], [0.8]])
    exact = infer.observed_limits(
        infer.NeuralRatio(_Ratio(), normalize=False), x, path, grid=grid, luminosity_ifb=LUMI_IFB
    )
    fixed = infer.observed_limits(
        infer.NeuralRatio(_Ratio(slope=-0.4, const=2.0)), x, path, grid=grid, luminosity_ifb=LUMI_IFB
    )
    np.testing.assert_allclose(fixed.q, exact.q, atol=1e-8)
    assert "closure" not in fixed.details  # no true point for observed data


def test_normalisation_needs_a_reference(quad_events, caplog):
    path, _ = quad_events

    class NoRef(_Ratio):
        theta_ref = None

    res = infer.expected_limits(
        infer.NeuralRatio(NoRef()), path, grid=infer.LimitGrid([(-1.0, 1.0)], 5), luminosity_ifb=LUMI_IFB
    )
    assert res.details["ratio_normalized"] is False
    assert "reference of the ratio is unknown" in caplog.text
    with pytest.raises(ConfigError, match="reference has 2 components"):
        infer.expected_limits(
            infer.NeuralRatio(_Ratio(), reference=[0.0, 0.0]),
            path,
            grid=infer.LimitGrid([(-1.0, 1.0)], 5),
            luminosity_ifb=LUMI_IFB,
        )


def test_closure_check_against_the_grid(two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 11)
    res = infer.expected_limits(
        infer.Histogram(["u", "v"], bins=(4, 4)), path, grid=grid, luminosity_ifb=2.0, asimov_theta=[0.4, -0.2]
    )
    check = infer.closure_check(res)
    assert check.passed and check.p_true == pytest.approx(1.0) and max(check.offset_cells) == pytest.approx(0.0)
    assert res.details["closure"]["passed"]
    far = infer.closure_check(res, theta_true=[-1.0, 1.0])
    i = int(np.argmin(np.sum((res.thetas - [-1.0, 1.0]) ** 2, axis=1)))
    assert far.p_true == pytest.approx(chi2.sf(res.q[i], 2))
    assert far.excluded and far.best_fit_off and not far.passed
    assert far.offset_cells == pytest.approx((7.0, 6.0))  # (0.4 − (−1))/0.2, (1 − (−0.2))/0.2
    assert "closure failed" in far.message() and "excludes the true point" in far.message()
    # a true point off the grid cannot be checked
    assert infer.closure_check(res, theta_true=[1.5, 0.0]) is None
    with pytest.raises(ConfigError, match="cl must be"):
        infer.closure_check(res, cl=1.5)


def test_contour_area_counts_grid_cells(two_param_events):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1.0, 1.0), (-0.5, 0.5)], (9, 5))
    res = infer.expected_limits(infer.RateOnly(), path, grid=grid, luminosity_ifb=5.0, asimov_theta=[0.0, 0.0])
    n_in = int(np.sum(res.p_values >= 0.32))
    assert infer.contour_area(res, 0.68) == pytest.approx(n_in * 0.25 * 0.25)


def test_ratio_calibration_exact_and_offset(quad_events):
    path, _ = quad_events
    cal = infer.ratio_calibration(_Ratio(), path, theta=[0.6], bins=8)
    assert cal.expectation == pytest.approx(1.0, abs=1e-10)
    # ŝ = p_ref/(p_ref + p_θ) exactly: in every bin the observed fraction equals the mean ŝ
    assert cal.max_deviation < 1e-10
    assert sum(cal.weight) == pytest.approx(1.0)
    off = infer.ratio_calibration(_Ratio(const=0.2), path, theta=[0.6], bins=8)
    assert off.expectation == pytest.approx(np.exp(0.2), rel=1e-10)
    assert off.max_deviation > 0.02
    with pytest.raises(ConfigError, match="reference point"):

        class NoRef(_Ratio):
            theta_ref = None

        infer.ratio_calibration(NoRef(), path, theta=[0.6])


def test_batch_spread_of_a_cross_section(two_param_events):
    """Linear in the weights: the subsets (scaled by K) average to the full value; the standard error is
    the subsets' spread / √K, computed here directly from the component weights."""
    path, d = two_param_events
    sample = infer.EventsView(path)
    k = 4
    spread = infer.batch_spread(lambda s: s.event_component_xsec(), sample, n_batches=k)
    np.testing.assert_allclose(spread.mean, d["m"].sum(axis=0), rtol=1e-12)
    parts = np.stack([k * p.sum(axis=0) for p in np.array_split(d["m"], k)])
    np.testing.assert_allclose(spread.std_error, parts.std(axis=0, ddof=1) / np.sqrt(k), rtol=1e-10)
    aligned = infer.batch_spread(lambda s: [s.start, s.n_events], sample, n_batches=k, align=512)
    assert [int(v) for v in aligned.batch_values[:, 0]] == [0, 512, 1536, 2560]
    with pytest.raises(ConfigError, match="n_batches"):
        infer.batch_spread(lambda s: 0.0, sample, n_batches=1)


# ------------------------------------------------------------------------------------------------ fast path
@pytest.fixture(scope="module", params=["tanh", "relu"])
def ratio_estimator(request):
    pytest.importorskip("torch")
    from lhcgold.io.samples import TrainingSet
    from lhcgold.ml import ALICES, TrainConfig

    rng = np.random.default_rng(3)
    n = 600
    th0 = rng.uniform(-1, 1, (n, 2))
    x = rng.normal(size=(n, 3)) * [1.0, 30.0, 0.1] + [0.0, 100.0, 5.0]
    ts = TrainingSet(
        kind="ratio",
        x=x,
        theta0=th0,
        theta1=np.zeros((n, 2)),
        y=rng.integers(0, 2, n).astype(float),
        log_r_xz=rng.normal(size=n) * 0.1,
        t_xz=rng.normal(size=(n, 2)),
        observables=("a", "b", "c"),
        parameters=("p", "q"),
    )
    est = ALICES(n_hidden=(12, 7), activation=request.param)
    est.train(ts, config=TrainConfig(n_epochs=2, batch_size=64, seed=1))
    return est


def test_fast_ratio_network_matches_the_estimator(ratio_estimator):
    from lhcgold.infer.fastratio import FastRatioNetwork, fast_ratio_network

    rng = np.random.default_rng(5)
    x = rng.normal(size=(257, 3)) * [1.0, 30.0, 0.1] + [0.0, 100.0, 5.0]
    th = rng.uniform(-1, 1, (13, 2))
    fast = fast_ratio_network(ratio_estimator, block_rows=100)
    assert isinstance(fast, FastRatioNetwork)
    ref = ratio_estimator.log_ratio(x, th)
    np.testing.assert_allclose(fast.log_ratio(x, th), ref, rtol=1e-4, atol=2e-5)
    assert fast_ratio_network(object()) is None


def test_neural_ratio_fast_and_plain_give_the_same_limits(ratio_estimator, helpers, tmp_path):
    rng = np.random.default_rng(11)
    n = 500
    comps = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
    setup = helpers.make_setup(
        ["p", "q"],
        [(-1.0, 1.0), (-1.0, 1.0)],
        comps,
        np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float),
    )
    x = rng.normal(size=(n, 3)) * [1.0, 30.0, 0.1] + [0.0, 100.0, 5.0]
    m = np.abs(rng.normal(size=(n, 6))) * 0.01 + [[1.0, 0, 0.1, 0, 0, 0.1]]
    path = helpers.write_events(tmp_path / "ev.h5", setup, ["a", "b", "c"], x, m)
    grid = infer.LimitGrid([(-1.0, 1.0), (-1.0, 1.0)], 7)
    res = {
        fast: infer.expected_limits(infer.NeuralRatio(ratio_estimator, fast=fast), path, grid=grid, luminosity_ifb=1.0)
        for fast in (True, False)
    }
    np.testing.assert_allclose(
        res[True].log_likelihood_kinematic, res[False].log_likelihood_kinematic, rtol=1e-4, atol=1e-3
    )


@pytest.mark.parametrize("suffix", ["json", "h5"])
def test_limits_cli_records_closure(two_param_events, tmp_path, capsys, suffix):
    from lhcgold.cli import main

    path, _ = two_param_events
    out = tmp_path / f"lim.{suffix}"
    assert (
        main(
            [
                "-q",
                "limits",
                str(path),
                "-o",
                str(out),
                "-m",
                "rate",
                "--grid",
                "ca=-1:1:5",
                "--grid",
                "cb=-1:1:5",
                "--asimov",
                "0.5,0.0",
                "-L",
                "5",
            ]
        )
        == 0
    ), capsys.readouterr().err
    closure = infer.LimitResult.load(out).details["closure"]
    assert closure["passed"] and list(closure["theta_true"]) == [0.5, 0.0]
