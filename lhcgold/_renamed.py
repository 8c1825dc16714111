"""Deprecated aliases of renamed public classes (module-level ``__getattr__``, PEP 562).

Each class name is unique across lhcgold; the old, ambiguous names still import, with a
:class:`DeprecationWarning` naming the new one.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

#: old name -> (module, new name), per module that used to define or export the old name
RENAMED: dict[str, dict[str, tuple[str, str]]] = {
    "lhcgold.augment": {
        "Benchmark": ("lhcgold.augment.thetas", "BenchmarkTheta"),
        "Grid": ("lhcgold.augment.thetas", "ThetaGrid"),
    },
    "lhcgold.augment.thetas": {
        "Benchmark": ("lhcgold.augment.thetas", "BenchmarkTheta"),
        "Grid": ("lhcgold.augment.thetas", "ThetaGrid"),
    },
    "lhcgold.infer": {
        "Grid": ("lhcgold.infer.grid", "LimitGrid"),
        "Sample": ("lhcgold.io.view", "EventsView"),
    },
    "lhcgold.infer.grid": {"Grid": ("lhcgold.infer.grid", "LimitGrid")},
    "lhcgold.reconstruct": {"Sample": ("lhcgold.reconstruct", "ReconstructionSample")},
    "lhcgold.runtime": {"RunResult": ("lhcgold.runtime", "ProgramResult")},
}


def module_getattr(module: str, renamed: Mapping[str, tuple[str, str]] | None = None) -> Callable[[str], Any]:
    """A module ``__getattr__`` that resolves the old names of ``module`` with a DeprecationWarning."""
    table = RENAMED[module] if renamed is None else renamed

    def __getattr__(name: str) -> Any:
        if name not in table:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target, new = table[name]
        warnings.warn(
            f"{module}.{name} is deprecated: it is now {target}.{new} (class names are unique across lhcgold)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(target), new)

    return __getattr__
