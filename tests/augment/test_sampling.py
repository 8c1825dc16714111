"""Sampling with gold from an events file, against the exact toy and an independent gold code."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.augment import (
    ArrayEvents,
    BenchmarkTheta,
    Flat,
    Point,
    Points,
    Prior,
    RandomMorphing,
    partition_bounds,
    sample_local,
    sample_more_ratios,
    sample_plain,
    sample_ratio,
    sample_test,
)
from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.io.events import EventFile
from lhcgold.physics import gold

TH = np.array([0.6, -0.5])
N_EVENTS = 20_000  # as in conftest.py


def _partition_gold_inputs(path, partition):
    ef = EventFile(path)
    start, stop, corr = partition_bounds(ef.n_events, partition)
    m = ef.read().components()
    return m, m[start:stop].sum(axis=0) * corr, (start, stop), ef.setup.components


def test_partitions_are_disjoint_and_cover():
    n = 1003
    b = {p: partition_bounds(n, p)[:2] for p in ("train", "validation", "test")}
    assert b["train"][0] == 0 and b["train"][1] == b["validation"][0]
    assert b["validation"][1] == b["test"][0] and b["test"][1] == n
    assert partition_bounds(n, "train")[2] == pytest.approx(1 / 0.6)
    with pytest.raises(ConfigError, match="empty"):
        partition_bounds(n, "validation", validation_split=0.0)
    with pytest.raises(ConfigError):
        partition_bounds(n, "nope")  # type: ignore[arg-type]


def test_draws_follow_p_x_given_theta(toy_events, toy, match_rows):
    """Events drawn at θ far from the generation point have the exact class fractions π_k(θ)."""
    path, k = toy_events
    ts = sample_plain(path, theta=Point(TH), n_samples=20_000, partition="all", rng=1)
    rows = match_rows(path, ts.x)
    freq = np.bincount(k[rows], minlength=toy.n_classes) / len(rows)
    # expected: the reweighted fractions of this finite file (exact target of the sampler)
    m, _, _, comps = _partition_gold_inputs(path, "all")
    w = gold.event_weights(m, comps, TH)
    target = np.bincount(k, weights=w, minlength=toy.n_classes) / w.sum()
    sigma = np.sqrt(target * (1 - target) / len(rows))
    assert np.all(np.abs(freq - target) < 5 * sigma)
    np.testing.assert_allclose(target, toy.class_probabilities(TH), atol=0.02)


def test_local_score_equals_independent_gold(toy_events, toy, match_rows):
    path, k = toy_events
    ts = sample_local(path, theta=BenchmarkTheta("sm"), n_samples=3000, rng=2)
    rows = match_rows(path, ts.x)
    m, sigma_c, (start, stop), comps = _partition_gold_inputs(path, "train")
    assert np.all((rows >= start) & (rows < stop))
    expected = gold.joint_score(m[rows], comps, np.zeros(2), sigma_c=sigma_c)
    np.testing.assert_allclose(ts.t_xz, expected, rtol=1e-10, atol=1e-12)
    # and close to the exact toy joint score (differs only by the sample estimate of σ)
    np.testing.assert_allclose(ts.t_xz, toy.joint_score(k[rows], np.zeros(2)), atol=0.05)
    assert ts.kind == "local" and ts.gold == {"t_xz"}


def test_ratio_sample_gold_and_layout(toy_events, toy, match_rows):
    path, k = toy_events
    ts = sample_ratio(
        path,
        theta0=RandomMorphing(20, Prior(Flat(-1, 1))),
        theta1=BenchmarkTheta("sm"),
        n_samples=4000,
        rng=3,
    )
    assert len(ts) == 4000 and ts.y.sum() == 2000
    assert np.all(ts.theta1 == 0.0)
    assert len(np.unique(ts.theta0, axis=0)) == 40  # 20 points, drawn afresh for the second half
    rows = match_rows(path, ts.x)
    m, sigma_c, _, comps = _partition_gold_inputs(path, "train")
    exp_r = np.array(
        [
            gold.joint_log_ratio(m[i : i + 1], comps, t0, t1, sigma_c=sigma_c)[0]
            for i, t0, t1 in zip(rows[:300], ts.theta0[:300], ts.theta1[:300], strict=True)
        ]
    )
    np.testing.assert_allclose(ts.log_r_xz[:300], exp_r, rtol=1e-10, atol=1e-12)
    exp_t = np.array(
        [
            gold.joint_score(m[i : i + 1], comps, t0, sigma_c=sigma_c)[0]
            for i, t0 in zip(rows[:300], ts.theta0[:300], strict=True)
        ]
    )
    np.testing.assert_allclose(ts.t_xz[:300], exp_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ts.log_r_xz, toy.joint_log_ratio(k[rows], ts.theta0, ts.theta1), atol=0.05)


def test_more_ratios(toy_events):
    path, _ = toy_events
    ts = sample_more_ratios(
        path,
        theta0=Prior(Flat(-1, 1)),
        theta1=BenchmarkTheta("sm"),
        n_samples=1000,
        additional_thetas=[Points([[0.5, 0.5], [-0.5, 0.2]])],
        rng=4,
    )
    assert len(ts) == 2000 and ts.gold == {"r_xz", "t_xz", "t_xz1"}
    extra = ts.theta1[ts.y == 0]
    assert {tuple(r) for r in extra} >= {(0.0, 0.0), (0.5, 0.5), (-0.5, 0.2)}
    # antisymmetry of the gold: rows with θ0 and θ1 swapped have opposite log r — check via t at θ1
    assert np.all(np.isfinite(ts.t_xz1))


def test_test_partition_is_disjoint_from_train(toy_events, match_rows):
    path, _ = toy_events
    ts = sample_test(path, theta=BenchmarkTheta("sm"), n_samples=500, rng=5)
    rows = match_rows(path, ts.x)
    start, stop, _ = partition_bounds(N_EVENTS, "test")
    assert np.all((rows >= start) & (rows < stop))


def test_benchmark_weight_files_give_the_same_gold(toy_events_benchmarks_only, match_rows):
    """Without stored components, gold comes from morphed benchmark weights (MadMiner files)."""
    path, _ = toy_events_benchmarks_only
    ts = sample_local(path, theta=Point(TH), n_samples=500, rng=6)
    rows = match_rows(path, ts.x)
    m, sigma_c, _, comps = _partition_gold_inputs(path, "train")
    np.testing.assert_allclose(ts.t_xz, gold.joint_score(m[rows], comps, TH, sigma_c=sigma_c), rtol=1e-8)


def test_reproducible_with_seed(toy_events):
    path, _ = toy_events
    a = sample_ratio(path, theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("sm"), n_samples=200, rng=7)
    b = sample_ratio(path, theta0=Prior(Flat(-1, 1)), theta1=BenchmarkTheta("sm"), n_samples=200, rng=7)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.log_r_xz, b.log_r_xz)


def test_array_events_and_closest_benchmark(toy):
    x, m, _ = toy.weighted_events(2000, rng=8)
    ids = np.where(np.arange(2000) < 1000, 0, 1)
    ev = ArrayEvents(
        x,
        m,
        toy.components,
        ["a", "b"],
        ranges=np.array([[-1, 1], [-1, 1]]),
        benchmark_names=["sm", "far"],
        benchmark_values=np.array([[0.0, 0.0], [1.0, 1.0]]),
        sampling_benchmarks=ids,
    )
    near_far = sample_plain(ev, theta=Point([0.9, 0.9]), n_samples=300, partition="all", rng=9)
    rows = np.array([np.flatnonzero((x == r).all(1))[0] for r in near_far.x])
    assert np.all(rows >= 1000)  # only the run generated closest to θ
    every = sample_plain(
        ev,
        theta=Point([0.9, 0.9]),
        n_samples=300,
        partition="all",
        rng=9,
        sample_only_from_closest_benchmark=False,
    )
    rows = np.array([np.flatnonzero((x == r).all(1))[0] for r in every.x])
    assert np.any(rows < 1000) and np.any(rows >= 1000)


def test_bad_input(toy_events):
    path, _ = toy_events
    with pytest.raises(ConfigError, match="empty sample"):
        sample_local(path, theta=BenchmarkTheta("sm"), n_samples=0)
    with pytest.raises(ConfigError, match="outside the parameter range"):
        sample_local(path, theta=Point([3.0, 0.0]), n_samples=10)
    with pytest.raises(ConfigError, match="unknown benchmark"):
        sample_ratio(path, theta0=BenchmarkTheta("bsm"), theta1=BenchmarkTheta("sm"), n_samples=10)
    with pytest.raises(ConfigError, match="empty"):
        sample_local(path, theta=BenchmarkTheta("sm"), n_samples=10, partition="validation", validation_split=0.0)
    with pytest.raises(EventFileError):
        sample_local(str(path) + ".missing", theta=BenchmarkTheta("sm"), n_samples=10)


def test_vectorised_over_theta(toy_events):
    """1000 θ0 cost about as much as one (no per-θ pass over the events)."""
    import time

    path, _ = toy_events
    t0 = time.perf_counter()
    sample_ratio(path, theta0=Point([0.3, 0.3]), theta1=BenchmarkTheta("sm"), n_samples=20_000, rng=10)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    sample_ratio(
        path,
        theta0=RandomMorphing(1000, Prior(Flat(-1, 1))),
        theta1=BenchmarkTheta("sm"),
        n_samples=20_000,
        rng=10,
    )
    many = time.perf_counter() - t0
    assert many < 4 * one + 0.5


def test_n_effective(toy_events):
    """Exact n_eff = 1/max_i p_i(θ) (MadMiner's); the default estimate is an upper bound."""
    path, _ = toy_events
    m, sigma_c, (start, stop), comps = _partition_gold_inputs(path, "train")
    for th in (np.zeros(2), TH):
        w = gold.event_weights(m[start:stop], comps, th) * partition_bounds(N_EVENTS, "train")[2]
        expected = 1.0 / (w.max() / gold.xsec(sigma_c, comps, th))
        exact = sample_plain(path, theta=Point(th), n_samples=200, rng=1, exact_n_effective=True)
        np.testing.assert_allclose(exact.n_effective, expected, rtol=1e-10)
        estimate = sample_plain(path, theta=Point(th), n_samples=200, rng=1)
        assert np.all(estimate.n_effective >= expected * (1 - 1e-12))


def test_negative_weights_are_refused_or_dropped_with_a_warning(toy, caplog):
    """Events with w(θ) < 0 cannot be drawn: refused by default, dropped (MadMiner) only when asked."""
    x, m, _ = toy.weighted_events(2000, rng=8)
    m = m.copy()
    m[:300] *= -1.0  # 15% negative-weight events (e.g. NLO)
    ev = ArrayEvents(
        x,
        m,
        toy.components,
        ["a", "b"],
        ranges=np.array([[-1, 1], [-1, 1]]),
        benchmark_names=["sm"],
        benchmark_values=np.array([[0.0, 0.0]]),
    )
    with pytest.raises(EventFileError, match="negative weight.*--drop-negative-weights"):
        sample_plain(ev, theta=BenchmarkTheta("sm"), n_samples=200, partition="all", rng=1)
    with caplog.at_level("WARNING", logger="lhcgold.augment.sampling"):
        ts = sample_plain(
            ev, theta=BenchmarkTheta("sm"), n_samples=200, partition="all", rng=1, negative_weights="drop"
        )
    assert len(ts) == 200
    rows = np.array([np.flatnonzero((x == r).all(1))[0] for r in ts.x])
    assert np.all(rows >= 300)  # only positive-weight events can be drawn
    assert "negative weight" in caplog.text
