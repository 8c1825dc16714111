"""Truth likelihood with the embedded Drell-Yan generator (real process, real PDFs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold import infer

CARD = Path(__file__).resolve().parents[2] / "cards" / "dy.yaml"


@pytest.fixture(scope="module")
def dy(tmp_path_factory):
    from lhcgold.config import load_card
    from lhcgold.generate.embedded import TruthModel, build_process, generate

    card = load_card(CARD)
    path = tmp_path_factory.mktemp("dy") / "dy.h5"
    generate(card, n_events=30_000, rng=1).write_events(path)
    return path, TruthModel(build_process(card))


@pytest.mark.slow
def test_truth_likelihood_equals_truth_model_and_its_curvature_the_score_information(dy):
    path, tm = dy
    h = 0.002
    grid = infer.LimitGrid([(-h, h), (-h, h)], 3)
    res = infer.expected_limits(infer.Truth(tm), path, grid=grid, luminosity_ifb=300.0)

    # 1. the kinematic term is n_obs [Σ ŵ_i log p(x_i|θ) − log Σ ŵ_i p(x_i|θ)/p(x_i|θ_true)] with the
    #    generator's own TruthModel: p normalised by its Monte-Carlo mean under θ_true on Asimov data
    from lhcgold.io.events import EventFile
    from lhcgold.physics.morphing import component_factors

    ef = EventFile(path)
    ch = ef.read()
    w = ch.components() @ component_factors(np.zeros(2), ef.setup.components)
    w /= w.sum()
    cols = [ef.observables.index(n) for n in tm.observed_names]
    x = ch.observations[:, cols]
    log_p0 = tm.log_likelihood(x, np.zeros(2))
    expected = np.array(
        [
            res.n_observed * (tm.log_likelihood(x, t) @ w - np.log(np.exp(tm.log_likelihood(x, t) - log_p0) @ w))
            for t in grid.points
        ]
    )
    np.testing.assert_allclose(res.log_likelihood_kinematic, expected, rtol=1e-10)

    # 2. the curvature of log L at the Asimov point is the information of the exact score (+ rate)
    class ExactScore:
        observables = tm.observed_names

        def score(self, x):
            return tm.score(x, np.zeros(2))

    info = infer.sally_information(path, ExactScore(), luminosity_ifb=300.0).matrix
    ll = res.log_likelihood.reshape(3, 3)
    hess = (
        np.array(
            [
                [ll[2, 1] + ll[0, 1] - 2 * ll[1, 1], (ll[2, 2] - ll[2, 0] - ll[0, 2] + ll[0, 0]) / 4],
                [(ll[2, 2] - ll[2, 0] - ll[0, 2] + ll[0, 0]) / 4, ll[1, 2] + ll[1, 0] - 2 * ll[1, 1]],
            ]
        )
        / h**2
    )
    scale = np.sqrt(np.outer(np.diag(info), np.diag(info)))
    # equal up to the Monte Carlo error of E[∇∇p/p] = 0 over 3·10⁴ weighted events (a few per cent)
    np.testing.assert_allclose(-hess / scale, info / scale, atol=0.08)
    # the observed-level information is below the parton-level (truth-from-weights) information
    parton = infer.truth_information(path, luminosity_ifb=300.0).matrix
    assert np.linalg.eigvalsh(parton - info).min() > 0


@pytest.mark.slow
def test_truth_closes_on_asimov_data_whatever_the_monte_carlo_noise(dy):
    """Asimov data at the SM from a small weighted sample: the exact likelihood's best fit is the SM itself
    (not shifted by the MC noise of Σ w t(x), which is of the order of the statistical error here)."""
    path, tm = dy
    grid = infer.LimitGrid([(-0.02, 0.02), (-0.02, 0.02)], 41)
    res = infer.expected_limits(infer.Truth(tm), path, grid=grid, luminosity_ifb=3000.0)
    centre = np.argmin(np.linalg.norm(grid.points, axis=1))
    assert np.argmax(res.log_likelihood) == centre
    assert np.all(res.log_likelihood_kinematic <= res.log_likelihood_kinematic[centre] + 1e-9)
