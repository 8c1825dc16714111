"""Kinematics shared by the embedded q q̄′ → V H, V → f f̄′ processes (:mod:`.wh`, :mod:`.zh`).

Particle layout of their event records: beam 1, beam 2, V, H, f, f̄′ (the V decays to the last two).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..physics import phasespace as ps
from .base import EventRecord

Array = NDArray[np.float64]


def vh_momenta(
    shat: Array, cT: Array, phi: Array, m2: Array, ct: Array, phs: Array, mh: float
) -> tuple[Array, Array, Array, Array]:
    """(p_f, p_f̄′, p_H, p_V) in the partonic CM with the quark along +z: the V at (cos Θ, φ) with mass² ``m2``,
    the fermion f at (cos θ*, φ*) in the V rest frame, axes y′ ∝ ẑ × p̂_V, x′ = y′ × z′ (z′ = p̂_V)."""
    rs = np.sqrt(shat)
    mst = np.sqrt(m2)
    k = ps.two_body_momentum(rs, mst, mh)
    sT = np.sqrt(np.maximum(1 - cT**2, 0))
    zhat = np.stack([sT * np.cos(phi), sT * np.sin(phi), cT], axis=-1)
    pv = np.concatenate([np.sqrt(k**2 + m2)[:, None], k[:, None] * zhat], axis=1)
    ph = np.concatenate([np.sqrt(k**2 + mh**2)[:, None], -k[:, None] * zhat], axis=1)
    yv = np.stack([-zhat[:, 1], zhat[:, 0], np.zeros_like(cT)], axis=-1)
    yn = np.linalg.norm(yv, axis=-1, keepdims=True)
    yv = np.where(yn > 1e-300, yv / np.where(yn > 0, yn, 1), np.array([0.0, 1.0, 0.0]))
    xv = np.cross(yv, zhat)
    st = np.sqrt(np.maximum(1 - ct**2, 0))
    d = (st * np.cos(phs))[:, None] * xv + (st * np.sin(phs))[:, None] * yv + ct[:, None] * zhat
    f_rest = np.concatenate([(mst / 2)[:, None], (mst / 2)[:, None] * d], axis=1)
    fbar_rest = f_rest.copy()
    fbar_rest[:, 1:] *= -1
    beta = pv[:, 1:] / pv[:, :1]
    return ps.boost(f_rest, beta), ps.boost(fbar_rest, beta), ph, pv


def to_lab(momenta: Sequence[Array], flip: NDArray[np.bool_], y: Array) -> None:
    """In place: the events of ``flip`` (the quark from beam 2) mirrored (p_y, p_z → −p_y, −p_z), then all
    boosted along z by the partonic rapidity ``y``."""
    for p in momenta:
        p[flip, 2] *= -1
        p[flip, 3] *= -1
        p[:] = ps.boost_z(p, y)


def vh_record(
    kin: dict[str, Array],
    momenta: tuple[Array, Array, Array, Array],
    pdg: NDArray[np.int64],
    *,
    sqrt_s: float,
    mh: float,
    mu2: float | Array,
) -> EventRecord:
    """The event record of V H events: ``momenta`` (p_V, p_H, p_f, p_f̄′) in the lab, ``pdg`` (N, 6), the beams
    from the momentum fractions ``kin["x1"]``, ``kin["x2"]``, the V mass from ``kin["m2"]``, scale √μ²."""
    x1, x2 = kin["x1"], kin["x2"]
    n = x1.size
    half = 0.5 * sqrt_s
    mom = np.zeros((n, 6, 4))
    mom[:, 0] = np.stack([x1 * half, 0 * x1, 0 * x1, x1 * half], axis=1)
    mom[:, 1] = np.stack([x2 * half, 0 * x2, 0 * x2, -x2 * half], axis=1)
    mom[:, 2], mom[:, 3], mom[:, 4], mom[:, 5] = momenta
    id1, id2 = pdg[:, 0], pdg[:, 1]
    colours = np.zeros((n, 6, 2), np.int64)
    colours[:, 0, :] = np.where((id1 > 0)[:, None], [501, 0], [0, 501])
    colours[:, 1, :] = np.where((id2 > 0)[:, None], [501, 0], [0, 501])
    masses = np.zeros((n, 6))
    masses[:, 2] = np.sqrt(kin["m2"])
    masses[:, 3] = mh
    return EventRecord(
        pdg=pdg,
        momenta=mom,
        masses=masses,
        status=np.array([-1, -1, 2, 1, 1, 1]),
        mothers=np.array([[0, 0], [0, 0], [1, 2], [1, 2], [3, 3], [3, 3]]),
        colours=colours,
        scale=np.broadcast_to(np.sqrt(mu2), (n,)).astype(float),
    )
