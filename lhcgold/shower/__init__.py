"""Parton shower and hadronisation of LHE files with Pythia 8 (the ``pythia8mc`` wheel).

Pythia reads the LHE file itself (``Beams:frameType = 4``; ours or MG5's, plain or gzipped) and
is driven in batches with ``Pythia.nextBatch(n)``, which returns awkward arrays (much faster than
looping over ``pythia.event``). Every named weight is carried through: the batch's
``info.weights`` holds, per event, Pythia's nominal weight followed by the LHE ``<rwgt>`` weights,
named by ``infoPython().weightNameByIndex(i)`` (Pythia's ``"Weight"`` is renamed ``"nominal"``).
With ``normalise=True`` the weights follow the LHE run card's ``event_norm``
(:func:`lhcgold.io.lhe.lhe_weight_scale`) so the events read sum to the cross section in pb; a
subset (``n_events``) keeps sigma (events Pythia fails to shower are skipped and their share is
lost, as in a real analysis).

Python API::

    from lhcgold.shower import iter_shower, shower_lhe, shower_files, iter_showered
    for chunk in iter_shower("events.lhe.gz", batch_size=1000, seed=1, mpi=True, hadronisation=True):
        chunk.particles   # (n, var) Momentum4D: px, py, pz, E, pid, charge  (final state)
        chunk.bhadrons    # (n, var) Momentum4D b hadrons (pT > 5 GeV) for b-tagging truth
        chunk.weights     # (n, W) [pb]; chunk.weight_names
    all_in_memory = shower_lhe(["a.lhe.gz", "b.lhe.gz"], n_events=1000, seed=1)
    shower_files(["a.lhe.gz", "b.lhe.gz"], ["a.h5", "b.h5"], n_workers=2, seed=1)  # parallel processes
    for chunk in iter_showered("a.h5"): ...

Files written by :func:`shower_files` are HDF5: the attributes record the source, the weight
names, the seeds and the switches; each chunk is a group holding the awkward buffers (float32
momenta) and the weights. HepMC is not written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import vector

from .._version import __version__
from ..config.sections import register_section
from ..exceptions import ConfigError, EventFileError, ExternalToolError, MissingDependencyError
from ..io.atomic import atomic_path
from ..io.lhe import count_lhe_events, iter_lhe, lhe_source_identity, lhe_weight_scale, pid_charge, read_lhe_header

vector.register_awkward()

logger = logging.getLogger(__name__)

__all__ = [
    "SHOWER_SCHEMA",
    "EventRange",
    "ShowerChunk",
    "concatenate_showered",
    "iter_shower",
    "iter_showered",
    "shower_files",
    "shower_lhe",
    "showered_n_events",
    "showered_source_identity",
    "split_events",
    "worker_init",
]

#: JSON Schema of the analysis card's ``shower:`` section
SHOWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "mpi": {"type": "boolean"},
        "hadronisation": {"type": "boolean"},
        "isr": {"type": "boolean"},
        "fsr": {"type": "boolean"},
        "seed": {"type": "integer", "minimum": 0, "maximum": 900000000},
        "batch_size": {"type": "integer", "minimum": 1},
        "n_workers": {"type": "integer", "minimum": 1},
        "settings": {"type": "array", "items": {"type": "string"}},
        "hepmc_history": {"type": "boolean"},
    },
}
register_section("shower", SHOWER_SCHEMA)

_MAX_SEED = 900_000_000


@dataclass(frozen=True)
class ShowerChunk:
    """Showered events.

    Attributes:
        particles: (n, var) final-state ``Momentum4D`` records (px, py, pz, E [GeV], pid, charge).
        bhadrons, chadrons: (n, var) ``Momentum4D`` b and c hadrons with pT > 5 GeV (tagging truth).
        weights: (n, W) [pb]; weight_names: their names (``"nominal"`` first).
        first_event: index of the first event among the showered events of the source.
        record: (n, var) Pythia's whole event record (id, status, mother1/2, daughter1/2, p, m,
            vProd, ...), only with ``iter_shower(..., keep_record=True)``; not stored in files.
    """

    particles: ak.Array
    bhadrons: ak.Array
    chadrons: ak.Array
    weights: np.ndarray
    weight_names: tuple[str, ...]
    first_event: int = 0
    record: ak.Array | None = None

    def __len__(self) -> int:
        return len(self.weights)


def _pythia() -> Any:
    try:
        import pythia8mc
    except ImportError:
        raise MissingDependencyError("pythia8mc", "pythia") from None
    return pythia8mc


def _is_hadron_of(apid: np.ndarray, quark: int) -> np.ndarray:
    meson = ((apid // 100) % 10 == quark) & ((apid // 1000) % 10 == 0) & (apid > 100)
    baryon = (apid // 1000) % 10 == quark
    return (meson | baryon) & (apid < 1_000_000)


def _batch_to_chunk(
    batch: ak.Array, names: tuple[str, ...], scale: float, first: int, *, keep_record: bool = False
) -> ShowerChunk:
    prt = batch.prt
    counts = ak.num(prt, axis=1)
    flat = ak.flatten(prt)
    pid = np.asarray(ak.to_numpy(flat.id), dtype=np.int64)
    status = np.asarray(ak.to_numpy(flat.status))
    mom = flat.p
    px, py, pz, e = (np.asarray(ak.to_numpy(getattr(mom, c)), dtype=np.float64) for c in ("px", "py", "pz", "E"))
    event = np.repeat(np.arange(len(batch)), np.asarray(counts))
    final = status > 0

    def select(mask: np.ndarray, with_charge: bool) -> ak.Array:
        fields: dict[str, Any] = {"px": px[mask], "py": py[mask], "pz": pz[mask], "E": e[mask], "pid": pid[mask]}
        if with_charge:
            fields["charge"] = pid_charge(pid[mask])
        rec = ak.zip(fields, with_name="Momentum4D")
        return ak.unflatten(rec, np.bincount(event[mask], minlength=len(batch)))

    apid = np.abs(pid)
    pt = np.hypot(px, py)
    had_b = _is_hadron_of(apid, 5) & (pt > 5.0)
    had_c = _is_hadron_of(apid, 4) & (pt > 5.0)
    weights = np.asarray(ak.to_numpy(batch.info.weights), dtype=np.float64).reshape(len(batch), -1)
    return ShowerChunk(
        particles=select(final, True),
        bhadrons=select(had_b, False),
        chadrons=select(had_c, False),
        weights=weights * scale,
        weight_names=names,
        first_event=first,
        record=prt if keep_record else None,
    )


def _lhe_scale(header: Any, normalise: bool, n_events: int | None) -> float:
    """Weight factor for the showered events: :func:`lhcgold.io.lhe.lhe_weight_scale` (MG5's
    ``event_norm``; a subset of K of N events is reweighted by N / K so it keeps sigma)."""
    first = None
    if normalise and header.event_norm is None:
        first = next(iter_lhe(header.path, chunk_size=1000, n_events=1000, normalise=False)).nominal
    return lhe_weight_scale(header, normalise=bool(normalise), n_events=n_events, first_weights=first)


def _derive_seed(seed: int | None, index: int) -> int:
    ss = np.random.SeedSequence(seed).spawn(index + 1)[index]
    return int(ss.generate_state(1)[0] % _MAX_SEED) + 1


@dataclass(frozen=True)
class EventRange:
    """A contiguous part of an event file: ``count`` events from event ``start``; ``index`` among the parts."""

    index: int
    start: int
    count: int


def split_events(n_events: int, n_parts: int) -> list[EventRange]:
    """Cut ``n_events`` events into at most ``n_parts`` contiguous, non-empty parts of near-equal size.

    Raises:
        ConfigError: ``n_parts`` < 1.
    """
    if isinstance(n_parts, bool) or not isinstance(n_parts, (int, np.integer)) or n_parts < 1:
        raise ConfigError(f"the number of parallel processes must be a positive integer, got {n_parts!r}")
    n = max(min(int(n_parts), int(n_events)), 1)
    edges = [round(k * n_events / n) for k in range(n + 1)]
    return [
        EventRange(index=k, start=edges[k], count=edges[k + 1] - edges[k]) for k in range(n) if edges[k + 1] > edges[k]
    ]


def iter_shower(
    path: str | Path,
    *,
    batch_size: int = 1000,
    n_events: int | None = None,
    mpi: bool = True,
    hadronisation: bool = True,
    isr: bool = True,
    fsr: bool = True,
    seed: int | None = 1,
    settings: Sequence[str] = (),
    normalise: bool = True,
    skip_events: int = 0,
    progress: bool = False,
    keep_record: bool = False,
) -> Iterator[ShowerChunk]:
    """Shower and hadronise one LHE file, yielding chunks of final-state particles.

    Args:
        path: LHE file (plain or gzipped).
        batch_size: events per ``nextBatch`` call (and per chunk).
        n_events: stop after this many events (default: the whole file).
        mpi: multiparton interactions (Pythia's ``PartonLevel:MPI``).
        hadronisation: hadronisation (``HadronLevel:all``).
        isr: initial-state radiation (``PartonLevel:ISR``).
        fsr: final-state radiation (``PartonLevel:FSR``).
        seed: Pythia's random seed (1..900000000; None: Pythia's time-based seed).
        settings: more Pythia settings (``"Key = value"`` strings), applied last.
        normalise: weights in pb summing to sigma over the events read (MG5's ``event_norm``; a subset
            keeps sigma, see :func:`lhcgold.io.lhe.lhe_weight_scale`).
        skip_events: start after the first ``skip_events`` events of the file (Pythia's
            ``Beams:nSkipLHEFatInit``, streamed); ``n_events`` then counts from there. The weights are
            normalised as for a subset of the events read, so each part of a split file sums to sigma
            and parts averaged by their sizes (:func:`split_events`) give the whole file's sigma.
        progress: tqdm progress bar on stderr.
        keep_record: also return Pythia's whole event record (``ShowerChunk.record``: every
            particle of the history with its mothers and daughters), e.g. for HepMC with history.

    Raises:
        EventFileError: the file is missing or not an LHE file.
        ExternalToolError: Pythia fails to initialise.
    """
    p = Path(path)
    if n_events is not None and n_events < 1:
        raise ConfigError(f"n_events must be >= 1, got {n_events}")
    header = read_lhe_header(p)
    n_file = count_lhe_events(p)
    if isinstance(skip_events, bool) or not 0 <= skip_events <= n_file:
        raise ConfigError(f"skip_events must be in 0..{n_file} (the events of {str(p)!r}), got {skip_events!r}")
    left = n_file - skip_events
    total = left if n_events is None else min(n_events, left)
    if total < 1:
        return
    scale = _lhe_scale(header, normalise, n_events if skip_events == 0 else total)
    pythia8mc = _pythia()
    pythia = pythia8mc.Pythia("", False)
    base = [
        "Beams:frameType = 4",
        f"Beams:LHEF = {p}",
        f"PartonLevel:MPI = {'on' if mpi else 'off'}",
        f"HadronLevel:all = {'on' if hadronisation else 'off'}",
        f"PartonLevel:ISR = {'on' if isr else 'off'}",
        f"PartonLevel:FSR = {'on' if fsr else 'off'}",
        "Next:numberCount = 0",
        "Next:numberShowEvent = 0",
        "Next:numberShowInfo = 0",
        "Next:numberShowProcess = 0",
        "Next:numberShowLHA = 0",
        "Init:showChangedSettings = off",
        "Init:showChangedParticleData = off",
        "Init:showProcesses = off",
        "Print:quiet = on",
        "SLHA:verbose = 0",
        f"Beams:nSkipLHEFatInit = {int(skip_events)}",
    ]
    if seed is not None:
        if not 0 <= int(seed) <= _MAX_SEED:
            raise ValueError(f"seed must be in 0..{_MAX_SEED}")
        base += ["Random:setSeed = on", f"Random:seed = {int(seed)}"]
    for s in (*base, *settings):
        if not pythia.readString(s):
            raise ExternalToolError(f"Pythia rejected the setting {s!r}", command=["pythia8mc"])
    if not pythia.init():
        raise ExternalToolError(f"Pythia failed to initialise on {str(p)!r}", command=["pythia8mc"])
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"shower {p.name}", total=total, unit=" events")
    done = 0
    names: tuple[str, ...] | None = None
    try:
        while done < total:
            want = min(batch_size, total - done)
            batch = pythia.nextBatch(want)
            if names is None:
                info = pythia.infoPython()
                raw = [info.weightNameByIndex(i) for i in range(info.numberOfWeights())]
                names = tuple("nominal" if (k == 0 and n in ("Weight", "")) else n for k, n in enumerate(raw))
            if batch is None or len(batch) == 0:
                break
            chunk = _batch_to_chunk(batch, names, scale, skip_events + done, keep_record=keep_record)
            done += want
            if bar is not None:
                bar.update(want)
            yield chunk
            if pythia.infoPython().atEndOfFile():
                break
    finally:
        if bar is not None:
            bar.close()


def concatenate_showered(chunks: Sequence[ShowerChunk]) -> ShowerChunk:
    """Join chunks (with the same weight names)."""
    if not chunks:
        raise EventFileError("no showered events")
    names = chunks[0].weight_names
    for c in chunks:
        if c.weight_names != names:
            raise EventFileError(f"cannot join showered events with weights {c.weight_names} and {names}")
    return ShowerChunk(
        particles=ak.concatenate([c.particles for c in chunks]),
        bhadrons=ak.concatenate([c.bhadrons for c in chunks]),
        chadrons=ak.concatenate([c.chadrons for c in chunks]),
        weights=np.concatenate([c.weights for c in chunks]),
        weight_names=names,
    )


def shower_lhe(
    paths: str | Path | Sequence[str | Path],
    *,
    n_events: int | None = None,
    mpi: bool = True,
    hadronisation: bool = True,
    seed: int | None = 1,
    settings: Sequence[str] = (),
    batch_size: int = 1000,
    progress: bool = False,
) -> ShowerChunk:
    """Shower LHE files into memory (one after the other; file k gets a seed derived from ``seed``).

    For large samples, stream with :func:`iter_shower` or write files with :func:`shower_files`.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    chunks = []
    for k, path in enumerate(paths):
        s = seed if (seed is None or len(paths) == 1) else _derive_seed(seed, k)
        chunks += list(
            iter_shower(
                path,
                n_events=n_events,
                mpi=mpi,
                hadronisation=hadronisation,
                seed=s,
                settings=settings,
                batch_size=batch_size,
                progress=progress,
            )
        )
    return concatenate_showered(chunks)


