"""lhcgold: simulation-based inference at the LHC by mining gold from matrix-element weights.

The package is organised by pipeline stage (``setup`` -> ``generate`` -> ``shower`` /
``detector`` -> ``observables`` -> ``augment`` -> ``ml`` -> ``infer``). Importing
``lhcgold`` is cheap: torch and matplotlib are imported only by ``lhcgold.ml`` and
``lhcgold.plot``.
"""

from __future__ import annotations

import logging

from ._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
