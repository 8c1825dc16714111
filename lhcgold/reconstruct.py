"""Reconstruction: event files in, observables and per-benchmark weights out (the events file).

Inputs (detected by content): LHE files (ours or MG5's), Delphes ROOT files, and showered-events
files written by :func:`lhcgold.shower.shower_files`. Levels:

* ``"parton"``: LHE final-state particles as the objects (no smearing); names ``p`` (all final-state
  particles) and ``v`` (neutrinos) are also available; MET = the neutrinos' p_T sum;
* ``"detector"`` (default): LHE files are showered with Pythia (``shower=True``; else the fast
  detector acts on the partons), showered files go through the fast detector
  (:func:`lhcgold.detector.simulate`), Delphes files are read as they are.

Weights: each setup benchmark takes the source's weight column with the same name (MG5
``<rwgt>`` ids, Delphes ``Weight.Weight`` entries named from the LHE); the sampling benchmark
(``sampled_from``, or detected as the benchmark whose weight equals XWGTUP in every event of the
first chunk) falls back on the nominal weight; background samples copy the nominal weight to
every benchmark. Per sampling run the weights sum to that run's cross section [pb].

Python API::

    from lhcgold.reconstruct import ReconstructionSample, reconstruct
    result = reconstruct(["run_01.lhe.gz", ReconstructionSample("run_02.lhe.gz", sampled_from="cwww_p10")],
                         "events.h5", setup=setup, observables=obs, cuts=cuts, level="parton")
    result.n_read, result.n_written, result.xsec_pb      # per benchmark, after cuts

Everything streams in chunks (memory flat); the output is written atomically and shuffled out of
core by default (:func:`lhcgold.io.combine.combine_and_shuffle`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import awkward as ak
import numpy as np

from ._renamed import module_getattr as _module_getattr
from ._version import __version__
from .config import check_section
from .config.sections import register_section
from .detector import detector_from_card, simulate
from .exceptions import ConfigError, EventFileError, unknown_name_error
from .io.delphes import iter_delphes
from .io.lhe import count_lhe_events, iter_lhe, lhe_source_identity, read_lhe_header
from .io.lhe_weights import nuisance_layout, nuisance_weights
from .observables import Cut, Efficiency, Observable, compile_analysis, compute, from_card
from .observables.objects import RecoEvents, make_met, sort_by_pt
from .physics.morphing import component_factors
from .shower import (
    SHOWER_SCHEMA,
    is_showered_file,
    iter_shower,
    iter_showered,
    showered_n_events,
    showered_source_identity,
    split_events,
    worker_init,
)

if TYPE_CHECKING:
    from .io.combine import CombineMode

logger = logging.getLogger(__name__)

__all__ = [
    "RECONSTRUCT_SCHEMA",
    "ReconstructResult",
    "ReconstructionSample",
    "detect_kind",
    "iter_reco_events",
    "parton_level",
    "reconstruct",
]

Level = Literal["parton", "detector"]

#: JSON Schema of the card's ``reconstruct:`` section
RECONSTRUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "level": {"enum": ["parton", "detector"]},
        "shower": {"type": "boolean"},
        "chunk_size": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer", "minimum": 0},
        "shuffle": {"type": "boolean"},
        "efficiencies": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "systematics": {"type": "array", "uniqueItems": True, "items": {"enum": ["scale", "mur", "muf", "pdf"]}},
    },
}
register_section("reconstruct", RECONSTRUCT_SCHEMA)


@dataclass(frozen=True)
class ReconstructionSample:
    """An input file and how to use its weights.

    Attributes:
        path: LHE, Delphes ROOT or showered file.
        sampled_from: the benchmark the events were generated at (name or index); None: detect.
        is_background: copy the nominal weight to every benchmark; sampling id -1.
        k_factor: multiplies all weights.
        lhe: for Delphes files, the LHE file they came from (weight names, ``event_norm``).
        weight_map: benchmark name -> source weight name, overriding the same-name rule.
    """

    path: str | os.PathLike[str]
    sampled_from: str | int | None = None
    is_background: bool = False
    k_factor: float = 1.0
    lhe: str | os.PathLike[str] | None = None
    weight_map: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReconstructResult:
    """What :func:`reconstruct` did: output path, events read and written, sigma per benchmark."""

    path: Path
    n_read: int
    n_written: int
    xsec_pb: np.ndarray
    benchmark_names: tuple[str, ...]


def detect_kind(path: str | os.PathLike[str]) -> Literal["lhe", "delphes", "showered"]:
    """Which reader a file needs, from its first bytes."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(8)
    except FileNotFoundError:
        raise EventFileError(f"{str(p)!r}: no such file") from None
    if magic.startswith(b"root"):
        return "delphes"
    if p.suffix.lower() == ".root":
        raise EventFileError(f"{str(p)!r}: not a ROOT file (a .root name, but no ROOT header)")
    if not magic:
        raise EventFileError(f"{str(p)!r}: empty file")
    if magic.startswith(b"\x89HDF"):
        if is_showered_file(p):
            return "showered"
        raise EventFileError(f"{str(p)!r}: an HDF5 file that is not a showered-events file")
    return "lhe"


