r"""W±H p p → W±H → ℓ±ν H (PROCESSES.md §2(b)): the embedded process ``wh``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError
from ..physics import phasespace as ps
from ..physics import truth as tr
from ..physics.ew import GEV2_TO_PB, EWInputs
from ..physics.pdf import PDFGrid
from ..physics.wh import WH_PARAMETERS, WHME
from ._vh import to_lab, vh_momenta, vh_record
from .base import Batch, EmbeddedProcess, EventRecord, ProcessDefaults, eta, register_process

__all__ = ["WHProcess"]

Array = NDArray[np.float64]


@register_process
class WHProcess(EmbeddedProcess):
    """p p → W±H → ℓ±ν H with full W-decay spin correlations (PROCESSES.md §2(b)).

    Generation variables u = (ŝ, y, cos Θ, φ, m_ℓν², cos θ*, φ*); channels k = 2·(charge index) +
    orientation. ``w_mode="offshell"`` samples m_ℓν² with a Breit–Wigner (tan) map inside
    ``mlnu``; ``"nwa"`` puts the W exactly on shell (narrow-width limit, Γ_W kept in |D_W|²
    normalisation so that σ(NWA) = σ(WH) × Γ(W→ℓν)/Γ_W). The Higgs is left undecayed.
    The observed x is (charge, p_ℓ (3), p_H (3)) in the lab; the truth density is per
    d³p_ℓ d³p_H (GeV⁻⁶ × pb), with the neutrino p_z integrated.

    Extra args:
        charges: subset of (+1, −1).
        lepton: 11 or 13 (the charged lepton's |PDG id|).
        w_mode: "offshell" or "nwa".
        mlnu: (min, max) window of m_ℓν in GeV (off shell).
        max_sqrt_shat: upper cut on √ŝ in GeV (None: none).
        n_quad: Gauss–Legendre points per neutrino-p_z branch in the truth.
    """

    name = "wh"
    description = "p p -> W+- H -> l nu H with a q qbar' W H contact term gc and anomalous HWW couplings a2, a3"
    parameter_names = WH_PARAMETERS
    options_schema: ClassVar[dict[str, Any]] = {
        "charges": {"type": "array", "items": {"enum": [1, -1]}, "minItems": 1, "maxItems": 2, "uniqueItems": True},
        "w_mode": {"enum": ["offshell", "nwa"]},
        "mlnu_gev": {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2},
        "max_sqrt_shat_gev": {"type": ["number", "null"], "exclusiveMinimum": 0},
    }
    defaults = ProcessDefaults(
        observables={
            "pt_l": "l[0].pt",
            "eta_l": "l[0].eta",
            "phi_l": "l[0].phi",
            "charge_l": "l[0].charge",
            "et_miss": "met.pt",
            "phi_met": "met.phi",
            "pt_h": "(j[0] + j[1]).pt",
            "eta_h": "(j[0] + j[1]).eta",
            "phi_h": "(j[0] + j[1]).phi",
            "m_h": "(j[0] + j[1]).m",
            "pt_w": "sqrt((l[0].px + met.px)**2 + (l[0].py + met.py)**2)",
            "mt_w": "mt(l[0], met)",
            "mt_wh": "mt_wh(l[0], met, j[0] + j[1])",
            "cos_Theta": "wh_cos_Theta(l[0], met, j[0] + j[1])",
            "cos_theta_star": "wh_cos_theta_star(l[0], met, j[0] + j[1])",
            "phi_star": "wh_phi_star(l[0], met, j[0] + j[1])",
        },
        cuts=("n(l) >= 1", "n(j) >= 2", "l[0].pt > 25", "(j[0] + j[1]).m > 60", "(j[0] + j[1]).m < 180"),
        # phi_star is CP-odd (sin phi* carries the a3 interference): without it the histogram is blind to a3
        histogram_observables=("pt_h", "pt_w", "mt_wh", "pt_l", "cos_Theta", "cos_theta_star", "phi_star"),
        plot_observables=("pt_h", "mt_wh", "phi_star", "cos_Theta"),
        labels={
            "pt_h": r"$p_T^{H}$",
            "pt_w": r"$p_T^{W}$",
            "mt_wh": r"$m_T^{WH}$",
            "pt_l": r"$p_T^{\ell}$",
            "cos_Theta": r"$\cos\Theta$",
            "cos_theta_star": r"$\cos\theta^*$",
            "phi_star": r"$\phi^*$",
            "gc": r"$g_c$ ($q\bar q' W H$ contact)",
            "a2": r"$a_2$ (CP-even $HWW$)",
            "a3": r"$a_3$ (CP-odd $HWW$)",
        },
        units={"gc": None, "a2": None, "a3": None},
        shower={"mpi": False, "hadronisation": True},
        truth_note="the neutrino p_z and the parton flavours",
    )
    dim = 7
    observable_names = (
        "charge",
        "l_px",
        "l_py",
        "l_pz",
        "h_px",
        "h_py",
        "h_pz",
        "pt_l",
        "eta_l",
        "pt_h",
        "eta_h",
        "met",
        "mt_w",
        "mt_wh",
        "m_wh",
        "y_wh",
        "cos_Theta",
        "cos_theta_star",
        "sin_phi_star",
        "cos_phi_star",
    )
    observed_names = ("charge", "l_px", "l_py", "l_pz", "h_px", "h_py", "h_pz")

    def __init__(
        self,
        parameters: Sequence[str],
        components: ArrayLike,
        pdf: PDFGrid,
        *,
        charges: Sequence[int] = (1, -1),
        lepton: int = 13,
        w_mode: str = "offshell",
        mlnu: tuple[float, float | None] = (10.0, None),
        max_sqrt_shat: float | None = None,
        n_quad: int = 64,
        **kwargs: object,
    ):
        super().__init__(parameters, components, pdf, **kwargs)  # type: ignore[arg-type]
        self.me = WHME(self.parameters, components=self.components, ew=self.ew)
        self.charges = tuple(int(q) for q in charges)
        self.n_channels = 2 * len(self.charges)
        self.lepton = int(lepton)
        if w_mode not in ("offshell", "nwa"):
            raise ValueError(f"w_mode must be 'offshell' or 'nwa', got {w_mode!r}")
        self.w_mode = w_mode
        mh = self.ew.mh
        self.mlnu_min = float(mlnu[0]) if w_mode == "offshell" else self.ew.mw
        top = self.sqrt_s if max_sqrt_shat is None else float(max_sqrt_shat)
        self.sqrt_shat_max = min(top, self.sqrt_s)
        mx = mlnu[1] if mlnu[1] is not None else self.sqrt_shat_max - mh
        self.mlnu_max = float(mx) if w_mode == "offshell" else self.ew.mw
        self.shat_min = (self.mlnu_min + mh) ** 2
        self.n_quad = int(n_quad)
        ckm = self.ew.ckm_array
        self._ups = [q for q in (2, 4) if q <= self.n_flavours]
        self._downs = [q for q in (1, 3, 5) if q <= self.n_flavours]
        self._pairs = [(u_, d_, ckm[u_ // 2 - 1, d_ // 2] ** 2) for u_ in self._ups for d_ in self._downs]

    @classmethod
    def options_from_card(
        cls, section: Mapping[str, Any], *, sqrt_s: float, ew: EWInputs, source: str | None = None
    ) -> dict[str, Any]:
        w_mode = section.get("w_mode", "offshell")
        mlo, mhi = section.get("mlnu_gev", [10.0, None])
        mlo = 0.0 if mlo is None else float(mlo)
        top = section.get("max_sqrt_shat_gev")
        top_v = sqrt_s if top is None else min(float(top), sqrt_s)
        low = (ew.mw if w_mode == "nwa" else mlo) + ew.mh
        if w_mode == "offshell" and (mlo <= 0 or (mhi is not None and mhi <= mlo)):
            raise ConfigError(
                f"the cuts leave no phase space: mlnu_gev = [{mlo}, {mhi}] (need 0 < min < max)",
                path="process.mlnu_gev",
                source=source,
            )
        if low >= top_v:
            raise ConfigError(
                f"the cuts leave no phase space: the W H threshold {low:.1f} GeV is above "
                f"sqrt(shat)_max = {top_v:.1f} GeV",
                path="process",
                source=source,
            )
        return {
            "charges": tuple(section.get("charges", [1, -1])),
            "w_mode": w_mode,
            "mlnu": (mlo, None if mhi is None else float(mhi)),
            "max_sqrt_shat": None if top is None else float(top),
        }

    def _lumis(self, x1: Array, x2: Array, mu2: float | Array) -> tuple[Array, Array]:
        """Channel luminosities (N, K) with |V|², and per-pair luminosities (N, K, n_pairs)."""
        ids = [1, 2, 3, 4, 5, -1, -2, -3, -4, -5][:10]
        ids = [i for i in ids if abs(i) <= self.n_flavours]
        f1 = self.pdf.xfx(ids, x1, mu2)
        f2 = self.pdf.xfx(ids, x2, mu2)
        col = {pid: j for j, pid in enumerate(ids)}
        per = np.zeros((x1.size, self.n_channels, len(self._pairs)))
        for ci, q in enumerate(self.charges):
            for p, (up, dn, v2) in enumerate(self._pairs):
                quark, anti = (up, -dn) if q > 0 else (dn, -up)
                per[:, 2 * ci, p] = v2 * f1[:, col[quark]] * f2[:, col[anti]]
                per[:, 2 * ci + 1, p] = v2 * f1[:, col[anti]] * f2[:, col[quark]]
        return per.sum(axis=2), per

    def _mlnu2_range(self, shat: Array) -> tuple[Array, Array]:
        lo = np.full_like(shat, self.mlnu_min**2)
        hi = np.minimum(self.mlnu_max**2, (np.sqrt(shat) - self.ew.mh) ** 2)
        return lo, hi

    def evaluate(self, u: Array) -> Batch:
        ew = self.ew
        smax = self.sqrt_shat_max**2
        shat, js = ps.power_map(u[:, 0], self.shat_min, smax, 1.0)
        tau = shat / self.s
        ymax = -0.5 * np.log(tau)
        y = ymax * (2.0 * u[:, 1] - 1.0)
        cT = 2.0 * u[:, 2] - 1.0
        phi = 2.0 * math.pi * u[:, 3]
        if self.w_mode == "nwa":
            m2 = np.full_like(shat, ew.mw**2)
            mfac: float | Array = (
                ew.mw * ew.gw / 2.0
            )  # ∫ dm²/(2π) |D_W|^-2  →  δ(m² − m_W²) π/(m_WΓ_W)/(2π) |D_W(m_W²)|²...
            ok = shat >= (ew.mw + ew.mh) ** 2
        else:
            lo, hi = self._mlnu2_range(shat)
            ok = hi > lo
            m2, jm2 = ps.breit_wigner_map(u[:, 4], lo, np.where(ok, hi, lo + 1.0), ew.mw, ew.gw)
            mfac = jm2 / (2.0 * math.pi)
        ct = 2.0 * u[:, 5] - 1.0
        phs = 2.0 * math.pi * u[:, 6]
        rs = np.sqrt(shat)
        k = ps.two_body_momentum(rs, np.sqrt(m2), ew.mh)
        x1 = np.sqrt(tau) * np.exp(y)
        x2 = np.sqrt(tau) * np.exp(-y)
        lum, _ = self._lumis(x1, x2, self._mu2(shat))
        # dσ/du = Σ FF/τ · |M|²/(2ŝ) · dΦ2(ŝ) · dm²/(2π) · dΦ2(m*), with all Jacobians
        phase = (k / (16.0 * math.pi**2 * rs)) * (4.0 * math.pi) * (1.0 / (32.0 * math.pi**2)) * (4.0 * math.pi)
        jac = (js / self.s) * (2.0 * ymax) / tau / (2.0 * shat) * phase * mfac * GEV2_TO_PB
        jac = np.where(ok, jac, 0.0)
        comps = np.zeros((u.shape[0], self.n_channels, self.n_components))
        for ci, q in enumerate(self.charges):
            me = self.me.me2_components(shat, cT, m2, ct, phs, charge=q)
            comps[:, 2 * ci] = me * (lum[:, 2 * ci] * jac)[:, None]
            comps[:, 2 * ci + 1] = me * (lum[:, 2 * ci + 1] * jac)[:, None]
        prop = self._proposal(
            comps.reshape(-1, self.n_components), np.repeat(shat, self.n_channels), self.shat_min
        ).reshape(-1, self.n_channels)
        return Batch(
            u,
            comps,
            prop,
            {"shat": shat, "y": y, "cT": cT, "phi": phi, "m2": m2, "ct": ct, "phs": phs, "x1": x1, "x2": x2},
        )

    def momenta_quark_frame(
        self, shat: Array, cT: Array, phi: Array, m2: Array, ct: Array, phs: Array
    ) -> tuple[Array, Array, Array, Array]:
        """(p_ℓ, p_ν, p_H, p_W) in the partonic CM with the quark along +z."""
        return vh_momenta(shat, cT, phi, m2, ct, phs, self.ew.mh)

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:
        kn = batch.kin
        n = channel.size
        pl, pn, ph, pw = self.momenta_quark_frame(kn["shat"], kn["cT"], kn["phi"], kn["m2"], kn["ct"], kn["phs"])
        orient = channel % 2
        charge = np.asarray(self.charges)[channel // 2]
        to_lab((pl, pn, ph, pw), orient == 1, kn["y"])
        x1, x2 = kn["x1"], kn["x2"]
        _, per = self._lumis(x1, x2, self._mu2(kn["shat"]))
        lum = per[np.arange(n), channel]
        cum = np.cumsum(lum, axis=1)
        r = rng.random(n) * cum[:, -1]
        jsel = np.minimum((cum < r[:, None]).sum(axis=1), len(self._pairs) - 1)
        ups = np.array([p[0] for p in self._pairs])[jsel]
        dns = np.array([p[1] for p in self._pairs])[jsel]
        quark = np.where(charge > 0, ups, dns)
        anti = np.where(charge > 0, -dns, -ups)
        id1 = np.where(orient == 0, quark, anti)
        id2 = np.where(orient == 0, anti, quark)
        lep = -charge * self.lepton  # ℓ⁺ = -11/-13
        nu = charge * (self.lepton + 1)  # ν for W+, ν̄ for W−
        pdg = np.stack([id1, id2, 24 * charge, np.full(n, 25), lep, nu], axis=1).astype(np.int64)
        rec = vh_record(kn, (pw, ph, pl, pn), pdg, sqrt_s=self.sqrt_s, mh=self.ew.mh, mu2=self._mu2(kn["shat"]))
        ptl = np.hypot(pl[:, 1], pl[:, 2])
        pth = np.hypot(ph[:, 1], ph[:, 2])
        metx, mety = -(pl[:, 1] + ph[:, 1]), -(pl[:, 2] + ph[:, 2])
        met = np.hypot(metx, mety)
        mt_w = np.sqrt(np.maximum(2 * (ptl * met - pl[:, 1] * metx - pl[:, 2] * mety), 0))
        mt_wh = ptl + met + np.sqrt(self.ew.mh**2 + pth**2)
        angles = _reconstructed_wh_angles(pl, ph, metx, mety, self.ew.mw)
        obs = np.stack(
            [
                charge.astype(float),
                pl[:, 1],
                pl[:, 2],
                pl[:, 3],
                ph[:, 1],
                ph[:, 2],
                ph[:, 3],
                ptl,
                eta(pl),
                pth,
                eta(ph),
                met,
                mt_w,
                mt_wh,
                *angles,
            ],
            axis=1,
        )
        return rec, obs, obs[:, :7].copy()

    def joint_density_components(
        self, charge: int, pl: Array, ph: Array, pzn: Array, *, orientation: int | None = None
    ) -> Array:
        """dσ_c/(d³p_ℓ d³p_H dp_zν) summed over flavours and orientations, (..., C) [pb GeV⁻⁷].

        Args:
            charge: lepton charge (+1/−1).
            pl: lab three-momentum (..., 3) of the charged lepton.
            ph: lab three-momentum (..., 3) of the Higgs.
            pzn: neutrino p_z (...).
            orientation: only the quark from beam 1 (0) or beam 2 (1); default: both.
        """
        ew = self.ew
        ptn = -(pl[..., :2] + ph[..., :2])
        el = np.linalg.norm(pl, axis=-1)
        eh = np.sqrt(np.sum(ph**2, axis=-1) + ew.mh**2)
        en = np.sqrt(np.sum(ptn**2, axis=-1) + pzn**2)
        etot = el + eh + en
        pztot = pl[..., 2] + ph[..., 2] + pzn
        x1 = (etot + pztot) / self.sqrt_s
        x2 = (etot - pztot) / self.sqrt_s
        P_l = np.concatenate([el[..., None], pl], axis=-1)
        P_h = np.concatenate([eh[..., None], ph], axis=-1)
        P_n = np.concatenate([en[..., None], ptn, pzn[..., None]], axis=-1)
        shat = x1 * x2 * self.s
        m2 = ps.minkowski_dot(P_l + P_n, P_l + P_n)
        lo, hi = self._mlnu2_range(shat)
        ok = (x1 < 1) & (x2 < 1) & (shat >= self.shat_min) & (shat <= self.sqrt_shat_max**2)
        if self.w_mode == "offshell":
            ok &= (m2 >= lo) & (m2 <= hi)
        x1s = np.where(ok, x1, 0.5)
        x2s = np.where(ok, x2, 0.5)
        flat = x1s.reshape(-1)
        lum, _ = self._lumis(flat, x2s.reshape(-1), self._mu2(shat.reshape(-1)))
        ci = self.charges.index(charge)
        half = 0.5 * self.sqrt_s
        shape = x1.shape
        one = np.ones(shape)
        zero = np.zeros(shape)
        b1 = np.stack([x1s * half, zero, zero, x1s * half], axis=-1)
        b2 = np.stack([x2s * half, zero, zero, -x2s * half], axis=-1)
        const = (2 * math.pi) ** 4 / ((2 * math.pi) ** 9 * 8 * el * eh * en) * (2.0 / self.s)
        fac = np.where(ok, const / (x1s * x2s) / (2.0 * shat) * GEV2_TO_PB, 0.0) * one
        out = np.zeros(shape + (self.n_components,))
        for o, (pq, pqb) in enumerate(((b1, b2), (b2, b1))):
            if orientation is not None and o != orientation:
                continue
            me = self.me.me2_components_from_momenta(pq, pqb, P_l, P_n, P_h, charge=charge)
            out += me * (lum[:, 2 * ci + o].reshape(shape) * fac)[..., None]
        return np.where(ok[..., None], out, 0.0)

    def truth_components(self, x: ArrayLike) -> Array:
        """m̄_c(x) = dσ_c/(d³p_ℓ d³p_H) with the neutrino p_z integrated, (N, C) [pb GeV⁻⁶].

        ``x`` has columns (charge, p_ℓx, p_ℓy, p_ℓz, p_Hx, p_Hy, p_Hz). Off shell: two branches of
        Gauss–Legendre quadrature in the tan-u Breit–Wigner variable (with a t² substitution that
        removes the 1/√ edge at m_ℓν = m_T); NWA: the two-solution sum.
        """
        xa = np.atleast_2d(np.asarray(x, float))
        return tr.wh_truth(self, xa)


def _reconstructed_wh_angles(pl: Array, ph: Array, metx: Array, mety: Array, mw: float) -> list[Array]:
    """m_WH, y_WH and the W H angles from the *observed* momenta, as an analysis would compute them.

    The neutrino p_z is the smaller-|p_z| solution of m(ℓν) = m_W and the quark direction is guessed
    from the boost of the W H system (:func:`lhcgold.observables.library.wh_angles_reco`). These are
    functions of the observed x only, so the truth likelihood is unchanged; they are the features a
    physicist gives a network (the CP-odd a3 shows up in sin φ*).
    """

    from ..observables.library import neutrino_pz, wh_angles_reco

    lep = SimpleNamespace(px=pl[:, 1], py=pl[:, 2], pz=pl[:, 3], E=pl[:, 0])
    hig = SimpleNamespace(px=ph[:, 1], py=ph[:, 2], pz=ph[:, 3], E=ph[:, 0])
    miss = SimpleNamespace(px=metx, py=mety)
    ang = wh_angles_reco(lep, miss, hig, m_w=mw)
    pzn = neutrino_pz(lep, miss, m_w=mw)
    nu_e = np.sqrt(metx**2 + mety**2 + pzn**2)
    e_tot = pl[:, 0] + ph[:, 0] + nu_e
    pz_tot = pl[:, 3] + ph[:, 3] + pzn
    with np.errstate(divide="ignore", invalid="ignore"):
        y_wh = 0.5 * np.log((e_tot + pz_tot) / (e_tot - pz_tot))
    phi = np.asarray(ang["phi_star"], dtype=float)
    return [
        np.asarray(ang["m_wh"], dtype=float),
        y_wh,
        np.asarray(ang["cos_Theta"], dtype=float),
        np.asarray(ang["cos_theta_star"], dtype=float),
        np.sin(phi),
        np.cos(phi),
    ]
