"""Morphing: components, weights, gradients, basis search, and real MG5 reweighting weights."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from lhcgold.exceptions import MorphingError
from lhcgold.physics.morphing import (
    Morpher,
    component_factor_gradients,
    component_factors,
    find_components,
    optimize_basis,
)

DATA = Path(__file__).parents[1] / "data" / "mg5" / "wgamma_ewdim6"


def test_components_follow_madminer_order():
    # MadMiner anatomy §2.1: P=2, m=(2,2), M=2 -> (0,0),(0,1),(0,2),(1,0),(1,1),(2,0)
    assert find_components([2, 2], 2).tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]]
    assert len(find_components([2] * 5, 2)) == 21
    assert len(find_components([2, 2, 2], 2)) == 10
    assert len(find_components([4, 4], 4)) == 15


def test_components_reject_negative_powers():
    with pytest.raises(MorphingError, match="non-negative"):
        find_components([2, -1])


def _random_polynomial(rng, components):
    coeffs = rng.normal(size=(components.shape[0],))

    def poly(theta):
        theta = np.atleast_2d(theta)
        return np.array([sum(c * np.prod(t**n) for c, n in zip(coeffs, components)) for t in theta])

    return poly


@pytest.mark.parametrize("n_par", [1, 2, 3])
def test_morphing_reproduces_any_polynomial(n_par):
    rng = np.random.default_rng(n_par)
    comps = find_components([2] * n_par, 2)
    poly = _random_polynomial(rng, comps)
    basis = rng.uniform(-1, 1, size=(len(comps), n_par))
    morpher = Morpher(comps, basis)
    thetas = rng.uniform(-2, 2, size=(50, n_par))
    morphed = morpher.weights(thetas) @ poly(basis)
    np.testing.assert_allclose(morphed, poly(thetas), rtol=1e-9, atol=1e-9)
    # at a basis point the weights are a unit vector
    np.testing.assert_allclose(morpher.weights(basis[2]), np.eye(len(comps))[2], atol=1e-10)


def test_gradients_equal_central_differences():
    rng = np.random.default_rng(3)
    comps = find_components([2, 3], 4)
    theta = rng.normal(size=(7, 2))
    h = 1e-6
    grads = component_factor_gradients(theta, comps)
    for p in range(2):
        step = np.zeros(2)
        step[p] = h
        fd = (component_factors(theta + step, comps) - component_factors(theta - step, comps)) / (2 * h)
        np.testing.assert_allclose(grads[:, p, :], fd, rtol=1e-6, atol=1e-8)
    morpher = Morpher(comps, rng.uniform(-1, 1, size=(len(comps), 2)))
    fd = (morpher.weights(theta + [h, 0]) - morpher.weights(theta - [h, 0])) / (2 * h)
    np.testing.assert_allclose(morpher.weight_gradients(theta)[:, 0, :], fd, rtol=1e-5, atol=1e-5)


def test_least_squares_morphing_with_more_benchmarks():
    rng = np.random.default_rng(4)
    comps = find_components([2, 2], 2)
    poly = _random_polynomial(rng, comps)
    basis = rng.uniform(-1, 1, size=(9, 2))
    morpher = Morpher(comps, basis)
    assert morpher.matrix.shape == (6, 9)
    theta = rng.uniform(-1, 1, size=(20, 2))
    np.testing.assert_allclose(morpher.weights(theta) @ poly(basis), poly(theta), rtol=1e-9, atol=1e-9)


def test_too_few_or_singular_benchmarks_are_errors():
    comps = find_components([2, 2], 2)
    with pytest.raises(MorphingError, match="at least 6 benchmarks"):
        Morpher(comps, np.zeros((5, 2)))
    degenerate = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [5, 0]], dtype=float)
    with pytest.raises(MorphingError, match="singular"):
        Morpher(comps, degenerate)


def test_basis_search_is_seeded_and_beats_random_bases():
    comps = find_components([2, 2], 2)
    ranges = [[-20, 20], [-20, 20]]
    a = optimize_basis(comps, ranges, fixed=[[0, 0]], n_trials=50, rng=11)
    b = optimize_basis(comps, ranges, fixed=[[0, 0]], n_trials=50, rng=11)
    np.testing.assert_array_equal(a.basis, b.basis)
    np.testing.assert_array_equal(a.basis[0], [0, 0])
    # the optimised score is the lowest of many random single draws
    single = [optimize_basis(comps, ranges, fixed=[[0, 0]], n_trials=1, rng=s).score for s in range(20)]
    assert a.score <= min(single)
    assert np.isfinite(a.condition_number)


# --- real MadGraph reweighting weights ------------------------------------------------------------

_WGT = re.compile(r"<wgt id='([^']+)'>\s*([-+0-9.eE]+)\s*</wgt>")
_BENCH = {  # (CWWWL2, CWL2) of each reweighting benchmark, from reweight_card.dat
    "sm": (0, 0),
    "cwww_m10": (-10, 0),
    "cwww_m5": (-5, 0),
    "cwww_p5": (5, 0),
    "cwww_p10": (10, 0),
    "cw_m10": (0, -10),
    "cw_p10": (0, 10),
    "mix_p5_p5": (5, 5),
    "mix_m5_p10": (-5, 10),
}


def _lhe_weights(path: Path) -> dict[str, np.ndarray]:
    """Per-event rwgt weights read straight from the LHE text (independent of lhcgold's reader)."""
    text = gzip.open(path, "rt").read()
    events = text.split("<event")[1:]
    out: dict[str, list[float]] = {k: [] for k in _BENCH}
    for ev in events:
        found = dict(_WGT.findall(ev))
        for k in _BENCH:
            out[k].append(float(found[k]))
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("sample", ["run_01_sm", "run_02_cwww_p10"])
def test_six_benchmark_basis_predicts_the_other_three_mg5_weights(sample):
    weights = _lhe_weights(DATA / f"{sample}_unweighted_events.lhe.gz")
    assert len(weights["sm"]) >= 1000
    basis_names = ["sm", "cwww_m10", "cwww_p10", "cw_m10", "cw_p10", "mix_p5_p5"]
    morpher = Morpher(find_components([2, 2], 2), np.array([_BENCH[n] for n in basis_names], dtype=float))
    w_basis = np.stack([weights[n] for n in basis_names], axis=1)
    for name in ("cwww_m5", "cwww_p5", "mix_m5_p10"):
        predicted = w_basis @ morpher.weights(np.array(_BENCH[name], dtype=float))
        rel = np.abs(predicted / weights[name] - 1)
        assert rel.max() <= 1e-5, (name, rel.max())
