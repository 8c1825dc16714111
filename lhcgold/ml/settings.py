"""The card's ``train:`` section: the estimators' networks and training of the main job (``lhcgold run``)."""

from __future__ import annotations

from typing import Any

from ..config.sections import register_section

__all__ = ["TRAIN_SCHEMA"]

_POSITIVE = {"type": "number", "exclusiveMinimum": 0}

#: JSON Schema of the card's ``train:`` section (the options of :class:`lhcgold.ml.TrainConfig` it sets)
TRAIN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "epochs": {"type": "integer", "minimum": 1},
        "hidden": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
        # one of lhcgold.ml.nets.ACTIVATIONS (not imported here: that imports torch)
        "activation": {"enum": ["tanh", "relu", "sigmoid", "lrelu", "elu", "selu", "softplus", "gelu", "silu"]},
        "batch_size": {"type": "integer", "minimum": 1},
        "initial_lr": _POSITIVE,
        "final_lr": _POSITIVE,
        "clip_gradient": _POSITIVE,
    },
}
register_section("train", TRAIN_SCHEMA)
