"""The card's ``infer:`` section: limits and Fisher information of the main job (``lhcgold run``)."""

from __future__ import annotations

from typing import Any

from ..config.sections import register_section

__all__ = ["INFER_SCHEMA"]

_RANGES = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
}

#: JSON Schema of the card's ``infer:`` section
INFER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "luminosity_ifb": {"type": "number", "exclusiveMinimum": 0},
        # points per parameter of the 2-D limit grid, and of the 1-D scans
        "grid_resolution": {"type": "integer", "minimum": 3},
        "scan_resolution": {"type": "integer", "minimum": 5},
        # the histogram baseline: the best 2-D histogram among pairs of these (default: the process's)
        "histogram_observables": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "histogram_bins": {"type": "integer", "minimum": 1},
        # bins per axis of SALLY's score histogram
        "score_bins": {"type": "integer", "minimum": 1},
        # limit-grid range per parameter, detector and parton level (default: from the Fisher information)
        "grid": _RANGES,
        "parton_grid": _RANGES,
    },
}
register_section("infer", INFER_SCHEMA)
