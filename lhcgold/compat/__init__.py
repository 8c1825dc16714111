"""Compatibility layers for code written against other tools.

:mod:`lhcgold.compat.madminer` offers MadMiner's classes and call signatures on top of lhcgold, so
that a MadMiner script runs with only its import lines changed (see the migration guide).
"""

from __future__ import annotations

__all__: list[str] = []
