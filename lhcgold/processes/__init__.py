"""The embedded generator's processes, one module each, found by name through a registry.

>>> from lhcgold.processes import get_process_class, process_names
>>> process_names()  # doctest: +SKIP
('drell_yan', 'wh', ...)

Adding a process means adding one module here (or a package with an entry point in the
``lhcgold.processes`` group) whose :class:`EmbeddedProcess` subclass is decorated with
:func:`register_process`; see :mod:`lhcgold.processes.base` and docs/processes.md.
"""

from __future__ import annotations

from .base import (
    COMMON_OPTIONS_SCHEMA,
    Batch,
    EmbeddedProcess,
    EventRecord,
    ProcessDefaults,
    get_process_class,
    process_names,
    process_section_schema,
    register_process,
)

__all__ = [
    "COMMON_OPTIONS_SCHEMA",
    "Batch",
    "EmbeddedProcess",
    "EventRecord",
    "ProcessDefaults",
    "get_process_class",
    "process_names",
    "process_section_schema",
    "register_process",
]
