r"""The generalised Galton board of the "mining gold" paper, with its exact likelihood.

A ball starts above the middle nail (position ``n_nails // 2``) and falls through ``n_rows`` rows.
At row ℓ and position p it goes left with probability

.. math::
    t(\theta; \ell, p) = \tfrac12\,[1 - s_\ell] + s_\ell\,\sigma\!\big(10\,\theta\,u_p\big),\qquad
    s_\ell = \sin\frac{\pi \ell}{R-1},\quad u_p = \frac{2p}{N-1} - 1,

(σ the logistic function, R rows, N nails). On even rows a left step keeps p and a right step
gives p + 1; on odd rows left gives p − 1 and right keeps p; on odd rows the walls force the
ball back (p = 0 always goes right, p ≥ N always left). The observation x is the final position;
the latent z is the path. This follows the paper's reference implementation (20 rows,
31 nails, one parameter θ); θ > 0 pulls balls back to the centre, θ < 0 pushes them out.

The path probability p(x,z|θ) is the product of the left/right probabilities along the path,
so the joint ratio and joint score follow exactly from the latent path; the likelihood
p(x|θ) = Σ_z p(x,z|θ) is computed exactly by dynamic programming over the board (forward
propagation of the position distribution, with its θ-derivative for the exact score).

Example:
    >>> board = GaltonBoard()
    >>> x = board.simulate([0.5], 4, rng=1)
    >>> x.shape
    (4, 1)
    >>> float(np.exp(board.log_likelihood(np.arange(5, 26), [0.5])).sum().round(12))
    1.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError
from .base import GoldBatch, Simulator

__all__ = ["GaltonBoard"]


def _log_sigmoid(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.logaddexp(0.0, -a)


class GaltonBoard(Simulator):
    """Generalised Galton board (see the module docstring).

    Args:
        n_rows: rows of nails R (the paper: 20).
        n_nails: nails per row N (the paper: 31).
        theta_range: prior range of θ (default (−1, 1)).
        reference: default denominator θ1 (default 0: a symmetric board).
    """

    def __init__(
        self,
        n_rows: int = 20,
        n_nails: int = 31,
        *,
        theta_range: tuple[float, float] = (-1.0, 1.0),
        reference: float = 0.0,
    ):
        if int(n_rows) < 2 or int(n_nails) < 2:
            raise ConfigError(f"a Galton board needs >= 2 rows and nails, got {n_rows} rows, {n_nails} nails")
        self.n_rows, self.n_nails = int(n_rows), int(n_nails)
        self.parameters = ("theta",)
        self.observables = ("x",)
        self.ranges = np.array([theta_range], dtype=np.float64)
        self.reference = np.array([float(reference)])

    # ------------------------------------------------------------------ one row of nails
    def _row(
        self, theta: NDArray[np.float64], level: int, pos: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """log P(left), log P(right) and their θ-derivatives at row ``level``, positions ``pos``.

        ``theta`` and ``pos`` broadcast together.
        """
        s = np.sin(np.pi * level / (self.n_rows - 1))
        u = 2.0 * pos / (self.n_nails - 1) - 1.0
        a = 10.0 * theta * u
        sig, sig_m = np.exp(_log_sigmoid(a)), np.exp(_log_sigmoid(-a))
        p_left = 0.5 * (1.0 - s) + s * sig
        p_right = 0.5 * (1.0 - s) + s * sig_m
        dp = s * 10.0 * u * sig * sig_m  # d P(left) / dθ
        if level % 2 == 1:  # walls on odd rows
            wall_l, wall_r = pos <= 0, pos >= self.n_nails
            p_left = np.where(wall_l, 0.0, np.where(wall_r, 1.0, p_left))
            p_right = np.where(wall_l, 1.0, np.where(wall_r, 0.0, p_right))
            dp = np.where(wall_l | wall_r, 0.0, dp)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(p_left), np.log(p_right), dp / p_left, -dp / p_right

    def _step(self, level: int, pos: NDArray[np.int64], left: NDArray[np.bool_]) -> NDArray[np.int64]:
        if level % 2 == 0:
            return np.where(left, pos, pos + 1)
        return np.where(left, pos - 1, pos)

    # ------------------------------------------------------------------ simulation with gold
    def simulate_gold(
        self,
        theta: ArrayLike,
        *,
        theta0: ArrayLike,
        theta1: ArrayLike,
        rng: np.random.Generator | int | None = None,
    ) -> GoldBatch:
        """Drop one ball per row of θ (N, 1); joint log r at (θ0, θ1) and joint score at θ0.

        The latent path (N, R) (True = left) is returned in ``latent["path"]``.
        """
        gen = np.random.default_rng(rng)
        th = self._thetas(theta)[:, 0]
        n = len(th)
        th0 = self._thetas(theta0, n, "theta0")[:, 0]
        th1 = self._thetas(theta1, n, "theta1")[:, 0]
        pos = np.full(n, self.n_nails // 2, dtype=np.int64)
        log_r = np.zeros(n)
        score = np.zeros(n)
        path = np.zeros((n, self.n_rows), dtype=bool)
        for level in range(self.n_rows):
            lpl, _, _, _ = self._row(th, level, pos)
            left = gen.random(n) < np.exp(lpl)
            l0, r0, d0l, d0r = self._row(th0, level, pos)
            l1, r1, _, _ = self._row(th1, level, pos)
            log_r += np.where(left, l0, r0) - np.where(left, l1, r1)  # the taken branch is never impossible
            score += np.where(left, d0l, d0r)
            path[:, level] = left
            pos = self._step(level, pos, left)
        return GoldBatch(pos.astype(np.float64), log_r, score[:, None], latent={"path": path})

    # ------------------------------------------------------------------ exact likelihood
    def distribution(self, theta: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Exact p(x|θ) and ∂p(x|θ)/∂θ over the final positions x = 0 … N + 1.

        Args:
            theta: (T, 1) or (1,) parameter points.

        Returns:
            probabilities (T, N+2) and their θ-derivatives (T, N+2).
        """
        th = self._thetas(theta)[:, 0][:, None]  # (T, 1)
        width = self.n_nails + 2  # even rows can step onto N + 1; the next odd row's wall sends it back
        pos = np.arange(width)[None, :]
        prob = np.zeros((len(th), width))
        prob[:, self.n_nails // 2] = 1.0
        dprob = np.zeros_like(prob)
        for level in range(self.n_rows):
            lpl, lpr, dll, dlr = self._row(th, level, pos)
            pl, pr = np.exp(lpl), np.exp(lpr)
            dpl = np.nan_to_num(dll * pl)  # dP(left)/dθ; 0 where P(left) = 0
            ml, mr = prob * pl, prob * pr
            dml, dmr = dprob * pl + prob * dpl, dprob * pr - prob * dpl
            shift_l, shift_r = (0, 1) if level % 2 == 0 else (-1, 0)
            prob = self._shift(ml, shift_l) + self._shift(mr, shift_r)
            dprob = self._shift(dml, shift_l) + self._shift(dmr, shift_r)
        return prob, dprob

    @staticmethod
    def _shift(a: NDArray[np.float64], k: int) -> NDArray[np.float64]:
        if k == 0:
            return a
        out = np.zeros_like(a)
        if k > 0:
            out[:, k:] = a[:, :-k]
        else:
            out[:, :k] = a[:, -k:]
        return out

    def _x_index(self, x: ArrayLike) -> NDArray[np.int64]:
        xx = np.asarray(x, dtype=np.float64).reshape(-1)
        idx = np.rint(xx).astype(np.int64)
        if np.any(np.abs(xx - idx) > 1e-9) or np.any((idx < 0) | (idx > self.n_nails + 1)):
            raise ConfigError(f"Galton board observations must be integers in [0, {self.n_nails + 1}]")
        return idx

    def log_likelihood(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """Exact log p(x|θ): θ (1,) gives (N,), θ (T, 1) gives (T, N)."""
        prob, _ = self.distribution(theta)
        with np.errstate(divide="ignore"):
            out = np.log(prob[:, self._x_index(x)])
        return out[0] if np.asarray(theta).ndim <= 1 else out

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """Exact log r(x|θ0,θ1) for one θ0 and one θ1 (each (1,))."""
        return self.log_likelihood(x, theta0) - self.log_likelihood(x, theta1)

    def log_ratio_pairs(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """Exact log r(x_i|θ0_i,θ1_i) with one θ pair per event (N, 1) (or (1,) broadcast)."""
        idx = self._x_index(x)
        n = len(idx)
        th0, th1 = self._thetas(theta0, n, "theta0"), self._thetas(theta1, n, "theta1")
        p0, _ = self.distribution(th0)
        p1, _ = self.distribution(th1)
        rows = np.arange(n)
        return np.log(p0[rows, idx]) - np.log(p1[rows, idx])

    def score(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """Exact score ∂ log p(x|θ)/∂θ at one θ (1,); returns (N, 1)."""
        prob, dprob = self.distribution(self._thetas(theta)[:1])
        idx = self._x_index(x)
        return (dprob[0, idx] / prob[0, idx])[:, None]
