r"""Observed-level truth for the embedded processes: latent sums and integrals done exactly.

For observed x, the per-component densities m̄_c(x) = Σ∫ dz_latent dσ_c(x, z) give the true
likelihood at every θ at once:

.. math:: p(x|\theta) = \frac{\sum_c f_c(\theta)\,\bar m_c(x)}{\sum_c f_c(\theta)\,\sigma_c},\qquad
          t(x|\theta) = \frac{\nabla_\theta \sum_c f_c \bar m_c}{\sum_c f_c \bar m_c}
                      - \frac{\nabla_\theta \sigma}{\sigma}.

* Drell–Yan: x = (m, y, cos θ*); the latents are the quark flavour and which beam carries the
  quark, so m̄_c is a finite (10-term) sum: :func:`drell_yan_truth`.
* W±H: x = (charge, p_ℓ, p_H); the neutrino p_z is latent too. :func:`wh_truth` integrates it
  on the two branches of p_z(m_ℓν²); below m_W² − 4m_WΓ_W in v = √(m_ℓν² − m_T²) (no 1/√ edge where
  the branches meet at m_ℓν = m_T), above it in the tan-u Breit–Wigner variable
  m_ℓν² = m_W² + m_WΓ_W tan u, split at the peak, with u = u_a + (u_b − u_a) t² in both (for the 1/√ edge);
  Gauss–Legendre in each of the three pieces, each
  branch cut at the p_z where x₁ or x₂ reaches 1 (so the integrand is smooth on the interval);
  in the narrow-width mode it is the sum over the two p_z solutions of m_ℓν = m_W.

:func:`log_likelihood`, :func:`log_ratio` and :func:`score` turn component densities into
truth at arrays of θ. Pure math: the densities are passed in as callables or arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["drell_yan_truth", "log_likelihood", "log_ratio", "neutrino_pz", "score", "wh_truth"]

Array = NDArray[np.float64]


def _factors(theta: Array, components: Array) -> tuple[Array, Array]:
    """f_c(θ) (T, C) and ∂f_c/∂θ_p (T, P, C)."""
    th = np.atleast_2d(theta)
    comps = np.asarray(components)
    f = np.prod(th[:, None, :] ** comps[None], axis=2)
    grads = np.zeros((th.shape[0], comps.shape[1], comps.shape[0]))
    for p in range(comps.shape[1]):
        n = comps[:, p]
        lowered = comps.copy()
        lowered[:, p] = np.maximum(n - 1, 0)
        grads[:, p, :] = n[None, :] * np.prod(th[:, None, :] ** lowered[None], axis=2)
    return f, grads


def log_likelihood(mbar: ArrayLike, sigma_c: ArrayLike, components: ArrayLike, theta: ArrayLike) -> Array:
    """log p(x|θ) for component densities mbar (N, C); θ (P,) -> (N,), θ (T, P) -> (T, N)."""
    mb = np.asarray(mbar, float)
    th = np.asarray(theta, float)
    f, _ = _factors(th, np.asarray(components))
    dens = f @ mb.T
    sig = f @ np.asarray(sigma_c, float)
    with np.errstate(divide="ignore"):
        out = np.log(dens) - np.log(sig)[:, None]
    return out[0] if th.ndim == 1 else out


def log_ratio(
    mbar: ArrayLike, sigma_c: ArrayLike, components: ArrayLike, theta0: ArrayLike, theta1: ArrayLike
) -> Array:
    """log r(x|θ0, θ1) = log p(x|θ0) − log p(x|θ1)."""
    return log_likelihood(mbar, sigma_c, components, theta0) - log_likelihood(mbar, sigma_c, components, theta1)


def score(mbar: ArrayLike, sigma_c: ArrayLike, components: ArrayLike, theta: ArrayLike) -> Array:
    """t(x|θ) = ∇_θ log p(x|θ): θ (P,) -> (N, P), θ (T, P) -> (T, N, P)."""
    mb = np.asarray(mbar, float)
    th = np.asarray(theta, float)
    sc = np.asarray(sigma_c, float)
    f, g = _factors(th, np.asarray(components))
    dens = f @ mb.T  # (T, N)
    ddens = np.einsum("tpc,nc->tnp", g, mb)  # (T, N, P)
    sig = f @ sc
    dsig = g @ sc  # (T, P)
    out = ddens / dens[:, :, None] - (dsig / sig[:, None])[:, None, :]
    return out[0] if th.ndim == 1 else out


def drell_yan_truth(channel_density: Callable[[Array, Array, Array], Array], x: Array) -> Array:
    """m̄_c(x) for Drell–Yan: the channel sum of ``channel_density(m, y, cos) -> (N, K, C)``."""
    return channel_density(x[:, 0], x[:, 1], x[:, 2]).sum(axis=1)


def neutrino_pz(m2: Array, pl: Array, ptn: Array, branch: int) -> tuple[Array, Array]:
    """p_zν on one branch of m_ℓν²(p_z) = m2 for a massless lepton; returns (p_z, |dm²/dp_z|).

    Args:
        m2: m_ℓν² (≥ m_T², broadcastable).
        pl: lepton three-momenta (..., 3).
        ptn: neutrino transverse momenta (..., 2).
        branch: +1 or −1.
    """
    ptl2 = pl[..., 0] ** 2 + pl[..., 1] ** 2
    el = np.linalg.norm(pl, axis=-1)
    ptn2 = np.sum(ptn**2, axis=-1)
    a = m2 / 2.0 + pl[..., 0] * ptn[..., 0] + pl[..., 1] * ptn[..., 1]
    disc = np.sqrt(np.maximum(a * a - ptl2 * ptn2, 0.0))
    pz = (a * pl[..., 2] + branch * el * disc) / ptl2
    en = np.sqrt(ptn2 + pz * pz)
    dm2 = np.abs(2.0 * (el * pz / en - pl[..., 2]))
    return pz, dm2


def _m2_of_pz(pz: Array, pl: Array, ptn: Array, el: Array) -> Array:
    """m_ℓν² for neutrino p_z (massless lepton and neutrino)."""
    en = np.sqrt(ptn[:, 0] ** 2 + ptn[:, 1] ** 2 + pz * pz)
    return 2.0 * (el * en - pl[:, 0] * ptn[:, 0] - pl[:, 1] * ptn[:, 1] - pl[:, 2] * pz)


def wh_truth(process: Any, x: Array) -> Array:
    """m̄_c(x) for W±H: the neutrino-p_z integral of ``process.joint_density_components``.

    ``process`` provides ``joint_density_components(charge, pl, ph, pzn) -> (..., C)``, ``ew``
    (m_W, Γ_W), ``w_mode``, ``mlnu_min``, ``mlnu_max``, ``n_quad`` and ``charges``.
    """
    ew = process.ew
    mw, gw = ew.mw, ew.gw
    mg = mw * gw
    n = x.shape[0]
    out = np.zeros((n, process.n_components))
    for q in process.charges:
        sel = np.flatnonzero(np.isclose(x[:, 0], q))
        if sel.size == 0:
            continue
        pl = x[sel, 1:4]
        ph = x[sel, 4:7]
        ptn = -(pl[:, :2] + ph[:, :2])
        ptl = np.hypot(pl[:, 0], pl[:, 1])
        pt_n = np.hypot(ptn[:, 0], ptn[:, 1])
        mt2 = np.maximum(2.0 * (ptl * pt_n - pl[:, 0] * ptn[:, 0] - pl[:, 1] * ptn[:, 1]), 0.0)
        acc = np.zeros((sel.size, process.n_components))
        if process.w_mode == "nwa":
            m2 = np.full(sel.size, mw * mw)
            ok = mt2 < m2
            for br in (1, -1):
                pz, dm2 = neutrino_pz(m2, pl, ptn, br)
                d = process.joint_density_components(q, pl, ph, pz)
                # |D_W|^-2 -> π/(mΓ) δ(m² − m_W²): multiply by |D_W(m_W²)|² π/(mΓ) = π mΓ
                acc += np.where(ok[:, None], d * (math.pi * mg / np.where(dm2 > 0, dm2, np.inf))[:, None], 0.0)
        else:
            tq, wq = np.polynomial.legendre.leggauss(process.n_quad)
            t = 0.5 * (tq + 1.0)
            wt = 0.5 * wq
            lo = np.maximum(mt2, process.mlnu_min**2)
            # physical p_z range: x1, x2 < 1  <=>  E_ν ± p_zν < √s − Σ_{ℓ,H}(E ± p_z)
            el = np.linalg.norm(pl, axis=1)
            eh = np.sqrt(np.sum(ph**2, axis=1) + ew.mh**2)
            big_a = process.sqrt_s - (el + pl[:, 2]) - (eh + ph[:, 2])
            big_b = process.sqrt_s - (el - pl[:, 2]) - (eh - ph[:, 2])
            ptn2 = pt_n**2
            pz_hi = np.where(big_a > 0, (big_a**2 - ptn2) / (2 * np.where(big_a > 0, big_a, 1.0)), -np.inf)
            pz_lo = np.where(big_b > 0, -(big_b**2 - ptn2) / (2 * np.where(big_b > 0, big_b, 1.0)), np.inf)
            pz_star = pl[:, 2] * pt_n / np.where(ptl > 0, ptl, 1.0)

            for br in (1, -1):
                edge = pz_hi if br > 0 else pz_lo
                inside = (edge > pz_star) if br > 0 else (edge < pz_star)
                m2_edge = np.where(
                    inside & np.isfinite(edge), _m2_of_pz(np.where(np.isfinite(edge), edge, 0.0), pl, ptn, el), -np.inf
                )
                hi = np.minimum(process.mlnu_max**2, m2_edge)
                split = mw * mw - 4.0 * mg
                # piece A: m² in [lo, min(split, hi)], variable v = sqrt(m² − m_T²) (no 1/√ edge,
                # the W propagator is smooth there); piece B: m² in [max(lo, split), hi], variable
                # u = atan((m² − m_W²)/(m_WΓ_W)) (flat W peak) with u = u_a + (u_b − u_a) t² (1/√ edge)
                a_hi = np.minimum(split, hi)
                ok_a = a_hi > lo
                va = np.sqrt(np.maximum(lo - mt2, 0.0))
                vb = np.sqrt(np.maximum(np.where(ok_a, a_hi, lo) - mt2, 0.0))
                v = va[:, None] + (vb - va)[:, None] * t[None, :]
                m2a = mt2[:, None] + v * v
                jac_a = (vb - va)[:, None] * 2.0 * v
                b_lo = np.maximum(lo, split)
                # piece B1: up to the W peak (t² substitution at its lower edge); piece B2: above it
                b_mid = np.minimum(np.maximum(b_lo, mw * mw), hi)
                ok_b = b_mid > b_lo
                ulo = np.arctan((b_lo - mw * mw) / mg)
                uhi = np.arctan((np.where(ok_b, b_mid, b_lo) - mw * mw) / mg)
                du = uhi - ulo
                uu = ulo[:, None] + du[:, None] * t[None, :] ** 2
                m2b = mw * mw + mg * np.tan(uu)
                jac_b = 2.0 * du[:, None] * t[None, :] * ((m2b - mw * mw) ** 2 + mg * mg) / mg
                c_lo = np.maximum(b_lo, b_mid)
                ok_c = hi > c_lo
                ulo = np.arctan((c_lo - mw * mw) / mg)
                uhi = np.arctan((np.where(ok_c, hi, c_lo) - mw * mw) / mg)
                du = uhi - ulo
                uu = ulo[:, None] + du[:, None] * t[None, :] ** 2  # t²: m_T may sit at its lower edge
                m2c = mw * mw + mg * np.tan(uu)
                jac_c = 2.0 * du[:, None] * t[None, :] * ((m2c - mw * mw) ** 2 + mg * mg) / mg
                for m2, jac, okp in ((m2a, jac_a, ok_a), (m2b, jac_b, ok_b), (m2c, jac_c, ok_c)):
                    pz, dm2 = neutrino_pz(m2, pl[:, None, :], ptn[:, None, :], br)
                    d = process.joint_density_components(
                        q,
                        np.broadcast_to(pl[:, None, :], pz.shape + (3,)),
                        np.broadcast_to(ph[:, None, :], pz.shape + (3,)),
                        pz,
                    )
                    w = wt[None, :] * jac / np.where(dm2 > 0, dm2, np.inf)
                    acc += np.where(okp[:, None], np.einsum("nq,nqc->nc", w, d), 0.0)
        out[sel] = acc
    return out
