r"""Drell–Yan q q̄ → γ*/Z/contact → ℓ⁻ℓ⁺ with four-fermion contact terms (PROCESSES.md §2(a)).

Helicity amplitudes (i = quark chirality, j = lepton chirality):

.. math:: A^q_{ij}(\hat s) = \frac{e^2 Q_q Q_\ell}{\hat s}
          + \frac{e^2}{s_W^2 c_W^2}\frac{g^q_i g^\ell_j}{\hat s - m_Z^2 + i m_Z\Gamma_Z}
          + \frac{C^q_{ij}}{\Lambda^2},
   \qquad g^f_L = T^3_f - Q_f s_W^2,\; g^f_R = -Q_f s_W^2 ,

and the spin- and colour-averaged squared matrix element

.. math:: \overline{|M|^2} = \tfrac13\big[\hat u^2(|A_{LL}|^2 + |A_{RR}|^2)
          + \hat t^2(|A_{LR}|^2 + |A_{RL}|^2)\big],

with t̂ = −ŝ(1 − cos θ)/2, û = −ŝ(1 + cos θ)/2 and θ the angle between the incoming **quark**
and the ℓ⁻ in the partonic CM frame. Conventions: metric (+,−,−,−), ε^{0123} = +1 (not needed
here), fixed Z width, EW inputs from :mod:`lhcgold.physics.ew`.

Wilson coefficients C/Λ² are in **TeV⁻²**; the sign convention is
ℒ ⊃ Σ (C_ij/Λ²)(q̄_iγ^μq_i)(ℓ̄_jγ_μℓ_j), so that Pythia's ``ContactInteractions`` map as
C_ij = 4π η_ij / Λ²_Pythia and C_LL > 0 interferes destructively in the high-mass tail.

Parameters (any subset may be θ; the amplitude is linear in all of them):

* flavour-universal ``C_LL``, ``C_LR``, ``C_RL``, ``C_RR`` (quark chirality first);
* per quark type ``C_LL_u``, ``C_LL_d``, ... (8 in all);
* SMEFT (Warsaw) ``C_lq1``, ``C_lq3``, ``C_eu``, ``C_ed``, ``C_lu``, ``C_ld``, ``C_qe`` with
  C^u_LL = C_lq1 − C_lq3, C^d_LL = C_lq1 + C_lq3, C^{u,d}_RR = C_eu, C_ed, C^{u,d}_RL = C_lu, C_ld,
  C_LR = C_qe.

Example:
    >>> import numpy as np
    >>> me = DrellYanME(("C_LL",))
    >>> m = me.me2_components(np.array([1000.0**2]), np.array([-0.5]), "u")
    >>> round(float(m[0, 0]), 10)   # SM |M|^2 (golden value 0.0008565606)
    0.0008565606
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .ew import PYTHIA_EW, TEV2_TO_GEV2, EWInputs
from .linear import quadratic_components, resolve_quadratic_components

__all__ = ["DY_PARAMETERS", "DrellYanME", "QUARK_TYPE"]

# helicity index order: LL, LR, RL, RR (quark chirality first)
_HEL = ("LL", "LR", "RL", "RR")
#: quark PDG id (abs) -> type: 0 = down-type, 1 = up-type
QUARK_TYPE = {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
_Q = {0: -1.0 / 3.0, 1: 2.0 / 3.0}
_T3 = {0: -0.5, 1: 0.5}


def _coupling_table() -> dict[str, NDArray[np.float64]]:
    """parameter -> coefficient array (quark type [d, u], helicity LL, LR, RL, RR) in TeV⁻²."""
    t: dict[str, NDArray[np.float64]] = {}
    for h, name in enumerate(_HEL):
        arr = np.zeros((2, 4))
        arr[:, h] = 1.0
        t[f"C_{name}"] = arr
        for qt, qn in ((0, "d"), (1, "u")):
            a = np.zeros((2, 4))
            a[qt, h] = 1.0
            t[f"C_{name}_{qn}"] = a

    def smeft(entries: dict[tuple[int, str], float]) -> NDArray[np.float64]:
        a = np.zeros((2, 4))
        for (qt, h), v in entries.items():
            a[qt, _HEL.index(h)] = v
        return a

    t["C_lq1"] = smeft({(0, "LL"): 1.0, (1, "LL"): 1.0})
    t["C_lq3"] = smeft({(0, "LL"): 1.0, (1, "LL"): -1.0})
    t["C_eu"] = smeft({(1, "RR"): 1.0})
    t["C_ed"] = smeft({(0, "RR"): 1.0})
    t["C_lu"] = smeft({(1, "RL"): 1.0})
    t["C_ld"] = smeft({(0, "RL"): 1.0})
    t["C_qe"] = smeft({(0, "LR"): 1.0, (1, "LR"): 1.0})
    return t


_TABLE = _coupling_table()
#: Names of all Drell–Yan parameters.
DY_PARAMETERS: tuple[str, ...] = tuple(_TABLE)


class DrellYanME:
    """|M̄|² components of q q̄ → ℓ⁻ℓ⁺ for a set of contact-term parameters.

    Args:
        parameters: θ names (see module docstring), in the card's order.
        components: (C, P) exponents; default: all monomials of degree <= 2 in madminer order.
        ew: electroweak inputs.
    """

    def __init__(self, parameters: Sequence[str], *, components: ArrayLike | None = None, ew: EWInputs = PYTHIA_EW):
        unknown = [p for p in parameters if p not in _TABLE]
        if unknown:
            raise KeyError(unknown[0])
        self.parameters = tuple(parameters)
        self.ew = ew
        self.components = resolve_quadratic_components(components, len(self.parameters))
        # (P, 2, 4) coefficients in GeV^-2
        self._coef = np.array([_TABLE[p] for p in self.parameters]).reshape(len(self.parameters), 2, 4) * TEV2_TO_GEV2
        e2 = ew.e**2
        self._e2 = e2
        self._z = e2 / (ew.sw2 * ew.cw2)
        self._gl = {qt: _T3[qt] - _Q[qt] * ew.sw2 for qt in (0, 1)}
        self._gr = {qt: -_Q[qt] * ew.sw2 for qt in (0, 1)}
        self._gl_l = -0.5 + ew.sw2
        self._gr_l = ew.sw2

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def sm_amplitudes(self, shat: ArrayLike, quark_type: int) -> NDArray[np.complex128]:
        """SM helicity amplitudes (..., 4) in the order LL, LR, RL, RR."""
        s = np.asarray(shat, dtype=np.float64)
        ew = self.ew
        prop = 1.0 / (s - ew.mz**2 + 1j * ew.mz * ew.gz)
        qed = self._e2 * _Q[quark_type] * (-1.0) / s
        gq = (self._gl[quark_type], self._gl[quark_type], self._gr[quark_type], self._gr[quark_type])
        gl = (self._gl_l, self._gr_l, self._gl_l, self._gr_l)
        return np.stack([qed + self._z * gq[h] * gl[h] * prop for h in range(4)], axis=-1)

    def me2_components(self, shat: ArrayLike, cos_theta: ArrayLike, quark: int | str) -> NDArray[np.float64]:
        """Spin/colour-averaged |M̄|² components (..., C) (dimensionless).

        Args:
            shat: partonic ŝ in GeV².
            cos_theta: cosine of the angle between the incoming quark and the ℓ⁻ (partonic CM).
            quark: quark type: "u"/"d" or a PDG id (sign ignored).
        """
        qt = _quark_type(quark)
        s = np.asarray(shat, dtype=np.float64)
        c = np.asarray(cos_theta, dtype=np.float64)
        a0 = self.sm_amplitudes(s, qt)
        t2 = (0.5 * s * (1.0 - c)) ** 2
        u2 = (0.5 * s * (1.0 + c)) ** 2
        w = np.stack([u2, t2, t2, u2], axis=-1) / 3.0
        coef = self._coef[:, qt, :]  # (P, 4)
        a = np.broadcast_to(
            coef.reshape((coef.shape[0],) + (1,) * (a0.ndim - 1) + (4,)), (coef.shape[0],) + a0.shape
        ).astype(np.complex128)
        return quadratic_components(a0, a, w, self.components)

    def me2(self, shat: ArrayLike, cos_theta: ArrayLike, quark: int | str, theta: ArrayLike) -> NDArray[np.float64]:
        """|M̄|² at one parameter point θ (P,)."""
        m = self.me2_components(shat, cos_theta, quark)
        th = np.asarray(theta, dtype=np.float64)
        f = np.prod(th[None, :] ** self.components, axis=1) if self.components.shape[1] else np.ones(1)
        return m @ f


def _quark_type(quark: int | str) -> int:
    if isinstance(quark, str):
        if quark in ("u", "c", "up"):
            return 1
        if quark in ("d", "s", "b", "down"):
            return 0
        raise ValueError(f"unknown quark {quark!r}")
    return QUARK_TYPE[abs(int(quark))]
