"""HepMC output of the Pythia stage (pyhepmc), for Delphes and other HepMC consumers.

Each event is written as the two beam protons (status 4) entering one vertex, out of which come
the stable final-state particles (status 1) that :func:`lhcgold.shower.iter_shower` returns, with
their generated masses. The run info names every weight (Pythia's nominal weight, then the LHE's
``<rwgt>`` weights: benchmarks, systematics), and each event carries all of them, on the LHE's
own scale by default (as MG5 + Pythia write them: with ``event_norm = average`` each weight is
σ-sized and the mean is the cross section), so Delphes (``Weight.Weight``) keeps the gold and
:func:`lhcgold.io.delphes.iter_delphes` with ``lhe=`` normalises them as for MG5's own chain.

By default the intermediate history (partons, hadrons before decay) is not written: Delphes works
on the stable particles. With ``history=True`` (``lhcgold shower --hepmc-history``, or
``hepmc_history: true`` in the card's ``shower:`` section) each event is Pythia's whole event record
with its mother/daughter structure as vertices, built as Pythia's own HepMC3 interface
(``Pythia8Plugins/HepMC3.h``) builds it: each particle's production vertex is the end vertex of its
first mother, else a new vertex with all its mothers coming in (``Particle::motherList()``: a range
for the primary hadrons of a string, status 81-86 and 101-106, else one or two mothers); the
status codes are ``Particle::statusHepMC()``'s: 1 final, 2 a hadron, μ or τ that decayed normally,
4 the beams, the others Pythia's own |status| (21 hard-process incoming, 23 outgoing, 44 ISR, 62
shower-level copies, 71-73 partons handed to hadronisation, 83/84 primary hadrons, ...), 0 if out of
range. Vertex positions come from Pythia's production vertices (mm). The system entry 0 of Pythia's
record is left out, as there. Truth-matched b-tagging (Delphes's ``BTagging`` with its parton
matching) needs this history.

Python API::

    from lhcgold.shower.hepmc import shower_to_hepmc
    result = shower_to_hepmc("events.lhe.gz", "events.hepmc", seed=1, mpi=False)
    result.n_events, result.weight_names
    shower_to_hepmc("events.lhe.gz", "full.hepmc", history=True, seed=1)   # with the history

Needs the ``hepmc`` extra (``pip install 'lhcgold[hepmc]'``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import awkward as ak
import numpy as np

from ..exceptions import ConfigError, MissingDependencyError
from ..io.atomic import atomic_path
from ..io.lhe import read_lhe_header
from . import iter_shower

__all__ = [
    "HepMCResult",
    "hepmc_status",
    "history_vertices",
    "is_hadron",
    "mother_list",
    "shower_to_hepmc",
    "write_hepmc",
]

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
    history: bool = False,
) -> HepMCResult:
    """Write showered chunks (:class:`lhcgold.shower.ShowerChunk`) as a HepMC ASCII file, atomically.

    Args:
        chunks: showered events (final-state particles and weights).
        path: the output file.
        beam_energy_gev: energy of each proton beam.
        fmt: ``HepMC3`` (default) or ``HepMC2`` ASCII.
        overwrite: replace an existing file.
        history: write Pythia's whole event record (the chunks need ``record``, see
            :func:`lhcgold.shower.iter_shower`'s ``keep_record``) instead of beams + final state.

    Raises:
        EventFileError: ``path`` exists and ``overwrite`` is false.
        ConfigError: ``history`` with chunks that carry no event record.
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
                if history and ch.record is None:
                    raise ConfigError("HepMC with history needs the event record: iter_shower(..., keep_record=True)")
                records = _RecordArrays(ch.record) if history else None
                for i in range(len(ch)):
                    ev = hep.GenEvent(hep.Units.GEV, hep.Units.MM)
                    ev.run_info = run_info
                    ev.event_number = ch.first_event + i
                    if records is not None:
                        _fill_history(hep, ev, records, i)
                    else:
                        _fill_final_state(hep, ev, ch.particles[i], e)
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


