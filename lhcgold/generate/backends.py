"""Generator backends, registered by name: ``embedded`` (the LO generator) and ``mg5`` (MG5_aMC).

The card chooses one with ``generator: {backend: NAME, ...}`` (default ``embedded``; the embedded
generator keeps its options in ``process:`` and ``generate:``). A new backend is one entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config.sections import register_section
from ..exceptions import ConfigError, unknown_name_error
from .mg5 import GENERATOR_MG5_SCHEMA

__all__ = ["BACKENDS", "GeneratorBackend", "backend_of", "get_backend"]


@dataclass(frozen=True)
class GeneratorBackend:
    """A generator backend: its name, what it is, and the name of its entry point (lazy import)."""

    name: str
    description: str
    module: str
    function: str

    def load(self) -> Callable[..., Any]:
        return getattr(importlib.import_module(self.module), self.function)  # type: ignore[no-any-return]


BACKENDS: dict[str, GeneratorBackend] = {
    "embedded": GeneratorBackend(
        "embedded",
        "embedded LO generator (Drell-Yan, WH) with exact component weights",
        "lhcgold.generate.embedded",
        "generate_to_files",
    ),
    "mg5": GeneratorBackend(
        "mg5", "MadGraph5_aMC@NLO with reweighting, through lhcgold.runtime", "lhcgold.generate.mg5", "generate_mg5"
    ),
}


def get_backend(name: str) -> GeneratorBackend:
    """The backend registered as ``name``.

    Raises:
        ConfigError: unknown name (with near misses).
    """
    try:
        return BACKENDS[name]
    except KeyError:
        raise unknown_name_error("generator backend", name, BACKENDS, path="generator.backend") from None


def backend_of(card: Any) -> str:
    """The backend a card asks for (``generator.backend``, default ``embedded``)."""
    sec = card.raw.get("generator") or {}
    if not isinstance(sec, dict):
        raise ConfigError("generator must be a mapping", path="generator")
    name = sec.get("backend", "embedded")
    if not isinstance(name, str):
        raise ConfigError(f"generator.backend must be a name, got {name!r}", path="generator.backend")
    get_backend(name)
    return name


def _generator_schema(raw: Any) -> dict[str, Any]:
    """Schema of the ``generator:`` section: the chosen backend's (the embedded one has no options there)."""
    sec = raw.get("generator")
    name = sec.get("backend", "embedded") if isinstance(sec, dict) else None
    if name == "mg5":
        return GENERATOR_MG5_SCHEMA
    if name == "embedded":
        return {"type": "object", "additionalProperties": False, "properties": {"backend": {"const": "embedded"}}}
    if isinstance(name, str):
        get_backend(name)  # unknown: near-miss error
    return {"type": "object", "properties": {"backend": {"enum": sorted(BACKENDS)}}}


register_section("generator", _generator_schema)
