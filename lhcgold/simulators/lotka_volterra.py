r"""Stochastic Lotka–Volterra predator–prey process, with gold from its latent event history.

The state is (X, Y) = (predators, prey), starting at (50, 100). Four events happen at rates

* predator born: :math:`e^{\theta_0} X Y` (X + 1),
* predator dies: :math:`e^{\theta_1} X` (X − 1),
* prey born: :math:`e^{\theta_2} Y` (Y + 1),
* prey eaten: :math:`e^{\theta_3} X Y` (Y − 1),

simulated exactly with Gillespie's algorithm for 30 time units and recorded every 0.2 (the setup
of Papamakarios & Murray, arXiv:1605.06376, app. F, with θ the log of their rate constants, as in
the "mining gold" paper). The observation x is the paper's nine summary statistics: the mean and
log(variance + 1) of each series, their autocorrelations at lags 1 and 2, and the
cross-correlation (correlations set to 0 for a constant series).

The latent z is the full event history on [0, T]. Its density is
:math:`\prod_{\rm events} \lambda_{j}\,e^{-R\,\Delta t}` times the survival factor
:math:`e^{-R\,(T - t_{\rm last})}`, so with n_j events of type j and the integrated propensities
:math:`H_j = \int_0^T h_j(X_t, Y_t)\,dt` (h = XY, X, Y, XY),

.. math::
    \log p(x,z|\theta) = \sum_j \big[n_j\,\theta_j - e^{\theta_j} H_j\big] + \text{const},\qquad
    t_j(x,z|\theta) = n_j - e^{\theta_j} H_j,

exact for any θ from the four counts and four integrals (a Poisson-process martingale, so
E[t] = 0 at the simulated θ). p(x|θ) itself is intractable.

Example:
    >>> lv = LotkaVolterra()
    >>> x = lv.simulate(lv.reference, 2, rng=1)
    >>> x.shape
    (2, 9)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError
from .base import GoldBatch, Simulator

__all__ = ["LotkaVolterra"]

_EFFECTS = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.int64)
SUMMARY_NAMES = (
    "mean_predators",
    "mean_prey",
    "log_var_predators",
    "log_var_prey",
    "autocorr1_predators",
    "autocorr2_predators",
    "autocorr1_prey",
    "autocorr2_prey",
    "crosscorr",
)


def _propensities(xy: NDArray[np.int64]) -> NDArray[np.float64]:
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    return np.stack([x * y, x, y, x * y], axis=1)


def summary_statistics(series: NDArray[np.float64]) -> NDArray[np.float64]:
    """The nine summary statistics of time series (N, T, 2) (predators, prey); returns (N, 9)."""
    s = np.asarray(series, dtype=np.float64)
    n_t = s.shape[1]
    mean = s.mean(axis=1)  # (N, 2)
    var = s.var(axis=1, ddof=1)
    sd = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(sd[:, None, :] > 0, (s - mean[:, None, :]) / sd[:, None, :], 0.0)
    ac = [np.einsum("ntk,ntk->nk", norm[:, :-lag], norm[:, lag:]) / (n_t - 1) for lag in (1, 2)]
    cross = np.einsum("nt,nt->n", norm[:, :, 0], norm[:, :, 1]) / (n_t - 1)
    return np.column_stack([mean, np.log(var + 1.0), ac[0][:, 0], ac[1][:, 0], ac[0][:, 1], ac[1][:, 1], cross])


class LotkaVolterra(Simulator):
    """Stochastic Lotka–Volterra process (see the module docstring).

    Args:
        initial: initial (predators, prey).
        duration: simulated time T.
        delta_t: recording interval.
        max_events: a run with more events is stopped and flagged invalid (after the predators die out
            the prey grow exponentially); the samplers drop such runs, i.e. the model is conditioned
            on at most ``max_events`` events (typical runs at the reference have ~7000).
        theta_range: (4, 2) prior ranges of θ (default: the paper's).
        reference: default denominator θ1 (default log(0.01, 0.5, 1, 0.01)).
    """

    def __init__(
        self,
        *,
        initial: tuple[int, int] = (50, 100),
        duration: float = 30.0,
        delta_t: float = 0.2,
        max_events: int = 15_000,
        theta_range: ArrayLike | None = None,
        reference: ArrayLike | None = None,
    ):
        if duration <= 0 or delta_t <= 0 or min(initial) < 0:
            raise ConfigError("Lotka-Volterra needs duration > 0, delta_t > 0 and non-negative populations")
        self.initial = (int(initial[0]), int(initial[1]))
        self.duration, self.delta_t, self.max_events = float(duration), float(delta_t), int(max_events)
        self.n_times = int(np.floor(self.duration / self.delta_t + 1e-9)) + 1
        self.parameters = ("log_birth_predator", "log_death_predator", "log_birth_prey", "log_predation")
        self.observables = SUMMARY_NAMES
        default_range = [[-5.0, -4.5], [-0.8, -0.3], [-0.3, 0.2], [-5.0, -4.5]]
        self.ranges = np.asarray(default_range if theta_range is None else theta_range, dtype=np.float64)
        ref = np.log([0.01, 0.5, 1.0, 0.01]) if reference is None else reference
        self.reference = np.asarray(ref, dtype=np.float64)

    def run(
        self, theta: ArrayLike, *, rng: np.random.Generator | int | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
        """Gillespie runs, one per row of θ (N, 4), all advanced together.

        Returns:
            series (N, n_times, 2), event counts n (N, 4), integrated propensities H (N, 4) and the
            valid mask (N,) (False where ``max_events`` was hit).
        """
        gen = np.random.default_rng(rng)
        rates_c = np.exp(self._thetas(theta))
        n = len(rates_c)
        state = np.tile(np.array(self.initial, dtype=np.int64), (n, 1))
        t = np.zeros(n)
        counts, integ = np.zeros((n, 4)), np.zeros((n, 4))
        series = np.zeros((n, self.n_times, 2))
        next_k = np.zeros(n, dtype=np.int64)
        steps = np.zeros(n, dtype=np.int64)
        valid = np.ones(n, dtype=bool)
        act = np.arange(n)
        while act.size:
            h = _propensities(state[act])
            lam = rates_c[act] * h
            total = lam.sum(axis=1)
            wait = gen.exponential(1.0, act.size) / np.where(total > 0, total, 1.0)
            t_new = t[act] + np.where(total > 0, wait, np.inf)  # extinct: nothing happens again
            integ[act] += h * (np.minimum(t_new, self.duration) - t[act])[:, None]
            while True:  # record the state at the grid times inside [t, t_new)
                rec = (next_k[act] < self.n_times) & (next_k[act] * self.delta_t < t_new)
                if not rec.any():
                    break
                ids = act[rec]
                series[ids, next_k[ids]] = state[ids]
                next_k[ids] += 1
            fire = t_new <= self.duration
            ids = act[fire]
            cum = np.cumsum(lam[fire], axis=1)
            u = gen.random(ids.size) * total[fire]
            event = np.minimum((u[:, None] >= cum).sum(axis=1), 3)
            counts[ids, event] += 1.0
            state[ids] += _EFFECTS[event]
            t[ids] = t_new[fire]
            steps[ids] += 1
            over = steps[ids] > self.max_events
            valid[ids[over]] = False
            act = ids[~over]
        return series, counts, integ, valid

    def simulate_gold(
        self,
        theta: ArrayLike,
        *,
        theta0: ArrayLike,
        theta1: ArrayLike,
        rng: np.random.Generator | int | None = None,
    ) -> GoldBatch:
        """Run at θ (N, 4); joint log r at (θ0, θ1) and joint score at θ0 from the event history.

        ``latent`` holds the time series, the event counts ``n`` and the integrals ``H``.
        """
        th = self._thetas(theta)
        m = len(th)
        th0, th1 = self._thetas(theta0, m, "theta0"), self._thetas(theta1, m, "theta1")
        series, counts, integ, valid = self.run(th, rng=rng)
        log_r = np.sum(counts * (th0 - th1) - (np.exp(th0) - np.exp(th1)) * integ, axis=1)
        score = counts - np.exp(th0) * integ
        x = summary_statistics(series)
        return GoldBatch(x, log_r, score, valid, latent={"series": series, "n": counts, "H": integ})
