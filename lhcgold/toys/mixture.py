r"""An exact toy simulator with a latent variable: a θ-dependent Gaussian mixture.

The latent variable z is a class k ∈ {0, …, K−1}; the observation x ∈ R^D is drawn from
a Gaussian whose mean and width depend only on k. The class probabilities follow from
"squared matrix elements" that are exact quadratics in θ, like an LHC process with
dimension-six operators:

.. math::
    w_k(\theta) = c_k\,[(1 + a_k\cdot\theta)^2 + (b_k\cdot\theta)^2],\qquad
    \pi_k(\theta) = w_k(\theta) / \sum_j w_j(\theta),\qquad
    p(x|\theta) = \sum_k \pi_k(\theta)\, \mathcal N(x; \mu_k, s_k^2).

Everything is closed form: the joint ratio r(x,z|θ0,θ1) = π_k(θ0)/π_k(θ1), the joint score
t(x,z|θ) = ∇ log π_k(θ), the true likelihood p(x|θ), its ratio and its score. Because w_k
is a quadratic polynomial, morphing with ``max_power=2`` is exact, so the same toy also
writes weighted event files (component weights per event) for the augmentation tests.

Example:
    >>> toy = GaussianMixtureToy()
    >>> x, k = toy.simulate([0.5, -0.5], 3, rng=1)
    >>> x.shape, k.shape
    ((3, 2), (3,))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config.card import Benchmark, Parameter
from ..config.setup import Setup
from ..exceptions import ConfigError
from ..physics.morphing import Morpher, component_factors, find_components

__all__ = ["GaussianMixtureToy"]


def _default_a() -> NDArray[np.float64]:
    return np.array([[0.8, 0.0], [-0.5, 0.6], [0.2, -0.9], [0.0, 0.3]])


def _default_b() -> NDArray[np.float64]:
    return np.array([[0.3, 0.4], [0.0, -0.5], [0.6, 0.0], [-0.4, 0.2]])


def _default_means() -> NDArray[np.float64]:
    return np.array([[0.0, 0.0], [1.0, 0.5], [-0.8, 1.0], [0.3, -1.0]])


def _default_widths() -> NDArray[np.float64]:
    return np.array([[0.8, 0.8], [0.7, 0.9], [0.9, 0.6], [0.6, 0.7]])


@dataclass(frozen=True)
class GaussianMixtureToy:
    """A Gaussian mixture whose class fractions are quadratic in θ (see module docstring).

    Args:
        a: (K, P) linear coefficients.
        b: (K, P) CP-odd-like coefficients (enter squared).
        norms: (K,) overall class normalisations c_k (default 1).
        means: (K, D) class means of x.
        widths: (K, D) class standard deviations of x.
        parameter_range: allowed range of every parameter (lo, hi).
    """

    a: NDArray[np.float64] = field(default_factory=_default_a)
    b: NDArray[np.float64] = field(default_factory=_default_b)
    norms: NDArray[np.float64] | None = None
    means: NDArray[np.float64] = field(default_factory=_default_means)
    widths: NDArray[np.float64] = field(default_factory=_default_widths)
    parameter_range: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self) -> None:
        for name in ("a", "b", "means", "widths"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        k = self.a.shape[0]
        norms = np.ones(k) if self.norms is None else np.asarray(self.norms, dtype=np.float64)
        object.__setattr__(self, "norms", norms)
        if (
            self.b.shape != self.a.shape
            or norms.shape != (k,)
            or self.means.shape[0] != k
            or self.widths.shape != self.means.shape
        ):
            raise ConfigError("toy coefficient arrays have inconsistent shapes")
        if np.any(self.widths <= 0) or np.any(norms <= 0):
            raise ConfigError("toy widths and norms must be positive")

    # ------------------------------------------------------------------ sizes
    @property
    def n_parameters(self) -> int:
        return int(self.a.shape[1])

    @property
    def n_observables(self) -> int:
        return int(self.means.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.a.shape[0])

    @property
    def components(self) -> NDArray[np.int64]:
        """Morphing components (C, P) for max power 2 per parameter and overall."""
        return find_components([2] * self.n_parameters, 2)

    # ------------------------------------------------------------------ latent model
    def _theta(self, theta: ArrayLike) -> NDArray[np.float64]:
        th = np.asarray(theta, dtype=np.float64)
        if th.shape[-1] != self.n_parameters:
            raise ConfigError(f"theta must have {self.n_parameters} components, got shape {th.shape}")
        return th

    def class_weights(self, theta: ArrayLike) -> NDArray[np.float64]:
        """w_k(θ) for θ (..., P); returns (..., K)."""
        th = self._theta(theta)
        lin = 1.0 + th @ self.a.T
        quad = th @ self.b.T
        return self.norms * (lin**2 + quad**2)

    def class_weight_gradients(self, theta: ArrayLike) -> NDArray[np.float64]:
        """∇_θ w_k(θ) for θ (..., P); returns (..., K, P)."""
        th = self._theta(theta)
        lin = 1.0 + th @ self.a.T
        quad = th @ self.b.T
        return self.norms[:, None] * 2.0 * (lin[..., None] * self.a + quad[..., None] * self.b)

    def class_probabilities(self, theta: ArrayLike) -> NDArray[np.float64]:
        """π_k(θ) (..., K)."""
        w = self.class_weights(theta)
        return w / w.sum(axis=-1, keepdims=True)

    def class_log_prob_gradients(self, theta: ArrayLike) -> NDArray[np.float64]:
        """∇_θ log π_k(θ) (..., K, P)."""
        w = self.class_weights(theta)
        gw = self.class_weight_gradients(theta)
        return gw / w[..., None] - (gw.sum(axis=-2) / w.sum(axis=-1, keepdims=True))[..., None, :]

    def component_coefficients(self) -> NDArray[np.float64]:
        """(K, C): w_k(θ) = Σ_c f_c(θ) coef[k, c] with f_c from :attr:`components`."""
        comps = self.components
        quad = np.einsum("kp,kq->kpq", self.a, self.a) + np.einsum("kp,kq->kpq", self.b, self.b)
        coef = np.zeros((self.n_classes, comps.shape[0]))
        for c, n in enumerate(comps):
            s = int(n.sum())
            if s == 0:
                coef[:, c] = 1.0
            elif s == 1:
                coef[:, c] = 2.0 * self.a[:, int(np.argmax(n))]
            else:
                idx = np.flatnonzero(n)
                if len(idx) == 1:
                    coef[:, c] = quad[:, idx[0], idx[0]]
                else:
                    coef[:, c] = 2.0 * quad[:, idx[0], idx[1]]
        return coef * self.norms[:, None]

    # ------------------------------------------------------------------ simulation
    def simulate(
        self,
        theta: ArrayLike,
        n: int | None = None,
        *,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Draw (x, k) from p(x, z|θ).

        Args:
            theta: one point (P,) with ``n`` events, or one point per event (N, P) (``n`` None).
            n: number of events for a single θ.
            rng: random generator or seed.

        Returns:
            x (N, D) and the latent classes k (N,).
        """
        gen = np.random.default_rng(rng)
        th = self._theta(theta)
        if th.ndim == 1:
            if n is None:
                raise ConfigError("n is required for a single theta")
            th = np.broadcast_to(th, (int(n), self.n_parameters))
        probs = self.class_probabilities(th)
        cdf = np.cumsum(probs, axis=1)
        u = gen.random(len(th))[:, None]
        k = np.minimum((u > cdf).sum(axis=1), self.n_classes - 1).astype(np.int64)
        x = self.means[k] + self.widths[k] * gen.standard_normal((len(th), self.n_observables))
        return x, k

    # ------------------------------------------------------------------ joint quantities
    def joint_log_ratio(self, k: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r(x,z|θ0,θ1) = log π_k(θ0) − log π_k(θ1); θ0, θ1 (P,) or (N, P) per event."""
        kk = np.asarray(k, dtype=np.int64)
        lp0 = np.log(np.broadcast_to(self.class_probabilities(theta0), kk.shape + (self.n_classes,)))
        lp1 = np.log(np.broadcast_to(self.class_probabilities(theta1), kk.shape + (self.n_classes,)))
        idx = np.arange(kk.size)
        return lp0[idx, kk] - lp1[idx, kk]

    def joint_score(self, k: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """t(x,z|θ) = ∇ log π_k(θ); returns (N, P)."""
        kk = np.asarray(k, dtype=np.int64)
        g = np.broadcast_to(self.class_log_prob_gradients(theta), kk.shape + (self.n_classes, self.n_parameters))
        return g[np.arange(kk.size), kk]

    # ------------------------------------------------------------------ truth
    def _log_class_densities(self, x: ArrayLike) -> NDArray[np.float64]:
        xx = np.asarray(x, dtype=np.float64)
        z = (xx[:, None, :] - self.means[None]) / self.widths[None]
        return (
            -0.5 * np.sum(z**2, axis=-1)
            - np.sum(np.log(self.widths), axis=-1)
            - 0.5 * self.n_observables * np.log(2 * np.pi)
        )  # (N, K)

    def log_likelihood(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """log p(x|θ): θ (P,) gives (N,), θ (T, P) gives (T, N)."""
        th = self._theta(theta)
        ld = self._log_class_densities(x)  # (N, K)
        lp = np.log(self.class_probabilities(np.atleast_2d(th)))  # (T, K)
        a = lp[:, None, :] + ld[None]
        mx = a.max(axis=-1, keepdims=True)
        out = (mx + np.log(np.exp(a - mx).sum(axis=-1, keepdims=True)))[..., 0]
        return out[0] if th.ndim == 1 else out

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r(x|θ0,θ1) = log p(x|θ0) − log p(x|θ1)."""
        return self.log_likelihood(x, theta0) - self.log_likelihood(x, theta1)

    def log_ratio_pairs(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike) -> NDArray[np.float64]:
        """log r(x_i|θ0_i, θ1_i) with one θ pair per event (N, P) (or broadcast (P,))."""
        xx = np.asarray(x, dtype=np.float64)
        ld = self._log_class_densities(xx)
        th0 = np.broadcast_to(self._theta(theta0), (len(xx), self.n_parameters))
        th1 = np.broadcast_to(self._theta(theta1), (len(xx), self.n_parameters))

        def lse(lp: NDArray[np.float64]) -> NDArray[np.float64]:
            a = lp + ld
            mx = a.max(axis=-1, keepdims=True)
            return (mx + np.log(np.exp(a - mx).sum(axis=-1, keepdims=True)))[:, 0]

        return lse(np.log(self.class_probabilities(th0))) - lse(np.log(self.class_probabilities(th1)))

    def score(self, x: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
        """True score ∇_θ log p(x|θ) at one θ (P,) or per event (N, P); returns (N, P)."""
        xx = np.asarray(x, dtype=np.float64)
        th = np.broadcast_to(self._theta(theta), (len(xx), self.n_parameters))
        ld = self._log_class_densities(xx)
        lp = np.log(self.class_probabilities(th))
        a = lp + ld
        post = np.exp(a - a.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)  # p(k|x,θ)
        return np.einsum("nk,nkp->np", post, self.class_log_prob_gradients(th))

    # ------------------------------------------------------------------ weighted events
    def weighted_events(
        self,
        n: int,
        *,
        theta_ref: ArrayLike | None = None,
        xsec_pb: float = 1.0,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Unweighted events at ``theta_ref`` turned into θ-dependent weights (component space).

        Returns:
            x (n, D), per-event component weights m (n, C) in pb with Σ_i m_i·f(θ_ref) = xsec_pb,
            and the latent classes k (n,).
        """
        th_ref = np.zeros(self.n_parameters) if theta_ref is None else self._theta(theta_ref)
        x, k = self.simulate(th_ref, n, rng=rng)
        coef = self.component_coefficients()  # (K, C)
        w_ref = self.class_weights(th_ref)  # (K,)
        m = xsec_pb / n * coef[k] / w_ref[k][:, None]
        return x, m, k


def toy_setup(toy: GaussianMixtureToy, names: tuple[str, ...] | None = None) -> object:
    """A :class:`~lhcgold.config.Setup` for the toy: parameters, 'sm' and a morphing basis."""

    p = toy.n_parameters
    names = names or tuple(f"theta_{i}" for i in range(p))
    lo, hi = toy.parameter_range
    comps = toy.components
    gen = np.random.default_rng(12345)
    basis = np.vstack([np.zeros(p), gen.uniform(lo, hi, (len(comps) - 1, p))])
    morpher = Morpher(comps, basis)
    params = tuple(Parameter(name=n, max_power=2, range=(lo, hi)) for n in names)
    bench = tuple(
        Benchmark("sm" if i == 0 else f"b{i}", dict(zip(names, map(float, row), strict=True)))
        for i, row in enumerate(basis)
    )
    return Setup(params, bench, comps, morpher.matrix)


def write_toy_events(
    path: str,
    toy: GaussianMixtureToy,
    n: int,
    *,
    rng: np.random.Generator | int | None = None,
    store_components: bool = True,
    overwrite: bool = False,
    xsec_pb: float = 1.0,
    chunk_size: int = 50_000,
) -> NDArray[np.int64]:
    """Write ``n`` toy events (sampled at θ = 0) to an lhcgold/MadMiner events file.

    Returns the latent classes k of the events, in file order (for exact joint-quantity checks).
    """
    from ..io.events import EventWriter

    setup = toy_setup(toy)
    x, m, k = toy.weighted_events(n, xsec_pb=xsec_pb, rng=rng)
    fb = component_factors(setup.benchmark_values, toy.components)  # type: ignore[attr-defined]
    obs = tuple(f"x{i}" for i in range(toy.n_observables))
    with EventWriter(
        path,
        setup,
        obs,
        overwrite=overwrite,
        store_components=store_components,  # type: ignore[arg-type]
        attrs={"toy": "GaussianMixtureToy"},
    ) as w:
        for lo in range(0, n, chunk_size):
            sl = slice(lo, lo + chunk_size)
            w.append(x[sl], m[sl] @ fb.T, 0, component_weights=m[sl] if store_components else None)
    return k
