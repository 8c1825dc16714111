r"""The simulator interface, and the adapter for simulators written as plain Python functions.

A simulator here is anything that, run at parameter points θ, returns observations x together
with the *gold* of its latent history z (the "mining gold" idea): the joint log likelihood ratio
log r(x,z|θ0,θ1) = log p(x,z|θ0) − log p(x,z|θ1) and the joint score t(x,z|θ0) = ∇_θ log p(x,z|θ)
at θ0. These are computable whenever the simulator can evaluate the probability of the random
choices it made, even when p(x|θ) itself is intractable.

Every simulator implements one vectorised call, :meth:`Simulator.simulate_gold`, with one row per
simulation: the point θ it is run at, and the points θ0 and θ1 at which the gold is evaluated.
:mod:`lhcgold.simulators.sampling` turns that into the same :class:`~lhcgold.io.samples.TrainingSet`
that :mod:`lhcgold.augment` makes from collider events, so :mod:`lhcgold.ml` trains on it unchanged.

Example (a user simulator: x ~ N(θ, 1) with latent z = x, so the joint quantities are exact):
    >>> import numpy as np
    >>> def gauss(theta, *, theta0, theta1, rng):
    ...     x = theta + rng.standard_normal(theta.shape)
    ...     log_r = -0.5 * ((x - theta0) ** 2 - (x - theta1) ** 2).sum(axis=1)
    ...     return x, log_r, x - theta0
    >>> sim = FunctionSimulator(gauss, parameters=("mu",), observables=("x",), ranges=[(-2, 2)])
    >>> out = sim.simulate_gold(np.zeros((3, 1)), theta0=np.ones((3, 1)), theta1=np.zeros((3, 1)), rng=1)
    >>> out.x.shape, out.log_r_xz.shape, out.t_xz.shape
    ((3, 1), (3,), (3, 1))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError

__all__ = ["FunctionSimulator", "GoldBatch", "Simulator"]


@dataclass(frozen=True)
class GoldBatch:
    """Output of one vectorised simulator call (one row per simulation).

    Attributes:
        x: observations (N, O).
        log_r_xz: joint log ratio log p(x,z|θ0) − log p(x,z|θ1) (N,).
        t_xz: joint score ∇_θ log p(x,z|θ) at θ0 (N, P).
        valid: rows whose simulation finished normally (N,) (all True unless the simulator
            truncates runaway runs; callers drop the others).
        latent: simulator-specific latent information, for tests and diagnostics.
    """

    x: NDArray[np.float64]
    log_r_xz: NDArray[np.float64]
    t_xz: NDArray[np.float64]
    valid: NDArray[np.bool_] | None = None
    latent: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        n = len(x)
        log_r = np.asarray(self.log_r_xz, dtype=np.float64).reshape(-1)
        t = np.asarray(self.t_xz, dtype=np.float64)
        t = t[:, None] if t.ndim == 1 else t
        valid = np.ones(n, dtype=bool) if self.valid is None else np.asarray(self.valid, dtype=bool)
        if len(log_r) != n or len(t) != n or valid.shape != (n,):
            raise ConfigError(
                f"simulator returned inconsistent rows: x {x.shape}, log_r_xz {log_r.shape}, "
                f"t_xz {t.shape}, valid {valid.shape}"
            )
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "log_r_xz", log_r)
        object.__setattr__(self, "t_xz", t)
        object.__setattr__(self, "valid", valid)


class Simulator:
    """Base class: a stochastic simulator that returns x with its joint ratio and score.

    Subclasses set :attr:`parameters`, :attr:`observables`, :attr:`ranges` (P, 2) and
    :attr:`reference` (the default denominator θ1, e.g. the "SM" point), and implement
    :meth:`simulate_gold`. Simulators with a tractable likelihood also implement
    :meth:`log_likelihood` (and :meth:`score`), which the benchmarks score estimators against.
    """

    parameters: tuple[str, ...] = ()
    observables: tuple[str, ...] = ()
    ranges: NDArray[np.float64]
    reference: NDArray[np.float64]

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    def _thetas(self, theta: ArrayLike, n: int | None = None, name: str = "theta") -> NDArray[np.float64]:
        """θ as (N, P) float64, broadcasting one point (P,) to ``n`` rows."""
        th = np.asarray(theta, dtype=np.float64)
        if th.ndim == 1:
            if th.shape != (self.n_parameters,):
                raise ConfigError(f"{name} must have {self.n_parameters} components, got shape {th.shape}")
            th = np.broadcast_to(th, (1 if n is None else n, self.n_parameters))
        if th.ndim != 2 or th.shape[1] != self.n_parameters or (n is not None and len(th) != n):
            raise ConfigError(
                f"{name} must have shape ({'N' if n is None else n}, {self.n_parameters}), got {th.shape}"
            )
        return np.ascontiguousarray(th)

    def simulate_gold(
        self,
        theta: ArrayLike,
        *,
        theta0: ArrayLike,
        theta1: ArrayLike,
        rng: np.random.Generator | int | None = None,
    ) -> GoldBatch:
        """Run once per row of ``theta`` (N, P); gold evaluated at θ0, θ1 (N, P) or (P,)."""
        raise NotImplementedError

    def simulate(
        self, theta: ArrayLike, n: int | None = None, *, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        """Draw x ~ p(x|θ): one point θ (P,) with ``n`` runs, or one row per run (N, P)."""
        th = self._thetas(theta, n)
        return self.simulate_gold(th, theta0=th, theta1=th, rng=rng).x


FunctionType = Callable[..., tuple[ArrayLike, ArrayLike, ArrayLike]]


class FunctionSimulator(Simulator):
    """Adapter for a user simulator written as a Python function.

    The function is called as ``fn(theta, theta0=theta0, theta1=theta1, rng=rng)`` with ``theta``,
    ``theta0`` and ``theta1`` arrays of shape (N, P) (one row per simulation) and ``rng`` a
    :class:`numpy.random.Generator`. It runs the N simulations at ``theta`` and returns
    ``(x, log_r_xz, t_xz)``: x (N, O) (or (N,) for one observable), the joint log ratio
    log p(x,z|θ0) − log p(x,z|θ1) of the latent history z it drew (N,), and the joint score
    ∇_θ log p(x,z|θ) at θ0 (N, P). It may also return a fourth array, a boolean (N,) mask of the
    simulations that finished normally. The probabilities of *all* random choices that depend on θ
    must enter log p(x,z|θ); choices that do not depend on θ cancel and may be left out.

    Args:
        fn: the simulator function (see above).
        parameters: parameter names (P).
        observables: observable names (O).
        ranges: (P, 2) allowed parameter ranges, used to check prior draws.
        reference: default denominator θ1 (P,) (the origin if None).
    """

    def __init__(
        self,
        fn: FunctionType,
        *,
        parameters: Sequence[str],
        observables: Sequence[str],
        ranges: ArrayLike,
        reference: ArrayLike | None = None,
    ):
        if not callable(fn):
            raise ConfigError(f"simulator function must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.parameters = tuple(parameters)
        self.observables = tuple(observables)
        self.ranges = np.asarray(ranges, dtype=np.float64).reshape(len(self.parameters), 2)
        if np.any(self.ranges[:, 0] >= self.ranges[:, 1]):
            raise ConfigError(f"parameter ranges must have lo < hi, got {self.ranges.tolist()}")
        ref = np.zeros(len(self.parameters)) if reference is None else np.asarray(reference, dtype=np.float64)
        self.reference = self._thetas(ref)[0]

    def simulate_gold(
        self,
        theta: ArrayLike,
        *,
        theta0: ArrayLike,
        theta1: ArrayLike,
        rng: np.random.Generator | int | None = None,
    ) -> GoldBatch:
        th = self._thetas(theta)
        n = len(th)
        th0, th1 = self._thetas(theta0, n, "theta0"), self._thetas(theta1, n, "theta1")
        out = self.fn(th, theta0=th0, theta1=th1, rng=np.random.default_rng(rng))
        if not isinstance(out, tuple) or len(out) not in (3, 4):
            raise ConfigError("a simulator function must return (x, log_r_xz, t_xz) or (x, log_r_xz, t_xz, valid)")
        batch = GoldBatch(*out)
        if len(batch.x) != n or batch.x.shape[1] != len(self.observables) or batch.t_xz.shape[1] != self.n_parameters:
            raise ConfigError(
                f"simulator function returned x {batch.x.shape} and t_xz {batch.t_xz.shape} for {n} runs; "
                f"expected ({n}, {len(self.observables)}) and ({n}, {self.n_parameters})"
            )
        return batch
