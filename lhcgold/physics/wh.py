r"""q q̄′ → W±H → ℓ±ν H with anomalous HWW couplings and a q q̄′WH contact term (PROCESSES.md §2(b)).

Feynman rules (overall i's stripped): W q q̄′ vertex −i(g/√2)V_{qq′}γ^μP_L; HWW vertex, with P the
incoming W* momentum and k the outgoing W momentum,

.. math:: \Gamma^{\rho\sigma} = g m_W\Big[a_1 g^{\rho\sigma} + \frac{a_2}{m_W^2}(P\!\cdot\!k\,g^{\rho\sigma}
          - k^\rho P^\sigma) + \frac{a_3}{m_W^2}\epsilon^{\rho\sigma\alpha\beta}P_\alpha k_\beta\Big],

SM a₁ = 1, a₂ = a₃ = 0, with **ε^{0123} = +1** and metric (+,−,−,−); the contact term shifts
a₁ → A₁(ŝ) = a₁ + g_c (ŝ − m_W² + i m_WΓ_W)/(2m_W²). The W decay is kept with full spin
correlations, W on or off shell (fixed-width propagators):

.. math:: \overline{|M|^2} = \frac{g^6 m_W^2}{12}\frac{\hat s\, m_{\ell\nu}^2 |V_{qq'}|^2}
          {|D_s|^2 |D_W|^2}\Big|\sum_\lambda F_\lambda\, d^1_{-1,\lambda}(\Theta)\,e^{i\lambda\phi^*}
          d^1_{\lambda,\pm1}(\theta^*)\Big|^2 ,

with F_{±1} = A₁ + a₂√ŝE_W/m_W² ∓ i a₃√ŝ|k|/m_W², F₀ = A₁E_W/m* + a₂√ŝ m*/m_W².
Θ is the W polar angle from the incoming **quark** (u for W⁺, d for W⁻) in the partonic CM;
(θ*, φ*) is the charged-lepton direction in the W rest frame with z′ = W flight direction,
y′ ∝ p̂_q × p̂_W, x′ = y′ × z′. W⁺ uses d¹_{λ,+1}(θ*) (ℓ⁺), W⁻ uses d¹_{λ,−1}(θ*) (ℓ⁻) with the
same F_λ. Parameters: ``gc``, ``a2``, ``a3`` (dimensionless; the amplitude is linear in all
three). Spin- and colour-averaged; GeV units; |M̄|² is dimensionless × GeV⁻² (2 → 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .ew import PYTHIA_EW, EWInputs
from .linear import quadratic_components, resolve_quadratic_components

__all__ = ["WH_PARAMETERS", "WHME", "wh_angles"]

#: Names of the WH parameters.
WH_PARAMETERS: tuple[str, ...] = ("gc", "a2", "a3")

_SQ2 = np.sqrt(2.0)


class WHME:
    """|M̄|² components of q q̄′ → W±(→ ℓν) H.

    Args:
        parameters: θ names, a subset of ("gc", "a2", "a3") in the card's order.
        components: (C, P) exponents (default: all monomials of degree <= 2, madminer order).
        ew: electroweak inputs (masses, widths; the CKM factor is passed per call).
    """

    def __init__(self, parameters: Sequence[str], *, components: ArrayLike | None = None, ew: EWInputs = PYTHIA_EW):
        unknown = [p for p in parameters if p not in WH_PARAMETERS]
        if unknown:
            raise KeyError(unknown[0])
        self.parameters = tuple(parameters)
        self.ew = ew
        self.components = resolve_quadratic_components(components, len(self.parameters))

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def me2_components(
        self,
        shat: ArrayLike,
        cos_Theta: ArrayLike,
        mstar2: ArrayLike,
        cos_theta_star: ArrayLike,
        phi_star: ArrayLike,
        *,
        charge: int = 1,
        vckm2: ArrayLike = 1.0,
    ) -> NDArray[np.float64]:
        """|M̄|² components (..., C) in GeV⁻² from the production and decay angles.

        Args:
            shat: ŝ in GeV².
            cos_Theta: cos of the W polar angle from the incoming quark (partonic CM).
            mstar2: m_ℓν² in GeV².
            cos_theta_star: cosine of the charged-lepton polar angle in the W rest frame (see module doc).
            phi_star: charged-lepton azimuthal angle in the W rest frame (see module doc).
            charge: +1 (u d̄ → ℓ⁺ν H) or −1 (d ū → ℓ⁻ν̄ H).
            vckm2: |V_qq′|².
        """
        ew = self.ew
        s = np.asarray(shat, dtype=np.float64)
        cT = np.asarray(cos_Theta, dtype=np.float64)
        m2 = np.asarray(mstar2, dtype=np.float64)
        ct = np.asarray(cos_theta_star, dtype=np.float64)
        ph = np.asarray(phi_star, dtype=np.float64)
        mw2 = ew.mw**2
        rs = np.sqrt(s)
        mst = np.sqrt(m2)
        ew_ = (s + m2 - ew.mh**2) / (2.0 * rs)
        kk = np.sqrt(np.maximum(ew_**2 - m2, 0.0))
        ds = s - mw2 + 1j * ew.mw * ew.gw
        dw = m2 - mw2 + 1j * ew.mw * ew.gw
        sT = np.sqrt(np.maximum(1.0 - cT**2, 0.0))
        st = np.sqrt(np.maximum(1.0 - ct**2, 0.0))
        # d^1_{-1,lambda}(Theta) for lambda = +1, 0, -1
        dT = ((1.0 - cT) / 2.0, sT / _SQ2, (1.0 + cT) / 2.0)
        if charge > 0:  # d^1_{lambda,+1}(theta*)
            dt = ((1.0 + ct) / 2.0, st / _SQ2, (1.0 - ct) / 2.0)
        else:  # d^1_{lambda,-1}(theta*)
            dt = ((1.0 - ct) / 2.0, -st / _SQ2, (1.0 + ct) / 2.0)
        eph = np.exp(1j * ph)
        b_p = dT[0] * dt[0] * eph
        b_0 = dT[1] * dt[1]
        b_m = dT[2] * dt[2] / eph
        # helicity amplitudes per unit coupling: (F_+, F_0, F_-)
        sm = (1.0, ew_ / mst, 1.0)
        pieces = {
            "gc": (ds / (2 * mw2), ds / (2 * mw2) * ew_ / mst, ds / (2 * mw2)),
            "a2": (rs * ew_ / mw2, rs * mst / mw2, rs * ew_ / mw2),
            "a3": (-1j * rs * kk / mw2, 0.0, 1j * rs * kk / mw2),
        }

        def amp(f: tuple[Any, Any, Any]) -> NDArray[np.complex128]:
            return f[0] * b_p + f[1] * b_0 + f[2] * b_m

        a0 = amp(sm)[..., None]
        shape = a0.shape
        a = (
            np.stack([np.broadcast_to(amp(pieces[p]), shape[:-1]) for p in self.parameters])[..., None]
            if self.parameters
            else np.zeros((0,) + shape, np.complex128)
        )
        pref = (ew.g**6 * mw2 / 12.0) * s * m2 * np.asarray(vckm2) / (np.abs(ds) ** 2 * np.abs(dw) ** 2)
        return quadratic_components(a0, a, pref[..., None], self.components)

    def me2_components_from_momenta(
        self,
        p_q: NDArray[np.float64],
        p_qbar: NDArray[np.float64],
        p_l: NDArray[np.float64],
        p_nu: NDArray[np.float64],
        p_h: NDArray[np.float64],
        *,
        charge: int = 1,
        vckm2: ArrayLike = 1.0,
    ) -> NDArray[np.float64]:
        """Same, from four-momenta (..., 4) = (E, px, py, pz) in any frame.

        ``p_q`` is the incoming quark (u for W⁺, d for W⁻), ``p_qbar`` the antiquark and ``p_l`` the
        charged lepton.
        """
        shat, cT, m2, ct, ph = wh_angles(p_q, p_qbar, p_l, p_nu, p_h)
        return self.me2_components(shat, cT, m2, ct, ph, charge=charge, vckm2=vckm2)

    def me2(self, *args: ArrayLike, theta: ArrayLike, **kwargs: object) -> NDArray[np.float64]:
        """|M̄|² at one parameter point θ (P,); positional arguments as :meth:`me2_components`."""
        m = self.me2_components(*args, **kwargs)  # type: ignore[arg-type]
        th = np.asarray(theta, dtype=np.float64)
        f = np.prod(th[None, :] ** self.components, axis=1) if self.components.shape[1] else np.ones(1)
        return m @ f


def _boost_c(
    e: NDArray[np.float64],
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    pz: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
    bz: NDArray[np.float64],
) -> tuple[NDArray[np.float64], ...]:
    """Boost (e, p) by velocity b, component-wise (a particle at rest gets velocity b)."""
    b2 = bx * bx + by * by + bz * bz
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = bx * px + by * py + bz * pz
    g2 = np.where(b2 > 0, (gamma - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    k = g2 * bp + gamma * e
    return gamma * (e + bp), px + k * bx, py + k * by, pz + k * bz


def wh_angles(
    p_q: NDArray[np.float64],
    p_qbar: NDArray[np.float64],
    p_l: NDArray[np.float64],
    p_nu: NDArray[np.float64],
    p_h: NDArray[np.float64],
) -> tuple[NDArray[np.float64], ...]:
    """(ŝ, cos Θ, m*², cos θ*, φ*) from four-momenta (see :class:`WHME` for the definitions)."""
    del p_h  # fixed by momentum conservation
    tot = p_q + p_qbar
    et = tot[..., 0]
    bx, by, bz = -tot[..., 1] / et, -tot[..., 2] / et, -tot[..., 3] / et
    shat = et * et - (tot[..., 1] ** 2 + tot[..., 2] ** 2 + tot[..., 3] ** 2)
    q = _boost_c(p_q[..., 0], p_q[..., 1], p_q[..., 2], p_q[..., 3], bx, by, bz)
    lep = _boost_c(p_l[..., 0], p_l[..., 1], p_l[..., 2], p_l[..., 3], bx, by, bz)
    nu = _boost_c(p_nu[..., 0], p_nu[..., 1], p_nu[..., 2], p_nu[..., 3], bx, by, bz)
    qn = np.sqrt(q[1] ** 2 + q[2] ** 2 + q[3] ** 2)
    qx, qy, qz = q[1] / qn, q[2] / qn, q[3] / qn
    we, wx, wy, wz = lep[0] + nu[0], lep[1] + nu[1], lep[2] + nu[2], lep[3] + nu[3]
    wabs = np.sqrt(wx * wx + wy * wy + wz * wz)
    zx, zy, zz = wx / wabs, wy / wabs, wz / wabs
    cT = qx * zx + qy * zy + qz * zz
    m2 = we * we - wabs * wabs
    # y' ∝ q̂ × ẑ', x' = y' × ẑ'
    yx, yy, yz = qy * zz - qz * zy, qz * zx - qx * zz, qx * zy - qy * zx
    yn = np.sqrt(yx * yx + yy * yy + yz * yz)
    yx, yy, yz = yx / yn, yy / yn, yz / yn
    xx, xy, xz = yy * zz - yz * zy, yz * zx - yx * zz, yx * zy - yy * zx
    lw = _boost_c(lep[0], lep[1], lep[2], lep[3], -wx / we, -wy / we, -wz / we)
    lz = lw[1] * zx + lw[2] * zy + lw[3] * zz
    lx = lw[1] * xx + lw[2] * xy + lw[3] * xz
    ly = lw[1] * yx + lw[2] * yy + lw[3] * yz
    ct = lz / np.sqrt(lw[1] ** 2 + lw[2] ** 2 + lw[3] ** 2)
    ph = np.mod(np.arctan2(ly, lx), 2 * np.pi)
    return shat, cT, m2, ct, ph
