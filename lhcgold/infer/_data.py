"""Helpers shared by the inference functions (events are read through :mod:`lhcgold.io.view`).

Everything here works in morphing-component space: a chunk of an
:class:`~lhcgold.io.view.EventsView` yields its observations ``x`` (n, O) and per-event component
weights ``m`` (n, C) in pb, so that the weight at any θ is ``m @ f(θ)``
(:func:`lhcgold.physics.morphing.component_factors`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..config.point import ParameterPoint
from ..exceptions import ConfigError, EventFileError, MorphingError, unknown_name_error
from ..io.view import EventsView
from ..physics.morphing import component_factor_gradients, component_factors

if TYPE_CHECKING:
    from ..config.setup import Setup

logger = logging.getLogger(__name__)


def require_finite(values: NDArray[np.float64], sample: EventsView, first_event: int, what: str) -> None:
    """Raise EventFileError naming the file and the first event with a NaN/inf in ``values`` (n, k)."""
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise EventFileError(
            f"{sample.path}: event {first_event + row} has a non-finite {what} "
            f"({np.asarray(values[row]).tolist()}); inference would give NaN results"
        )


def components_of(setup: Setup) -> NDArray[np.int64]:
    """The morphing components (C, P) of a setup; a clear error without morphing."""

    if setup.components is None:
        raise MorphingError("inference needs a morphing setup (component weights); this file has none")
    return np.asarray(setup.components)


def factors(theta: ArrayLike, components: NDArray[np.int64]) -> NDArray[np.float64]:
    """f_c(θ): (C,) for θ of shape (P,), (T, C) for (T, P)."""
    return component_factors(np.asarray(theta, dtype=np.float64), components)


def factor_gradients(theta: ArrayLike, components: NDArray[np.int64]) -> NDArray[np.float64]:
    """∂_p f_c(θ): (P, C) for θ of shape (P,), (T, P, C) for (T, P)."""
    return component_factor_gradients(np.asarray(theta, dtype=np.float64), components)


def resolve_theta(theta: ParameterPoint | ArrayLike | str | None, setup: Setup) -> NDArray[np.float64]:
    """θ (P,) from a :class:`~lhcgold.config.ParameterPoint`, a benchmark name or ``"NAME=VALUE,..."``
    string, an array in the setup's parameter order, or None (the origin)."""
    if theta is None:
        return np.zeros(setup.n_parameters)
    if isinstance(theta, (str, ParameterPoint)) or isinstance(theta, Mapping):
        return setup.point(theta).as_array()
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