def _fill_final_state(hep: Any, ev: Any, p: Any, e: float) -> None:
    """Beams (status 4) into one vertex, the stable particles (status 1) out of it."""
    vtx = hep.GenVertex()
    vtx.add_particle_in(hep.GenParticle((0.0, 0.0, e, e), 2212, 4))
    vtx.add_particle_in(hep.GenParticle((0.0, 0.0, -e, e), 2212, 4))
    px, py, pz, en = (np.asarray(p[c], dtype=np.float64) for c in ("px", "py", "pz", "E"))
    mass = np.sqrt(np.maximum(en**2 - px**2 - py**2 - pz**2, 0.0))
    for k, pid in enumerate(np.asarray(p["pid"], dtype=np.int64).tolist()):
        gp = hep.GenParticle((px[k], py[k], pz[k], en[k]), pid, 1)
        gp.generated_mass = float(mass[k])
        vtx.add_particle_out(gp)
    ev.add_vertex(vtx)


def is_hadron(pid: np.ndarray) -> np.ndarray:
    """Pythia's ``ParticleDataEntry::isHadron()`` for PDG ids (ordinary hadrons, not R-hadrons)."""
    a = np.abs(np.asarray(pid, dtype=np.int64))
    out = ~((a <= 100) | ((a >= 1_000_000) & (a <= 9_000_000)) | (a >= 9_900_000))
    digits = (a % 10 == 0) | ((a // 10) % 10 == 0) | ((a // 100) % 10 == 0)
    return out & (~digits | (a == 130) | (a == 310))


def hepmc_status(pid: np.ndarray, status: np.ndarray, daughter1: np.ndarray) -> np.ndarray:
    """Pythia's ``Particle::statusHepMC()`` for one event record (arrays over its particles, entry 0
    the system): 1 final (status > 0), 4 beams (-12), 2 hadrons, μ and τ whose first daughter is
    another particle made in a decay (|status| 91-94), else -status for -200..-11, else 0."""
    pid = np.asarray(pid, dtype=np.int64)
    status = np.asarray(status, dtype=np.int64)
    d1 = np.asarray(daughter1, dtype=np.int64)
    dst = np.abs(status[d1])
    decayed = (is_hadron(pid) | np.isin(np.abs(pid), (13, 15))) & (pid[d1] != pid) & (dst > 90) & (dst < 95)
    out = np.where((status <= -11) & (status >= -200), -status, 0)
    out = np.where(decayed, 2, out)
    out = np.where(status == -12, 4, out)
    return np.where(status > 0, 1, out)


def mother_list(status: int, mother1: int, mother2: int) -> list[int]:
    """Pythia's ``Particle::motherList()``: none for the beams and the system (|status| 11, 12),
    a range for primary hadrons (|status| 81-89, 101-106), else one or two mothers."""
    a = abs(status)
    if a in (11, 12):
        return []
    if mother1 == 0 and mother2 == 0:
        return [0]
    if mother2 == 0 or mother2 == mother1:
        return [mother1]
    if 80 < a < 90 or 100 < a < 107:
        return list(range(mother1, mother2 + 1))
    return [min(mother1, mother2), max(mother1, mother2)]


class _RecordArrays:
    """One chunk's event records as flat numpy arrays with per-event offsets."""

    def __init__(self, record: Any) -> None:
        counts = np.asarray(ak.num(record, axis=1), dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        flat = ak.flatten(record)

        def col(x: Any, dtype: Any) -> np.ndarray:
            return np.asarray(ak.to_numpy(x), dtype=dtype)

        self.pid = col(flat.id, np.int64)
        self.status = col(flat.status, np.int64)
        self.mother1, self.mother2 = col(flat.mother1, np.int64), col(flat.mother2, np.int64)
        self.daughter1 = col(flat.daughter1, np.int64)
        self.p = np.stack([col(getattr(flat.p, c), np.float64) for c in ("px", "py", "pz", "e")], axis=1)
        self.mass = col(flat.m, np.float64)
        vprod = flat.vProd
        has = ~col(ak.is_none(vprod), bool)
        self.vprod = np.zeros((len(self.pid), 4))
        if has.any():
            for j, c in enumerate(("px", "py", "pz", "e")):
                self.vprod[:, j] = col(ak.fill_none(getattr(vprod, c), 0.0), np.float64)

    def event(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


def history_vertices(status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """The vertices of one Pythia event record as (incoming, outgoing) record indices, in an order
    where each vertex comes after the vertices that produce its incoming particles.

    As Pythia's HepMC3 interface: a particle's production vertex is the end vertex of its first
    mother (:func:`mother_list`), else a new vertex with all its mothers coming in. Particles whose
    only mother is the system entry 0 come out of a vertex without incoming particles.
    """
    ins: list[list[int]] = []
    outs: list[list[int]] = []
    end: dict[int, int] = {}  # particle -> its end vertex
    prod: dict[int, int] = {}  # particle -> its production vertex
    for k in range(1, len(status)):
        mothers = mother_list(int(status[k]), int(mother1[k]), int(mother2[k]))
        if not mothers:
            continue
        mothers = [] if mothers == [0] else mothers
        v = end.get(mothers[0]) if mothers else None
        if v is None:
            v = len(ins)
            ins.append(mothers)
            outs.append([])
            for j in mothers:
                end[j] = v
        outs[v].append(k)
        prod[k] = v
    order: list[int] = []
    state = [0] * len(ins)  # 0 new, 1 on the stack, 2 placed
    for root in range(len(ins)):
        stack = [root]
        while stack:  # depth first, parents' production vertices before the vertex
            v = stack[-1]
            if state[v] == 2:
                stack.pop()
                continue
            state[v] = 1
            todo = [prod[j] for j in ins[v] if j in prod and state[prod[j]] == 0]
            if todo:
                stack.extend(todo)
                continue
            state[v] = 2
            order.append(v)
            stack.pop()
    return [(ins[v], outs[v]) for v in order]


def _fill_history(hep: Any, ev: Any, rec: _RecordArrays, i: int) -> None:
    """Event ``i`` of a chunk as Pythia's HepMC3 interface writes it (see the module docstring)."""
    sl = rec.event(i)
    pid, status = rec.pid[sl], rec.status[sl]
    hst = hepmc_status(pid, status, rec.daughter1[sl])
    mom, mass, vprod = rec.p[sl], rec.mass[sl], rec.vprod[sl]
    parts: list[Any] = [None]
    for k in range(1, len(pid)):
        gp = hep.GenParticle(tuple(mom[k]), int(pid[k]), int(hst[k]))
        gp.generated_mass = float(mass[k])
        parts.append(gp)
    for mothers, daughters in history_vertices(status, rec.mother1[sl], rec.mother2[sl]):
        vtx = hep.GenVertex()
        for j in mothers:
            vtx.add_particle_in(parts[j])
        for k in daughters:
            vtx.add_particle_out(parts[k])
        pos = next((vprod[k] for k in daughters if vprod[k].any()), None)  # the first non-zero one
        if pos is not None:
            vtx.position = tuple(pos)
        ev.add_vertex(vtx)


def shower_to_hepmc(
    lhe_path: str | os.PathLike[str],
    hepmc_path: str | os.PathLike[str],
    *,
    fmt: HepMCFormat = "HepMC3",
    overwrite: bool = False,
    history: bool = False,
    **shower_options: Any,
) -> HepMCResult:
    """Shower an LHE file with Pythia 8 and write the events as HepMC.

    Args:
        lhe_path: the LHE file (ours or MG5's).
        hepmc_path: the HepMC file to write.
        fmt: ``HepMC3`` or ``HepMC2``.
        overwrite: replace an existing output.
        history: Pythia's whole event record with its mother/daughter structure (module docstring),
            instead of beams + stable particles.
        **shower_options: passed to :func:`lhcgold.shower.iter_shower` (seed, n_events, mpi, ...);
            ``normalise`` defaults to False here (weights on the LHE's scale, see the module docstring).
    """
    _pyhepmc()
    shower_options.setdefault("normalise", False)
    header = read_lhe_header(lhe_path)
    return write_hepmc(
        iter_shower(lhe_path, keep_record=history, **shower_options),
        hepmc_path,
        beam_energy_gev=float(header.beam_energy_gev[0]),
        fmt=fmt,
        overwrite=overwrite,
        history=history,
    )
