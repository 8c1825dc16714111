"""Lazy matplotlib / mplhep access with an install hint."""

from __future__ import annotations

from typing import Any

from ..exceptions import MissingDependencyError


def pyplot() -> Any:
    """``matplotlib.pyplot`` (MissingDependencyError with the ``plot`` extra when absent)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("matplotlib", "plot") from exc
    return plt


def mplhep() -> Any:
    try:
        import mplhep as hep
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("mplhep", "plot") from exc
    return hep


def axes(ax: Any = None) -> Any:
    """The given axes, or the current axes of pyplot."""
    return ax if ax is not None else pyplot().gca()


def color_cycle(n: int, colors: Any = None) -> list[Any]:
    if colors is not None:
        colors = list(colors)
        if len(colors) < n:
            raise ValueError(f"{n} colours needed, {len(colors)} given")
        return colors
    cycle = pyplot().rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return [cycle[i % len(cycle)] for i in range(n)]