_NEUTRINOS = (12, 14, 16)


def parton_level(chunk: Any) -> RecoEvents:
    """Objects straight from LHE final-state particles (no detector)."""
    p = chunk.particles
    apid = abs(p.pid)

    def take(mask: Any) -> ak.Array:
        sel = p[mask]
        return sort_by_pt(
            ak.zip(
                {"pt": sel.pt, "eta": sel.eta, "phi": sel.phi, "mass": sel.mass, "charge": sel.charge, "pid": sel.pid},
                with_name="Momentum4D",
            )
        )

    nu_mask = (apid == 12) | (apid == 14) | (apid == 16)
    jets = p[(apid <= 5) | (apid == 21)]
    jets = sort_by_pt(
        ak.zip(
            {
                "pt": jets.pt,
                "eta": jets.eta,
                "phi": jets.phi,
                "mass": jets.mass,
                "charge": jets.charge,
                "btag": ak.values_astype(abs(jets.pid) == 5, np.int64),
                "tautag": ak.zeros_like(jets.pid),
            },
            with_name="Momentum4D",
        )
    )
    nu = p[nu_mask]
    mx, my = ak.to_numpy(ak.sum(nu.px, axis=1)), ak.to_numpy(ak.sum(nu.py, axis=1))
    weights = np.concatenate([chunk.nominal[:, None], chunk.weights], axis=1)
    return RecoEvents(
        electrons=take(apid == 11),
        muons=take(apid == 13),
        photons=take(p.pid == 22),
        jets=jets,
        met=make_met(np.hypot(mx, my), np.arctan2(my, mx)),
        weights=weights,
        weight_names=("nominal", *chunk.weight_names),
        truth=p,
        extra={"v": take(nu_mask)},
    )


def iter_reco_events(
    sample: ReconstructionSample | str | os.PathLike[str],
    *,
    level: Level = "detector",
    shower: bool = True,
    detector: Any = "atlas",
    shower_options: dict[str, Any] | None = None,
    chunk_size: int = 10_000,
    rng: np.random.Generator | int | None = None,
    n_events: int | None = None,
    progress: bool = False,
) -> Iterator[RecoEvents]:
    """Chunks of :class:`RecoEvents` from one input file (see the module docstring for levels)."""
    s = sample if isinstance(sample, ReconstructionSample) else ReconstructionSample(sample)
    kind = detect_kind(s.path)
    gen = np.random.default_rng(rng)
    if kind == "delphes":
        if level == "parton":
            raise ConfigError(f"{str(s.path)!r} is a Delphes file: parton level is not available")
        yield from iter_delphes(s.path, chunk_size=chunk_size, lhe=s.lhe, n_events=n_events, progress=progress)
        return
    if kind == "showered":
        if level == "parton":
            raise ConfigError(f"{str(s.path)!r} holds showered events: parton level is not available")
        for ch in _showered_subset(s.path, n_events):
            yield simulate(ch, preset=detector, rng=gen)
        return
    if level == "parton":
        for ch in iter_lhe(s.path, chunk_size=chunk_size, n_events=n_events, progress=progress):
            yield parton_level(ch)
        return

    if shower:
        opts = dict(shower_options or {})
        opts.setdefault("seed", int(gen.integers(1, 900_000_000)))
        opts.setdefault("batch_size", min(chunk_size, 2000))
        for sc in iter_shower(s.path, n_events=n_events, progress=progress, **opts):
            yield simulate(sc, preset=detector, rng=gen)
    else:
        for ch in iter_lhe(s.path, chunk_size=chunk_size, n_events=n_events, progress=progress):
            yield simulate(ch, preset=detector, rng=gen)


