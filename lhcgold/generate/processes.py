r"""The embedded processes: Drell–Yan and W±H, as objects the generator and the truth share.

A process maps points of the unit hypercube u ∈ [0,1]^d to partonic events and evaluates, for
every *channel* k (quark type or charge × which beam carries the quark), the exact morphing
components of the fully differential cross section, dσ_c/du in pb (PDFs, flux, phase space and
|M̄|² components of :mod:`lhcgold.physics.drell_yan` / :mod:`lhcgold.physics.wh`). The generator
picks one channel per point with probability ∝ a θ-independent, positive proposal; the joint
ratio and score of the chosen channel follow from its components alone
(:mod:`lhcgold.physics.gold`).

The observed-level truth (p(x|θ) summed and integrated over latents) lives in
:mod:`lhcgold.physics.truth`; :meth:`EmbeddedProcess.truth_components` exposes it per process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..physics import phasespace as ps
from ..physics import truth as tr
from ..physics.drell_yan import DrellYanME
from ..physics.ew import GEV2_TO_PB, PYTHIA_EW, EWInputs
from ..physics.pdf import PDFGrid
from ..physics.wh import WHME

__all__ = ["Batch", "DrellYanProcess", "EmbeddedProcess", "EventRecord", "WHProcess"]

Array = NDArray[np.float64]


@dataclass
class Batch:
    """Per-point evaluation: channel components (N, K, C) [pb per unit u], proposal (N, K), kinematics."""

    u: Array
    comps: Array
    proposal: Array
    kin: dict[str, Array] = field(default_factory=dict)


@dataclass
class EventRecord:
    """Parton-level particles of N events with a fixed particle layout (LHE-like)."""

    pdg: NDArray[np.int64]  # (N, n)
    momenta: Array  # (N, n, 4) E, px, py, pz [GeV]
    masses: Array  # (N, n)
    status: NDArray[np.int64]  # (n,)
    mothers: NDArray[np.int64]  # (n, 2), 1-based, 0 = none
    colours: NDArray[np.int64]  # (N, n, 2)
    scale: Array  # (N,)


def _broad_vector(components: NDArray[np.int64], ranges: Array) -> Array:
    """g_c with Σ_c g_c m_c = m_SM + Σ_i r_i² m_{2e_i} >= |M(θ)|²/(1+P) for every |θ_i| <= r_i."""
    g = np.zeros(components.shape[0])
    for c, row in enumerate(components):
        if row.sum() == 0:
            g[c] = 1.0
        elif row.sum() == 2 and np.count_nonzero(row) == 1:
            i = int(np.flatnonzero(row)[0])
            g[c] = ranges[i] ** 2
    return g


class EmbeddedProcess:
    """Common machinery of the embedded processes.

    Args:
        parameters: θ names (card order).
        components: (C, P) morphing exponents (madminer order).
        pdf: the proton PDF grid.
        sqrt_s: collider energy in GeV.
        scale: fixed factorisation scale μ_F in GeV, or ``"dynamic"`` (√ŝ); never θ-dependent.
        ew: electroweak inputs.
        proposal_ranges: |θ_i| half-ranges used by the θ-independent proposal.
        shat_bias: β in the proposal factor (ŝ/ŝ_min)^β (β > 0 biases towards high ŝ).
        n_flavours: number of quark flavours in the proton (4 or 5).
    """

    name = ""
    dim = 0
    n_channels = 0
    observable_names: tuple[str, ...] = ()
    observed_names: tuple[str, ...] = ()

    def __init__(
        self,
        parameters: Sequence[str],
        components: ArrayLike,
        pdf: PDFGrid,
        *,
        sqrt_s: float,
        scale: float | str = 91.188,
        ew: EWInputs = PYTHIA_EW,
        proposal_ranges: ArrayLike | None = None,
        shat_bias: float = 0.0,
        n_flavours: int = 5,
    ):
        self.parameters = tuple(parameters)
        comps = np.asarray(components, dtype=np.int64)
        self.components = (
            comps.reshape(max(comps.shape[0], 1) if comps.ndim == 2 else -1, len(self.parameters))
            if self.parameters
            else np.zeros((1, 0), np.int64)
        )
        self.pdf = pdf
        self.sqrt_s = float(sqrt_s)
        self.s = self.sqrt_s**2
        self.scale = scale
        self.ew = ew
        pr = np.ones(len(self.parameters)) if proposal_ranges is None else np.asarray(proposal_ranges, float)
        self.proposal_vector = _broad_vector(self.components, pr)
        self.shat_bias = float(shat_bias)
        self.n_flavours = int(n_flavours)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def _mu2(self, shat: Array) -> float | Array:
        if isinstance(self.scale, str):
            return np.asarray(shat)
        return float(self.scale) ** 2

    def _proposal(self, comps: Array, shat: Array, shat_min: float) -> Array:
        prop = np.maximum(comps @ self.proposal_vector, 0.0)
        if self.shat_bias:
            prop = prop * (shat / shat_min) ** self.shat_bias
        return prop

    # interface -------------------------------------------------------------------------
    def evaluate(self, u: Array) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:  # pragma: no cover - abstract
        """Particles, observables (N, O) and observed x (N, X) of the selected channels."""
        raise NotImplementedError

    def truth_components(self, x: ArrayLike) -> Array:  # pragma: no cover - abstract
        """m̄_c(x): observed-level differential cross-section components (N, C) [pb per unit x]."""
        raise NotImplementedError

    def xsec_components_with_errors(self, **options: Any) -> tuple[Array, Array]:  # pragma: no cover
        """(σ_c, δσ_c) [pb] (cached for the default options)."""
        raise NotImplementedError

    def xsec_components(self, **options: Any) -> Array:
        """σ_c [pb], (C,) in madminer component order: the normalisation of the truth."""
        return self.xsec_components_with_errors(**options)[0]


# ---------------------------------------------------------------------------------------------
class DrellYanProcess(EmbeddedProcess):
    """p p → γ*/Z/contact → ℓ⁻ℓ⁺ (PROCESSES.md §2(a)).

    Generation variables u = (m² map, y, cos θ*, φ); channels k = 2·(quark type) + orientation
    (orientation 0: the quark comes from beam 1, along +z). The observed x is
    (m_ℓℓ [GeV], y_ℓℓ, cos θ* of ℓ⁻ w.r.t. +z in the dilepton rest frame); the truth density is
    per dm dy dcosθ* (azimuth integrated).

    Extra args:
        mll: (m_min, m_max) window in GeV.
        lepton: 11 or 13.
    """

    name = "drell_yan"
    dim = 4
    n_channels = 4
    observable_names = ("m_ll", "y_ll", "cos_theta_star", "pt_l", "eta_lminus", "eta_lplus", "phi_lminus")
    observed_names = ("m_ll", "y_ll", "cos_theta_star")

    def __init__(
        self,
        parameters: Sequence[str],
        components: ArrayLike,
        pdf: PDFGrid,
        *,
        mll: tuple[float, float] = (60.0, 120.0),
        lepton: int = 13,
        **kwargs: object,
    ):
        super().__init__(parameters, components, pdf, **kwargs)  # type: ignore[arg-type]
        self.me = DrellYanME(self.parameters, components=self.components, ew=self.ew)
        self.mll = (float(mll[0]), float(mll[1]))
        self.lepton = int(lepton)
        m0, m1 = self.mll
        ew = self.ew
        self._use_bw = m0 < ew.mz + 10 * ew.gz and m1 > ew.mz - 10 * ew.gz
        self._down = [q for q in (1, 3, 5) if q <= self.n_flavours]
        self._up = [q for q in (2, 4) if q <= self.n_flavours]
        self._pids = self._down + self._up

    def _map_m2(self, u0: Array) -> tuple[Array, Array]:
        lo, hi = self.mll[0] ** 2, self.mll[1] ** 2
        if self._use_bw:
            return ps.breit_wigner_map(u0, lo, hi, self.ew.mz, self.ew.gz)
        return ps.power_map(u0, lo, hi, 2.0)

    def _lumis(self, x1: Array, x2: Array, mu2: float | Array) -> Array:
        """(N, 4) channel luminosities F F (quark type d/u × orientation)."""
        ids = self._pids + [-q for q in self._pids]
        f1 = self.pdf.xfx(ids, x1, mu2)
        f2 = self.pdf.xfx(ids, x2, mu2)
        n = len(self._pids)
        out = np.zeros((x1.size, 4))
        for j, q in enumerate(self._pids):
            k = 0 if q in self._down else 2
            out[:, k] += f1[:, j] * f2[:, n + j]
            out[:, k + 1] += f1[:, n + j] * f2[:, j]
        return out

    def _channel_me(self, shat: Array, c: Array) -> Array:
        """(N, 4, C): |M̄|² components per channel at lab-frame cos θ* = c."""
        m_d = self.me.me2_components(shat, c, "d")
        m_dr = self.me.me2_components(shat, -c, "d")
        m_u = self.me.me2_components(shat, c, "u")
        m_ur = self.me.me2_components(shat, -c, "u")
        return np.stack([m_d, m_dr, m_u, m_ur], axis=1)

    def density_components(self, m: Array, y: Array, c: Array) -> Array:
        """Channel components of dσ_c/(dm dy dcosθ*) [pb/GeV], shape (N, 4, C); zero outside the cuts."""
        m = np.asarray(m, float)
        y = np.asarray(y, float)
        c = np.asarray(c, float)
        shat = m * m
        tau = shat / self.s
        x1 = np.sqrt(tau) * np.exp(y)
        x2 = np.sqrt(tau) * np.exp(-y)
        ok = (m >= self.mll[0]) & (m <= self.mll[1]) & (x1 < 1) & (x2 < 1) & (np.abs(c) <= 1)
        lum = self._lumis(np.where(ok, x1, 0.5), np.where(ok, x2, 0.5), self._mu2(shat))
        me = self._channel_me(shat, c)
        fac = np.where(ok, 2.0 * m * 2.0 * math.pi / (64.0 * math.pi**2 * shat**2) * GEV2_TO_PB, 0.0)
        return me * (lum * fac[:, None])[:, :, None]

    def evaluate(self, u: Array) -> Batch:
        m2, jm = self._map_m2(u[:, 0])
        tau = m2 / self.s
        ymax = -0.5 * np.log(tau)
        y = ymax * (2.0 * u[:, 1] - 1.0)
        c = 2.0 * u[:, 2] - 1.0
        phi = 2.0 * math.pi * u[:, 3]
        m = np.sqrt(m2)
        dens = self.density_components(m, y, c)  # per dm dy dcos (phi integrated)
        jac = jm / (2.0 * m) * (2.0 * ymax) * 2.0  # du -> dm dy dcos; phi: uniform, 1/(2pi) * 2pi
        comps = dens * jac[:, None, None]
        prop = self._proposal(comps.reshape(-1, self.n_components), np.repeat(m2, 4), self.mll[0] ** 2)
        return Batch(u, comps, prop.reshape(-1, 4), {"m": m, "y": y, "c": c, "phi": phi, "shat": m2})

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:
        kin = batch.kin
        n = channel.size
        m, y, c, phi = kin["m"], kin["y"], kin["c"], kin["phi"]
        shat = m * m
        tau = shat / self.s
        x1 = np.sqrt(tau) * np.exp(y)
        x2 = np.sqrt(tau) * np.exp(-y)
        qtype = channel // 2
        orient = channel % 2
        # flavour within the channel, with probability ∝ its luminosity
        ids = self._pids + [-q for q in self._pids]
        mu2 = self._mu2(shat)
        f1 = self.pdf.xfx(ids, x1, mu2)
        f2 = self.pdf.xfx(ids, x2, mu2)
        npid = len(self._pids)
        lum = np.zeros((n, npid))
        for j, q in enumerate(self._pids):
            mine = qtype == (1 if q in self._up else 0)
            lum[:, j] = np.where(mine, np.where(orient == 0, f1[:, j] * f2[:, npid + j], f1[:, npid + j] * f2[:, j]), 0)
        cum = np.cumsum(lum, axis=1)
        r = rng.random(n) * cum[:, -1]
        jsel = np.minimum((cum < r[:, None]).sum(axis=1), npid - 1)
        q = np.asarray(self._pids)[jsel]
        id1 = np.where(orient == 0, q, -q)
        id2 = -id1
        half = 0.5 * self.sqrt_s
        pmom = np.zeros((n, 4, 4))
        pmom[:, 0] = np.stack([x1 * half, 0 * x1, 0 * x1, x1 * half], axis=1)
        pmom[:, 1] = np.stack([x2 * half, 0 * x2, 0 * x2, -x2 * half], axis=1)
        s_ = np.sqrt(np.maximum(1 - c * c, 0))
        pl = 0.5 * m[:, None] * np.stack([np.ones(n), s_ * np.cos(phi), s_ * np.sin(phi), c], axis=1)
        pa = pl.copy()
        pa[:, 1:] *= -1
        pmom[:, 2] = ps.boost_z(pl, y)
        pmom[:, 3] = ps.boost_z(pa, y)
        pdg = np.stack([id1, id2, np.full(n, self.lepton), np.full(n, -self.lepton)], axis=1).astype(np.int64)
        colours = np.zeros((n, 4, 2), np.int64)
        colours[:, 0, :] = np.where((id1 > 0)[:, None], [501, 0], [0, 501])
        colours[:, 1, :] = np.where((id2 > 0)[:, None], [501, 0], [0, 501])
        rec = EventRecord(
            pdg=pdg,
            momenta=pmom,
            masses=np.zeros((n, 4)),
            status=np.array([-1, -1, 1, 1]),
            mothers=np.array([[0, 0], [0, 0], [1, 2], [1, 2]]),
            colours=colours,
            scale=np.broadcast_to(np.sqrt(mu2), (n,)).astype(float),
        )
        lm, lp = pmom[:, 2], pmom[:, 3]
        pt = np.hypot(lm[:, 1], lm[:, 2])
        obs = np.stack([m, y, c, pt, _eta(lm), _eta(lp), np.arctan2(lm[:, 2], lm[:, 1])], axis=1)
        return rec, obs, obs[:, :3].copy()

    def truth_components(self, x: ArrayLike) -> Array:
        """m̄_c(x) = dσ_c/(dm dy dcosθ*) summed over flavours and orientations, (N, C) [pb/GeV]."""
        xa = np.atleast_2d(np.asarray(x, float))
        return tr.drell_yan_truth(self.density_components, xa)

    def xsec_components_with_errors(self, *, n_m: int = 48, n_y: int = 64, **_: Any) -> tuple[Array, Array]:
        """σ_c [pb] by Gauss–Legendre quadrature over (mapped m², y, cosθ*), and an error estimate.

        The error is the difference to a coarser rule (2/3 of the points); the result is cached.
        """
        cache = self.__dict__.setdefault("_xsec_cache", {})
        if (n_m, n_y) not in cache:
            fine = self._xsec_quadrature(n_m, n_y)
            coarse = self._xsec_quadrature(max(2 * n_m // 3, 4), max(2 * n_y // 3, 4))
            cache[(n_m, n_y)] = (fine, np.abs(fine - coarse))
        sig, err = cache[(n_m, n_y)]
        return sig.copy(), err.copy()

    def _xsec_quadrature(self, n_m: int, n_y: int) -> Array:
        gm, wm = np.polynomial.legendre.leggauss(n_m)
        gy, wy = np.polynomial.legendre.leggauss(n_y)
        gc, wc = np.polynomial.legendre.leggauss(4)
        total = np.zeros(self.n_components)
        # split the mass range into pieces for accuracy
        edges = np.linspace(0.0, 1.0, 7)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            um = a + (b - a) * (gm + 1) / 2
            m2, jm = self._map_m2(um)
            wmm = wm * (b - a) / 2 * jm / (2 * np.sqrt(m2))  # dm
            for j in range(m2.size):
                m = math.sqrt(m2[j])
                ymax = -0.5 * math.log(m2[j] / self.s)
                yy = np.repeat(ymax * gy, 4)
                cc = np.tile(gc, n_y)
                w = np.repeat(wy * ymax, 4) * np.tile(wc, n_y)
                d = self.density_components(np.full(yy.size, m), yy, cc).sum(axis=1)
                total += wmm[j] * (w @ d)
        return total


def _eta(p: Array) -> Array:
    pt = np.hypot(p[..., 1], p[..., 2])
    return np.arcsinh(p[..., 3] / np.where(pt > 0, pt, 1e-300))


# ---------------------------------------------------------------------------------------------
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
        ew = self.ew
        rs = np.sqrt(shat)
        mst = np.sqrt(m2)
        k = ps.two_body_momentum(rs, mst, ew.mh)
        sT = np.sqrt(np.maximum(1 - cT**2, 0))
        zhat = np.stack([sT * np.cos(phi), sT * np.sin(phi), cT], axis=-1)
        ew_ = np.sqrt(k**2 + m2)
        pw = np.concatenate([ew_[:, None], k[:, None] * zhat], axis=1)
        ph = np.concatenate([np.sqrt(k**2 + ew.mh**2)[:, None], -k[:, None] * zhat], axis=1)
        # W rest frame axes: y' ∝ z × W, x' = y' × z'
        yv = np.stack([-zhat[:, 1], zhat[:, 0], np.zeros_like(cT)], axis=-1)
        yn = np.linalg.norm(yv, axis=-1, keepdims=True)
        yv = np.where(yn > 1e-300, yv / np.where(yn > 0, yn, 1), np.array([0.0, 1.0, 0.0]))
        xv = np.cross(yv, zhat)
        st = np.sqrt(np.maximum(1 - ct**2, 0))
        d = (st * np.cos(phs))[:, None] * xv + (st * np.sin(phs))[:, None] * yv + ct[:, None] * zhat
        pl_rest = np.concatenate([(mst / 2)[:, None], (mst / 2)[:, None] * d], axis=1)
        pn_rest = pl_rest.copy()
        pn_rest[:, 1:] *= -1
        beta = pw[:, 1:] / pw[:, :1]
        return ps.boost(pl_rest, beta), ps.boost(pn_rest, beta), ph, pw

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:
        kn = batch.kin
        n = channel.size
        pl, pn, ph, pw = self.momenta_quark_frame(kn["shat"], kn["cT"], kn["phi"], kn["m2"], kn["ct"], kn["phs"])
        orient = channel % 2
        charge = np.asarray(self.charges)[channel // 2]
        flip = orient == 1
        for p in (pl, pn, ph, pw):
            p[flip, 2] *= -1
            p[flip, 3] *= -1
            p[:] = ps.boost_z(p, kn["y"])
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
        half = 0.5 * self.sqrt_s
        mom = np.zeros((n, 6, 4))
        mom[:, 0] = np.stack([x1 * half, 0 * x1, 0 * x1, x1 * half], axis=1)
        mom[:, 1] = np.stack([x2 * half, 0 * x2, 0 * x2, -x2 * half], axis=1)
        mom[:, 2], mom[:, 3], mom[:, 4], mom[:, 5] = pw, ph, pl, pn
        lep = -charge * self.lepton  # ℓ⁺ = -11/-13
        nu = charge * (self.lepton + 1)  # ν for W+, ν̄ for W−
        pdg = np.stack([id1, id2, 24 * charge, np.full(n, 25), lep, nu], axis=1).astype(np.int64)
        colours = np.zeros((n, 6, 2), np.int64)
        colours[:, 0, :] = np.where((id1 > 0)[:, None], [501, 0], [0, 501])
        colours[:, 1, :] = np.where((id2 > 0)[:, None], [501, 0], [0, 501])
        masses = np.zeros((n, 6))
        masses[:, 2] = np.sqrt(kn["m2"])
        masses[:, 3] = self.ew.mh
        mu2 = self._mu2(kn["shat"])
        rec = EventRecord(
            pdg=pdg,
            momenta=mom,
            masses=masses,
            status=np.array([-1, -1, 2, 1, 1, 1]),
            mothers=np.array([[0, 0], [0, 0], [1, 2], [1, 2], [3, 3], [3, 3]]),
            colours=colours,
            scale=np.broadcast_to(np.sqrt(mu2), (n,)).astype(float),
        )
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
                _eta(pl),
                pth,
                _eta(ph),
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

    def xsec_components_with_errors(
        self,
        *,
        n_points: int = 400_000,
        rng: np.random.Generator | int | None = 0,
        n_adapt: int = 5,
        **_: Any,
    ) -> tuple[Array, Array]:
        """(σ_c, δσ_c) [pb] by adaptive Monte Carlo of the channel sum (cached per (n_points, seed))."""
        from .sampling import estimate_xsec

        key = (n_points, rng, n_adapt) if not isinstance(rng, np.random.Generator) else None
        cache = self.__dict__.setdefault("_xsec_cache", {})
        if key is not None and key in cache:
            sig, err = cache[key]
            return sig.copy(), err.copy()
        out = estimate_xsec(self, n_points=n_points, rng=rng, n_adapt=n_adapt)
        if key is not None:
            cache[key] = out
        return out[0].copy(), out[1].copy()


def _reconstructed_wh_angles(pl: Array, ph: Array, metx: Array, mety: Array, mw: float) -> list[Array]:
    """m_WH, y_WH and the W H angles from the *observed* momenta, as an analysis would compute them.

    The neutrino p_z is the smaller-|p_z| solution of m(ℓν) = m_W and the quark direction is guessed
    from the boost of the W H system (:func:`lhcgold.observables.library.wh_angles_reco`). These are
    functions of the observed x only, so the truth likelihood is unchanged; they are the features a
    physicist gives a network (the CP-odd a3 shows up in sin φ*).
    """
    from types import SimpleNamespace

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
