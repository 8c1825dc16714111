"""The card's ``augment:`` section: the training samples of the main job (``lhcgold run``)."""

from __future__ import annotations

from typing import Any

from ..config.sections import register_section

__all__ = ["AUGMENT_SCHEMA"]

#: JSON Schema of the card's ``augment:`` section
AUGMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # training samples per estimator
        "n_train": {"type": "integer", "minimum": 100},
        # random θ0 points of the ratio (ALICES) sample
        "n_theta0": {"type": "integer", "minimum": 1},
        # fraction of each events file kept for the limits and the Fisher information (never trained on)
        "test_split": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.8},
    },
}
register_section("augment", AUGMENT_SCHEMA)
