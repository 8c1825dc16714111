r"""Phase-space building blocks: mappings of the unit interval, boosts, two-body decays.

All functions are vectorised over events and return the mapped value together with the
Jacobian of the map, so that ``∫ f(s) ds = ∫ f(s(u)) · jac(u) du`` over u ∈ [0, 1].
Four-vectors are arrays (..., 4) = (E, p_x, p_y, p_z) in GeV, metric (+,−,−,−).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "boost",
    "boost_z",
    "breit_wigner_map",
    "breit_wigner_u_range",
    "minkowski_dot",
    "power_map",
    "two_body_momentum",
]

Array = NDArray[np.float64]


def power_map(u: Array, smin: float | Array, smax: float | Array, nu: float) -> tuple[Array, Array]:
    r"""Map u ∈ [0,1] onto s ∈ [smin, smax] with density ∝ s^{-ν} (ν = 1: logarithmic).

    Returns ``(s, ds/du)``.
    """
    if abs(nu - 1.0) < 1e-12:
        r = np.log(smax / smin)
        s = smin * np.exp(u * r)
        return s, s * r
    a = 1.0 - nu
    lo = np.power(smin, a)
    hi = np.power(smax, a)
    t = lo + u * (hi - lo)
    s = np.power(t, 1.0 / a)
    jac = (hi - lo) / a * np.power(s, nu)
    return s, jac


def breit_wigner_u_range(smin: float | Array, smax: float | Array, m: float, gamma: float) -> tuple[Array, Array]:
    """Range of the tan-u variable that maps onto [smin, smax]."""
    mg = m * gamma
    return np.arctan((np.asarray(smin) - m * m) / mg), np.arctan((np.asarray(smax) - m * m) / mg)


def breit_wigner_map(u: Array, smin: float | Array, smax: float | Array, m: float, gamma: float) -> tuple[Array, Array]:
    r"""s = m² + mΓ tan v with v uniform between the images of smin and smax.

    Returns ``(s, ds/du)``; ds/du = (v_max − v_min)·((s − m²)² + m²Γ²)/(mΓ).
    """
    vlo, vhi = breit_wigner_u_range(smin, smax, m, gamma)
    v = vlo + u * (vhi - vlo)
    mg = m * gamma
    s = m * m + mg * np.tan(v)
    jac = (vhi - vlo) * ((s - m * m) ** 2 + mg * mg) / mg
    return s, jac


def two_body_momentum(m: Array, m1: float | Array, m2: float | Array) -> Array:
    """|p| of either daughter in the rest frame of a particle of mass m decaying to masses m1, m2."""
    m = np.asarray(m, dtype=np.float64)
    lam = (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)
    return np.sqrt(np.maximum(lam, 0.0)) / (2.0 * m)


def minkowski_dot(a: Array, b: Array) -> Array:
    return a[..., 0] * b[..., 0] - np.sum(a[..., 1:] * b[..., 1:], axis=-1)


def boost(p: Array, beta: Array) -> Array:
    """Boost four-vectors p (..., 4) by the velocity beta (..., 3) (a particle at rest gets velocity beta)."""
    b2 = np.sum(beta * beta, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    safe = np.where(b2 > 0, b2, 1.0)
    g2 = np.where(b2 > 0, (gamma - 1.0) / safe, 0.0)
    e = gamma * (p[..., 0] + bp)
    vec = p[..., 1:] + (g2 * bp + gamma * p[..., 0])[..., None] * beta
    return np.concatenate([e[..., None], vec], axis=-1)


def boost_z(p: Array, rapidity: Array) -> Array:
    """Boost along z by a rapidity (..., ) (a particle at rest gets that rapidity)."""
    ch = np.cosh(rapidity)
    sh = np.sinh(rapidity)
    out = p.copy()
    out[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    out[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return out
