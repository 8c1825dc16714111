"""The exception hierarchy of lhcgold.

Every error the library raises on bad input is one of these. Each subclasses the
builtin that a caller would expect (``ConfigError`` is a ``ValueError``, ...), so
``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class LhcgoldError(Exception):
    """Base class of all lhcgold errors."""


class ConfigError(LhcgoldError, ValueError):
    """An analysis card (or another configuration object) is invalid.

    Args:
        message: what is wrong.
        path: the key path in the file, e.g. ``"parameters[1].range"``.
        source: the file the value came from.
    """

    def __init__(self, message: str, *, path: str | None = None, source: str | None = None):
        self.message = message
        self.path = path
        self.source = source
        where = ""
        if source:
            where += f"{source}"
        if path:
            where += f"{': ' if source else ''}{path}"
        super().__init__(f"{where}: {message}" if where else message)


class EventFileError(LhcgoldError, OSError):
    """An event, setup or sample file is missing, malformed, truncated or foreign."""


class MorphingError(LhcgoldError, ValueError):
    """Morphing cannot be set up or evaluated (too few benchmarks, singular basis, ...)."""


class ExternalToolError(LhcgoldError, RuntimeError):
    """An external program (MG5_aMC, Delphes, a container runtime) failed.

    Carries the command (an argument list), its exit code and the tail of its log.
    """

    def __init__(self, message: str, *, command: Sequence[str] = (), returncode: int | None = None, log_tail: str = ""):
        self.command = list(command)
        self.returncode = returncode
        self.log_tail = log_tail
        text = message
        if self.command:
            text += f"\n  command: {' '.join(self.command)}"
        if returncode is not None:
            text += f"\n  exit code: {returncode}"
        if log_tail:
            text += "\n  log tail:\n    " + "\n    ".join(log_tail.splitlines()[-20:])
        super().__init__(text)


class MissingDependencyError(LhcgoldError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""

    def __init__(self, package: str, extra: str):
        self.package = package
        self.extra = extra
        super().__init__(f"{package} is required for this feature: pip install 'lhcgold[{extra}]'")


def suggest(name: str, choices: Iterable[str]) -> str:
    """A " (did you mean ...?)" hint listing near misses of ``name`` among ``choices``."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


def unknown_name_error(
    kind: str, name: str, choices: Iterable[str], *, path: str | None = None, source: str | None = None
) -> ConfigError:
    """A ConfigError for an unknown ``name`` of some ``kind``, with near-miss suggestions."""
    choices = list(choices)
    return ConfigError(
        f"unknown {kind} {name!r}{suggest(name, choices)}; known: {', '.join(choices) or 'none'}",
        path=path,
        source=source,
    )
