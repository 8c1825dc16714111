r"""Squared amplitudes that are linear in θ, split into morphing components.

If every helicity amplitude is :math:`A_h = A_{0h} + \sum_k \theta_k A_{kh}`, then

.. math:: \sum_h w_h |A_h|^2 = \sum_c f_c(\theta)\, m_c ,

with :math:`m_{(0)} = \sum_h w_h|A_{0h}|^2`, :math:`m_{(e_k)} = 2\sum_h w_h\,\mathrm{Re}(A_{0h}A^*_{kh})`,
:math:`m_{(2e_k)} = \sum_h w_h|A_{kh}|^2` and :math:`m_{(e_k+e_l)} = 2\sum_h w_h\,\mathrm{Re}(A_{kh}A^*_{lh})`.
Components of degree > 2 are zero. Pure math.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .morphing import find_components

__all__ = ["check_quadratic_components", "quadratic_components", "resolve_quadratic_components"]


def check_quadratic_components(components: ArrayLike) -> NDArray[np.int64]:
    """Validate that ``components`` (C, P) holds every monomial of degree <= 2.

    Raises:
        ValueError: a monomial of degree <= 2 is missing (the weights would not be exact).
    """
    comps = np.asarray(components, dtype=np.int64)
    if comps.ndim != 2:
        raise ValueError("components must have shape (C, P)")
    n_par = comps.shape[1]
    have = {tuple(int(v) for v in row) for row in comps}
    for k in range(n_par):
        for ll in range(k, n_par):
            n = [0] * n_par
            n[k] += 1
            n[ll] += 1
            e = [0] * n_par
            e[k] = 1
            for need in (tuple(e), tuple(n), (0,) * n_par):
                if need not in have:
                    raise ValueError(
                        f"component {need} is missing: |M|^2 is quadratic in the parameters, so "
                        "every monomial of degree <= 2 is needed (max_power >= 2, "
                        "max_overall_power >= 2)"
                    )
    return comps


def quadratic_components(
    a0: NDArray[np.complex128], a: NDArray[np.complex128], weights: NDArray[np.float64], components: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Component weights of :math:`\\sum_h w_h |A_{0h} + \\sum_k \\theta_k A_{kh}|^2`.

    Args:
        a0: θ-independent amplitudes, shape (..., H).
        a: amplitude per unit θ_k, shape (P, ..., H).
        weights: helicity weights w_h broadcastable to (..., H) (spin/colour factors, kinematics).
        components: (C, P) exponents (madminer order).

    Returns:
        (..., C) component weights.
    """
    comps = np.asarray(components)
    out_shape = np.broadcast_shapes(a0.shape, np.shape(weights))[:-1] + (comps.shape[0],)
    out = np.zeros(out_shape)
    for c, row in enumerate(comps):
        deg = int(row.sum())
        if deg == 0:
            val = np.abs(a0) ** 2
        elif deg == 1:
            k = int(np.flatnonzero(row)[0])
            val = 2.0 * (a0 * np.conj(a[k])).real
        elif deg == 2:
            nz = np.flatnonzero(row)
            if nz.size == 1:
                val = np.abs(a[int(nz[0])]) ** 2
            else:
                val = 2.0 * (a[int(nz[0])] * np.conj(a[int(nz[1])])).real
        else:
            continue
        out[..., c] = np.sum(weights * val, axis=-1)
    return out


def resolve_quadratic_components(components: ArrayLike | None, n_parameters: int) -> NDArray[np.int64]:
    """The (C, P) components of a process with amplitudes linear in θ: the given ones (checked) or,
    by default, every monomial of degree <= 2 in madminer's order."""
    if n_parameters == 0:
        return np.zeros((1, 0), np.int64)
    if components is None:
        components = find_components([2] * n_parameters, 2)
    return check_quadratic_components(components)
