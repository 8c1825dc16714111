r"""Drell–Yan p p → γ*/Z/contact → ℓ⁻ℓ⁺ (PROCESSES.md §2(a)): the embedded process ``drell_yan``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError
from ..physics import phasespace as ps
from ..physics import truth as tr
from ..physics.drell_yan import DY_PARAMETERS, DrellYanME
from ..physics.ew import GEV2_TO_PB, EWInputs
from ..physics.pdf import PDFGrid
from .base import Batch, EmbeddedProcess, EventRecord, ProcessDefaults, eta, register_process

__all__ = ["DrellYanProcess"]

Array = NDArray[np.float64]


@register_process
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
    description = "p p -> gamma*/Z/contact -> l- l+ with quark-lepton contact terms C_LL, C_LR, C_RL, C_RR"
    parameter_names = DY_PARAMETERS
    options_schema: ClassVar[dict[str, Any]] = {
        "mll_gev": {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2},
    }
    supports_scale_variations = True
    quadrature_xsec = True
    defaults = ProcessDefaults(
        observables={
            "m_ll": "(l[0] + l[1]).m",
            "y_ll": "(l[0] + l[1]).rapidity",
            "pt_ll": "(l[0] + l[1]).pt",
            "cos_theta_cs": "cos_theta_star_cs(l[0], l[1])",
            "pt_l1": "l[0].pt",
            "eta_l1": "l[0].eta",
            "pt_l2": "l[1].pt",
            "eta_l2": "l[1].eta",
        },
        cuts=("n(l) >= 2", "l[0].charge * l[1].charge < 0", "l[0].pt > 25", "l[1].pt > 25", "(l[0] + l[1]).m > 400"),
        histogram_observables=("m_ll", "cos_theta_cs", "y_ll", "pt_ll"),
        plot_observables=("m_ll", "cos_theta_cs", "y_ll", "pt_l1"),
        labels={
            "m_ll": r"$m_{\ell\ell}$",
            "y_ll": r"$y_{\ell\ell}$",
            "pt_ll": r"$p_T^{\ell\ell}$",
            "cos_theta_cs": r"$\cos\theta^*_{CS}$",
            "pt_l1": r"$p_T^{\ell_1}$",
            "eta_l1": r"$\eta^{\ell_1}$",
            "pt_l2": r"$p_T^{\ell_2}$",
            "eta_l2": r"$\eta^{\ell_2}$",
            "C_LL": r"$C_{LL}$ ($\bar q_L\gamma q_L\,\bar\ell_L\gamma\ell_L$)",
            "C_LR": r"$C_{LR}$ ($\bar q_L\gamma q_L\,\bar\ell_R\gamma\ell_R$)",
            "C_RL": r"$C_{RL}$ ($\bar q_R\gamma q_R\,\bar\ell_L\gamma\ell_L$)",
            "C_RR": r"$C_{RR}$ ($\bar q_R\gamma q_R\,\bar\ell_R\gamma\ell_R$)",
        },
        units={name: "TeV$^{-2}$" for name in DY_PARAMETERS},
        shower={"mpi": False, "hadronisation": True},
        truth_note="the parton flavours and which beam carried the quark",
    )
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

    @classmethod
    def options_from_card(
        cls, section: Mapping[str, Any], *, sqrt_s: float, ew: EWInputs, source: str | None = None
    ) -> dict[str, Any]:
        lo, hi = section.get("mll_gev", [60.0, 120.0])
        if lo is None or hi is None:
            raise ConfigError("mll_gev needs two numbers", path="process.mll_gev", source=source)
        if lo <= 0 or hi <= lo or lo >= sqrt_s:
            raise ConfigError(
                f"the cuts leave no phase space: mll_gev = [{lo}, {hi}] at sqrt_s = {sqrt_s} GeV "
                "(need 0 < min < max and min < sqrt_s)",
                path="process.mll_gev",
                source=source,
            )
        return {"mll": (float(lo), float(min(hi, sqrt_s)))}

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
        obs = np.stack([m, y, c, pt, eta(lm), eta(lp), np.arctan2(lm[:, 2], lm[:, 1])], axis=1)
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
