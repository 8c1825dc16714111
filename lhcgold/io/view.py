"""One view of weighted events for every stage that reads them (augment, infer, run).

:class:`EventsView` is a typed, read-only window ``[start, stop)`` on an events file
(:class:`~lhcgold.io.events.EventFile`: lhcgold's or MadMiner's layout) with a weight scale:

* typed: observable names and the stored dtype of the observations, the parameters, the benchmark
  weight columns, the morphing components, the sampling ids (the benchmark each event was generated
  at, -1 for background) and the file's σ semantics (each sampling run's weights sum to the full
  cross section: :meth:`EventsView.sampling_factors`);
* partitioned: train, validation and test are the contiguous slices of MadMiner and
  :mod:`lhcgold.augment` (:func:`partition_bounds`); a partition's weights are scaled by
  1/fraction so that it stands for the full cross section;
* chunked: :meth:`EventsView.iter_chunks` holds one chunk at a time, so memory stays flat in the
  file size; :meth:`EventsView.load` reads a small view whole;
* checked: every chunk is checked for NaN/inf weights and component weights, infinite
  observables and invalid sampling ids (:class:`~lhcgold.exceptions.EventFileError` naming the
  file and the event).

Example:
    >>> view = open_events("events.h5", partition="test")  # doctest: +SKIP
    >>> for chunk in view.iter_chunks(chunk_size=50_000):  # doctest: +SKIP
    ...     x, m = chunk.observations, chunk.m   # (n, O), (n, C) in pb, summing to σ_c
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ConfigError, EventFileError
from .lhe_weights import nuisance_ratios

if TYPE_CHECKING:
    from ..config.setup import Setup
    from .events import EventFile

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_TEST_SPLIT",
    "DEFAULT_VALIDATION_SPLIT",
    "EventsLike",
    "EventsView",
    "Partition",
    "ViewChunk",
    "as_view",
    "open_events",
    "partition_bounds",
]

#: Default number of events per chunk when streaming.
DEFAULT_CHUNK_SIZE = 100_000
#: Default fraction of the events in the test partition (augment, fisher, limits, run).
DEFAULT_TEST_SPLIT = 0.2
#: Default fraction of the events in the validation partition.
DEFAULT_VALIDATION_SPLIT = 0.2
#: :meth:`EventsView.load` refuses views larger than this (use :meth:`EventsView.iter_chunks`).
LOAD_LIMIT_BYTES = 2 * 2**30

Partition = Literal["train", "validation", "test", "all"]


def partition_bounds(
    n_events: int,
    partition: Partition,
    *,
    test_split: float = DEFAULT_TEST_SPLIT,
    validation_split: float = DEFAULT_VALIDATION_SPLIT,
) -> tuple[int, int, float]:
    """Event range ``[start, stop)`` and weight correction factor (1/fraction) of a partition.

    train = [0, round(f_train N)), validation = [round(f_train N), round((1 − f_test) N)),
    test = [round((1 − f_test) N), N), all = [0, N).

    Raises:
        ConfigError: invalid splits, unknown partition, or an empty partition.
    """
    if not (0.0 <= test_split < 1.0 and 0.0 <= validation_split < 1.0 and test_split + validation_split < 1.0):
        raise ConfigError(f"invalid splits: test_split={test_split}, validation_split={validation_split}")
    train = 1.0 - test_split - validation_split
    b1 = int(round(train * n_events))
    b2 = int(round((1.0 - test_split) * n_events))
    table = {
        "train": (0, b1, train),
        "validation": (b1, b2, validation_split),
        "test": (b2, n_events, test_split),
        "all": (0, n_events, 1.0),
    }
    if partition not in table:
        raise ConfigError(f"unknown partition {partition!r}; known: train, validation, test, all")
    start, stop, frac = table[partition]
    if stop <= start or frac <= 0:
        raise ConfigError(
            f"partition {partition!r} of {n_events} events is empty "
            f"(test_split={test_split}, validation_split={validation_split})"
        )
    return start, stop, 1.0 / frac


@dataclass(frozen=True)
class ViewChunk:
    """A contiguous block of a view's events.

    Attributes:
        observations: (n, O) float64 observables (NaN marks a missing object, as in MadMiner).
        weights: (n, B) physics benchmark weights [pb] as stored (no factor applied).
        sampling_benchmarks: (n,) sampling id per event (-1: background).
        component_weights: (n, C) morphing component weights as stored (or morphed from the
            benchmark weights), no factor applied.
        run_factors: (n,) per-event run share N_b/ΣN of files that combine runs at several
            benchmarks (1 for a single run and for background).
        weight_scale: the view's weight scale (1/fraction for a partition).
        start: file index of the first event.
        nuisance_up / nuisance_down: (n, K) per-event weight ratios w(ν_k = ±1)/w(ν = 0) of the
            file's nuisance parameters (:attr:`EventsView.nuisance_names` order), or None when the
            file stores none (see :func:`lhcgold.io.lhe_weights.nuisance_ratios`).
    """

    observations: NDArray[np.float64]
    weights: NDArray[np.float64]
    sampling_benchmarks: NDArray[np.int64]
    component_weights: NDArray[np.float64]
    run_factors: NDArray[np.float64]
    weight_scale: float
    start: int
    nuisance_up: NDArray[np.float64] | None = None
    nuisance_down: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(len(self.observations))

    @property
    def factors(self) -> NDArray[np.float64]:
        """(n,) the factor each event's weights get: run share × weight scale."""
        return self.run_factors * self.weight_scale

    @property
    def m(self) -> NDArray[np.float64]:
        """(n, C) component weights with the run shares and the weight scale applied: Σ over the view
        gives σ_c [pb]."""
        m = self.component_weights
        if not np.all(self.run_factors == 1.0):
            m = m * self.run_factors[:, None]
        if self.weight_scale != 1.0:
            m = m * self.weight_scale
        return m


