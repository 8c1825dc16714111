"""HepMC output of the Pythia stage (pyhepmc), for Delphes and other HepMC consumers.

Each event is written as the two beam protons (status 4) entering one vertex, out of which come
the stable final-state particles (status 1) that :func:`lhcgold.shower.iter_shower` returns, with
their generated masses. The run info names every weight (Pythia's nominal weight, then the LHE's
``<rwgt>`` weights: benchmarks, systematics), and each event carries all of them, on the LHE's
own scale by default (as MG5 + Pythia write them: with ``event_norm = average`` each weight is
σ-sized and the mean is the cross section), so Delphes (``Weight.Weight``) keeps the gold and
:func:`lhcgold.io.delphes.iter_delphes` with ``lhe=`` normalises them as for MG5's own chain.

The intermediate history (partons, hadrons before decay) is not written: Delphes works on the
stable particles, but truth-matched b-tagging in Delphes needs the history and sees none here.

Python API::

    from lhcgold.shower.hepmc import shower_to_hepmc
    result = shower_to_hepmc("events.lhe.gz", "events.hepmc", seed=1, mpi=False)
    result.n_events, result.weight_names

Needs the ``hepmc`` extra (``pip install 'lhcgold[hepmc]'``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..exceptions import MissingDependencyError
from ..io.atomic import atomic_path

__all__ = ["HepMCResult", "shower_to_hepmc", "write_hepmc"]

HepMCFormat = Literal["HepMC3", "HepMC2"]


def _pyhepmc() -> Any:
    try:
        import pyhepmc
    except ImportError:
        raise MissingDependencyError("pyhepmc", "hepmc") from None
    return pyhepmc


@dataclass(frozen=True)
class HepMCResult:
    """What was written: the file, the number of events, the weight names and the sum of each weight."""

    path: Path
    n_events: int
    weight_names: tuple[str, ...]
    weight_sums_pb: tuple[float, ...]


def write_hepmc(
    chunks: Iterable[Any],
    path: str | os.PathLike[str],
    *,
    beam_energy_gev: float,
    fmt: HepMCFormat = "HepMC3",
    overwrite: bool = False,
) -> HepMCResult:
    """Write showered chunks (:class:`lhcgold.shower.ShowerChunk`) as a HepMC ASCII file, atomically.

    Args:
        chunks: showered events (final-state particles and weights).
        path: the output file.
        beam_energy_gev: energy of each proton beam.
        fmt: ``HepMC3`` (default) or ``HepMC2`` ASCII.
        overwrite: replace an existing file.

    Raises:
        EventFileError: ``path`` exists and ``overwrite`` is false.
        MissingDependencyError: pyhepmc is not installed.
    """
    hep = _pyhepmc()
    target = Path(path)
    n = 0
    names: tuple[str, ...] = ()
    sums: np.ndarray | None = None
    e = float(beam_energy_gev)
    with atomic_path(target, overwrite=overwrite) as tmp:
        run_info = hep.GenRunInfo()
        with hep.open(str(tmp), "w", format=fmt) as out:
            for ch in chunks:
                if not names:
                    names = tuple(ch.weight_names)
                    run_info.weight_names = list(names)
                    run_info.tools = [hep.GenRunInfo.ToolInfo("lhcgold", "", "Pythia 8 via lhcgold.shower")]
                    sums = np.zeros(len(names))
                parts = ch.particles
                for i in range(len(ch)):
                    ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
                    ev.run_info = run_info
                    ev.event_number = ch.first_event + i
                    vtx = hep.GenVertex()
                    vtx.add_particle_in(hep.GenParticle((0.0, 0.0, e, e), 2212, 4))
                    vtx.add_particle_in(hep.GenParticle((0.0, 0.0, -e, e), 2212, 4))
                    p = parts[i]
                    px, py, pz, en = (np.asarray(p[c], dtype=np.float64) for c in ("px", "py", "pz", "E"))
                    mass = np.sqrt(np.maximum(en**2 - px**2 - py**2 - pz**2, 0.0))
                    for k, pid in enumerate(np.asarray(p["pid"], dtype=np.int64).tolist()):
                        gp = hep.GenParticle((px[k], py[k], pz[k], en[k]), pid, 1)
                        gp.generated_mass = float(mass[k])
                        vtx.add_particle_out(gp)
                    ev.add_vertex(vtx)
                    ev.weights = [float(w) for w in ch.weights[i]]
                    out.write(ev)
                    n += 1
                if sums is not None:
                    sums += ch.weights.sum(axis=0)
    return HepMCResult(
        path=target,
        n_events=n,
        weight_names=names,
        weight_sums_pb=tuple(float(s) for s in (sums if sums is not None else ())),
    )


def shower_to_hepmc(
    lhe_path: str | os.PathLike[str],
    hepmc_path: str | os.PathLike[str],
    *,
    fmt: HepMCFormat = "HepMC3",
    overwrite: bool = False,
    **shower_options: Any,
) -> HepMCResult:
    """Shower an LHE file with Pythia 8 and write the events as HepMC.

    Args:
        lhe_path: the LHE file (ours or MG5's).
        hepmc_path: the HepMC file to write.
        fmt: ``HepMC3`` or ``HepMC2``.
        overwrite: replace an existing output.
        **shower_options: passed to :func:`lhcgold.shower.iter_shower` (seed, n_events, mpi, ...);
            ``normalise`` defaults to False here (weights on the LHE's scale, see the module docstring).
    """
    from ..io.lhe import read_lhe_header
    from . import iter_shower

    _pyhepmc()
    shower_options.setdefault("normalise", False)
    header = read_lhe_header(lhe_path)
    return write_hepmc(
        iter_shower(lhe_path, **shower_options),
        hepmc_path,
        beam_energy_gev=float(header.beam_energy_gev[0]),
        fmt=fmt,
        overwrite=overwrite,
    )