def _showered_subset(path: str | os.PathLike[str], n_events: int | None) -> Iterator[Any]:
    """Chunks of a showered file; the first ``n_events`` of N events reweighted by N / n_events."""

    n_file = showered_n_events(path)
    if n_events is None or n_events >= n_file:
        yield from iter_showered(path)
        return
    factor = n_file / n_events
    seen = 0
    for ch in iter_showered(path):
        if seen >= n_events:
            break
        take = min(len(ch), n_events - seen)
        if take < len(ch):
            ch = replace(
                ch,
                particles=ch.particles[:take],
                bhadrons=ch.bhadrons[:take],
                chadrons=ch.chadrons[:take],
                weights=ch.weights[:take],
            )
        seen += take
        yield replace(ch, weights=ch.weights * factor)


def _weight_columns(
    names: tuple[str, ...],
    benchmarks: tuple[str, ...],
    sample: ReconstructionSample,
    first: RecoEvents,
    *,
    morphable: bool = False,
) -> tuple[np.ndarray, int]:
    """Source column per benchmark (-1: morphed from the component weights when ``morphable``), and the
    sampling benchmark index."""
    idx = {n: k for k, n in enumerate(names)}
    nominal = idx.get("nominal", 0)
    if sample.is_background:
        return np.full(len(benchmarks), nominal), -1
    if isinstance(sample.sampled_from, str):
        if sample.sampled_from not in benchmarks:
            raise unknown_name_error("benchmark", sample.sampled_from, benchmarks)
        sampling = benchmarks.index(sample.sampled_from)
    elif isinstance(sample.sampled_from, int):
        if not 0 <= sample.sampled_from < len(benchmarks):
            raise ConfigError(f"sampled_from index {sample.sampled_from} outside 0..{len(benchmarks) - 1}")
        sampling = sample.sampled_from
    else:
        sampling = -2
        w = first.weights
        for b, name in enumerate(benchmarks):
            col = idx.get(sample.weight_map.get(name, name))
            if (
                col is not None
                and col != nominal
                and len(w)
                and np.allclose(w[:, col], w[:, nominal], rtol=1e-6, atol=0)
            ):
                sampling = b
                break
        if sampling == -2:
            missing = [b for b in benchmarks if sample.weight_map.get(b, b) not in idx]
            if len(missing) == 1:
                sampling = benchmarks.index(missing[0])
            else:
                raise ConfigError(
                    f"{str(sample.path)!r}: cannot tell which benchmark the events were generated at "
                    f"(no benchmark weight equals the nominal weight); pass sampled_from"
                )
        logger.info("%s: sampled from benchmark %r", sample.path, benchmarks[sampling])
    cols = []
    for b, name in enumerate(benchmarks):
        src = sample.weight_map.get(name, name)
        if src in idx:
            cols.append(idx[src])
        elif b == sampling:
            cols.append(nominal)
        elif morphable:
            cols.append(-1)  # e.g. a basis benchmark the setup added: w_b = sum_c f_c(theta_b) m_c
        else:
            raise EventFileError(
                f"{str(sample.path)!r}: no weight for benchmark {name!r} (weights: {', '.join(names)})"
            )
    return np.asarray(cols), sampling