# ---------------------------------------------------------------------------------------------
# files

FORMAT = "lhcgold-showered"


def _write_chunk(group: Any, chunk: ShowerChunk) -> None:
    def put(name: str, arr: ak.Array) -> None:
        fields = {
            f: (
                ak.values_astype(arr[f], np.float32)
                if f in ("px", "py", "pz", "E")
                else ak.values_astype(arr[f], np.int32)
                if f == "pid"
                else ak.values_astype(arr[f], np.int8)
            )
            for f in arr.fields
        }
        packed = ak.to_packed(ak.zip(fields, with_name="Momentum4D"))
        form, length, buffers = ak.to_buffers(packed)
        g = group.create_group(name)
        g.attrs["form"] = form.to_json()
        g.attrs["length"] = length
        for key, buf in buffers.items():
            g.create_dataset(key, data=np.asarray(buf), compression="gzip", compression_opts=1, shuffle=True)

    put("particles", chunk.particles)
    put("bhadrons", chunk.bhadrons)
    put("chadrons", chunk.chadrons)
    group.create_dataset("weights", data=chunk.weights)


def _read_array(g: Any) -> ak.Array:
    buffers = {k: g[k][()] for k in g.keys()}
    arr = ak.from_buffers(ak.forms.from_json(g.attrs["form"]), int(g.attrs["length"]), buffers)
    fields = {
        f: (ak.values_astype(arr[f], np.float64) if f in ("px", "py", "pz", "E", "charge") else arr[f])
        for f in arr.fields
    }
    return ak.zip(fields, with_name="Momentum4D")


