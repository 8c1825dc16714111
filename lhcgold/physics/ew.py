r"""Electroweak inputs of the embedded processes (PROCESSES.md §1).

Conventions used by every embedded matrix element:

* units: GeV, :math:`\hbar = c = 1`; cross sections are converted to pb with
  :data:`GEV2_TO_PB` (1 GeV⁻² = 3.893794e8 pb); Wilson coefficients C/Λ² are given in TeV⁻²
  and converted with :data:`TEV2_TO_GEV2` (1 TeV⁻² = 1e-6 GeV⁻²);
* metric (+,−,−,−), chiral γ matrices with γ⁵ = iγ⁰γ¹γ²γ³, P_{L,R} = (1 ∓ γ⁵)/2 and
  **ε^{0123} = +1** (this fixes the sign of CP-odd interference terms);
* fixed-width propagators 1/(q² − m² + i mΓ); widths never depend on θ, so |M|² stays a
  polynomial in θ;
* the default input set :data:`PYTHIA_EW` ("Pythia-compatible"): α = 1/128 fixed,
  s_W² = 0.2312 (gauge sector and Z–fermion couplings), m_Z = 91.1876, m_W = 80.385,
  m_H = 125 GeV, and Pythia 8.317's default CKM matrix.
  :data:`MG5_SM_EW` is the MG5 ``sm`` set (α⁻¹(m_Z) = 127.9, G_F, m_Z ⇒ m_W, s_W²) with the
  identity CKM.

Derived couplings: e = √(4πα), g = e/s_W, g_Z = e/(s_W c_W), v = 2 m_W / g.

**Widths follow the inputs.** Unless given explicitly, Γ_W and Γ_Z are derived from the same α,
s_W², masses and CKM as the couplings: the lowest-order electroweak partial widths of the massless
fermion channels (top excluded), the hadronic ones times the O(α_s) QCD factor 1 + α_s(m)/π
(α_s(m_Z) = ``alpha_s``, one-loop running with five flavours), exactly as Pythia 8 computes its
W and Z widths at initialisation:

.. math:: \Gamma(W\to\ell\nu) = \frac{g^2 m_W}{48\pi},\qquad
          \Gamma_W = \Gamma(W\to\ell\nu)\Big[3 + 3\big(1 + \tfrac{\alpha_s}{\pi}\big)
          \sum_{i\in\{u,c\},\,j\in\{d,s,b\}} |V_{ij}|^2\Big],

.. math:: \Gamma_Z = \frac{g_Z^2 m_Z}{48\pi}\sum_f N_c^f\,(v_f^2 + a_f^2)\,K_f,\qquad
          v_f = T_3^f - 2Q_f s_W^2,\ a_f = T_3^f,\ K_q = 1 + \alpha_s(m_Z)/\pi .

So σ × BR(W → ℓν) does not drift when α or s_W² change: with s_W² = 0.225 a Γ_W held at 2.085 GeV
put σ(W±H → μνH) 2.9% above Pythia's σ × BR with the same inputs; derived, it agrees within 0.3%.
With the default inputs Γ_W = 2.0946 and Γ_Z = 2.5084 GeV (Pythia, with fermion masses: 2.0939
and 2.5034).
PROCESSES.md §1 quotes the PDG values Γ_Z = 2.4952, Γ_W = 2.085; pass them explicitly
(``EWInputs(gz=2.4952, gw=2.085)``, or ``gz``/``gw`` in a card's ``process.ew``) for that fixed
scheme (the golden |M|² values of PROCESSES.md §3.2 use it). Either way widths never depend on θ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["EWInputs", "GEV2_TO_PB", "MG5_SM_EW", "PYTHIA_CKM", "PYTHIA_EW", "TEV2_TO_GEV2"]

#: 1 GeV⁻² in pb.
GEV2_TO_PB = 0.3893794e9
#: 1 TeV⁻² in GeV⁻².
TEV2_TO_GEV2 = 1e-6

#: Pythia 8.317's default CKM matrix |V_ij| (rows u, c, t; columns d, s, b).
PYTHIA_CKM: tuple[tuple[float, float, float], ...] = (
    (0.97383, 0.2272, 0.00396),
    (0.2271, 0.97296, 0.04221),
    (0.00814, 0.04161, 0.9991),
)


@dataclass(frozen=True)
class EWInputs:
    """Electroweak input parameters (GeV) and the CKM moduli.

    Attributes:
        alpha: fine-structure constant (fixed, no running).
        sw2: sin²θ_W, used for the gauge couplings and the Z–fermion couplings.
        mz, mw, mh: masses in GeV.
        gz, gw: Z and W widths in GeV; None (default) derives them from the other inputs
            (:meth:`lo_width_z`, :meth:`lo_width_w`); after construction they always hold the
            width in use, and ``fixed_widths`` names those that were given explicitly.
        ckm: |V_ij|, rows (u, c, t), columns (d, s, b).
        alpha_s: α_s(m_Z) of the QCD factor in the derived hadronic widths (Pythia's
            ``SigmaProcess:alphaSvalue``; NNPDF2.3 LO's value).
    """

    alpha: float = 1.0 / 128.0
    sw2: float = 0.2312
    mz: float = 91.1876
    gz: float | None = None
    mw: float = 80.385
    gw: float | None = None
    mh: float = 125.0
    ckm: tuple[tuple[float, float, float], ...] = field(default=PYTHIA_CKM)
    alpha_s: float = 0.130
    fixed_widths: tuple[str, ...] = field(init=False, default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed_widths", tuple(n for n in ("gz", "gw") if getattr(self, n) is not None))
        if self.gz is None:
            object.__setattr__(self, "gz", self.lo_width_z())
        if self.gw is None:
            object.__setattr__(self, "gw", self.lo_width_w())

    def with_inputs(self, **changes: Any) -> EWInputs:
        """A copy with some inputs changed; widths that were derived are derived again from the new
        inputs (use this, not ``dataclasses.replace``, which would keep the old derived widths)."""
        kw = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        for name in ("gz", "gw"):
            if name not in self.fixed_widths:
                kw[name] = None
        kw.update(changes)
        return EWInputs(**kw)

    def alpha_s_at(self, q: float) -> float:
        """α_s(q) at one loop with five flavours from α_s(m_Z) = ``alpha_s``."""
        b0 = 23.0 / (12.0 * math.pi)
        return self.alpha_s / (1.0 + self.alpha_s * b0 * math.log(q * q / (self.mz * self.mz)))

    def lo_width_w(self) -> float:
        """Γ_W [GeV] from the inputs: LO partial widths, hadronic ones × (1 + α_s(m_W)/π), no top."""
        v2 = float(np.sum(self.ckm_array[:2, :] ** 2))  # u and c rows: every kinematically open pair
        return self.width_w_to_lnu() * (3.0 + 3.0 * (1.0 + self.alpha_s_at(self.mw) / math.pi) * v2)

    def lo_width_z(self) -> float:
        """Γ_Z [GeV] from the inputs: LO partial widths of ν, ℓ, u, c, d, s, b; quarks × (1 + α_s(m_Z)/π)."""
        k_qcd = 1.0 + self.alpha_s_at(self.mz) / math.pi
        total = 0.0
        #  (T3, Q, colours × QCD factor, number of flavours)
        for t3, q, nc, nf in (
            (0.5, 0.0, 1.0, 3),
            (-0.5, -1.0, 1.0, 3),
            (0.5, 2 / 3, 3 * k_qcd, 2),
            (-0.5, -1 / 3, 3 * k_qcd, 3),
        ):
            v = t3 - 2.0 * q * self.sw2
            total += nf * nc * (v * v + t3 * t3)
        return self.gz_coupling**2 * self.mz / (48.0 * math.pi) * total

    def width_z_to_ll(self) -> float:
        """Partial width Γ(Z → ℓℓ) = g_Z² m_Z (v² + a²)/(48π) for one massless charged lepton."""
        v = -0.5 + 2.0 * self.sw2
        return self.gz_coupling**2 * self.mz / (48.0 * math.pi) * (v * v + 0.25)

    @property
    def e(self) -> float:
        return math.sqrt(4.0 * math.pi * self.alpha)

    @property
    def cw2(self) -> float:
        return 1.0 - self.sw2

    @property
    def g(self) -> float:
        """SU(2) coupling e / s_W."""
        return self.e / math.sqrt(self.sw2)

    @property
    def gz_coupling(self) -> float:
        """e / (s_W c_W)."""
        return self.e / math.sqrt(self.sw2 * self.cw2)

    @property
    def v(self) -> float:
        """v = 2 m_W / g."""
        return 2.0 * self.mw / self.g

    @property
    def ckm_array(self) -> NDArray[np.float64]:
        return np.array(self.ckm, dtype=np.float64)

    def width_w_to_lnu(self, m: float | None = None) -> float:
        """Partial width Γ(W → ℓν) = g² m / (48π) for one massless lepton flavour."""
        mass = self.mw if m is None else m
        return self.g**2 * mass / (48.0 * math.pi)


#: The "Pythia-compatible" default set of PROCESSES.md §1.
PYTHIA_EW = EWInputs()

_IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _mg5_sm() -> EWInputs:
    alpha = 1.0 / 127.9
    gf = 1.16637e-5
    mz = 91.1876
    a = math.pi * alpha / (math.sqrt(2.0) * gf)
    mw = math.sqrt(mz**2 / 2.0 + math.sqrt(mz**4 / 4.0 - a * mz**2))
    return EWInputs(alpha=alpha, sw2=1.0 - mw**2 / mz**2, mz=mz, mw=mw, mh=125.0, ckm=_IDENTITY)


#: MG5 ``sm``-model inputs (G_F scheme), identity CKM; widths derived from them like every set's.
MG5_SM_EW = _mg5_sm()
