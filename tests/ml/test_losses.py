"""Each loss against a value computed by hand (plain Python math) on a tiny batch."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from lhcgold.ml import losses as L  # noqa: E402

LR_HAT = [0.5, -1.0, 2.0]  # network log r̂
Y = [0.0, 1.0, 0.0]
LR_XZ = [0.2, -0.3, 12.0]  # joint log r (the last one exercises the ROLR clipping)


def t(v):
    return torch.tensor(v, dtype=torch.float64)


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def test_carl():
    # ŝ = 1/(1+r̂); BCE(ŝ, y) = -[y ln ŝ + (1-y) ln(1-ŝ)]
    terms = []
    for lg, y in zip(LR_HAT, Y, strict=True):
        s_hat = 1.0 / (1.0 + math.exp(lg))
        terms.append(-(y * math.log(s_hat) + (1 - y) * math.log(1 - s_hat)))
    assert L.carl_loss(t(LR_HAT), t(Y)).item() == pytest.approx(sum(terms) / 3, rel=1e-12)


def test_alice():
    terms = []
    for lg, lr in zip(LR_HAT, LR_XZ, strict=True):
        s_hat, s = 1.0 / (1.0 + math.exp(lg)), 1.0 / (1.0 + math.exp(lr))
        terms.append(-(s * math.log(s_hat) + (1 - s) * math.log(1 - s_hat)))
    assert L.alice_loss(t(LR_HAT), t(LR_XZ)).item() == pytest.approx(sum(terms) / 3, rel=1e-12)


def test_rolr_with_clipping():
    num, den = 0.0, 0.0
    for lg, y, lr in zip(LR_HAT, Y, LR_XZ, strict=True):
        r_hat, r = math.exp(min(max(lg, -10), 10)), math.exp(min(max(lr, -10), 10))
        num += (1 - y) * (1 / r_hat - 1 / r) ** 2
        den += y * (r_hat - r) ** 2
    expected = num / 3 + den / 3
    assert L.rolr_loss(t(LR_HAT), t(Y), t(LR_XZ)).item() == pytest.approx(expected, rel=1e-12)


def test_score_mse_masked_and_plain():
    t_hat = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
    t_xz = [[0.5, 2.5], [1.0, -1.0], [2.0, 0.0]]
    sq = [[(a - b) ** 2 for a, b in zip(r1, r2, strict=True)] for r1, r2 in zip(t_hat, t_xz, strict=True)]
    plain = sum(map(sum, sq)) / 6
    masked = sum((1 - y) * sum(row) for y, row in zip(Y, sq, strict=True)) / 6
    assert L.score_mse(t(t_hat), t(t_xz)).item() == pytest.approx(plain, rel=1e-12)
    assert L.score_mse(t(t_hat), t(t_xz), 1 - t(Y)).item() == pytest.approx(masked, rel=1e-12)


def test_nll():
    assert L.nll_loss(t([-1.0, -2.5])).item() == pytest.approx(1.75)


def test_stable_for_large_logits():
    big = t([80.0, -80.0])
    assert math.isfinite(L.carl_loss(big, t([1.0, 0.0])).item())
    assert L.carl_loss(big, t([0.0, 1.0])).item() == pytest.approx(0.0, abs=1e-30)
    assert sig(0) == 0.5
