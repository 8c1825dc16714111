"""The card's stage sections, registered by the stages that own them, and validated whole at load.

Every stage module declares the JSON schema of its section where it is defined::

    register_section("shower", SHOWER_SCHEMA)

A schema may also be a function of the whole raw card (the ``process:`` section's keys depend on
the process named in it, the ``generator:`` section's on its backend). :func:`validate_sections`
imports the stage modules, then checks every section present in a card against its schema, so a
misspelt key anywhere in a card fails at load with a near-miss suggestion instead of being ignored.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ..exceptions import ConfigError

__all__ = ["register_section", "section_schema", "validate_sections"]

SchemaLike = Mapping[str, Any] | Callable[[Mapping[str, Any]], Mapping[str, Any]]

_SCHEMAS: dict[str, SchemaLike] = {}

#: modules that register the sections of the built-in stages (imported on first validation)
STAGE_MODULES = (
    "lhcgold.generate.card",
    "lhcgold.generate.backends",
    "lhcgold.shower",
    "lhcgold.detector",
    "lhcgold.reconstruct",
    "lhcgold.observables",
    "lhcgold.augment.settings",
    "lhcgold.ml.settings",
    "lhcgold.infer.settings",
    "lhcgold.run",
)
_LOADED = False


def register_section(name: str, schema: SchemaLike) -> None:
    """Declare the schema of card section ``name`` (a stage calls this once, at import).

    Raises:
        ValueError: ``name`` is not a card section, or another schema is registered for it.
    """
    from .card import SECTIONS  # cycle: config.sections -> config.card -> config.sections

    if name not in SECTIONS:
        raise ValueError(f"{name!r} is not a card section ({', '.join(SECTIONS)})")
    other = _SCHEMAS.get(name)
    if other is not None and other is not schema:
        raise ValueError(f"card section {name!r} already has a schema")
    _SCHEMAS[name] = schema


def _load() -> None:
    global _LOADED
    if not _LOADED:
        for mod in STAGE_MODULES:
            importlib.import_module(mod)
        _LOADED = True


def section_schema(name: str, raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema of section ``name`` for the card ``raw`` (None: no stage registered one)."""
    _load()
    schema = _SCHEMAS.get(name)
    if schema is None or isinstance(schema, Mapping):
        return schema
    return schema(raw)  # may raise ConfigError itself (e.g. an unknown process name)


def validate_sections(raw: Mapping[str, Any], *, source: str | None = None) -> None:
    """Check every stage section present in a raw card against its registered schema.

    Raises:
        ConfigError: the first problem, with its key path and near-miss suggestions for unknown keys.
    """
    from .card import SECTIONS, _schema_error  # cycle: config.sections -> config.card -> config.sections

    for name in SECTIONS:
        value = raw.get(name)
        if value is None:
            continue
        try:
            schema = section_schema(name, raw)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=exc.path, source=source) from None
        if schema is not None:
            _schema_error(value, schema, prefix=name, source=source)
