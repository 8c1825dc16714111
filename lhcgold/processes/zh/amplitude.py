r"""q q̄ → Z* → Z H → ℓ⁻ℓ⁺ H with anomalous HZZ couplings and a q q̄ Z H contact term.

Feynman rules (overall i's stripped; metric (+,−,−,−), **ε^{0123} = +1**, massless fermions): the
Z f f̄ vertex −i g_Z γ^μ (g_L^f P_L + g_R^f P_R) with g_Z = e/(s_W c_W), g_L^f = T³_f − Q_f s_W²,
g_R^f = −Q_f s_W² (the Drell–Yan convention of PROCESSES.md §2(a)); the HZZ vertex, with P the
incoming Z* momentum and k the outgoing Z momentum,

.. math:: \Gamma^{\rho\sigma} = g_Z m_Z\Big[a_1 g^{\rho\sigma} + \frac{a_2}{m_Z^2}(P\!\cdot\!k\,g^{\rho\sigma}
          - k^\rho P^\sigma) + \frac{a_3}{m_Z^2}\epsilon^{\rho\sigma\alpha\beta}P_\alpha k_\beta\Big]

(g m_Z/c_W = g_Z m_Z), SM a₁ = 1, a₂ = a₃ = 0: the W H vertex of §2(b) with the Z couplings.

**Contact term.** A q q̄ Z H contact interaction that shifts a₁ → A₁(ŝ) = a₁ + g_c (ŝ − m_Z² + i m_ZΓ_Z)/(2m_Z²),
the W H normalisation with m_W → m_Z. For Z H it can depend on the quark chirality; here it acts on
**left-handed quarks only** by default (``contact="left"``: the q_L q̄_L Z H term of an O_Hq-type
operator, the partner of W H's g_c), or on both chiralities alike (``contact="universal"``). Either
way it multiplies each quark's own SM coupling g_σ^q (so A₁ is flavour universal); the exact map to
SMEFT's O_Hq⁽¹⁾, O_Hq⁽³⁾ (which weight u and d by T³ rather than g_L) is approximate.

**Closed form** (helicity amplitudes, Z on or off shell, full decay spin correlations):

.. math:: \overline{|\mathcal M|^2} = \frac{g_Z^6 m_Z^2}{3}\,\frac{\hat s\,m_{\ell\ell}^2}{|D_s|^2|D_Z|^2}
          \sum_{\sigma,\tau=\pm1}(g_\sigma^q g_\tau^\ell)^2\Big|\sum_\lambda F^\sigma_\lambda\,
          d^1_{\sigma\lambda}(\Theta)\,e^{i\lambda\phi^*}\,d^1_{\lambda\tau}(\theta^*)\Big|^2 ,

σ = −1 (+1) a left- (right-)handed quark, τ = −1 (+1) a left- (right-)handed ℓ⁻; D_s = ŝ − m_Z² + i m_ZΓ_Z,
D_Z = m_ℓℓ² − m_Z² + i m_ZΓ_Z; F^σ_{±1} = A₁^σ + a₂√ŝE_Z/m_Z² ∓ i a₃√ŝ|k|/m_Z²,
F^σ_0 = A₁^σ E_Z/m_ℓℓ + a₂√ŝ m_ℓℓ/m_Z², with A₁^σ = A₁(ŝ) where the contact acts, else a₁.
Θ: Z polar angle in the partonic CM from the incoming **quark**; (θ*, φ*): the **ℓ⁻** direction in
the Z rest frame with z′ = Z flight direction, y′ ∝ p̂_q × p̂_Z, x′ = y′ × z′ (the W H frame of
:func:`lhcgold.physics.wh.wh_angles`). Spin- and colour-averaged, GeV⁻². Checked against an explicit
Dirac-matrix spinor sum and against Pythia's ``ffbar2HZ`` decay weight (tests/processes/test_zh.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...physics.ew import PYTHIA_EW, EWInputs
from ...physics.linear import quadratic_components, resolve_quadratic_components
from ...physics.wh import wh_angles

__all__ = ["CONTACT_MODES", "ZH_PARAMETERS", "ZHME", "z_couplings", "zh_angles"]

#: Names of the Z H parameters.
ZH_PARAMETERS: tuple[str, ...] = ("gc", "a2", "a3")
#: Which quark chiralities the contact term g_c acts on.
CONTACT_MODES: tuple[str, ...] = ("left", "universal")

_SQ2 = np.sqrt(2.0)
#: (T³, Q) of the down-type quarks, up-type quarks and charged leptons
_QUANTUM = {"d": (-0.5, -1.0 / 3.0), "u": (0.5, 2.0 / 3.0), "l": (-0.5, -1.0)}


def z_couplings(kind: str, sw2: float) -> tuple[float, float]:
    """(g_L, g_R) = (T³ − Q s_W², −Q s_W²) of a down-type quark ``"d"``, up-type ``"u"`` or charged lepton ``"l"``."""
    t3, q = _QUANTUM[kind]
    return t3 - q * sw2, -q * sw2


def _d1(m: int, cos: NDArray[np.float64], sin: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """(d¹_{m,+1}, d¹_{m,0}, d¹_{m,−1})(β) for m = ±1 (rows of the Wigner matrix)."""
    if m > 0:
        return (1.0 + cos) / 2.0, -sin / _SQ2, (1.0 - cos) / 2.0
    return (1.0 - cos) / 2.0, sin / _SQ2, (1.0 + cos) / 2.0


class ZHME:
    """|M̄|² components of q q̄ → Z(→ ℓ⁻ℓ⁺) H.

    Args:
        parameters: θ names, a subset of ("gc", "a2", "a3") in the card's order.
        components: (C, P) exponents (default: all monomials of degree <= 2, madminer order).
        ew: electroweak inputs (m_Z, Γ_Z, m_H, s_W², α).
        contact: ``"left"`` (g_c acts on left-handed quarks) or ``"universal"`` (both chiralities).
    """

    def __init__(
        self,
        parameters: Sequence[str],
        *,
        components: ArrayLike | None = None,
        ew: EWInputs = PYTHIA_EW,
        contact: str = "left",
    ):
        unknown = [p for p in parameters if p not in ZH_PARAMETERS]
        if unknown:
            raise KeyError(unknown[0])
        if contact not in CONTACT_MODES:
            raise ValueError(f"contact must be one of {CONTACT_MODES}, got {contact!r}")
        self.parameters = tuple(parameters)
        self.ew = ew
        self.contact = contact
        self.components = resolve_quadratic_components(components, len(self.parameters))
        self.lepton_couplings = z_couplings("l", ew.sw2)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def _form_factors(
        self, s: NDArray[np.float64], m2: NDArray[np.float64], sigma: int
    ) -> tuple[tuple[object, object, object], dict[str, tuple[object, object, object]]]:
        """SM F_λ and F_λ per unit coupling, (λ = +1, 0, −1), for quark chirality σ."""
        ew = self.ew
        mz2 = ew.mz**2
        rs = np.sqrt(s)
        mst = np.sqrt(m2)
        e_z = (s + m2 - ew.mh**2) / (2.0 * rs)
        kk = np.sqrt(np.maximum(e_z**2 - m2, 0.0))
        ds = s - mz2 + 1j * ew.mz * ew.gz
        gc_on = 1.0 if (self.contact == "universal" or sigma < 0) else 0.0
        sm = (1.0, e_z / mst, 1.0)
        pieces = {
            "gc": (gc_on * ds / (2 * mz2), gc_on * ds / (2 * mz2) * e_z / mst, gc_on * ds / (2 * mz2)),
            "a2": (rs * e_z / mz2, rs * mst / mz2, rs * e_z / mz2),
            "a3": (-1j * rs * kk / mz2, 0.0, 1j * rs * kk / mz2),
        }
        return sm, pieces

    def me2_components(
        self,
        shat: ArrayLike,
        cos_Theta: ArrayLike,
        mll2: ArrayLike,
        cos_theta_star: ArrayLike,
        phi_star: ArrayLike,
        *,
        quark: str = "u",
    ) -> NDArray[np.float64]:
        """|M̄|² components (..., C) in GeV⁻² from the production and decay angles.

        Args:
            shat: ŝ in GeV².
            cos_Theta: cos of the Z polar angle from the incoming quark (partonic CM).
            mll2: m_ℓℓ² in GeV².
            cos_theta_star: cos of the ℓ⁻ polar angle in the Z rest frame (see the module doc).
            phi_star: ℓ⁻ azimuth in the Z rest frame (see the module doc).
            quark: ``"u"`` (up-type) or ``"d"`` (down-type) incoming quark.
        """
        ew = self.ew
        s = np.asarray(shat, dtype=np.float64)
        cT = np.asarray(cos_Theta, dtype=np.float64)
        m2 = np.asarray(mll2, dtype=np.float64)
        ct = np.asarray(cos_theta_star, dtype=np.float64)
        eph = np.exp(1j * np.asarray(phi_star, dtype=np.float64))
        sT = np.sqrt(np.maximum(1.0 - cT**2, 0.0))
        st = np.sqrt(np.maximum(1.0 - ct**2, 0.0))
        gq = dict(zip((-1, 1), z_couplings(quark, ew.sw2), strict=True))
        gl = dict(zip((-1, 1), self.lepton_couplings, strict=True))
        shape = np.broadcast_shapes(s.shape, cT.shape, m2.shape, ct.shape, eph.shape)
        a0s, a_s, ws = [], [], []
        for sigma in (-1, 1):
            dT = _d1(sigma, cT, sT)  # d¹_{σλ}(Θ), λ = +1, 0, −1
            sm, pieces = self._form_factors(s, m2, sigma)
            for tau in (-1, 1):
                # d¹_{λτ}(θ*) = d¹_{τλ}(−θ*) ... written out: column τ of the Wigner matrix
                dt = _d1(tau, ct, -st)
                b = (dT[0] * dt[0] * eph, dT[1] * dt[1], dT[2] * dt[2] / eph)

                def amp(f: tuple[object, object, object], b: tuple[object, ...] = b) -> NDArray[np.complex128]:
                    return np.broadcast_to(f[0] * b[0] + f[1] * b[1] + f[2] * b[2], shape)  # type: ignore[operator]

                a0s.append(amp(sm))
                a_s.append([amp(pieces[p]) for p in self.parameters])
                ws.append((gq[sigma] * gl[tau]) ** 2)
        a0 = np.stack(a0s, axis=-1)  # (..., H) with H = 4 chirality combinations
        a = (
            np.stack([np.stack([a_s[h][k] for h in range(4)], axis=-1) for k in range(len(self.parameters))])
            if self.parameters
            else np.zeros((0,) + a0.shape, np.complex128)
        )
        mz2 = ew.mz**2
        den = np.abs(s - mz2 + 1j * ew.mz * ew.gz) ** 2 * np.abs(m2 - mz2 + 1j * ew.mz * ew.gz) ** 2
        pref = (ew.gz_coupling**6 * mz2 / 3.0) * s * m2 / den
        weights = pref[..., None] * np.asarray(ws)
        return quadratic_components(a0, a, weights, self.components)

    def me2_components_from_momenta(
        self,
        p_q: NDArray[np.float64],
        p_qbar: NDArray[np.float64],
        p_lminus: NDArray[np.float64],
        p_lplus: NDArray[np.float64],
        *,
        quark: str = "u",
    ) -> NDArray[np.float64]:
        """Same, from four-momenta (..., 4) = (E, px, py, pz) in any frame (``p_q``: the incoming quark)."""
        shat, cT, m2, ct, ph = zh_angles(p_q, p_qbar, p_lminus, p_lplus)
        return self.me2_components(shat, cT, m2, ct, ph, quark=quark)

    def me2(self, *args: ArrayLike, theta: ArrayLike, **kwargs: str) -> NDArray[np.float64]:
        """|M̄|² at one parameter point θ (P,); positional arguments as :meth:`me2_components`."""
        m = self.me2_components(*args, **kwargs)  # type: ignore[arg-type]
        th = np.asarray(theta, dtype=np.float64)
        f = np.prod(th[None, :] ** self.components, axis=1) if self.components.shape[1] else np.ones(1)
        return m @ f


def zh_angles(
    p_q: NDArray[np.float64], p_qbar: NDArray[np.float64], p_lminus: NDArray[np.float64], p_lplus: NDArray[np.float64]
) -> tuple[NDArray[np.float64], ...]:
    """(ŝ, cos Θ, m_ℓℓ², cos θ*, φ*) from four-momenta: the W H angles with ℓ⁻ as the analysed lepton."""
    return wh_angles(p_q, p_qbar, p_lminus, p_lplus, p_lminus)
