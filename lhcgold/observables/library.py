"""A library of observables on whole arrays.

Every function takes per-event objects (one object per event: ``Momentum4D`` awkward arrays from
:mod:`vector`, or anything with ``px, py, pz, E`` / ``pt, eta, phi, mass`` attributes) and returns
a numpy array with one number per event. Missing objects are NaN and give NaN.

Angles follow the conventions of ``physics/PROCESSES.md``: Collins-Soper cos(theta*) of the
negative lepton, and for W H the angles (Theta, theta*, phi*) of section 2(b) reconstructed with
the neutrino p_z from the W mass constraint.
"""

from __future__ import annotations

from typing import Any, Literal

import awkward as ak
import numpy as np
import vector

__all__ = [
    "M_W_GEV",
    "cos_theta_star_cs",
    "delta_eta",
    "delta_phi",
    "delta_r",
    "eta",
    "four_momentum",
    "mass",
    "mll",
    "mt",
    "mt_wh",
    "neutrino_pz",
    "phi",
    "pt",
    "rapidity",
    "reconstruct_neutrino",
    "wh_angles",
    "wh_angles_reco",
]

M_W_GEV = 80.379


def _np(x: Any) -> np.ndarray:
    if isinstance(x, ak.Array):
        x = ak.fill_none(x, np.nan)
        return np.asarray(ak.to_numpy(x), dtype=np.float64)
    return np.asarray(x, dtype=np.float64)


