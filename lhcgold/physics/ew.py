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
  s_W² = 0.2312 (gauge sector and Z–fermion couplings), m_Z = 91.1876, Γ_Z = 2.4952,
  m_W = 80.385, Γ_W = 2.085, m_H = 125 GeV, and Pythia 8.317's default CKM matrix.
  :data:`MG5_SM_EW` is the MG5 ``sm`` set (α⁻¹(m_Z) = 127.9, G_F, m_Z ⇒ m_W, s_W²) with the
  identity CKM.

Derived couplings: e = √(4πα), g = e/s_W, g_Z = e/(s_W c_W), v = 2 m_W / g.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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
        mz, gz, mw, gw, mh: masses and widths in GeV.
        ckm: |V_ij|, rows (u, c, t), columns (d, s, b).
    """

    alpha: float = 1.0 / 128.0
    sw2: float = 0.2312
    mz: float = 91.1876
    gz: float = 2.4952
    mw: float = 80.385
    gw: float = 2.085
    mh: float = 125.0
    ckm: tuple[tuple[float, float, float], ...] = field(default=PYTHIA_CKM)

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
    return EWInputs(alpha=alpha, sw2=1.0 - mw**2 / mz**2, mz=mz, gz=2.4952, mw=mw, gw=2.085, mh=125.0, ckm=_IDENTITY)


#: MG5 ``sm``-model inputs (G_F scheme), identity CKM.
MG5_SM_EW = _mg5_sm()
