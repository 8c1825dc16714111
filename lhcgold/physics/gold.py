r"""Gold: joint likelihood ratio and joint score from per-event component weights.

With per-event component weights :math:`m_{ic}` (the polynomial coefficients of the event
weight in θ, in pb) and component cross sections :math:`\sigma_c`,

.. math::
    w_i(\theta) = \sum_c f_c(\theta)\, m_{ic}, \qquad \sigma(\theta) = \sum_c f_c(\theta)\,\sigma_c,

    r(x_i, z_i|\theta_0, \theta_1) = \frac{w_i(\theta_0)}{w_i(\theta_1)}
        \frac{\sigma(\theta_1)}{\sigma(\theta_0)}, \qquad
    t(x_i, z_i|\theta) = \frac{\nabla_\theta w_i(\theta)}{w_i(\theta)}
        - \frac{\nabla_\theta \sigma(\theta)}{\sigma(\theta)} .

PDFs, phase-space factors and detector response cancel in both (PROCESSES.md §1.1). Files
that carry only benchmark weights (MadMiner, MG5 reweighting) give component weights through
:meth:`lhcgold.physics.morphing.Morpher.components_from_benchmarks`.

All functions accept one θ of shape (P,) or many of shape (T, P); with many, the θ axis
comes first in the result. Pure math: arrays in, arrays out.

Example:
    >>> import numpy as np
    >>> comps = np.array([[0], [1], [2]])          # w = m0 + m1 θ + m2 θ²
    >>> m = np.array([[1.0, 0.5, 0.25]])
    >>> float(event_weights(m, comps, [2.0])[0])
    3.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .morphing import component_factor_gradients, component_factors

__all__ = [
    "event_weight_gradients",
    "event_weights",
    "joint_log_ratio",
    "joint_score",
    "xsec",
    "xsec_gradient",
]


def _theta(theta: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim == 1:
        return th[None, :], True
    if th.ndim != 2:
        raise ValueError(f"theta must have shape (P,) or (T, P), got {th.shape}")
    return th, False


def event_weights(m: ArrayLike, components: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
    """Event weights w_i(θ): (N,) for one θ, (T, N) for many."""
    th, single = _theta(theta)
    out = component_factors(th, components) @ np.asarray(m, dtype=np.float64).T  # (T, N)
    return out[0] if single else out


def event_weight_gradients(m: ArrayLike, components: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
    """∇_θ w_i(θ): (N, P) for one θ, (T, N, P) for many."""
    th, single = _theta(theta)
    grad_f = component_factor_gradients(th, components)  # (T, P, C)
    out = np.einsum("tpc,nc->tnp", grad_f, np.asarray(m, dtype=np.float64))
    return out[0] if single else out


def xsec(m_or_sigma: ArrayLike, components: ArrayLike, theta: ArrayLike) -> NDArray[np.float64] | float:
    """σ(θ) from component cross sections (C,) or per-event component weights (N, C)."""
    sig = np.asarray(m_or_sigma, dtype=np.float64)
    sigma_c = sig.sum(axis=0) if sig.ndim == 2 else sig
    th, single = _theta(theta)
    out = component_factors(th, components) @ sigma_c
    return float(out[0]) if single else out


def xsec_gradient(sigma_c: ArrayLike, components: ArrayLike, theta: ArrayLike) -> NDArray[np.float64]:
    """∇_θ σ(θ): (P,) for one θ, (T, P) for many."""
    th, single = _theta(theta)
    out = component_factor_gradients(th, components) @ np.asarray(sigma_c, dtype=np.float64)
    return out[0] if single else out


def joint_log_ratio(
    m: ArrayLike, components: ArrayLike, theta0: ArrayLike, theta1: ArrayLike, *, sigma_c: ArrayLike
) -> NDArray[np.float64]:
    """log r(x,z|θ0,θ1) per event.

    θ0 and θ1 may each be (P,) or (T, P) (broadcast against each other); the result is (N,)
    when both are single points and (T, N) otherwise. Events with a non-positive weight at
    θ0 or θ1 give -inf / +inf / nan as the arithmetic says; callers filter them.
    """
    th0, s0 = _theta(theta0)
    th1, s1 = _theta(theta1)
    mm = np.asarray(m, dtype=np.float64)
    sig = np.asarray(sigma_c, dtype=np.float64)
    f0 = component_factors(th0, components)
    f1 = component_factors(th1, components)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_w0 = np.log(f0 @ mm.T)
        log_w1 = np.log(f1 @ mm.T)
        log_s0 = np.log(f0 @ sig)
        log_s1 = np.log(f1 @ sig)
    out = (log_w0 - log_w1) + (log_s1 - log_s0)[:, None]
    return out[0] if (s0 and s1) else out


def joint_score(m: ArrayLike, components: ArrayLike, theta: ArrayLike, *, sigma_c: ArrayLike) -> NDArray[np.float64]:
    """t(x,z|θ) per event: (N, P) for one θ, (T, N, P) for many."""
    th, single = _theta(theta)
    mm = np.asarray(m, dtype=np.float64)
    sig = np.asarray(sigma_c, dtype=np.float64)
    f = component_factors(th, components)  # (T, C)
    grad_f = component_factor_gradients(th, components)  # (T, P, C)
    w = f @ mm.T  # (T, N)
    grad_w = np.einsum("tpc,nc->tnp", grad_f, mm)  # (T, N, P)
    s = f @ sig  # (T,)
    grad_s = grad_f @ sig  # (T, P)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = grad_w / w[:, :, None] - (grad_s / s[:, None])[:, None, :]
    return out[0] if single else out
