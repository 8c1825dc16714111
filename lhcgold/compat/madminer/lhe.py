"""``LHEReader``: observables and weights from LHE files at parton level, with MadMiner's smearing.

Objects are the LHE final-state particles (``e mu l a j met``, as in lhcgold's parton level), smeared
as :meth:`LHEReader.set_smearing` and :meth:`LHEReader.set_met_noise` say; observables, cuts and
weights are lhcgold's (:mod:`lhcgold.observables`, :mod:`lhcgold.reconstruct`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import awkward as ak
import numpy as np

from ...exceptions import ConfigError
from ...io.lhe import iter_lhe
from ...observables.objects import RecoEvents, make_met, sort_by_pt
from ...reconstruct import ReconstructionSample, parton_level
from ._reader import _Reader, sample_of

logger = logging.getLogger(__name__)

__all__ = ["LHEReader", "Smearing", "smear_events"]

Resolution = tuple[float | None, float | None]


@dataclass(frozen=True)
class Smearing:
    """Gaussian resolutions (absolute, relative) of energy, pT, eta and phi for one particle type.

    The measurement error of X has standard deviation ``abs + rel * X``; a None resolution of the
    energy (or pT) means that quantity follows from the others and the mass (MadMiner's convention).
    """

    energy: Resolution = (0.0, 0.0)
    pt: Resolution = (0.0, 0.0)
    eta: Resolution = (0.0, 0.0)
    phi: Resolution = (0.0, 0.0)


def _draw(true: np.ndarray, res: Resolution, rng: np.random.Generator, *, positive: bool) -> np.ndarray:
    abs_, rel = (res[0] or 0.0), (res[1] or 0.0)
    sigma = abs_ + rel * np.abs(true)
    out = true + sigma * rng.standard_normal(true.shape)
    if positive:
        for _ in range(100):  # MadMiner re-draws negative energies and momenta
            bad = out < 0
            if not bad.any():
                break
            out[bad] = true[bad] + sigma[bad] * rng.standard_normal(int(bad.sum()))
        out = np.maximum(out, 0.0)
    return out


def _smear_flat(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray, s: Smearing, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    energy = np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
    eta2 = _draw(eta, s.eta, rng, positive=False)
    phi2 = np.mod(_draw(phi, s.phi, rng, positive=False) + np.pi, 2 * np.pi) - np.pi
    e_none = s.energy[0] is None or s.energy[1] is None
    pt_none = s.pt[0] is None or s.pt[1] is None
    if e_none and pt_none:
        raise ConfigError("set_smearing: the energy and the pT resolution cannot both be None")
    if pt_none:
        e2 = _draw(energy, s.energy, rng, positive=True)
        pt2 = np.sqrt(np.maximum(e2**2 - mass**2, 0.0)) / np.cosh(eta2)
        m2 = mass
    elif e_none:
        pt2 = _draw(pt, s.pt, rng, positive=True)
        m2 = mass
    else:
        e2 = _draw(energy, s.energy, rng, positive=True)
        pt2 = _draw(pt, s.pt, rng, positive=True)
        m2 = np.sqrt(np.maximum(e2**2 - (pt2 * np.cosh(eta2)) ** 2, 0.0))
    return pt2, eta2, phi2, m2


def _smear_collection(objs: ak.Array, table: dict[int, Smearing], rng: np.random.Generator) -> ak.Array:
    counts = ak.num(objs, axis=1)
    flat = ak.flatten(objs)
    if len(flat) == 0 or "pid" not in flat.fields:
        return objs
    cols = {f: np.asarray(ak.to_numpy(flat[f])) for f in flat.fields}
    pt, eta, phi, mass = (cols[k].astype(np.float64).copy() for k in ("pt", "eta", "phi", "mass"))
    pid = cols["pid"].astype(np.int64)
    for code in np.unique(pid):
        s = table.get(int(code))
        if s is None:
            continue
        sel = pid == code
        pt[sel], eta[sel], phi[sel], mass[sel] = _smear_flat(pt[sel], eta[sel], phi[sel], mass[sel], s, rng)
    cols.update(pt=pt, eta=eta, phi=phi, mass=mass)
    return sort_by_pt(ak.unflatten(ak.zip(cols, with_name="Momentum4D"), counts))


def smear_events(
    events: RecoEvents, table: dict[int, Smearing], met_noise: tuple[float, float] | None, *, rng: np.random.Generator
) -> RecoEvents:
    """Smear the objects of a parton-level chunk and recompute the MET (MadMiner's LHE smearing).

    With any smearing or MET noise, the MET is minus the vector sum of the smeared visible objects,
    plus Gaussian noise of width ``abs + rel * HT`` on each of its x and y components (HT: the scalar
    pT sum of all final-state particles).
    """
    if not table and met_noise is None:
        return events
    colls = {k: _smear_collection(getattr(events, k), table, rng) for k in ("electrons", "muons", "photons", "jets")}
    mx = -sum(ak.to_numpy(ak.sum(c.px, axis=1)) for c in colls.values())
    my = -sum(ak.to_numpy(ak.sum(c.py, axis=1)) for c in colls.values())
    if met_noise is not None:
        parts = events.truth if events.truth is not None else ak.concatenate(list(colls.values()), axis=1)
        ht = ak.to_numpy(ak.sum(parts.pt, axis=1))
        sigma = met_noise[0] + met_noise[1] * ht
        mx = mx + sigma * rng.standard_normal(len(ht))
        my = my + sigma * rng.standard_normal(len(ht))
    return replace(events, met=make_met(np.hypot(mx, my), np.arctan2(my, mx)), **colls)


def _elementary_pdgids() -> list[int]:
    codes = list(range(1, 7)) + [11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25]
    return codes + [-c for c in codes if c not in (21, 22, 23, 25)]


class LHEReader(_Reader):
    """Parton-level analysis of LHE files (madminer's ``madminer.lhe.LHEReader``).

    Args:
        filename: the setup file (``MadMiner.save``): parameters, benchmarks, morphing.
        rng: seed or generator for the smearing (an lhcgold addition; MadMiner is not seeded).
    """

    def __init__(self, filename: str | os.PathLike[str], *, rng: np.random.Generator | int | None = None):
        super().__init__(filename)
        self.smearing: dict[int, Smearing] = {}
        self.met_noise: tuple[float, float] | None = None
        self.rng = np.random.default_rng(rng)

    def add_sample(
        self,
        lhe_filename: str | os.PathLike[str],
        sampled_from_benchmark: str | None = None,
        is_background: bool = False,
        k_factor: float = 1.0,
        systematics: Iterable[str] | None = None,
    ) -> None:
        """An LHE file, the benchmark it was generated at (None: detected), background or signal."""
        self.samples.append(
            sample_of(lhe_filename, sampled_from_benchmark, is_background, k_factor, list(systematics or []))
        )

    def set_smearing(
        self,
        pdgids: Iterable[int] | None = None,
        energy_resolution_abs: float | None = 0.0,
        energy_resolution_rel: float | None = 0.0,
        pt_resolution_abs: float | None = 0.0,
        pt_resolution_rel: float | None = 0.0,
        eta_resolution_abs: float = 0.0,
        eta_resolution_rel: float = 0.0,
        phi_resolution_abs: float = 0.0,
        phi_resolution_rel: float = 0.0,
    ) -> None:
        """Gaussian smearing of the particles with these PDG ids (None: all elementary particles)."""
        s = Smearing(
            energy=(energy_resolution_abs, energy_resolution_rel),
            pt=(pt_resolution_abs, pt_resolution_rel),
            eta=(eta_resolution_abs, eta_resolution_rel),
            phi=(phi_resolution_abs, phi_resolution_rel),
        )
        if (None in s.energy) and (None in s.pt):
            raise ConfigError("set_smearing: the energy and the pT resolution cannot both be None")
        for code in pdgids if pdgids is not None else _elementary_pdgids():
            self.smearing[int(code)] = s

    def set_met_noise(self, abs_: float = 0.0, rel: float = 0.0) -> None:
        """Gaussian noise on the MET components, width ``abs_ + rel * HT`` [GeV]."""
        self.met_noise = (float(abs_), float(rel))

    def analyse_samples(
        self, reference_benchmark: str | None = None, parse_events_as_xml: bool = True, *, chunk_size: int = 10_000
    ) -> None:
        """Read every sample, smear, compute observables, cuts and efficiencies, and keep the weights."""

        def chunks(sample: ReconstructionSample) -> Iterator[RecoEvents]:
            for chunk in iter_lhe(sample.path, chunk_size=chunk_size):
                yield smear_events(parton_level(chunk), self.smearing, self.met_noise, rng=self.rng)

        self._analyse(chunks, "compat.madminer.LHEReader")
