"""Galton board: exact likelihood and gold against an independent brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lhcgold.exceptions import ConfigError
from lhcgold.simulators import GaltonBoard

ROWS, NAILS = 8, 5  # small enough to enumerate all 2^8 paths; reaches both walls


def _p_left(theta, level, pos):
    """P(left) from the paper's definition, written out with scalars."""
    if level % 2 == 1 and pos <= 0:
        return 0.0
    if level % 2 == 1 and pos >= NAILS:
        return 1.0
    s = math.sin(math.pi * level / (ROWS - 1))
    u = 2.0 * pos / (NAILS - 1) - 1.0
    return 0.5 * (1 - s) + s / (1 + math.exp(-10 * theta * u))


def _walk(theta, path):
    """(final position, path probability) of a left/right path."""
    pos, prob = NAILS // 2, 1.0
    for level, left in enumerate(path):
        pl = _p_left(theta, level, pos)
        prob *= pl if left else 1 - pl
        if level % 2 == 0:
            pos += 0 if left else 1
        else:
            pos -= 1 if left else 0
    return pos, prob


def _positions(path):
    pos, out = NAILS // 2, []
    for level, left in enumerate(path):
        pos += (0 if left else 1) if level % 2 == 0 else (-1 if left else 0)
        out.append(pos)
    return out


def _brute(theta):
    out = np.zeros(NAILS + 2)
    for path in itertools.product([True, False], repeat=ROWS):
        pos, prob = _walk(theta, path)
        out[pos] += prob
    return out


@pytest.fixture(scope="module")
def board():
    return GaltonBoard(ROWS, NAILS)


@pytest.mark.parametrize("theta", [-0.9, -0.2, 0.0, 0.45, 1.0])
def test_likelihood_matches_enumeration(board, theta):
    prob, _ = board.distribution([theta])
    brute = _brute(theta)
    visited = {p for path in itertools.product([True, False], repeat=ROWS) for p in _positions(path)}
    assert {0, NAILS} <= visited  # both walls are reached
    np.testing.assert_allclose(prob[0], brute, rtol=1e-12, atol=1e-15)
    x = np.flatnonzero(brute > 0)
    np.testing.assert_allclose(board.log_likelihood(x, [theta]), np.log(brute[x]), rtol=1e-12)


@pytest.mark.parametrize("theta", [-0.7, 0.1, 0.6])
def test_score_and_ratio_match_enumeration(board, theta):
    x = np.flatnonzero(_brute(theta) > 0)
    h = 1e-5
    fd = (np.log(_brute(theta + h)[x]) - np.log(_brute(theta - h)[x])) / (2 * h)
    np.testing.assert_allclose(board.score(x, [theta])[:, 0], fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        board.log_ratio(x, [theta], [-0.3]), np.log(_brute(theta)[x] / _brute(-0.3)[x]), rtol=1e-10
    )


def test_joint_gold_matches_enumerated_paths(board):
    th, th0, th1 = 0.4, -0.6, 0.25
    out = board.simulate_gold(np.full((300, 1), th), theta0=[th0], theta1=[th1], rng=3)
    h = 1e-5
    for i in range(0, 300, 7):
        path = tuple(out.latent["path"][i])
        pos, p0 = _walk(th0, path)
        assert pos == out.x[i, 0]
        assert out.log_r_xz[i] == pytest.approx(math.log(p0 / _walk(th1, path)[1]), rel=1e-10, abs=1e-12)
        fd = (math.log(_walk(th0 + h, path)[1]) - math.log(_walk(th0 - h, path)[1])) / (2 * h)
        assert out.t_xz[i, 0] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_paper_board_monte_carlo():
    """20 rows, 31 nails: x histogram matches p(x|θ); E[t] = 0 at θ, E[r(x,z|θ0,θ1)] = 1 under θ1."""
    board = GaltonBoard()
    n = 100_000
    x = board.simulate([0.3], n, rng=2)[:, 0].astype(int)
    prob, _ = board.distribution([0.3])
    freq = np.bincount(x, minlength=prob.shape[1]) / n
    assert np.all(np.abs(freq - prob[0]) < 5 * np.sqrt(prob[0] * (1 - prob[0]) / n) + 1e-12)
    at = board.simulate_gold(np.full((n, 1), 0.3), theta0=[0.3], theta1=[0.0], rng=4)
    assert abs(at.t_xz.mean()) < 4 * at.t_xz.std() / np.sqrt(n)
    under1 = board.simulate_gold(np.full((n, 1), 0.0), theta0=[0.3], theta1=[0.0], rng=5)
    r = np.exp(under1.log_r_xz)
    assert abs(r.mean() - 1) < 4 * r.std() / np.sqrt(n)
    # the joint score averages to the true score: E[t(x,z)|x] = t(x)
    xs = at.x[:, 0].astype(int)
    for v in (12, 15, 18):
        sel = xs == v
        est = at.t_xz[sel, 0]
        assert abs(est.mean() - board.score([v], [0.3])[0, 0]) < 4 * est.std() / np.sqrt(sel.sum())


def test_bad_input():
    with pytest.raises(ConfigError, match="integers"):
        GaltonBoard().log_likelihood([2.5], [0.0])
    with pytest.raises(ConfigError, match="components"):
        GaltonBoard().simulate([0.0, 1.0], 3)
    with pytest.raises(ConfigError, match="rows"):
        GaltonBoard(1, 5)
