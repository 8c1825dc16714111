"""Event generation: the embedded LO generator (Drell–Yan, W±H) with exact EFT component weights.

The stable entry points live in :mod:`lhcgold.generate.embedded` (see its docstring)::

    from lhcgold.generate.embedded import generate, build_process, TruthModel

They are re-exported here lazily, so ``import lhcgold.generate`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GenerationResult", "GenerationSummary", "TruthModel", "build_process", "generate", "generate_to_files"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import embedded

        return getattr(embedded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