def _morphed_benchmarks(setup: Any, cols: np.ndarray) -> np.ndarray | None:
    """(M, C) component factors f_c(θ_b) of the benchmarks without a weight of their own (cols < 0)."""
    missing = np.flatnonzero(cols < 0)
    if missing.size == 0:
        return None

    thetas = np.array([setup.theta_of(setup.benchmark_names[b]) for b in missing])
    return component_factors(thetas, setup.components)


def reconstruct(
    inputs: Sequence[ReconstructionSample | str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    setup: Any,
    observables: Sequence[Observable],
    cuts: Sequence[Cut] = (),
    efficiencies: Sequence[Efficiency] = (),
    level: Level = "detector",
    shower: bool = True,
    detector: Any = "atlas",
    shower_options: dict[str, Any] | None = None,
    chunk_size: int = 10_000,
    rng: np.random.Generator | int | None = None,
    n_events: int | None = None,
    shuffle: bool = True,
    store_components: bool = False,
    overwrite: bool = False,
    attrs: dict[str, Any] | None = None,
    combine: CombineMode = "auto",
    n_workers: int = 1,
    progress: bool = False,
    systematics: Sequence[str] = (),
) -> ReconstructResult:
    """Read inputs, compute observables and cuts, write the events file (MadMiner layout).

    Each input is reconstructed into its own temporary file that records its sample identity
    (``sample_id``) and the events it was made from (``n_generated``); the files are then combined
    (:func:`lhcgold.io.combine.combine_and_shuffle`): shards of one sample are averaged, distinct
    samples kept, so sigma is never multiplied by the number of shards.

    Args:
        inputs: files or :class:`ReconstructionSample` objects.
        output: the events file.
        setup: a :class:`~lhcgold.config.Setup` (benchmarks and morphing).
        observables: see :mod:`lhcgold.observables`.
        cuts: see :mod:`lhcgold.observables`.
        efficiencies: see :mod:`lhcgold.observables`.
        level: see the module docstring.
        shower: see the module docstring.
        detector: see the module docstring.
        shower_options: see the module docstring.
        chunk_size: events per chunk.
        rng: seeds detector smearing and (derived) Pythia seeds.
        n_events: at most this many events per input (reweighted by N / n_events: sigma is kept).
        shuffle: shuffle the output (out of core).
        store_components: also store per-event morphing component weights: the source's own
            (weights named ``lhcgold_component_<k>``, k = 0..C-1) when it has them, else morphed from
            the basis benchmark weights (needs a setup with morphing).
        overwrite: replace an existing output.
        attrs: extra attributes for the file (card hash, ...).
        combine: how several inputs combine when their identity cannot be told (``"shards"`` or
            ``"samples"``); ``"auto"`` refuses then.
        n_workers: processes per input that Pythia showers: its events are cut into ``n_workers``
            contiguous parts, each showered in its own process with its own seeds (derived from
            ``rng``) and averaged back as shards of one sample (sigma and the event count as with
            one process). Other inputs are read in this process.
        progress: progress bars.
        systematics: store the inputs' scale/PDF weights as nuisance benchmarks (MadMiner's layout,
            see :mod:`lhcgold.io.lhe_weights`): ``"scale"`` (μR = μF varied together), ``"mur"`` or
            ``"muf"`` (at most one of the three) and/or ``"pdf"``. They are read from the LHE header's
            weight groups (MG5 ``use_syst``, or the embedded generator's ``--scale-variations``).

    Raises:
        ConfigError, EventFileError: bad observables, missing weights, unreadable inputs, no event
            passing the cuts. Nothing is left at ``output`` on failure.
    """
    from .io.combine import combine_and_shuffle
    from .io.events import EventFile

    out = Path(output)
    if out.exists() and not overwrite:
        raise EventFileError(f"{str(out)!r} exists; refusing to overwrite it (pass overwrite=True)")
    if n_events is not None and (isinstance(n_events, bool) or n_events < 1):
        raise ConfigError(f"n_events must be a positive number of events, got {n_events!r}")
    if store_components and setup.components is None:
        raise ConfigError("store_components needs a setup with morphing components")
    compiled = compile_analysis(observables, cuts=cuts, efficiencies=efficiencies)
    _check_n_workers(n_workers)
    systematics = _check_systematics(systematics)
    samples = [s if isinstance(s, ReconstructionSample) else ReconstructionSample(s) for s in inputs]
    gen = np.random.default_rng(rng)
    det_name = detector if isinstance(detector, str) else getattr(detector, "name", "custom")
    file_attrs = {
        "lhcgold_stage": "reconstruct",
        "level": level,
        "inputs": [str(s.path) for s in samples],
        "detector": det_name,
        **(attrs or {}),
    }
    job = _Job(
        setup=setup,
        observables=tuple(observables),
        compiled=compiled,
        level=level,
        shower=shower,
        detector=detector,
        shower_options=shower_options,
        chunk_size=chunk_size,
        n_events=n_events,
        store_components=store_components,
        attrs=file_attrs,
        progress=progress,
        systematics=systematics,
    )
    n_read = n_written = 0
    tmp_parent = out.parent if out.parent.exists() else None
    with tempfile.TemporaryDirectory(dir=tmp_parent, prefix=".lhcgold-reco-") as tmpdir:
        parts = []
        for k, sample in enumerate(samples):
            part = Path(tmpdir) / f"sample_{k:04d}.h5"
            done = (
                _reconstruct_split(
                    sample, part, job, rng=gen, n_workers=n_workers, analysis=(tuple(cuts), tuple(efficiencies))
                )
                if n_workers > 1 and _splittable(sample, job)
                else _reconstruct_sample(sample, part, job, rng=gen)
            )
            n_read += done.n_read
            n_written += done.n_written
            if done.n_read:
                parts.append(part)
        if n_written == 0:
            what = "no events were read" if n_read == 0 else f"none of the {n_read} events read passes the cuts"
            raise EventFileError(f"{what}: nothing to write to {str(out)!r} (check the cuts, the level and the inputs)")
        combine_and_shuffle(
            parts,
            out,
            overwrite=overwrite,
            rng=gen,
            shuffle=shuffle,
            mode=combine,
            chunk_size=max(chunk_size, 10_000),
            attrs=file_attrs,
        )
    xsec = EventFile(out).xsec_per_benchmark()
    logger.info("reconstructed %d events, %d pass the cuts, into %s", n_read, n_written, out)
    return ReconstructResult(
        path=out, n_read=n_read, n_written=n_written, xsec_pb=xsec, benchmark_names=tuple(setup.benchmark_names)
    )


@dataclass(frozen=True)
class _Job:
    """What every input of one :func:`reconstruct` call shares."""

    setup: Any
    observables: tuple[Observable, ...]
    compiled: Any
    level: Level
    shower: bool
    detector: Any
    shower_options: dict[str, Any] | None
    chunk_size: int
    n_events: int | None
    store_components: bool
    attrs: dict[str, Any]
    progress: bool
    systematics: tuple[str, ...] = ()


@dataclass(frozen=True)
class _SampleDone:
    n_read: int
    n_written: int


def _reconstruct_sample(
    sample: ReconstructionSample, part: Path, job: _Job, *, rng: np.random.Generator
) -> _SampleDone:
    """Reconstruct one input into its own events file ``part`` (with ``sample_id`` and ``n_generated``)."""
    from .io.events import EventWriter

    setup = job.setup
    benchmarks = tuple(setup.benchmark_names)
    n_c = 0 if setup.components is None else int(setup.components.shape[0])
    definitions = [o.definition if isinstance(o.definition, str) else "None" for o in job.observables]
    n_read = n_written = 0
    cols: np.ndarray | None = None
    comp_cols: np.ndarray | None = None
    morphed: np.ndarray | None = None
    sampling = 0
    layout = sample_nuisance_layout(sample, job.systematics)
    with EventWriter(
        part,
        setup,
        [o.name for o in job.observables],
        definitions=definitions,
        overwrite=True,
        attrs=job.attrs,
        negative_weights="warn",
        store_components=job.store_components,
        nuisance=layout,
    ) as writer:
        for reco in iter_reco_events(
            sample,
            level=job.level,
            shower=job.shower,
            detector=job.detector,
            shower_options=job.shower_options,
            chunk_size=job.chunk_size,
            rng=rng,
            n_events=job.n_events,
            progress=job.progress,
        ):
            if cols is None:
                names = [f"lhcgold_component_{k}" for k in range(n_c)]
                have = n_c > 0 and all(nm in reco.weight_names for nm in names)
                cols, sampling = _weight_columns(reco.weight_names, benchmarks, sample, reco, morphable=have)
                if have:
                    comp_cols = np.array([reco.weight_names.index(nm) for nm in names])
                morphed = _morphed_benchmarks(setup, cols)
            n_read += len(reco)
            res = compute(reco, job.observables, compiled=job.compiled)
            w = res.weights[:, np.maximum(cols, 0)]
            if morphed is not None:
                w[:, cols < 0] = res.weights[:, comp_cols] @ morphed.T
            w = w * sample.k_factor
            m = None
            if job.store_components:
                m = (
                    res.weights[:, comp_cols] * sample.k_factor
                    if comp_cols is not None
                    else setup.morpher.components_from_benchmarks(w[:, : setup.morphing_matrix.shape[1]])
                )
            nw = (
                None
                if layout is None
                else _nuisance_columns(
                    res.weights, reco.weight_names, w, layout, sampling=sampling, k_factor=sample.k_factor
                )
            )
            writer.append(res.values, w, sampling_benchmarks=sampling, component_weights=m, nuisance_weights=nw)
            n_written += len(w)
        if cols is None:
            logger.warning("%s: no events", sample.path)
        elif n_written == 0:
            logger.warning("%s: none of its %d events passes the cuts", sample.path, n_read)
        sid = sample_identity(sample, sampling=None if cols is None or sampling < 0 else benchmarks[sampling], job=job)
        writer.set_attrs({"sample_id": sid, "n_generated": n_read})
    return _SampleDone(n_read=n_read, n_written=n_written)


# ---------------------------------------------------------------------------------------------
# one input showered in several processes


def _check_n_workers(n_workers: Any) -> None:
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        raise ConfigError(f"n_workers (-j) must be a positive number of processes, got {n_workers!r}")


def _splittable(sample: ReconstructionSample, job: _Job) -> bool:
    """Whether an input is an LHE file that Pythia showers (the stage worth splitting)."""
    return job.level == "detector" and job.shower and detect_kind(sample.path) == "lhe"


@dataclass(frozen=True)
class _PartTask:
    """One part of a split input, for a worker process."""

    sample: ReconstructionSample
    path: str
    job: _Job
    analysis: tuple[tuple[Cut, ...], tuple[Efficiency, ...]]
    start: int
    count: int
    pythia_seed: int
    detector_seed: int


def _reconstruct_split(
    sample: ReconstructionSample,
    part: Path,
    job: _Job,
    *,
    rng: np.random.Generator,
    n_workers: int,
    analysis: tuple[tuple[Cut, ...], tuple[Efficiency, ...]],
) -> _SampleDone:
    """Reconstruct one LHE input in ``n_workers`` processes, each showering a contiguous part of its
    events, and average the parts into ``part`` as shards of one sample.

    Each part's weights sum to sigma (:func:`lhcgold.shower.iter_shower` with ``skip_events``); the
    shards are averaged with factors n_k / N, so sigma is the one of a single process (up to rounding)
    and so is the number of events. Part k gets the Pythia seed and detector seed spawned from one
    draw of ``rng`` (``numpy.random.SeedSequence``), so a seeded run is reproducible for a given
    ``n_workers``. Memory stays flat: parts stream their events and are written to disk.
    """

    from .io.combine import combine_and_shuffle

    n_file = count_lhe_events(sample.path)
    n_total = n_file if job.n_events is None else min(job.n_events, n_file)
    ranges = split_events(n_total, n_workers)
    seeds = np.random.SeedSequence(int(rng.integers(0, 2**63))).generate_state(2 * len(ranges), dtype=np.uint64)
    part_job = replace_job(job, progress=False, compiled=None)  # compiled analyses do not pickle
    tasks = [
        _PartTask(
            sample=sample,
            path=str(part.with_name(f"{part.stem}.part{r.index:03d}.h5")),
            job=part_job,
            analysis=analysis,
            start=r.start,
            count=r.count,
            pythia_seed=int(seeds[2 * r.index] % 900_000_000) + 1,
            detector_seed=int(seeds[2 * r.index + 1]),
        )
        for r in ranges
    ]
    logger.info("%s: %d events showered in %d processes", sample.path, n_total, len(tasks))
    if len(tasks) == 1:
        done = [_reconstruct_sample(sample, Path(tasks[0].path), replace_job(job, n_events=tasks[0].count), rng=rng)]
    else:
        # leaving the block (also on Ctrl-C / SIGTERM in this process) terminates and joins the
        # workers before the temporary directory with their part files is removed
        with get_context("spawn").Pool(len(tasks), initializer=worker_init) as pool:
            done = pool.map(_reconstruct_part, tasks, chunksize=1)
    kept = [Path(t.path) for t, d in zip(tasks, done) if d.n_read]
    n_read = sum(d.n_read for d in done)
    n_written = sum(d.n_written for d in done)
    if kept:
        combine_and_shuffle(
            kept,
            part,
            shuffle=False,
            mode="shards",
            overwrite=True,
            chunk_size=max(job.chunk_size, 10_000),
            attrs=job.attrs,
        )
    for t in tasks:
        Path(t.path).unlink(missing_ok=True)
    return _SampleDone(n_read=n_read, n_written=n_written)


def replace_job(job: _Job, **changes: Any) -> _Job:
    """A copy of ``job`` with some fields changed."""

    return replace(job, **changes)


def _reconstruct_part(task: _PartTask) -> _SampleDone:
    """Worker: shower and reconstruct events ``start`` .. ``start + count`` of one input."""
    opts = dict(task.job.shower_options or {})
    opts.update(seed=task.pythia_seed, skip_events=task.start)
    compiled = compile_analysis(task.job.observables, cuts=task.analysis[0], efficiencies=task.analysis[1])
    job = replace_job(task.job, shower_options=opts, n_events=task.count, compiled=compiled)
    return _reconstruct_sample(task.sample, Path(task.path), job, rng=np.random.default_rng(task.detector_seed))


_SCALE_CHOICES = {"scale": "mu", "mur": "mur", "muf": "muf"}


def _check_systematics(systematics: Sequence[str] | None) -> tuple[str, ...]:
    chosen = tuple(systematics or ())
    bad = [s for s in chosen if s not in (*_SCALE_CHOICES, "pdf")]
    if bad:
        raise ConfigError(f"unknown systematics {bad}: choose from scale, mur, muf, pdf")
    if sum(s in _SCALE_CHOICES for s in chosen) > 1:
        raise ConfigError(f"choose one scale systematic (scale, mur or muf), got {list(chosen)}")
    if len(set(chosen)) != len(chosen):
        raise ConfigError(f"systematics listed twice: {list(chosen)}")
    return chosen


def sample_nuisance_layout(sample: ReconstructionSample, systematics: Sequence[str]) -> Any:
    """The nuisance layout (:class:`~lhcgold.io.lhe_weights.NuisanceLayout`) of one input, or None.

    Read from the LHE header (the input's, or ``sample.lhe`` for Delphes files).

    Raises:
        ConfigError: systematics were asked for an input without an LHE header.
        EventFileError: the LHE file has no such weights.
    """
    if not systematics:
        return None

    kind = detect_kind(sample.path)
    source = sample.path if kind == "lhe" else sample.lhe if kind == "delphes" else None
    if source is None:
        raise ConfigError(
            f"{str(sample.path)!r}: systematics weights are read from an LHE header; "
            f"reconstruct the LHE file (or give the Delphes file's LHE)"
        )
    scale = next((_SCALE_CHOICES[s] for s in systematics if s in _SCALE_CHOICES), None)
    try:
        return nuisance_layout(
            read_lhe_header(source).header_text,
            scale=scale,  # type: ignore[arg-type]
            pdf="pdf" in systematics,
        )
    except EventFileError as exc:
        raise EventFileError(f"{str(source)!r}: {exc}") from None


def _nuisance_columns(
    source: np.ndarray, names: Sequence[str], w: np.ndarray, layout: Any, *, sampling: int, k_factor: float
) -> np.ndarray:
    """Nuisance benchmark weights of a chunk, rescaled to the reference benchmark (column 0 of ``w``):
    k · w_nuis · w_ref / w_sampling, as MadMiner's readers store them. w_sampling is the sampling
    benchmark's column when there is one (LHE ``<wgt>`` values carry more digits than XWGTUP), else
    the nominal weight."""

    names = tuple(names)
    if sampling >= 0:
        return nuisance_weights(source, names, w[:, sampling], layout, reference=w[:, 0]) * k_factor
    nominal = source[:, names.index("nominal") if "nominal" in names else 0]
    return nuisance_weights(source, names, nominal * k_factor, layout, reference=w[:, 0])


def source_identity(path: str | os.PathLike[str], *, lhe: str | os.PathLike[str] | None = None) -> str | None:
    """Identity of the sample an input file belongs to, or None when the file does not tell.

    LHE files written by lhcgold carry ``sample_id`` in their ``<lhcgold>`` header block; other LHE
    files (MG5) are named by a hash of their header (banner, cards) without the lines that differ
    between shards (seed, number of events, integrated weight, run tag). Showered files keep their
    LHE's identity; Delphes files take it from ``lhe``.
    """
    kind = detect_kind(path)
    if kind == "delphes":
        return None if lhe is None else "delphes:" + str(source_identity(lhe))
    if kind == "showered":
        return showered_source_identity(path)
    return lhe_source_identity(path)


def sample_identity(sample: ReconstructionSample, *, sampling: str | None, job: _Job) -> str | None:
    """Identity of a reconstructed sample: its source's, the sampling benchmark, background flag,
    k-factor, level, detector and analysis card; None when the source's identity is unknown."""
    src = source_identity(sample.path, lhe=sample.lhe)
    if src is None:
        return None
    blob = json.dumps(
        {
            "source": src,
            "sampling": sampling,
            "background": sample.is_background,
            "k_factor": sample.k_factor,
            "level": job.level,
            "shower": job.shower,
            "detector": str(job.attrs.get("detector")),
            "card_hash": str(job.attrs.get("card_hash")),
            "observables": [o.name for o in job.observables],
        },
        sort_keys=True,
    )
    return "lhcgold-reco:" + hashlib.sha256(blob.encode()).hexdigest()[:32]


def analysis_from_card(card: Any) -> dict[str, Any]:
    """Options for :func:`reconstruct` from an analysis card (observables, cuts, efficiencies,
    level, shower, detector, shower options), all validated."""
    observables, cuts, effs = from_card(card)
    rec = check_section(card, "reconstruct", RECONSTRUCT_SCHEMA)
    sh = check_section(card, "shower", SHOWER_SCHEMA)
    shower_options = {
        k: v for k, v in sh.items() if k in ("mpi", "hadronisation", "isr", "fsr", "seed", "batch_size", "settings")
    }
    if "settings" in shower_options:
        shower_options["settings"] = tuple(shower_options["settings"])
    return {
        "observables": observables,
        "cuts": cuts,
        "efficiencies": effs,
        "level": rec.get("level", "detector"),
        "shower": rec.get("shower", True),
        "detector": detector_from_card(card),
        "shower_options": shower_options,
        "chunk_size": rec.get("chunk_size", 10_000),
        "rng": rec.get("seed"),
        "shuffle": rec.get("shuffle", True),
        "systematics": tuple(rec.get("systematics", ())),
        "attrs": {"card_hash": card.card_hash, "lhcgold_version": __version__},
    }


__getattr__ = _module_getattr("lhcgold.reconstruct")
