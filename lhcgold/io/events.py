"""The events file: MadMiner's v0.9.3+ HDF5 layout, written and read in chunks.

Layout (MadMiner's, so madminer reads our files and we read theirs)::

    parameters/ benchmarks/ morphing/      the setup (see :mod:`lhcgold.io.setupfile`)
    observables/names, observables/definitions
    samples/observations       (E, O) float64
    samples/weights            (E, B) float64, pb; per sampling run they sum to its σ
    samples/sampling_benchmarks (E,) int64, -1 for background
    sample_summary/signal_events (B,), sample_summary/background_events ()

lhcgold adds, without breaking it: root attributes (``lhcgold_format_version``,
``lhcgold_version``, ``writer``, ``created``, ``seed``, ``card_hash``, ``n_events``, ...)
and a ``lhcgold/`` group with optional per-event morphing component weights
``lhcgold/component_weights`` (E, C) and precise component cross sections
``lhcgold/xsec_components`` (C,) with their errors.

Datasets are chunked and resizable: :class:`EventWriter` appends chunk by chunk and
:meth:`EventFile.iter_chunks` reads chunk by chunk, so memory does not grow with the file.
Files are written to a temporary name and renamed when complete. Datasets carry Fletcher-32
checksums (an HDF5 filter every reader applies transparently), so bytes damaged on disk are
detected on read; every chunk read is also checked for NaN/inf weights, infinite observables
(NaN observables are MadMiner's marker of a missing object) and invalid sampling indices, and
any such damage is an :class:`EventFileError` naming the file and the event.

Example:
    >>> import numpy as np, tempfile, os
    >>> from lhcgold.config import load_card_text
    >>> from lhcgold.setup import build_setup
    >>> setup = build_setup(load_card_text('''
    ... lhcgold_card: 1
    ... parameters: [{name: a, max_power: 2, range: [-1, 1]}]
    ... benchmarks: {sm: {a: 0}, p: {a: 1}, m: {a: -1}}
    ... '''))
    >>> path = os.path.join(tempfile.mkdtemp(), "events.h5")
    >>> with EventWriter(path, setup, ["x"]) as w:
    ...     w.append(np.zeros((4, 1)), np.ones((4, 3)), sampling_benchmarks=0)
    >>> EventFile(path).n_events
    4
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import h5py
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config import Setup
from ..exceptions import EventFileError
from .atomic import atomic_path
from .h5common import (
    EMPTY_EXPR,
    decode_strings,
    encode_strings,
    open_h5,
    read_setup_groups,
    write_setup_groups,
    writer_attrs,
)
from .lhe_weights import read_nuisance_groups, write_nuisance_groups

log = logging.getLogger(__name__)

__all__ = ["EventChunk", "EventFile", "EventWriter"]

_CHUNK_BYTES = 256 * 1024


def _chunk_rows(n_cols: int) -> int:
    """HDF5 chunk height: about 256 KiB per chunk, so small files stay small and large ones stream fast."""
    return int(np.clip(_CHUNK_BYTES // (8 * max(n_cols, 1)), 1024, 16384))


@dataclass(frozen=True)
class EventChunk:
    """A contiguous block of events.

    Attributes:
        observations: (n, O) observables.
        weights: (n, B) benchmark weights in pb.
        sampling_benchmarks: (n,) index of the benchmark the event was generated at (-1: background).
        component_weights: (n, C) morphing component weights, or None if the file has none.
        start: index of the first event in the file.
        nuisance_weights: (n, N) weights of the file's nuisance benchmarks (MadMiner's systematics
            layout, ``EventFile.nuisance.benchmark_names`` order), or None.
    """

    observations: NDArray[np.float64]
    weights: NDArray[np.float64]
    sampling_benchmarks: NDArray[np.int64]
    component_weights: NDArray[np.float64] | None
    start: int
    setup: Setup
    nuisance_weights: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def components(self) -> NDArray[np.float64]:
        """Component weights: the stored ones, else morphed from the basis benchmark weights."""
        if self.component_weights is not None:
            return self.component_weights
        morpher = self.setup.morpher
        return morpher.components_from_benchmarks(self.weights[:, : morpher.n_benchmarks])


class EventWriter:
    """Append events to a new events file, chunk by chunk.

    Args:
        path: the output file (written as a temporary file and renamed on :meth:`close`).
        setup: parameters, benchmarks and morphing; weights columns follow its benchmarks.
        observables: observable names (identifiers).
        definitions: expression per observable (``"None"`` for Python callables).
        overwrite: replace an existing file.
        store_components: also store per-event morphing component weights.
        attrs: extra root attributes (seed, card hash, process, ...).
        negative_weights: ``"error"`` (default), ``"warn"`` or ``"keep"`` for negative
            benchmark weights. NaN and infinite values are always an error.
        nuisance: a :class:`~lhcgold.io.lhe_weights.NuisanceLayout`: its benchmarks are appended
            after the physics ones (``is_nuisance`` = 1, sorted names, MadMiner's layout), their weight
            columns come from ``append(nuisance_weights=...)``, and ``systematics/`` and
            ``nuisance_parameters/`` are written.

    Use as a context manager: on an exception nothing is left behind.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        setup: Setup,
        observables: Sequence[str],
        *,
        definitions: Sequence[str] | None = None,
        overwrite: bool = False,
        store_components: bool = False,
        attrs: Mapping[str, Any] | None = None,
        negative_weights: Literal["error", "warn", "keep"] = "error",
        nuisance: Any = None,
    ):
        self.path = Path(path)
        self.setup = setup
        self.observables = tuple(observables)
        if len(set(self.observables)) != len(self.observables):
            raise EventFileError(f"duplicate observable names: {self.observables}")
        defs = list(definitions) if definitions is not None else [EMPTY_EXPR] * len(self.observables)
        if len(defs) != len(self.observables):
            raise EventFileError("definitions and observables differ in length")
        if store_components and setup.components is None:
            raise EventFileError("store_components needs a setup with morphing components")
        self.store_components = store_components
        self.negative_weights = negative_weights
        self.nuisance = nuisance if nuisance is not None and nuisance.benchmark_ids else None
        n_nuis = 0 if self.nuisance is None else len(self.nuisance.benchmark_ids)
        self._n = 0
        self._signal = np.zeros(setup.n_benchmarks, dtype=np.int64)
        self._background = 0
        self._n_negative = 0
        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path, overwrite=overwrite))
        self._file = self._stack.enter_context(h5py.File(tmp, "w"))
        f = self._file
        write_setup_groups(f, setup)
        if self.nuisance is not None:
            _write_nuisance_setup(f, setup, self.nuisance)
        f["observables/names"] = encode_strings(self.observables)
        f["observables/definitions"] = encode_strings([d or EMPTY_EXPR for d in defs])
        n_o, n_b = len(self.observables), setup.n_benchmarks + n_nuis
        f.create_dataset(
            "samples/observations",
            shape=(0, n_o),
            maxshape=(None, n_o),
            dtype=np.float64,
            chunks=(_chunk_rows(n_o), max(n_o, 1)),
            fletcher32=True,
        )
        f.create_dataset(
            "samples/weights",
            shape=(0, n_b),
            maxshape=(None, n_b),
            dtype=np.float64,
            chunks=(_chunk_rows(n_b), max(n_b, 1)),
            fletcher32=True,
        )
        f.create_dataset(
            "samples/sampling_benchmarks",
            shape=(0,),
            maxshape=(None,),
            dtype=np.int64,
            chunks=(_chunk_rows(1),),
            fletcher32=True,
        )
        if store_components:
            n_c = setup.components.shape[0]  # type: ignore[union-attr]
            f.create_dataset(
                "lhcgold/component_weights",
                shape=(0, n_c),
                maxshape=(None, n_c),
                dtype=np.float64,
                chunks=(_chunk_rows(n_c), n_c),
                fletcher32=True,
            )
        f.attrs.update(writer_attrs({"content": "events", **(attrs or {})}))

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._stack.__exit__(exc_type, exc, tb)

    @property
    def n_events(self) -> int:
        return self._n

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        """Add or replace root attributes (e.g. provenance known only at the end)."""
        for key, value in attrs.items():
            self._file.attrs[key] = "None" if value is None else value

    def set_xsec_components(self, sigma_c: ArrayLike, errors: ArrayLike | None = None) -> None:
        """Store precise component cross sections [pb] (e.g. from a large separate MC run)."""
        sig = np.asarray(sigma_c, dtype=np.float64)
        n_c = None if self.setup.components is None else self.setup.components.shape[0]
        if sig.shape != (n_c,):
            raise EventFileError(f"xsec components must have shape ({n_c},), got {sig.shape}")
        self._file["lhcgold/xsec_components"] = sig
        if errors is not None:
            self._file["lhcgold/xsec_components_err"] = np.asarray(errors, dtype=np.float64).reshape(sig.shape)

    def append(
        self,
        observations: ArrayLike,
        weights: ArrayLike,
        sampling_benchmarks: ArrayLike = 0,
        *,
        component_weights: ArrayLike | None = None,
        nuisance_weights: ArrayLike | None = None,
    ) -> None:
        """Append a chunk of events.

        Args:
            observations: (n, O).
            weights: (n, B) in pb.
            sampling_benchmarks: one index for all, or (n,); -1 marks background.
            component_weights: (n, C), required when ``store_components``.
            nuisance_weights: (n, N) in pb, the nuisance benchmarks' columns (``nuisance.benchmark_names``
                order), required when the writer has a nuisance layout.

        Raises:
            EventFileError: wrong shapes, NaN/inf weights, infinite observables (NaN marks a missing
                object and is kept), or negative weights (by default).
        """
        x = np.asarray(observations, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        n = w.shape[0] if w.ndim == 2 else -1
        n_o, n_b = len(self.observables), self.setup.n_benchmarks
        if w.ndim != 2 or w.shape[1] != n_b:
            raise EventFileError(f"weights must have shape (n, {n_b}), got {w.shape}")
        if x.shape != (n, n_o):
            raise EventFileError(f"observations must have shape ({n}, {n_o}), got {x.shape}")
        ids = np.broadcast_to(np.asarray(sampling_benchmarks, dtype=np.int64), (n,))
        if np.any(ids >= n_b) or np.any(ids < -1):
            raise EventFileError(f"sampling benchmark indices must lie in [-1, {n_b - 1}]")
        bad = ~np.isfinite(w)
        if bad.any():
            row = int(np.argwhere(bad)[0, 0])
            raise EventFileError(f"{self.path}: event {self._n + row} has a non-finite weight ({w[row].tolist()})")
        if np.isinf(x).any():
            row = int(np.argwhere(np.isinf(x))[0, 0])
            raise EventFileError(f"{self.path}: event {self._n + row} has an infinite observable ({x[row].tolist()})")
        neg = w < 0
        if neg.any():
            row = int(np.argwhere(neg)[0, 0])
            if self.negative_weights == "error":
                raise EventFileError(
                    f"{self.path}: event {self._n + row} has a negative weight "
                    f"({w[row].tolist()}); pass negative_weights='keep' to accept them"
                )
            self._n_negative += int(neg.any(axis=1).sum())
        m = None
        if self.store_components:
            if component_weights is None:
                raise EventFileError("this file stores component weights: pass component_weights")
            m = np.asarray(component_weights, dtype=np.float64)
            n_c = self.setup.components.shape[0]  # type: ignore[union-attr]
            if m.shape != (n, n_c):
                raise EventFileError(f"component_weights must have shape ({n}, {n_c}), got {m.shape}")
            if not np.all(np.isfinite(m)):
                raise EventFileError(f"{self.path}: non-finite component weight")
        if self.nuisance is not None:
            w = np.concatenate([w, self._nuisance_block(nuisance_weights, n)], axis=1)
        f = self._file
        lo, hi = self._n, self._n + n
        for name, data in (
            ("samples/observations", x),
            ("samples/weights", w),
            ("samples/sampling_benchmarks", ids),
            ("lhcgold/component_weights", m),
        ):
            if data is None:
                continue
            ds = f[name]
            ds.resize(hi, axis=0)
            ds[lo:hi] = data
        self._n = hi
        sig = ids[ids >= 0]
        self._signal += np.bincount(sig, minlength=n_b)[:n_b]
        self._background += int((ids < 0).sum())

    def _nuisance_block(self, nuisance_weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
        n_n = len(self.nuisance.benchmark_ids)  # type: ignore[union-attr]
        if nuisance_weights is None:
            raise EventFileError("this file stores nuisance weights: pass nuisance_weights")
        v = np.asarray(nuisance_weights, dtype=np.float64)
        if v.shape != (n, n_n):
            raise EventFileError(f"nuisance_weights must have shape ({n}, {n_n}), got {v.shape}")
        if not np.all(np.isfinite(v)):
            row = int(np.argwhere(~np.isfinite(v))[0, 0])
            raise EventFileError(f"{self.path}: event {self._n + row} has a non-finite nuisance weight")
        return v

    def close(self) -> None:
        """Write the summary and move the file into place."""
        if self._file.id.valid:
            f = self._file
            f["sample_summary/signal_events"] = self._signal
            f["sample_summary/background_events"] = np.int64(self._background)
            f.attrs["n_events"] = self._n
            if self._n_negative and self.negative_weights == "warn":
                log.warning("%s: %d events with negative weights", self.path, self._n_negative)
        self._stack.close()

    def abort(self) -> None:
        """Discard everything written so far."""
        self._stack.__exit__(EventFileError, EventFileError("aborted"), None)


def _write_nuisance_setup(f: h5py.File, setup: Setup, layout: Any) -> None:
    """Append the nuisance benchmarks to ``benchmarks/`` and write the nuisance groups (MadMiner's layout)."""

    names = [b.name for b in setup.benchmarks]
    extra = list(layout.benchmark_names)
    clash = sorted(set(names) & set(extra))
    if clash:
        raise EventFileError(f"nuisance benchmark names {clash} clash with physics benchmarks")
    n_p, n_x = len(setup.parameters), len(extra)
    for key in ("names", "values", "is_nuisance", "is_reference"):
        del f[f"benchmarks/{key}"]
    f["benchmarks/names"] = encode_strings(names + extra)
    f["benchmarks/values"] = np.concatenate(
        [setup.benchmark_values.astype(np.float64).reshape(len(names), n_p), np.zeros((n_x, n_p))]
    )
    f["benchmarks/is_nuisance"] = np.concatenate([np.zeros(len(names), dtype=np.int64), np.ones(n_x, dtype=np.int64)])
    ref = np.zeros(len(names) + n_x, dtype=np.int64)
    ref[0] = 1
    f["benchmarks/is_reference"] = ref
    write_nuisance_groups(f, layout)


def _reference_column(f: h5py.File, n_physics: int) -> int:
    """The physics benchmark the nuisance columns vary (``benchmarks/is_reference``; default the first)."""
    if "benchmarks/is_reference" not in f:
        return 0
    flags = np.asarray(f["benchmarks/is_reference"][()]).reshape(-1)[:n_physics]
    hits = np.flatnonzero(flags)
    return int(hits[0]) if len(hits) else 0


class EventFile:
    """Read an events file (ours or MadMiner's) lazily, in chunks.

    Raises:
        EventFileError: missing, truncated or foreign file, or inconsistent shapes.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        with open_h5(self.path) as f:
            self.setup = read_setup_groups(f, str(self.path))
            self.attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            if "observables/names" in f:
                self.observables = tuple(decode_strings(f["observables/names"]))
                self.definitions = (
                    tuple(decode_strings(f["observables/definitions"]))
                    if "observables/definitions" in f
                    else (EMPTY_EXPR,) * len(self.observables)
                )
            else:
                self.observables, self.definitions = (), ()
            have = [k in f for k in ("samples/observations", "samples/weights", "samples/sampling_benchmarks")]
            if not any(have):
                self.n_events = 0
                self.observations_dtype = np.dtype(np.float64)
                self.n_weight_columns = self.setup.n_benchmarks
                self.has_components = False
                self.nuisance, self.nuisance_columns, self.nuisance_reference = None, (), 0
                return
            self._read_nuisance(f)
            if not all(have):
                raise EventFileError(
                    f"{self.path}: samples/ must hold observations, weights and sampling_benchmarks together"
                )
            obs, w, ids = f["samples/observations"], f["samples/weights"], f["samples/sampling_benchmarks"]
            n = w.shape[0]
            if w.ndim != 2 or obs.ndim != 2 or ids.shape != (n,) or obs.shape[0] != n:
                raise EventFileError(
                    f"{self.path}: inconsistent sample shapes: observations {obs.shape}, "
                    f"weights {w.shape}, sampling_benchmarks {ids.shape}"
                )
            if obs.shape[1] != len(self.observables):
                raise EventFileError(
                    f"{self.path}: {obs.shape[1]} observable columns but {len(self.observables)} observable names"
                )
            # madminer appends nuisance benchmarks after the physics ones; we use the physics columns
            if w.shape[1] < self.setup.n_benchmarks:
                raise EventFileError(
                    f"{self.path}: {w.shape[1]} weight columns for {self.setup.n_benchmarks} benchmarks"
                )
            self.n_events = int(n)
            self.observations_dtype = np.dtype(obs.dtype)
            self.n_weight_columns = int(w.shape[1])
            self.has_components = "lhcgold/component_weights" in f
            if self.has_components and f["lhcgold/component_weights"].shape[0] != n:
                raise EventFileError(f"{self.path}: component weights and weights differ in length")

    def _read_nuisance(self, f: h5py.File) -> None:
        """``nuisance`` (a NuisanceLayout or None) and ``nuisance_columns`` (their weight columns)."""

        self.nuisance, self.nuisance_columns = None, ()
        self.nuisance_reference = _reference_column(f, self.setup.n_benchmarks)
        try:
            got = read_nuisance_groups(f)
        except EventFileError as exc:  # the physics content is still usable
            log.warning("%s: nuisance parameters ignored: %s", self.path, exc)
            return
        n_b = self.setup.n_benchmarks
        if got is None:
            return
        if "samples/weights" in f and any(c < n_b or c >= f["samples/weights"].shape[1] for c in got[1]):
            log.warning(
                "%s: nuisance parameters ignored: their benchmarks have no weight columns after the physics ones",
                self.path,
            )
            return
        self.nuisance, self.nuisance_columns = got

    def __len__(self) -> int:
        return self.n_events

    def __repr__(self) -> str:
        return (
            f"EventFile({str(self.path)!r}, n_events={self.n_events}, parameters={self.setup.parameter_names}, "
            f"observables={self.observables})"
        )

    def _slice(self, f: h5py.File, start: int, stop: int) -> EventChunk:
        n_b = self.setup.n_benchmarks
        try:
            nuis = None
            if self.nuisance_columns:
                w_all = np.asarray(f["samples/weights"][start:stop], dtype=np.float64)
                w, nuis = w_all[:, :n_b], w_all[:, list(self.nuisance_columns)]
            else:
                w = np.asarray(f["samples/weights"][start:stop, :n_b], dtype=np.float64)
            chunk = EventChunk(
                observations=np.asarray(f["samples/observations"][start:stop], dtype=np.float64),
                weights=w,
                nuisance_weights=nuis,
                sampling_benchmarks=np.asarray(f["samples/sampling_benchmarks"][start:stop], dtype=np.int64),
                component_weights=(
                    np.asarray(f["lhcgold/component_weights"][start:stop], dtype=np.float64)
                    if self.has_components
                    else None
                ),
                start=start,
                setup=self.setup,
            )
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise EventFileError(
                f"{self.path}: cannot read events {start}-{stop} (truncated or corrupted "
                f"file?): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from exc
        self._validate(chunk)
        return chunk

    def _validate(self, chunk: EventChunk) -> None:
        """Finite weights, no infinite observable (NaN marks a missing object) and valid sampling
        indices, else an error naming the file and the event."""
        names = {
            "observations": self.observables,
            "weights": self.setup.benchmark_names,
            "component_weights": (),
            "nuisance_weights": self.nuisance.benchmark_names if self.nuisance else (),
        }
        for label in ("weights", "observations", "component_weights", "nuisance_weights"):
            arr = getattr(chunk, label)
            if arr is None:
                continue
            # NaN observables are MadMiner's (and reconstruct's) marker of a missing object; inf never is
            bad = np.isinf(arr) if label == "observations" else ~np.isfinite(arr)
            if bad.any():
                row, col = (int(i) for i in np.argwhere(bad)[0])
                cols = names[label]
                what = f"{label[:-1]} {cols[col]!r}" if col < len(cols) else f"{label[:-1]} column {col}"
                raise EventFileError(
                    f"{self.path}: event {chunk.start + row} has a non-finite {what} "
                    f"({arr[row, col]}); {int(bad.any(axis=1).sum())} such event(s) in "
                    f"events {chunk.start}-{chunk.start + len(chunk)}: the file is damaged"
                )
        ids = chunk.sampling_benchmarks
        out = (ids < -1) | (ids >= self.n_weight_columns)
        if out.any():
            row = int(np.argmax(out))
            raise EventFileError(
                f"{self.path}: event {chunk.start + row} has sampling benchmark index {ids[row]}, "
                f"outside [-1, {self.n_weight_columns - 1}]: the file is damaged"
            )

    def read(self, start: int = 0, stop: int | None = None) -> EventChunk:
        """Events ``[start, stop)`` in one chunk."""
        stop = self.n_events if stop is None else min(stop, self.n_events)
        with open_h5(self.path) as f:
            return self._slice(f, start, stop)

    def iter_chunks(
        self, chunk_size: int = 100_000, *, start: int = 0, stop: int | None = None, progress: bool = False
    ) -> Iterator[EventChunk]:
        """Iterate over events ``[start, stop)`` in chunks of at most ``chunk_size``."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        stop = self.n_events if stop is None else min(stop, self.n_events)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=max(stop - start, 0), unit="ev", desc=self.path.name, leave=False)
        with open_h5(self.path) as f:
            for lo in range(start, stop, chunk_size):
                chunk = self._slice(f, lo, min(lo + chunk_size, stop))
                if bar is not None:
                    bar.update(len(chunk))
                yield chunk
        if bar is not None:
            bar.close()

    def xsec_per_benchmark(self, *, chunk_size: int = 500_000) -> NDArray[np.float64]:
        """Σ weights per benchmark [pb], streamed (MadMiner's per-run normalisation applied)."""
        total = np.zeros(self.setup.n_benchmarks)
        factors = self.sampling_factors
        for chunk in self.iter_chunks(chunk_size):
            total += (chunk.weights * factors(chunk.sampling_benchmarks)[:, None]).sum(axis=0)
        return total

    @cached_property
    def sampling_counts(self) -> NDArray[np.int64]:
        with open_h5(self.path) as f:
            if "sample_summary/signal_events" in f:
                return np.asarray(f["sample_summary/signal_events"][()], dtype=np.int64).reshape(-1)
        counts = np.zeros(self.setup.n_benchmarks, dtype=np.int64)
        for chunk in self.iter_chunks(1_000_000):
            ids = chunk.sampling_benchmarks
            counts += np.bincount(ids[ids >= 0], minlength=len(counts))[: len(counts)]
        return counts

    def sampling_factors(self, ids: NDArray[np.int64]) -> NDArray[np.float64]:
        """Per-event weight factors N_b / Σ N for files combining runs at several benchmarks.

        Each run's weights sum to the full cross section (MG5 convention), so events of run b
        are scaled by its share of the signal events; background events (id -1) keep weight 1.
        This is what MadMiner does when all events are used.
        """
        counts = self.sampling_counts
        total = counts.sum()
        if total == 0 or np.count_nonzero(counts) <= 1:
            return np.ones(len(ids))
        share = counts / total
        return np.where(ids >= 0, share[np.clip(ids, 0, len(share) - 1)], 1.0)

    def component_xsec(self, *, chunk_size: int = 500_000) -> NDArray[np.float64]:
        """Component cross sections σ_c [pb]: the stored precise values, else summed over events."""
        with open_h5(self.path) as f:
            if "lhcgold/xsec_components" in f:
                return np.asarray(f["lhcgold/xsec_components"][()], dtype=np.float64)
        total: NDArray[np.float64] | None = None
        for chunk in self.iter_chunks(chunk_size):
            s = (chunk.components() * self.sampling_factors(chunk.sampling_benchmarks)[:, None]).sum(axis=0)
            total = s if total is None else total + s
        if total is None:
            raise EventFileError(f"{self.path}: no events")
        return total
