"""Event access shared by the inference functions: samples (file slices) streamed in chunks.

Everything here works in morphing-component space: a chunk yields its observations
``x`` (n, O) and per-event component weights ``m`` (n, C) in pb, so that the weight at
any θ is ``m @ f(θ)`` (:func:`lhcgold.physics.morphing.component_factors`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError, EventFileError, unknown_name_error
from ..physics.morphing import component_factor_gradients, component_factors

if TYPE_CHECKING:
    from ..config.setup import Setup
    from ..io.events import EventFile

logger = logging.getLogger(__name__)

#: Default number of events per chunk when streaming an events file.
DEFAULT_CHUNK_SIZE = 100_000


@dataclass(frozen=True)
class Sample:
    """A slice of an events file, used as Asimov data, histogram templates or Fisher input.

    Attributes:
        events: path of an events file (lhcgold or MadMiner layout) or an open ``EventFile``.
        start: first event (inclusive).
        stop: last event (exclusive); None for the end of the file.
        weight_scale: factor applied to every weight, e.g. ``1 / fraction`` when the slice
            is a partition of the file and should stand for the full cross section.
    """

    events: Any
    start: int = 0
    stop: int | None = None
    weight_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.start < 0 or (self.stop is not None and self.stop < self.start):
            raise ConfigError(f"invalid event range [{self.start}, {self.stop})")
        if not (np.isfinite(self.weight_scale) and self.weight_scale > 0):
            raise ConfigError(f"weight_scale must be positive and finite, got {self.weight_scale}")
        if isinstance(self.events, (str, os.PathLike)):
            object.__setattr__(self, "events", _open(self.events))  # open (and validate) once

    @property
    def file(self) -> EventFile:
        """The events file (opened on first use when given as a path)."""
        return _open(self.events)

    @property
    def setup(self) -> Setup:
        return self.file.setup

    @property
    def observables(self) -> tuple[str, ...]:
        return tuple(self.file.observables)

    @property
    def n_events(self) -> int:
        n = self.file.n_events
        stop = n if self.stop is None else min(self.stop, n)
        return max(stop - self.start, 0)

    def iter_chunks(
        self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, progress: bool = False
    ) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        """Yield ``(x (n, O), m (n, C))`` chunks.

        ``m`` includes the file's per-run sampling factors (files that combine runs at several
        benchmarks) and ``weight_scale``.

        Raises:
            EventFileError: a non-finite (NaN/inf) weight, naming the file and the event.
        """
        ef = self.file
        pos = self.start
        for chunk in ef.iter_chunks(chunk_size=chunk_size, start=self.start, stop=self.stop, progress=progress):
            m = np.asarray(chunk.components(), dtype=np.float64)
            require_finite(m, self, pos, "weight")
            pos += len(m)
            scale = self.weight_scale
            sf = getattr(ef, "sampling_factors", None)
            if sf is not None:
                fac = np.asarray(sf(chunk.sampling_benchmarks), dtype=np.float64)
                if not np.all(fac == 1.0):
                    m = m * fac[:, None]
            if scale != 1.0:
                m = m * scale
            yield np.asarray(chunk.observations, dtype=np.float64), m

    def event_component_xsec(self, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> NDArray[np.float64]:
        """Σ over this slice's events of the component weights (C,) [pb] (always streamed).

        Differs from :meth:`component_xsec` when the file stores the generator's precise σ_c;
        event weights are normalised with this sum, so that they sum exactly to one.
        """
        total: NDArray[np.float64] | None = None
        for _, m in self.iter_chunks(chunk_size=chunk_size):
            s = m.sum(axis=0)
            total = s if total is None else total + s
        if total is None:
            raise ConfigError(f"the event range [{self.start}, {self.stop}) of {self.events!s} is empty")
        return total

    def component_xsec(self, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> NDArray[np.float64]:
        """Component cross sections σ_c (C,) of this slice [pb].

        For a whole file this is the file's own value (the generator's precise σ_c when stored);
        for a slice, the sum over its events.
        """
        ef = self.file
        if self.start == 0 and (self.stop is None or self.stop >= ef.n_events) and hasattr(ef, "component_xsec"):
            return np.asarray(ef.component_xsec(), dtype=np.float64) * self.weight_scale
        return self.event_component_xsec(chunk_size=chunk_size)


def require_finite(values: NDArray[np.float64], sample: Sample, first_event: int, what: str) -> None:
    """Raise EventFileError naming the file and the first event with a NaN/inf in ``values`` (n, k)."""
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise EventFileError(
            f"{_label(sample.events)}: event {first_event + row} has a non-finite {what} "
            f"({np.asarray(values[row]).tolist()}); inference would give NaN results"
        )


def check_finite(
    events: EventsLike, columns: Sequence[int] | None = None, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> None:
    """Stream a sample once and raise EventFileError at the first NaN/inf weight or observable
    (only ``columns`` of the observables, all when None), naming the file and the event."""
    sample = as_sample(events)
    pos = sample.start
    for x, _ in sample.iter_chunks(chunk_size=chunk_size):  # checks the weights
        require_finite(x if columns is None else x[:, list(columns)], sample, pos, "observable")
        pos += len(x)


def _label(events: Any) -> str:
    path = getattr(events, "path", None)
    return str(path if path is not None else events)


def partition_sample(
    events: EventsLike, partition: str = "test", *, test_split: float = 0.2, validation_split: float = 0.2
) -> Sample:
    """The ``partition`` of an events file as a :class:`Sample`, weighted to the full cross section.

    The partitions are those of :mod:`lhcgold.augment` (and MadMiner): train, validation and test are
    consecutive slices of the file, the test partition its last ``test_split``. Estimators are trained
    on the train partition; limits and Fisher information belong on the test partition.

    Raises:
        ConfigError: invalid splits, or an empty partition (e.g. ``test_split=0``).
    """
    from ..augment import partition_bounds

    ef = as_sample(events).file
    try:
        start, stop, factor = partition_bounds(
            ef.n_events,
            partition,  # type: ignore[arg-type]
            test_split=test_split,
            validation_split=validation_split,
        )
    except ConfigError as exc:
        raise ConfigError(f"{_label(ef)} has no usable {partition} partition: {exc}") from None
    return Sample(ef, start=start, stop=stop, weight_scale=factor)


_OPEN_CACHE: dict[str, Any] = {}

EventsLike = Union[str, "os.PathLike[str]", "EventFile", Sample]


def _open(events: Any) -> EventFile:
    from ..io.events import EventFile

    if isinstance(events, (str, os.PathLike)):
        return EventFile(events)
    return events  # an EventFile (or a compatible object)


def as_sample(events: EventsLike) -> Sample:
    """Wrap a path or an ``EventFile`` into a :class:`Sample` (whole file); pass a Sample through."""
    if isinstance(events, Sample):
        return events
    return Sample(_open(events))


def components_of(setup: Setup) -> NDArray[np.int64]:
    """The morphing components (C, P) of a setup; a clear error without morphing."""
    from ..exceptions import MorphingError

    if setup.components is None:
        raise MorphingError("inference needs a morphing setup (component weights); this file has none")
    return np.asarray(setup.components)


def factors(theta: ArrayLike, components: NDArray[np.int64]) -> NDArray[np.float64]:
    """f_c(θ): (C,) for θ of shape (P,), (T, C) for (T, P)."""
    return component_factors(np.asarray(theta, dtype=np.float64), components)


def factor_gradients(theta: ArrayLike, components: NDArray[np.int64]) -> NDArray[np.float64]:
    """∂_p f_c(θ): (P, C) for θ of shape (P,), (T, P, C) for (T, P)."""
    return component_factor_gradients(np.asarray(theta, dtype=np.float64), components)


def resolve_theta(theta: ArrayLike | str | None, setup: Setup) -> NDArray[np.float64]:
    """θ from an array, a benchmark name, or None (the origin)."""
    if theta is None:
        return np.zeros(setup.n_parameters)
    if isinstance(theta, str):
        return np.asarray(setup.theta_of(theta), dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    if th.shape != (setup.n_parameters,):
        raise ConfigError(
            f"theta must have shape ({setup.n_parameters},) for parameters {setup.parameter_names}, got {th.shape}"
        )
    return th


def column_indices(names: Sequence[str], available: Sequence[str], *, what: str = "observable") -> list[int]:
    """Indices of ``names`` among ``available``; an unknown name is a ConfigError with near misses."""
    available = list(available)
    out = []
    for n in names:
        if n not in available:
            raise unknown_name_error(what, n, available)
        out.append(available.index(n))
    return out


def parameter_indices(names_or_idx: Sequence[str | int], parameter_names: Sequence[str]) -> list[int]:
    """Parameter indices from names or integer indices."""
    out = []
    for v in names_or_idx:
        if isinstance(v, (int, np.integer)):
            if not 0 <= int(v) < len(parameter_names):
                raise ConfigError(f"parameter index {v} out of range for {tuple(parameter_names)}")
            out.append(int(v))
        else:
            out.extend(column_indices([v], parameter_names, what="parameter"))
    if len(set(out)) != len(out):
        raise ConfigError(f"parameters listed twice: {list(names_or_idx)}")
    return out


def model_columns(model: Any, available: Sequence[str]) -> list[int] | None:
    """Columns of the events' observables that a model was trained on (None: use all as they are).

    A model that names its observables (``model.observables``) must find every one of them in
    the events file; otherwise its inputs would be silently wrong.
    """
    names = getattr(model, "observables", None)
    if not names:
        return None
    names = tuple(names)
    missing = [n for n in names if n not in available]
    if missing:
        raise ConfigError(
            f"the model was trained on observables {names}, but the events carry {tuple(available)}: "
            f"missing {tuple(missing)}"
        )
    return column_indices(names, available)
