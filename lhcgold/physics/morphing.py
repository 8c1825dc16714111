r"""Morphing: squared matrix elements as polynomials in the theory parameters.

If :math:`|M(z|\theta)|^2` is a polynomial in :math:`\theta`, every differential cross
section is

.. math:: d\sigma(x|\theta) = \sum_c f_c(\theta)\, d\sigma_c(x), \qquad
          f_c(\theta) = \prod_p \theta_p^{n_{c,p}} ,

with one *component* per exponent vector :math:`n_c`. Given weights at B benchmark points
:math:`\theta^{(b)}` (B ≥ C), the components follow from the matrix
:math:`A_{bc} = f_c(\theta^{(b)})` and the weight at any θ is a linear combination
:math:`w(\theta) = \sum_b w_b(\theta)\, w^{(b)}` with morphing weights
:math:`w_b(\theta) = \sum_c M_{cb} f_c(\theta)`, :math:`M = A^{+}` (the inverse for B = C, the
least-squares pseudo-inverse for B > C).

Conventions follow MadMiner (component order, matrix shape (C, B)), so files written by either
program are interchangeable. Pure math: arrays in, arrays out.

Example:
    >>> import numpy as np
    >>> comps = find_components([2, 2], max_overall_power=2)
    >>> comps.tolist()
    [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]]
    >>> basis = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float)
    >>> m = Morpher(comps, basis)
    >>> bool(np.allclose(m.weights(basis[3]), np.eye(6)[3]))
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import MorphingError

__all__ = [
    "BasisSearch",
    "Morpher",
    "component_factor_gradients",
    "component_factors",
    "find_components",
    "optimize_basis",
]


def find_components(max_powers: Sequence[int], max_overall_power: int | None = None) -> NDArray[np.int64]:
    """All exponent vectors with ``0 <= n_p <= max_powers[p]`` and ``sum(n) <= max_overall_power``.

    The order is MadMiner's: ``itertools.product`` over the parameters, first parameter slowest.

    Args:
        max_powers: the highest power of each parameter in |M|².
        max_overall_power: the highest total degree (default: ``max(max_powers)``).

    Returns:
        Integer array of shape (C, P).
    """
    powers = [int(m) for m in max_powers]
    if not powers:
        raise MorphingError("at least one parameter is needed")
    if any(m < 0 for m in powers):
        raise MorphingError(f"max powers must be non-negative, got {powers}")
    total = max(powers) if max_overall_power is None else int(max_overall_power)
    if total < 0:
        raise MorphingError(f"max_overall_power must be non-negative, got {total}")
    rows = [n for n in itertools.product(*(range(m + 1) for m in powers)) if sum(n) <= total]
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), len(powers))


def _check(theta: ArrayLike, components: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    th = np.asarray(theta, dtype=np.float64)
    comps = np.asarray(components, dtype=np.int64)
    if th.shape[-1] != comps.shape[1]:
        raise MorphingError(f"theta has {th.shape[-1]} parameters, components have {comps.shape[1]}")
    return th, comps


def _powers(th: NDArray[np.float64], top: int) -> list[list[NDArray[np.float64]]]:
    """powers[p][k] = θ_p**k as contiguous (M,) arrays, for θ flattened to (M, P)."""
    out = []
    for p in range(th.shape[1]):
        col = np.ascontiguousarray(th[:, p])
        row = [np.ones_like(col)]
        for _ in range(top):
            row.append(row[-1] * col)
        out.append(row)
    return out


def component_factors(theta: ArrayLike, components: ArrayLike) -> NDArray[np.float64]:
    """:math:`f_c(\\theta) = \\prod_p \\theta_p^{n_{c,p}}` for θ of shape (..., P); returns (..., C)."""
    th, comps = _check(theta, components)
    flat = th.reshape(-1, comps.shape[1])
    pw = _powers(flat, int(comps.max(initial=0)))
    out = np.empty((comps.shape[0], flat.shape[0]))
    for c, n in enumerate(comps):
        acc = out[c]
        acc[:] = 1.0  # theta**0 = 1 also for theta = 0, as wanted
        for p, k in enumerate(n):
            if k:
                acc *= pw[p][k]
    return out.T.reshape(th.shape[:-1] + (comps.shape[0],))


def component_factor_gradients(theta: ArrayLike, components: ArrayLike) -> NDArray[np.float64]:
    """:math:`\\partial f_c / \\partial \\theta_p` for θ of shape (..., P); returns (..., P, C)."""
    th, comps = _check(theta, components)
    n_par = comps.shape[1]
    flat = th.reshape(-1, n_par)
    pw = _powers(flat, int(comps.max(initial=0)))
    out = np.zeros((n_par, comps.shape[0], flat.shape[0]))
    for c, n in enumerate(comps):
        for p in range(n_par):
            if n[p] == 0:
                continue
            acc = out[p, c]
            acc[:] = n[p] * pw[p][n[p] - 1]
            for q, k in enumerate(n):
                if q != p and k:
                    acc *= pw[q][k]
    return np.moveaxis(out, -1, 0).reshape(th.shape[:-1] + (n_par, comps.shape[0]))


class Morpher:
    """Morphing on a benchmark basis.

    Args:
        components: exponent vectors (C, P), e.g. from :func:`find_components`.
        basis: benchmark points (B, P) with B ≥ C. B > C gives least-squares morphing.

    Attributes:
        matrix: the morphing matrix M of shape (C, B), ``w_b(θ) = Σ_c M[c, b] f_c(θ)``.
        condition_number: the 2-norm condition number of A = f(basis); large values mean
            the basis is nearly degenerate and morphed weights amplify statistical noise.
    """

    def __init__(self, components: ArrayLike, basis: ArrayLike):
        self.components = np.asarray(components, dtype=np.int64)
        self.basis = np.asarray(basis, dtype=np.float64)
        if self.basis.ndim != 2 or self.basis.shape[1] != self.components.shape[1]:
            raise MorphingError(f"basis must have shape (B, {self.components.shape[1]}), got {self.basis.shape}")
        n_c, n_b = self.components.shape[0], self.basis.shape[0]
        if n_b < n_c:
            raise MorphingError(f"morphing needs at least {n_c} benchmarks for {n_c} components, got {n_b}")
        a = component_factors(self.basis, self.components)  # (B, C)
        sv = np.linalg.svd(a, compute_uv=False)
        self.condition_number = float(sv[0] / sv[-1]) if sv[-1] > 0 else float("inf")
        if not np.isfinite(self.condition_number) or self.condition_number > 1e14:
            raise MorphingError(
                f"the benchmark basis is singular (condition number {self.condition_number:.3g}): "
                "choose benchmarks that separate all components"
            )
        self._a = a
        self.matrix = np.linalg.pinv(a) if n_b > n_c else np.linalg.inv(a)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    @property
    def n_benchmarks(self) -> int:
        return int(self.basis.shape[0])

    def weights(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Morphing weights w_b(θ) for θ of shape (..., P); returns (..., B)."""
        return component_factors(theta, self.components) @ self.matrix

    def weight_gradients(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Gradients ∂w_b/∂θ_p for θ of shape (..., P); returns (..., P, B)."""
        return component_factor_gradients(theta, self.components) @ self.matrix

    def components_from_benchmarks(self, weights: ArrayLike) -> NDArray[np.float64]:
        """Per-event component weights m_c from benchmark weights (..., B); returns (..., C).

        For B > C this is the least-squares fit of the polynomial to the benchmark weights.
        """
        w = np.asarray(weights, dtype=np.float64)
        if w.shape[-1] != self.n_benchmarks:
            raise MorphingError(f"expected {self.n_benchmarks} benchmark weights, got {w.shape[-1]}")
        return w @ self.matrix.T

    def benchmarks_from_components(self, component_weights: ArrayLike, thetas: ArrayLike) -> NDArray[np.float64]:
        """Weights at points ``thetas`` (T, P) from component weights (..., C); returns (..., T)."""
        return np.asarray(component_weights, dtype=np.float64) @ component_factors(thetas, self.components).T


@dataclass(frozen=True)
class BasisSearch:
    """Result of :func:`optimize_basis`.

    Attributes:
        basis: the chosen benchmark points (C, P); the fixed points come first.
        score: the expected sum of squared morphing weights over the parameter ranges
            (lower is better; MadMiner maximises its negative).
        condition_number: of the basis matrix.
    """

    basis: NDArray[np.float64]
    score: float
    condition_number: float


def optimize_basis(
    components: ArrayLike,
    ranges: ArrayLike,
    *,
    fixed: ArrayLike | None = None,
    n_trials: int = 100,
    n_test_thetas: int = 100,
    rng: np.random.Generator | int | None = None,
) -> BasisSearch:
    """Random search for a morphing basis, as MadMiner does, but seeded.

    The missing points are drawn uniformly in the box of ``ranges``; each trial is scored by
    the mean over ``n_test_thetas`` uniform test points of Σ_b w_b(θ)², and the best trial
    wins. Singular trials are skipped.

    Args:
        components: (C, P) exponents.
        ranges: (P, 2) lower and upper bounds.
        fixed: (K, P) points that must be in the basis (K ≤ C), e.g. the SM.
        n_trials: random bases to try.
        n_test_thetas: θ points to score each basis on.
        rng: seed or generator.
    """
    comps = np.asarray(components, dtype=np.int64)
    box = np.asarray(ranges, dtype=np.float64)
    n_c, n_p = comps.shape
    if box.shape != (n_p, 2) or np.any(box[:, 1] <= box[:, 0]):
        raise MorphingError(f"ranges must be (P, 2) with lo < hi, got {box.tolist()}")
    fix = np.zeros((0, n_p)) if fixed is None else np.asarray(fixed, dtype=np.float64).reshape(-1, n_p)
    if fix.shape[0] > n_c:
        raise MorphingError(f"{fix.shape[0]} fixed benchmarks but only {n_c} components")
    gen = np.random.default_rng(rng)
    test = gen.uniform(box[:, 0], box[:, 1], size=(n_test_thetas, n_p))
    f_test = component_factors(test, comps)
    best: BasisSearch | None = None
    n_free = n_c - fix.shape[0]
    for _ in range(max(1, n_trials) if n_free else 1):
        basis = np.vstack([fix, gen.uniform(box[:, 0], box[:, 1], size=(n_free, n_p))])
        a = component_factors(basis, comps)
        sv = np.linalg.svd(a, compute_uv=False)
        if sv[-1] <= 1e-14 * sv[0]:
            continue
        score = float(np.mean(np.sum((f_test @ np.linalg.inv(a)) ** 2, axis=1)))
        if best is None or score < best.score:
            best = BasisSearch(basis=basis, score=score, condition_number=float(sv[0] / sv[-1]))
    if best is None:
        raise MorphingError("no non-singular basis found; widen the ranges or change the fixed points")
    return best
