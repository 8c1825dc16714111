r"""The embedded Z H process: p p → Z H → ℓ⁻ℓ⁺ H (matrix element: :mod:`.amplitude`).

Generation variables u = (ŝ, y, cos Θ, φ, m_ℓℓ², cos θ*, φ*); channels k = 2·(quark type: 0 down-type,
1 up-type) + orientation (0: the quark comes from beam 1, along +z). Every final-state momentum is
observed at parton level: x = (p_ℓ⁻ (3), p_ℓ⁺ (3), p_z of the H) in the lab, and the truth density
per d³p_ℓ⁻ d³p_ℓ⁺ dp_zH (GeV⁻⁷ × pb) is a sum over the latent flavour and beam orientation (no integral).
In the narrow-width mode the Z is on shell and the density is per d³p_ℓ⁻ d³p_ℓ⁺ dp_zH δ(m_ℓℓ² − m_Z²).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...exceptions import ConfigError
from ...physics import phasespace as ps
from ...physics.ew import GEV2_TO_PB, EWInputs
from ...physics.pdf import PDFGrid
from .._vh import to_lab, vh_momenta, vh_record
from ..base import Batch, EmbeddedProcess, EventRecord, ProcessDefaults, eta, register_process
from .amplitude import CONTACT_MODES, ZH_PARAMETERS, ZHME, zh_angles

__all__ = ["ZHProcess"]

Array = NDArray[np.float64]

_DOWN = (1, 3, 5)
_UP = (2, 4)
_QUARK = ("d", "u")

OBSERVED_NAMES = ("lm_px", "lm_py", "lm_pz", "lp_px", "lp_py", "lp_pz", "h_pz")


def sin_2phi_star_expression(
    a: str = "l[0]",
    b: str = "l[1]",
    h: str = "(j[0] + j[1])",
    *,
    m_ll: str = "m_ll",
    m_h: str = "m_h",
    m_zh: str = "m_zh",
) -> str:
    r"""sin 2φ* of the Z decay as an expression of the observables language (no boosts needed).

    φ* is the azimuth of the lepton a about the Z axis in the Z rest frame, measured from the production
    plane (the W H frame of :mod:`.amplitude`). sin 2φ* is unchanged when the leptons are swapped or the
    quark comes from the other beam (both turn φ* into φ* + π), so it needs neither the lepton charges nor a
    guess of the quark direction, and it carries the a₃–SM interference that survives the Z's nearly
    vector-like lepton couplings (the sin φ* term is suppressed by A_ℓ ≈ 0.15). Covariantly, with k = a + b,
    h the Higgs, r = a − b, q = (1, 0, 0, 1) a beam direction and v⁻ = E − p_z:
    project q and r onto the plane orthogonal to k and P = k + h (Gram–Schmidt with the Minkowski metric):
    q_⊥·r_⊥ = q·r − (q·h̃)(r·h)/h̃², h̃ = h − (k·h/k²)k, and the ε tensor
    ε(a, h, q, b) = h_x(b_y a⁻ − a_y b⁻) + h_y(a_x b⁻ − b_x a⁻) − h⁻(a_x b_y − a_y b_x); then
    sin 2φ* = 4 ε (q_⊥·r_⊥) / (√(−k² h̃²) |q_⊥|² |r_⊥|²). ``m_ll``, ``m_h``, ``m_zh`` name observables defined
    before it (the masses of k, h and k + h), which keeps the expression within the language's size limits.
    """
    am, bm, hm = (f"({v}.E - {v}.pz)" for v in (a, b, h))
    eps = (
        f"({h}.px * ({b}.py * {am} - {a}.py * {bm}) + {h}.py * ({a}.px * {bm} - {b}.px * {am})"
        f" - {hm} * ({a}.px * {b}.py - {a}.py * {b}.px))"
    )
    kk, hh = f"{m_ll}**2", f"{m_h}**2"
    kh = f"(({m_zh}**2 - {kk} - {hh}) / 2)"
    ht2 = f"({hh} - {kh}**2 / {kk})"
    qk = f"({am} + {bm})"
    qht = f"({hm} - {qk} * {kh} / {kk})"
    rh = f"((({a} + {h}).m**2 - ({b} + {h}).m**2) / 2)"
    qr_perp = f"({am} - {bm} - {qht} * {rh} / {ht2})"
    q2 = f"({qht}**2 / {ht2} + {qk}**2 / {kk})"
    r2 = f"({rh}**2 / {ht2} + {kk})"
    return f"4 * {eps} * {qr_perp} / (sqrt(-{kk} * {ht2}) * {q2} * {r2})"


#: the Z and H candidates at detector level: the two leading leptons, the two leading jets
_ZH = "(l[0] + l[1] + j[0] + j[1])"
DEFAULTS = ProcessDefaults(
    observables={
        "pt_l1": "l[0].pt",
        "eta_l1": "l[0].eta",
        "pt_l2": "l[1].pt",
        "eta_l2": "l[1].eta",
        "m_ll": "(l[0] + l[1]).m",
        "pt_ll": "(l[0] + l[1]).pt",
        "y_ll": "(l[0] + l[1]).rapidity",
        "pt_h": "(j[0] + j[1]).pt",
        "eta_h": "(j[0] + j[1]).eta",
        "m_h": "(j[0] + j[1]).m",
        "m_zh": f"{_ZH}.m",
        "y_zh": f"{_ZH}.rapidity",
        "cos_theta_cs": "where(l[0].charge < 0, cos_theta_star_cs(l[0], l[1]), cos_theta_star_cs(l[1], l[0]))",
        "sin_2phi_star": sin_2phi_star_expression(),
        "sin_dphi_ll": f"where({_ZH}.pz < 0, -1, 1)"
        " * where(l[0].charge < 0, sin(l[1].phi - l[0].phi), sin(l[0].phi - l[1].phi))",
    },
    cuts=(
        "n(l) >= 2",
        "l[0].charge * l[1].charge < 0",
        "l[0].pt > 25",
        "l[1].pt > 15",
        "(l[0] + l[1]).m > 75",
        "(l[0] + l[1]).m < 105",
        "n(j) >= 2",
        "(j[0] + j[1]).m > 60",
        "(j[0] + j[1]).m < 180",
    ),
    histogram_observables=("pt_ll", "m_zh", "pt_h", "cos_theta_cs", "sin_2phi_star", "sin_dphi_ll"),
    plot_observables=("pt_ll", "m_zh", "sin_2phi_star", "cos_theta_cs"),
    labels={
        "pt_ll": r"$p_T^{\ell\ell}$",
        "m_ll": r"$m_{\ell\ell}$",
        "m_zh": r"$m_{ZH}$",
        "pt_h": r"$p_T^{H}$",
        "cos_theta_cs": r"$\cos\theta^*_{\mathrm{CS}}(\ell^-)$",
        "sin_2phi_star": r"$\sin 2\phi^*$",
        "sin_dphi_ll": r"$\mathrm{sign}(p_z^{ZH})\,\sin(\phi_{\ell^+} - \phi_{\ell^-})$",
        "gc": r"$g_c$ ($q\bar q Z H$ contact)",
        "a2": r"$a_2$ (CP-even $HZZ$)",
        "a3": r"$a_3$ (CP-odd $HZZ$)",
    },
    units={"gc": None, "a2": None, "a3": None, "sin_2phi_star": None, "sin_dphi_ll": None, "cos_theta_cs": None},
    shower={"mpi": False, "hadronisation": True},
    truth_note="the parton flavours and which beam carried the quark",
)


@register_process
class ZHProcess(EmbeddedProcess):
    """p p → Z H → ℓ⁻ℓ⁺ H with anomalous HZZ couplings (a₂, a₃) and a q q̄ Z H contact term g_c.

    Extra args:
        z_mode: ``"offshell"`` (Breit–Wigner m_ℓℓ inside ``mll``) or ``"nwa"`` (Z on shell; Γ_Z kept
            in the |D_Z|² normalisation, so σ(NWA) = σ(ZH) × Γ(Z→ℓℓ)/Γ_Z).
        mll: (min, max) window of m_ℓℓ in GeV (off shell).
        max_sqrt_shat: upper cut on √ŝ in GeV (None: none).
        contact: quark chiralities the contact term acts on, ``"left"`` or ``"universal"``.
        lepton: 11 or 13 (|PDG id| of the charged leptons).
    """

    name = "zh"
    description = "p p -> Z H -> l- l+ H with anomalous HZZ couplings a2, a3 and a q qbar Z H contact term gc"
    parameter_names = ZH_PARAMETERS
    options_schema: ClassVar[dict[str, Any]] = {
        "z_mode": {"enum": ["offshell", "nwa"]},
        "mll_gev": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "max_sqrt_shat_gev": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "contact": {"enum": list(CONTACT_MODES)},
    }
    defaults = DEFAULTS
    dim = 7
    n_channels = 4
    observable_names = OBSERVED_NAMES + (
        "m_ll",
        "pt_ll",
        "y_ll",
        "pt_lm",
        "eta_lm",
        "pt_lp",
        "eta_lp",
        "pt_h",
        "eta_h",
        "m_zh",
        "y_zh",
        "cos_Theta",
        "cos_theta_star",
        "sin_phi_star",
        "cos_phi_star",
        "sin_2phi_star",
        "sin_dphi_ll",
    )
    observed_names = OBSERVED_NAMES

    def __init__(
        self,
        parameters: Sequence[str],
        components: ArrayLike,
        pdf: PDFGrid,
        *,
        z_mode: str = "offshell",
        mll: tuple[float, float] = (75.0, 105.0),
        max_sqrt_shat: float | None = None,
        contact: str = "left",
        lepton: int = 13,
        **common: Any,
    ):
        super().__init__(parameters, components, pdf, **common)
        if z_mode not in ("offshell", "nwa"):
            raise ValueError(f"z_mode must be 'offshell' or 'nwa', got {z_mode!r}")
        self.me = ZHME(self.parameters, components=self.components, ew=self.ew, contact=contact)
        self.z_mode = z_mode
        self.contact = contact
        self.lepton = int(lepton)
        ew = self.ew
        self.mll = (ew.mz, ew.mz) if z_mode == "nwa" else (float(mll[0]), float(mll[1]))
        top = self.sqrt_s if max_sqrt_shat is None else float(max_sqrt_shat)
        self.sqrt_shat_max = min(top, self.sqrt_s)
        self.shat_min = (self.mll[0] + ew.mh) ** 2
        self._flavours = (
            [q for q in _DOWN if q <= self.n_flavours],
            [q for q in _UP if q <= self.n_flavours],
        )

    # options -----------------------------------------------------------------------------
    @classmethod
    def options_from_card(
        cls, section: Mapping[str, Any], *, sqrt_s: float, ew: EWInputs, source: str | None = None
    ) -> dict[str, Any]:
        """The ZH options of a card's validated ``process:`` section.

        Raises:
            ConfigError: the m_ℓℓ window or √ŝ cut leave no phase space.
        """
        z_mode = section.get("z_mode", "offshell")
        lo, hi = section.get("mll_gev", (75.0, 105.0))
        top = section.get("max_sqrt_shat_gev")
        top_v = sqrt_s if top is None else min(float(top), sqrt_s)
        if z_mode == "offshell" and not 0 < lo < hi:
            raise ConfigError(
                f"the cuts leave no phase space: mll_gev = [{lo}, {hi}] (need 0 < min < max)",
                path="process.mll_gev",
                source=source,
            )
        low = (ew.mz if z_mode == "nwa" else float(lo)) + ew.mh
        if low >= top_v:
            raise ConfigError(
                f"the cuts leave no phase space: the Z H threshold {low:.1f} GeV is above "
                f"sqrt(shat)_max = {top_v:.1f} GeV",
                path="process",
                source=source,
            )
        return {
            "z_mode": z_mode,
            "mll": (float(lo), float(hi)) if z_mode == "offshell" else (ew.mz, ew.mz),
            "max_sqrt_shat": None if top is None else float(top),
            "contact": section.get("contact", "left"),
        }

    # luminosities ------------------------------------------------------------------------
    def _lumis(self, x1: Array, x2: Array, mu2: float | Array) -> list[Array]:
        """Per channel k, the per-flavour luminosities F_q(x₁)F_q̄(x₂) (orientation 0) or swapped, (N, n_k)."""
        out = []
        for t in (0, 1):
            ids = self._flavours[t]
            f1 = self.pdf.xfx(ids + [-q for q in ids], x1, mu2)
            f2 = self.pdf.xfx(ids + [-q for q in ids], x2, mu2)
            n = len(ids)
            out.append(f1[:, :n] * f2[:, n:])
            out.append(f1[:, n:] * f2[:, :n])
        return out

    def _channel_lumis(self, x1: Array, x2: Array, mu2: float | Array) -> Array:
        return np.stack([lum.sum(axis=1) for lum in self._lumis(x1, x2, mu2)], axis=1)

    # generation --------------------------------------------------------------------------
    def _mll2_range(self, shat: Array) -> tuple[Array, Array]:
        lo = np.full_like(shat, self.mll[0] ** 2)
        hi = np.minimum(self.mll[1] ** 2, (np.sqrt(shat) - self.ew.mh) ** 2)
        return lo, hi

    def evaluate(self, u: Array) -> Batch:
        ew = self.ew
        shat, js = ps.power_map(u[:, 0], self.shat_min, max(self.sqrt_shat_max**2, self.shat_min * 1.0001), 1.0)
        tau = shat / self.s
        ymax = -0.5 * np.log(tau)
        y = ymax * (2.0 * u[:, 1] - 1.0)
        if self.z_mode == "nwa":
            m2 = np.full_like(shat, ew.mz**2)
            mfac: float | Array = ew.mz * ew.gz / 2.0  # ∫dm²/(2π)|D_Z|⁻² × |D_Z(m_Z²)|² = m_ZΓ_Z/2
            ok = shat >= self.shat_min
        else:
            lo, hi = self._mll2_range(shat)
            ok = hi > lo
            m2, jm2 = ps.breit_wigner_map(u[:, 4], lo, np.where(ok, hi, lo + 1.0), ew.mz, ew.gz)
            mfac = jm2 / (2.0 * math.pi)
        ok &= shat <= self.sqrt_shat_max**2
        kin = {
            "shat": shat,
            "y": y,
            "cT": 2.0 * u[:, 2] - 1.0,
            "phi": 2.0 * math.pi * u[:, 3],
            "m2": m2,
            "ct": 2.0 * u[:, 5] - 1.0,
            "phs": 2.0 * math.pi * u[:, 6],
            "x1": np.sqrt(tau) * np.exp(y),
            "x2": np.sqrt(tau) * np.exp(-y),
        }
        rs = np.sqrt(shat)
        k = ps.two_body_momentum(rs, np.sqrt(m2), ew.mh)
        lum = self._channel_lumis(kin["x1"], kin["x2"], self._mu2(shat))
        # dσ/du = Σ FF/τ · |M|²/(2ŝ) · dΦ₂(ŝ) · dm²/(2π) · dΦ₂(m_ℓℓ), with all Jacobians
        phase = (k / (16.0 * math.pi**2 * rs)) * (4.0 * math.pi) * (1.0 / (32.0 * math.pi**2)) * (4.0 * math.pi)
        jac = np.where(ok, (js / self.s) * (2.0 * ymax) / tau / (2.0 * shat) * phase * mfac * GEV2_TO_PB, 0.0)
        comps = np.zeros((u.shape[0], self.n_channels, self.n_components))
        for t, quark in enumerate(_QUARK):
            me = self.me.me2_components(shat, kin["cT"], m2, kin["ct"], kin["phs"], quark=quark)
            for o in (0, 1):
                comps[:, 2 * t + o] = me * (lum[:, 2 * t + o] * jac)[:, None]
        prop = self._proposal(
            comps.reshape(-1, self.n_components), np.repeat(shat, self.n_channels), self.shat_min
        ).reshape(-1, self.n_channels)
        return Batch(u, comps, prop, kin)

    def momenta_quark_frame(
        self, shat: Array, cT: Array, phi: Array, m2: Array, ct: Array, phs: Array
    ) -> tuple[Array, Array, Array, Array]:
        """(p_ℓ⁻, p_ℓ⁺, p_H, p_Z) in the partonic CM with the quark along +z."""
        return vh_momenta(shat, cT, phi, m2, ct, phs, self.ew.mh)

    def _pick_flavours(
        self, kn: dict[str, Array], channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(id1, id2) of the beams: a flavour of the channel's quark type with probability ∝ its luminosity."""
        n = channel.size
        per = self._lumis(kn["x1"], kn["x2"], self._mu2(kn["shat"]))
        qtype = channel // 2
        quark = np.zeros(n, np.int64)
        for k, lum in enumerate(per):
            sel = np.flatnonzero(channel == k)
            if sel.size == 0:
                continue
            cum = np.cumsum(lum[sel], axis=1)
            r = rng.random(sel.size) * cum[:, -1]
            j = np.minimum((cum < r[:, None]).sum(axis=1), cum.shape[1] - 1)
            quark[sel] = np.asarray(self._flavours[k // 2])[j]
        del qtype
        orient = channel % 2
        return np.where(orient == 0, quark, -quark), np.where(orient == 0, -quark, quark)

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:
        kn = batch.kin
        n = channel.size
        lm, lp, ph, pz = self.momenta_quark_frame(kn["shat"], kn["cT"], kn["phi"], kn["m2"], kn["ct"], kn["phs"])
        to_lab((lm, lp, ph, pz), channel % 2 == 1, kn["y"])
        id1, id2 = self._pick_flavours(kn, channel, rng)
        pdg = np.stack(
            [id1, id2, np.full(n, 23), np.full(n, 25), np.full(n, self.lepton), np.full(n, -self.lepton)], axis=1
        ).astype(np.int64)
        rec = vh_record(kn, (pz, ph, lm, lp), pdg, sqrt_s=self.sqrt_s, mh=self.ew.mh, mu2=self._mu2(kn["shat"]))
        obs = parton_observables(lm, lp, ph)
        return rec, obs, obs[:, :7].copy()

    # truth -------------------------------------------------------------------------------
    def joint_density_components(
        self, p_lminus: Array, p_lplus: Array, pz_h: Array, *, channel: int | None = None
    ) -> Array:
        """dσ_c/(d³p_ℓ⁻ d³p_ℓ⁺ dp_zH) summed over flavours (and channels), (..., C) [pb GeV⁻⁷].

        Args:
            p_lminus: lab three-momentum (..., 3) of the ℓ⁻.
            p_lplus: lab three-momentum (..., 3) of the ℓ⁺.
            pz_h: the Higgs p_z (...); its p_T balances the leptons'.
            channel: only this latent channel k = 2·(quark type) + orientation; default: their sum.
        """
        ew = self.ew
        pth = -(p_lminus[..., :2] + p_lplus[..., :2])
        em = np.linalg.norm(p_lminus, axis=-1)
        ep = np.linalg.norm(p_lplus, axis=-1)
        eh = np.sqrt(np.sum(pth**2, axis=-1) + pz_h**2 + ew.mh**2)
        etot = em + ep + eh
        pztot = p_lminus[..., 2] + p_lplus[..., 2] + pz_h
        x1 = (etot + pztot) / self.sqrt_s
        x2 = (etot - pztot) / self.sqrt_s
        P_m = np.concatenate([em[..., None], p_lminus], axis=-1)
        P_p = np.concatenate([ep[..., None], p_lplus], axis=-1)
        shat = x1 * x2 * self.s
        m2 = ps.minkowski_dot(P_m + P_p, P_m + P_p)
        ok = (x1 < 1) & (x2 < 1) & (shat >= self.shat_min) & (shat <= self.sqrt_shat_max**2)
        mz2, mg = ew.mz**2, ew.mz * ew.gz
        if self.z_mode == "nwa":
            ok &= np.abs(m2 - mz2) <= 1e-6 * mz2
            # |D_Z|⁻² → π/(m_ZΓ_Z) δ(m² − m_Z²)
            zfac = ((m2 - mz2) ** 2 + mg * mg) * math.pi / mg
        else:
            ok &= (m2 >= self.mll[0] ** 2) & (m2 <= self.mll[1] ** 2)
            zfac = np.ones_like(m2)
        x1s = np.where(ok, x1, 0.5)
        x2s = np.where(ok, x2, 0.5)
        shape = x1.shape
        per = self._lumis(x1s.reshape(-1), x2s.reshape(-1), self._mu2(shat.reshape(-1)))
        half = 0.5 * self.sqrt_s
        zero = np.zeros(shape)
        b1 = np.stack([x1s * half, zero, zero, x1s * half], axis=-1)
        b2 = np.stack([x2s * half, zero, zero, -x2s * half], axis=-1)
        const = (2 * math.pi) ** 4 / ((2 * math.pi) ** 9 * 8 * em * ep * eh) * (2.0 / self.s)
        fac = np.where(ok, const / (x1s * x2s) / (2.0 * shat) * zfac * GEV2_TO_PB, 0.0)
        out = np.zeros(shape + (self.n_components,))
        for o, (pq, pqb) in enumerate(((b1, b2), (b2, b1))):
            for t, quark in enumerate(_QUARK):
                if channel is not None and channel != 2 * t + o:
                    continue
                me = self.me.me2_components_from_momenta(pq, pqb, P_m, P_p, quark=quark)
                lum = per[2 * t + o].sum(axis=1).reshape(shape)
                out += me * (lum * fac)[..., None]
        return np.where(ok[..., None], out, 0.0)

    def truth_components(self, x: ArrayLike) -> Array:
        """m̄_c(x) = dσ_c/(d³p_ℓ⁻ d³p_ℓ⁺ dp_zH) for x = (p_ℓ⁻, p_ℓ⁺, p_zH), (N, C) [pb GeV⁻⁷]:
        a sum over the latent quark flavour and beam orientation."""
        xa = np.atleast_2d(np.asarray(x, float))
        return self.joint_density_components(xa[:, 0:3], xa[:, 3:6], xa[:, 6])


def _rapidity(p: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((p[..., 0] + p[..., 3]) / (p[..., 0] - p[..., 3]))


def parton_observables(lm: Array, lp: Array, ph: Array) -> Array:
    """The parton-level observables of :attr:`ZHProcess.observable_names` from lab four-momenta (N, 4).

    The angles use the quark direction an analysis would guess (the sign of the Z H system's p_z),
    so they are functions of the observed x only. ``sin_dphi_ll`` = sin(φ_ℓ⁺ − φ_ℓ⁻) × that sign is
    the lab-frame triple product ẑ·(p_ℓ⁻ × p_ℓ⁺)/(p_Tℓ⁻ p_Tℓ⁺): CP odd, ∝ sin Θ sin θ* sin φ*.
    """
    z = lm + lp
    tot = z + ph
    sign = np.where(tot[:, 3] < 0, -1.0, 1.0)
    cT, ct, phs = _angles_in_cm(lm, lp, tot, sign)
    m2 = ps.minkowski_dot(z, z)
    ptm, ptp = np.hypot(lm[:, 1], lm[:, 2]), np.hypot(lp[:, 1], lp[:, 2])
    cross = lm[:, 1] * lp[:, 2] - lm[:, 2] * lp[:, 1]
    m_zh2 = ps.minkowski_dot(tot, tot)
    return np.stack(
        [
            lm[:, 1],
            lm[:, 2],
            lm[:, 3],
            lp[:, 1],
            lp[:, 2],
            lp[:, 3],
            ph[:, 3],
            np.sqrt(np.maximum(m2, 0.0)),
            np.hypot(z[:, 1], z[:, 2]),
            _rapidity(z),
            ptm,
            eta(lm),
            ptp,
            eta(lp),
            np.hypot(ph[:, 1], ph[:, 2]),
            eta(ph),
            np.sqrt(np.maximum(m_zh2, 0.0)),
            _rapidity(tot),
            cT,
            ct,
            np.sin(phs),
            np.cos(phs),
            np.sin(2 * phs),
            sign * cross / np.where(ptm * ptp > 0, ptm * ptp, 1.0),
        ],
        axis=1,
    )


def _angles_in_cm(lm: Array, lp: Array, tot: Array, sign: Array) -> tuple[Array, Array, Array]:
    """(cos Θ, cos θ*, φ*) with the quark along ``sign`` × ẑ, in the frame where ``tot`` is at rest."""
    beta = -tot[:, 1:] / tot[:, :1]
    lm_cm = ps.boost(lm, beta)
    lp_cm = ps.boost(lp, beta)
    rs = np.sqrt(np.maximum(ps.minkowski_dot(tot, tot), 0.0))
    zero = np.zeros_like(rs)
    pq = np.stack([rs / 2, zero, zero, sign * rs / 2], axis=1)
    pqb = np.stack([rs / 2, zero, zero, -sign * rs / 2], axis=1)
    _, cT, _, ct, phs = zh_angles(pq, pqb, lm_cm, lp_cm)
    return cT, ct, phs