def _shower_one(args: tuple[str, str, dict[str, Any]]) -> tuple[str, int]:
    import h5py

    src, out, opts = args
    overwrite = opts.pop("overwrite", False)
    n = 0
    with atomic_path(out, overwrite=overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["lhcgold_format"] = FORMAT
        f.attrs["lhcgold_version"] = __version__
        f.attrs["source"] = str(src)
        f.attrs["options"] = json.dumps({k: v for k, v in opts.items() if k != "progress"})
        chunks = f.create_group("chunks")
        names: tuple[str, ...] = ()
        for k, chunk in enumerate(iter_shower(src, **opts)):
            _write_chunk(chunks.create_group(f"{k:06d}"), chunk)
            names = chunk.weight_names
            n += len(chunk)
        f.attrs["weight_names"] = json.dumps(list(names))
        f.attrs["n_events"] = n
        f.attrs["source_sample_id"] = _shower_sample_id(src, opts)
    return out, n


def _shower_sample_id(src: str, opts: dict[str, Any]) -> str:
    """Identity of a showered sample: its LHE's (:func:`lhcgold.io.lhe.lhe_source_identity`) and the
    shower switches and settings, not the seed nor the number of events."""
    settings = {
        k: v
        for k, v in opts.items()
        if k not in ("seed", "n_events", "progress", "batch_size", "overwrite", "skip_events")
    }
    blob = json.dumps({"lhe": lhe_source_identity(src), "shower": settings}, sort_keys=True, default=str)
    return "lhcgold-shower:" + hashlib.sha256(blob.encode()).hexdigest()[:32]


def showered_source_identity(path: str | Path) -> str | None:
    """The sample identity recorded in a showered-events file (None for files that lack it)."""
    import h5py

    with h5py.File(path, "r") as f:
        value = f.attrs.get("source_sample_id")
    return None if value is None else str(value.decode() if isinstance(value, bytes) else value)


def showered_n_events(path: str | Path) -> int:
    """Number of events in a showered-events file."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs["n_events"])
    except (OSError, KeyError) as exc:
        raise EventFileError(f"{str(path)!r}: not a complete showered-events file: {exc}") from exc


def shower_files(
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    *,
    n_workers: int = 1,
    n_events: int | None = None,
    mpi: bool = True,
    hadronisation: bool = True,
    seed: int | None = 1,
    settings: Sequence[str] = (),
    batch_size: int = 1000,
    overwrite: bool = False,
    progress: bool = False,
) -> list[tuple[Path, int]]:
    """Shower several LHE files, in parallel processes, each into its own HDF5 file (atomic writes).

    File k gets a seed derived from ``seed`` and k (``numpy.random.SeedSequence``), so results do not
    depend on ``n_workers`` when there are several inputs. One input with ``n_workers`` > 1 is cut
    into ``n_workers`` contiguous parts showered in parallel (part k with the seed derived from
    ``seed`` and k) and joined into one file whose weights sum to the same sigma as with one process.

    Returns:
        (output path, number of events) per input.
    """
    if len(inputs) != len(outputs):
        raise ValueError("one output per input is needed")
    jobs = []
    for k, (src, out) in enumerate(zip(inputs, outputs)):
        s = seed if (seed is None or len(inputs) == 1) else _derive_seed(seed, k)
        opts = {
            "n_events": n_events,
            "mpi": mpi,
            "hadronisation": hadronisation,
            "seed": s,
            "settings": tuple(settings),
            "batch_size": batch_size,
            "progress": progress,
            "overwrite": overwrite,
        }
        jobs.append((str(src), str(out), opts))
    if n_workers > 1 and len(jobs) == 1:
        results = [_shower_split(jobs[0], n_workers)]
    elif n_workers <= 1 or len(jobs) == 1:
        results = [_shower_one(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_shower_one, jobs))
    return [(Path(o), n) for o, n in results]


def worker_init() -> None:
    """Initializer of worker processes: Ctrl-C and SIGTERM are the parent's to handle (it ends the
    workers, then removes the temporaries, see :mod:`lhcgold.cli`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _shower_split(job: tuple[str, str, dict[str, Any]], n_workers: int) -> tuple[str, int]:
    """Shower one LHE file in ``n_workers`` processes (contiguous parts, seeds derived per part) and
    join the parts into one file. Each part's weights sum to sigma on their own; part k's are scaled by
    n_k / N, so the joined weights are those of one process (sigma exactly the same up to rounding)."""
    src, out, opts = job
    base = {k: v for k, v in opts.items() if k != "overwrite"}
    n_file = count_lhe_events(src)
    n_total = n_file if base.get("n_events") is None else min(int(base["n_events"]), n_file)
    ranges = split_events(n_total, n_workers)
    seed = base.get("seed")
    parent = Path(out).parent if Path(out).parent.exists() else None
    with tempfile.TemporaryDirectory(dir=parent, prefix=".lhcgold-shower-") as tmp:
        parts = [
            (
                src,
                str(Path(tmp) / f"part{r.index:03d}.h5"),
                {
                    **base,
                    "n_events": r.count,
                    "skip_events": r.start,
                    "progress": False,
                    "seed": None if seed is None else _derive_seed(seed, r.index),
                },
            )
            for r in ranges
        ]
        logger.info("%s: %d events showered in %d processes", src, n_total, len(parts))
        # leaving the block (also on Ctrl-C / SIGTERM) terminates and joins the workers first
        with get_context("spawn").Pool(len(parts), initializer=worker_init) as pool:
            pool.map(_shower_one, parts, chunksize=1)
        n = _join_showered(
            [Path(p[1]) for p in parts],
            Path(out),
            factors=[r.count / n_total for r in ranges],
            attrs={
                "source": str(src),
                "options": json.dumps({k: v for k, v in base.items() if k != "progress"}),
                "source_sample_id": _shower_sample_id(src, base),
            },
            overwrite=bool(opts.get("overwrite", False)),
        )
    return out, n


def _join_showered(
    parts: Sequence[Path], out: Path, *, factors: Sequence[float], attrs: dict[str, Any], overwrite: bool
) -> int:
    """Concatenate showered-events files chunk by chunk (weights of part k times ``factors[k]``)."""
    import h5py

    n = 0
    k = 0
    names: list[str] | None = None
    with atomic_path(out, overwrite=overwrite) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["lhcgold_format"] = FORMAT
        f.attrs["lhcgold_version"] = __version__
        for key, value in attrs.items():
            f.attrs[key] = value
        chunks = f.create_group("chunks")
        for part, factor in zip(parts, factors):
            with h5py.File(part, "r") as g:
                if not int(g.attrs["n_events"]):
                    continue
                part_names = json.loads(g.attrs["weight_names"])
                if names is None:
                    names = part_names
                elif part_names != names:
                    raise EventFileError(f"parts of one file with different weights: {part_names} vs {names}")
                for key in sorted(g["chunks"].keys()):
                    dst = f"{k:06d}"
                    g.copy(g["chunks"][key], chunks, name=dst)
                    chunks[dst]["weights"][...] = chunks[dst]["weights"][()] * factor
                    k += 1
                n += int(g.attrs["n_events"])
        f.attrs["weight_names"] = json.dumps(list(names or []))
        f.attrs["n_events"] = n
    return n


def iter_showered(path: str | Path) -> Iterator[ShowerChunk]:
    """Read a file written by :func:`shower_files`, chunk by chunk."""
    import h5py

    p = Path(path)
    try:
        f = h5py.File(p, "r")
    except FileNotFoundError:
        raise EventFileError(f"{str(p)!r}: no such file") from None
    except OSError as exc:
        raise EventFileError(f"{str(p)!r}: not an HDF5 file: {exc}") from exc
    with f:
        if f.attrs.get("lhcgold_format") != FORMAT:
            raise EventFileError(f"{str(p)!r}: not a showered-events file written by lhcgold")
        first = 0
        try:
            names = tuple(json.loads(f.attrs["weight_names"]))
            keys = sorted(f["chunks"].keys())
        except (KeyError, ValueError, TypeError, OSError) as exc:
            raise EventFileError(
                f"{str(p)!r}: malformed showered-events file (weight_names or chunks/): {exc}"
            ) from exc
        for key in keys:
            try:
                g = f["chunks"][key]
                w = g["weights"][()]
                chunk = ShowerChunk(
                    particles=_read_array(g["particles"]),
                    bhadrons=_read_array(g["bhadrons"]),
                    chadrons=_read_array(g["chadrons"]),
                    weights=w,
                    weight_names=names,
                    first_event=first,
                )
            except (KeyError, ValueError, TypeError, OSError) as exc:
                raise EventFileError(
                    f"{str(p)!r}: malformed or damaged showered-events chunk {key!r} (events from {first}): {exc}"
                ) from exc
            yield chunk
            first += len(w)


def is_showered_file(path: str | Path) -> bool:
    """Whether ``path`` is a showered-events file written by :func:`shower_files`."""
    try:
        import h5py

        with h5py.File(path, "r") as f:
            return bool(f.attrs.get("lhcgold_format") == FORMAT)
    except (OSError, ValueError):
        return False