class EventsView:
    """A typed, partitionable, chunked read-only view ``[start, stop)`` of an events file.

    Args:
        events: an events file path (lhcgold or MadMiner layout), an open
            :class:`~lhcgold.io.events.EventFile`, or another view (its file is used).
        start: first event (inclusive).
        stop: last event (exclusive); None for the end of the file.
        weight_scale: factor applied to every weight, e.g. ``1 / fraction`` when the view is a
            partition of the file and should stand for the full cross section.
        partition_name: the partition the view stands for (set by :meth:`partition`).

    Raises:
        ConfigError: an invalid range or weight scale.
        EventFileError: a missing, truncated, foreign or inconsistent file.
    """

    __slots__ = ("file", "start", "stop", "weight_scale", "partition_name")

    def __init__(
        self,
        events: EventsLike,
        start: int = 0,
        stop: int | None = None,
        weight_scale: float = 1.0,
        *,
        partition_name: str | None = None,
    ) -> None:
        if start < 0 or (stop is not None and stop < start):
            raise ConfigError(f"invalid event range [{start}, {stop})")
        if not (np.isfinite(weight_scale) and weight_scale > 0):
            raise ConfigError(f"weight_scale must be positive and finite, got {weight_scale}")
        init = object.__setattr__  # the view is read-only once made
        init(self, "file", _open_file(events))
        init(self, "start", int(start))
        init(self, "stop", None if stop is None else int(stop))
        init(self, "weight_scale", float(weight_scale))
        init(self, "partition_name", partition_name)

    file: EventFile
    start: int
    stop: int | None
    weight_scale: float
    #: the partition this view was made as (None for a plain range)
    partition_name: str | None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"EventsView is read-only: make a new view instead of setting {name!r}")

    # ---------------------------------------------------------------- description
    def __repr__(self) -> str:
        part = f", partition={self.partition_name!r}" if self.partition_name else ""
        return (
            f"EventsView({str(self.path)!r}, start={self.start}, stop={self.stop}, "
            f"weight_scale={self.weight_scale:g}{part}, n_events={self.n_events})"
        )

    def __len__(self) -> int:
        return self.n_events

    @property
    def events(self) -> EventFile:
        """The underlying file (the name :class:`lhcgold.infer.Sample` used)."""
        return self.file

    @property
    def path(self) -> Any:
        return self.file.path

    @property
    def setup(self) -> Setup:
        """Parameters, benchmarks and morphing of the file."""
        return self.file.setup

    @property
    def observables(self) -> tuple[str, ...]:
        """Observable names, in column order."""
        return tuple(self.file.observables)

    @property
    def definitions(self) -> tuple[str, ...]:
        """Observable expressions as stored (``"None"`` for Python callables)."""
        return tuple(getattr(self.file, "definitions", ()))

    @property
    def observable_dtype(self) -> np.dtype[Any]:
        """The dtype the observations are stored with (chunks are always float64)."""
        return np.dtype(getattr(self.file, "observations_dtype", np.float64))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(self.setup.parameter_names)

    @property
    def benchmark_names(self) -> tuple[str, ...]:
        """Names of the physics benchmarks: the columns of :attr:`ViewChunk.weights`."""
        return tuple(self.setup.benchmark_names)

    @property
    def nuisance_names(self) -> tuple[str, ...]:
        """Names of the nuisance parameters the file stores weights for (MadMiner's layout), or ()."""
        layout = self.file.nuisance
        return () if layout is None else tuple(row[0] for row in layout.nuisance_parameters)

    @property
    def components(self) -> NDArray[np.int64] | None:
        """Morphing exponents (C, P), or None without morphing."""
        return self.setup.components

    @property
    def n_file_events(self) -> int:
        return int(self.file.n_events)

    @property
    def stop_index(self) -> int:
        """The exclusive end of the view in the file (``stop`` clipped to the file)."""
        n = self.n_file_events
        return n if self.stop is None else min(self.stop, n)

    @property
    def n_events(self) -> int:
        return max(self.stop_index - self.start, 0)

    @property
    def is_whole_file(self) -> bool:
        return self.start == 0 and self.stop_index >= self.n_file_events

    @property
    def sampling_counts(self) -> NDArray[np.int64]:
        """Events per sampling benchmark in the whole file (the sample summary)."""
        return np.asarray(self.file.sampling_counts, dtype=np.int64)

    def sampling_factors(self, ids: NDArray[np.int64]) -> NDArray[np.float64]:
        """Per-event run shares N_b/ΣN for files combining runs at several benchmarks (1 for a single
        run and for background): each run's weights sum to the full σ, as MadMiner's files do."""
        return np.asarray(self.file.sampling_factors(ids), dtype=np.float64)

    # ---------------------------------------------------------------- partitions
    def partition(
        self,
        name: Partition,
        *,
        test_split: float = DEFAULT_TEST_SPLIT,
        validation_split: float = DEFAULT_VALIDATION_SPLIT,
    ) -> EventsView:
        """The ``name`` partition of this view (:func:`partition_bounds` on its events), its weights
        scaled by 1/fraction so that it stands for the full cross section.

        Raises:
            ConfigError: invalid splits, an unknown or an empty partition (naming the file).
        """
        try:
            lo, hi, factor = partition_bounds(
                self.n_events, name, test_split=test_split, validation_split=validation_split
            )
        except ConfigError as exc:
            raise ConfigError(f"{self.path} has no usable {name} partition: {exc}") from None
        if name == "all" and self.is_whole_file and self.weight_scale == 1.0:
            return self
        return EventsView(self.file, self.start + lo, self.start + hi, self.weight_scale * factor, partition_name=name)

    # ---------------------------------------------------------------- reading
    def iter_chunks(
        self,
        *,
        partition: Partition | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        test_split: float = DEFAULT_TEST_SPLIT,
        validation_split: float = DEFAULT_VALIDATION_SPLIT,
        progress: bool = False,
    ) -> Iterator[ViewChunk]:
        """Iterate over the view (or its ``partition``) in chunks of at most ``chunk_size`` events.

        One chunk is held at a time: memory does not grow with the file.

        Raises:
            EventFileError: unreadable events, NaN/inf weights or component weights, infinite
                observables or invalid sampling ids, naming the file and the event.
        """
        if partition is not None:
            view = self.partition(partition, test_split=test_split, validation_split=validation_split)
            yield from view.iter_chunks(chunk_size=chunk_size, progress=progress)
            return
        if chunk_size <= 0:
            raise ConfigError(f"chunk_size must be positive, got {chunk_size}")
        ef = self.file
        for chunk in ef.iter_chunks(chunk_size, start=self.start, stop=self.stop_index, progress=progress):
            comps = np.asarray(chunk.components(), dtype=np.float64)
            _require_finite(comps, self, chunk.start, "weight")
            ids = np.asarray(chunk.sampling_benchmarks, dtype=np.int64)
            up = down = None
            if ef.nuisance is not None and chunk.nuisance_weights is not None:
                ref = np.asarray(chunk.weights, dtype=np.float64)[:, ef.nuisance_reference]
                up, down = nuisance_ratios(chunk.nuisance_weights, ref, ef.nuisance)
            yield ViewChunk(
                observations=np.asarray(chunk.observations, dtype=np.float64),
                weights=np.asarray(chunk.weights, dtype=np.float64),
                sampling_benchmarks=ids,
                component_weights=comps,
                run_factors=self.sampling_factors(ids),
                weight_scale=self.weight_scale,
                start=int(chunk.start),
                nuisance_up=up,
                nuisance_down=down,
            )

    def component_chunks(
        self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool = False
    ) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """``(x (n, O), m (n, C))`` per chunk: :meth:`iter_chunks` in the form of the inference loops,
        ``m`` with the run shares and the weight scale applied."""
        for chunk in self.iter_chunks(chunk_size=chunk_size, progress=progress):
            yield chunk.observations, chunk.m

    def load(
        self, *, partition: Partition | None = None, max_bytes: int = LOAD_LIMIT_BYTES, **splits: float
    ) -> ViewChunk:
        """The whole view (or its ``partition``) as one chunk, for small files.

        Raises:
            ConfigError: the arrays would exceed ``max_bytes`` (stream with :meth:`iter_chunks`).
            EventFileError: as :meth:`iter_chunks`.
        """
        view = self if partition is None else self.partition(partition, **splits)
        n_c = 0 if view.components is None else len(view.components)
        n_cols = len(view.observables) + view.file.n_weight_columns + n_c + 2
        size = view.n_events * n_cols * 8
        if size > max_bytes:
            raise ConfigError(
                f"{view.path}: {view.n_events} events need about {size / 2**20:.0f} MiB, above the "
                f"{max_bytes / 2**20:.0f} MiB limit of load(); stream them with iter_chunks()"
            )
        chunks = list(view.iter_chunks(chunk_size=max(view.n_events, 1)))
        if not chunks:
            n_o, n_b = len(view.observables), len(view.benchmark_names)
            empty = np.zeros(0)
            return ViewChunk(
                np.zeros((0, n_o)),
                np.zeros((0, n_b)),
                np.zeros(0, np.int64),
                np.zeros((0, n_c)),
                empty,
                1.0,
                view.start,
            )
        return chunks[0]

    def check_finite(self, columns: Sequence[int] | None = None, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        """Stream the view once and raise EventFileError at the first NaN/inf weight or observable
        (only ``columns`` of the observables, all when None), naming the file and the event."""
        for chunk in self.iter_chunks(chunk_size=chunk_size):  # checks the weights
            x = chunk.observations
            _require_finite(x if columns is None else x[:, list(columns)], self, chunk.start, "observable")

    # ---------------------------------------------------------------- cross sections
    def event_component_xsec(self, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> NDArray[np.float64]:
        """Σ over this view's events of the component weights (C,) [pb] (always streamed).

        Differs from :meth:`component_xsec` when the file stores the generator's precise σ_c;
        event weights are normalised with this sum, so that they sum exactly to one.
        """
        total: NDArray[np.float64] | None = None
        for _, m in self.component_chunks(chunk_size=chunk_size):
            s = m.sum(axis=0)
            total = s if total is None else total + s
        if total is None:
            raise ConfigError(f"the event range [{self.start}, {self.stop}) of {self.path!s} is empty")
        return total

    def component_xsec(self, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> NDArray[np.float64]:
        """Component cross sections σ_c (C,) of this view [pb].

        For a whole file this is the file's own value (the generator's precise σ_c when stored);
        for a slice, the sum over its events.
        """
        if self.is_whole_file:
            return np.asarray(self.file.component_xsec(), dtype=np.float64) * self.weight_scale
        return self.event_component_xsec(chunk_size=chunk_size)


EventsLike = Union[str, "os.PathLike[str]", "EventFile", EventsView]


def _open_file(events: Any) -> EventFile:
    from .events import EventFile

    if isinstance(events, EventsView):
        return events.file
    if isinstance(events, (str, os.PathLike)):
        return EventFile(events)
    if isinstance(events, EventFile) or hasattr(events, "iter_chunks"):
        return events  # type: ignore[no-any-return]  # an EventFile or a compatible object
    raise ConfigError(f"not an events file, path or view: {type(events).__name__}")


def _require_finite(values: NDArray[np.float64], view: EventsView, first_event: int, what: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise EventFileError(
            f"{view.path}: event {first_event + row} has a non-finite {what} "
            f"({np.asarray(values[row]).tolist()}); inference would give NaN results"
        )


def as_view(events: EventsLike) -> EventsView:
    """A view of the whole file for a path or an ``EventFile``; a view passes through."""
    if isinstance(events, EventsView):
        return events
    return EventsView(events)


def open_events(
    path: EventsLike,
    *,
    partition: Partition = "all",
    test_split: float = DEFAULT_TEST_SPLIT,
    validation_split: float = DEFAULT_VALIDATION_SPLIT,
) -> EventsView:
    """Open an events file as a view of its ``partition`` (default: all events).

    Raises:
        EventFileError: a missing, truncated, foreign or inconsistent file.
        ConfigError: invalid splits or an empty partition.
    """
    view = as_view(path)
    if partition == "all":
        return view
    return view.partition(partition, test_split=test_split, validation_split=validation_split)
