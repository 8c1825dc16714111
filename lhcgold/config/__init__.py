"""Configuration: the analysis card (YAML + JSON Schema) and the ``Setup`` it produces."""

from __future__ import annotations

from .card import (
    AnalysisCard,
    Benchmark,
    MorphingOptions,
    Parameter,
    card_schema,
    check_section,
    load_card,
    load_card_text,
)
from .point import ParameterPoint
from .setup import Setup

__all__ = [
    "AnalysisCard",
    "Benchmark",
    "MorphingOptions",
    "Parameter",
    "ParameterPoint",
    "Setup",
    "card_schema",
    "check_section",
    "load_card",
    "load_card_text",
]