def four_momentum(obj: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(px, py, pz, E) numpy arrays of per-event objects."""
    return _np(obj.px), _np(obj.py), _np(obj.pz), _np(obj.E if hasattr(obj, "E") else obj.e)


def pt(obj: Any) -> np.ndarray:
    """Transverse momentum [GeV]."""
    return _np(obj.pt)


def eta(obj: Any) -> np.ndarray:
    """Pseudorapidity."""
    return _np(obj.eta)


def phi(obj: Any) -> np.ndarray:
    """Azimuth in (-pi, pi]."""
    return _np(obj.phi)


def rapidity(obj: Any) -> np.ndarray:
    """Rapidity y = artanh(pz / E)."""
    px, py, pz, e = four_momentum(obj)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.log((e + pz) / (e - pz))


def mass(*objs: Any) -> np.ndarray:
    """Invariant mass of the sum of the objects [GeV] (negative m^2 gives -sqrt(-m^2))."""
    px = py = pz = e = 0.0
    for o in objs:
        a, b, c, d = four_momentum(o)
        px, py, pz, e = px + a, py + b, pz + c, e + d
    m2 = np.asarray(e * e - px * px - py * py - pz * pz, dtype=np.float64)
    return np.sign(m2) * np.sqrt(np.abs(m2))


def mll(l1: Any, l2: Any) -> np.ndarray:
    """Dilepton invariant mass [GeV]."""
    return mass(l1, l2)


def delta_phi(a: Any, b: Any) -> np.ndarray:
    """Signed azimuthal difference phi_a - phi_b wrapped to [-pi, pi)."""
    d = _np(a.phi) - _np(b.phi)
    return (d + np.pi) % (2 * np.pi) - np.pi


def delta_eta(a: Any, b: Any) -> np.ndarray:
    """eta_a - eta_b."""
    return _np(a.eta) - _np(b.eta)


def delta_r(a: Any, b: Any) -> np.ndarray:
    """Delta R = sqrt(Delta eta^2 + Delta phi^2)."""
    return np.hypot(delta_eta(a, b), delta_phi(a, b))


def mt(a: Any, b: Any) -> np.ndarray:
    """Transverse mass of two objects treated as massless: sqrt(2 pT_a pT_b (1 - cos dphi)) [GeV]."""
    return np.sqrt(np.maximum(2.0 * _np(a.pt) * _np(b.pt) * (1.0 - np.cos(delta_phi(a, b))), 0.0))


def cos_theta_star_cs(lminus: Any, lplus: Any) -> np.ndarray:
    """Collins-Soper cos(theta*) of the negative lepton, signed by the dilepton p_z.

    cos = sign(Q_z) * 2 (P1+ P2- - P1- P2+) / (Q sqrt(Q^2 + Q_T^2)) with P± = (E ± p_z)/sqrt(2)
    and 1 = the negative lepton. At Q_T = 0 this is cos of the l- angle to the boost axis.
    """
    x1, y1, z1, e1 = four_momentum(lminus)
    x2, y2, z2, e2 = four_momentum(lplus)
    qx, qy, qz, qe = x1 + x2, y1 + y2, z1 + z2, e1 + e2
    q2 = qe * qe - qx * qx - qy * qy - qz * qz
    qt2 = qx * qx + qy * qy
    p1p, p1m = (e1 + z1) / np.sqrt(2), (e1 - z1) / np.sqrt(2)
    p2p, p2m = (e2 + z2) / np.sqrt(2), (e2 - z2) / np.sqrt(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = 2.0 * (p1p * p2m - p1m * p2p) / np.sqrt(q2 * (q2 + qt2))
    sign = np.where(qz < 0, -1.0, 1.0)
    return sign * c


def neutrino_pz(
    lepton: Any, met: Any, *, m_w: float = M_W_GEV, choice: Literal["smaller", "larger", "plus", "minus"] = "smaller"
) -> np.ndarray:
    """Neutrino p_z from m(l nu) = m_W with p_T(nu) = MET (massless lepton and neutrino).

    Complex solutions (m_T > m_W) take the real part. ``choice`` picks the solution with the smaller
    or larger |p_z|, or the + / - root.
    """
    lx, ly, lz, le = four_momentum(lepton)
    nx, ny = _np(met.px), _np(met.py)
    mu = 0.5 * m_w**2 + lx * nx + ly * ny
    lt2 = lx * lx + ly * ly
    nt2 = nx * nx + ny * ny
    with np.errstate(divide="ignore", invalid="ignore"):
        a = mu * lz / lt2
        disc = (mu * mu * lz * lz) / (lt2 * lt2) - (le * le * nt2 - mu * mu) / lt2
        root = np.sqrt(np.maximum(disc, 0.0))
    plus, minus = a + root, a - root
    if choice == "plus":
        return plus
    if choice == "minus":
        return minus
    smaller = np.where(np.abs(plus) < np.abs(minus), plus, minus)
    if choice == "smaller":
        return smaller
    if choice == "larger":
        return np.where(np.abs(plus) < np.abs(minus), minus, plus)
    raise ValueError(f"unknown choice {choice!r}")


def _boost(p: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Boost four-vectors p by velocity b (bx, by, bz)."""
    px, py, pz, e = p
    bx, by, bz = b
    b2 = bx * bx + by * by + bz * bz
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = 1.0 / np.sqrt(1.0 - b2)
        bp = bx * px + by * py + bz * pz
        g2 = np.where(b2 > 0, (gamma - 1.0) / b2, 0.0)
    return (
        px + g2 * bp * bx + gamma * bx * e,
        py + g2 * bp * by + gamma * by * e,
        pz + g2 * bp * bz + gamma * bz * e,
        gamma * (e + bp),
    )


def _unit(v: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    n = np.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return v[0] / n, v[1] / n, v[2] / n


def _cross(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def wh_angles(
    lepton: Any, neutrino: Any, higgs: Any, *, quark_direction: Literal["boost", "+z"] | np.ndarray = "boost"
) -> dict[str, np.ndarray]:
    """The W H production and decay angles of PROCESSES.md section 2(b).

    Args:
        lepton: the charged lepton (l+ for W+H; pass the l- for W-H).
        neutrino: the neutrino (e.g. from :func:`neutrino_pz` and the MET).
        higgs: the Higgs candidate (e.g. the b b-bar pair).
        quark_direction: the incoming quark's direction along the beam: ``"boost"`` (sign of the
            W H system's p_z, the usual guess), ``"+z"``, or an array of +-1 per event.

    Returns:
        ``cos_Theta`` (W polar angle in the partonic CM from the quark), ``cos_theta_star`` and
        ``phi_star`` (lepton in the W rest frame, z' = W flight direction, y' ∝ quark x W,
        x' = y' x z'), and ``m_wh`` [GeV].
    """
    lep = four_momentum(lepton)
    nu = four_momentum(neutrino)
    hig = four_momentum(higgs)
    w = tuple(a + b for a, b in zip(lep, nu))
    tot = tuple(a + b for a, b in zip(w, hig))
    if isinstance(quark_direction, str):
        if quark_direction == "boost":
            qdir = np.where(tot[2] < 0, -1.0, 1.0)
        elif quark_direction == "+z":
            qdir = np.ones_like(tot[2])
        else:
            raise ValueError(f"unknown quark_direction {quark_direction!r}")
    else:
        qdir = np.broadcast_to(np.asarray(quark_direction, dtype=np.float64), tot[2].shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = (-tot[0] / tot[3], -tot[1] / tot[3], -tot[2] / tot[3])
    w_cm = _boost(w, beta)
    lep_cm = _boost(lep, beta)
    # quark direction in the CM: boost the beam vector (0, 0, qdir*E, E) and take its direction
    beam = (np.zeros_like(qdir), np.zeros_like(qdir), qdir * 1000.0, np.full_like(qdir, 1000.0))
    q_cm = _unit(_boost(beam, beta)[:3])
    zw = _unit(w_cm[:3])
    cos_big = _dot(q_cm, zw)
    with np.errstate(divide="ignore", invalid="ignore"):
        bw = (-w_cm[0] / w_cm[3], -w_cm[1] / w_cm[3], -w_cm[2] / w_cm[3])
    lep_w = _boost(lep_cm, bw)
    yv = _unit(_cross(q_cm, zw))
    xv = _cross(yv, zw)
    lw = lep_w[:3]
    lx, ly, lz = _dot(lw, xv), _dot(lw, yv), _dot(lw, zw)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_star = lz / np.sqrt(lx * lx + ly * ly + lz * lz)
    phi_star = np.arctan2(ly, lx)
    m2 = tot[3] ** 2 - tot[0] ** 2 - tot[1] ** 2 - tot[2] ** 2
    return {
        "cos_Theta": cos_big,
        "cos_theta_star": cos_star,
        "phi_star": phi_star,
        "m_wh": np.sqrt(np.maximum(m2, 0.0)),
    }


def reconstruct_neutrino(
    lepton: Any, met: Any, *, m_w: float = M_W_GEV, choice: Literal["smaller", "larger", "plus", "minus"] = "smaller"
) -> Any:
    """The neutrino as a ``Momentum4D`` array: p_T from the MET, p_z from :func:`neutrino_pz`."""

    vector.register_awkward()
    nx, ny = _np(met.px), _np(met.py)
    pz = neutrino_pz(lepton, met, m_w=m_w, choice=choice)
    return ak.zip({"px": nx, "py": ny, "pz": pz, "E": np.sqrt(nx * nx + ny * ny + pz * pz)}, with_name="Momentum4D")


def wh_angles_reco(
    lepton: Any,
    met: Any,
    higgs: Any,
    *,
    m_w: float = M_W_GEV,
    choice: Literal["smaller", "larger", "plus", "minus"] = "smaller",
    quark_direction: Literal["boost", "+z"] | np.ndarray = "boost",
) -> dict[str, np.ndarray]:
    """:func:`wh_angles` with the neutrino reconstructed from the MET and the W mass constraint."""
    nu = reconstruct_neutrino(lepton, met, m_w=m_w, choice=choice)
    return wh_angles(lepton, nu, higgs, quark_direction=quark_direction)


def mt_wh(lepton: Any, met: Any, higgs: Any) -> np.ndarray:
    """Transverse mass of the W H system: m_T^2 = (E_T,W + E_T,H)^2 - |p_T,W + p_T,H|^2 [GeV].

    E_T,W uses the transverse W with m = m_T(l, MET) (massless lepton and neutrino), E_T,H uses
    the Higgs candidate's mass.
    """
    lx, ly, _, _ = four_momentum(lepton)
    nx, ny = _np(met.px), _np(met.py)
    hx, hy, hz, he = four_momentum(higgs)
    wx, wy = lx + nx, ly + ny
    et_w = np.hypot(lx, ly) + np.hypot(nx, ny)
    mh2 = np.maximum(he * he - hx * hx - hy * hy - hz * hz, 0.0)
    et_h = np.sqrt(mh2 + hx * hx + hy * hy)
    m2 = (et_w + et_h) ** 2 - (wx + hx) ** 2 - (wy + hy) ** 2
    return np.sqrt(np.maximum(m2, 0.0))
