"""Bookkeeping shared by the stages of the main job (``lhcgold run``) and its workflow jobs.

:class:`Stages` times each stage and, when a run is resumed, tells a stage whether its outputs
exist already; :func:`write_json` writes a stage's JSON output atomically.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .io.atomic import atomic_path

__all__ = ["Stages", "jsonable", "slug", "write_json"]

log = logging.getLogger(__name__)


class Stages:
    """Timing and resume bookkeeping of the stages writing into one output directory.

    Args:
        out: the output directory.
        resume: skip a stage whose outputs all exist.
        progress: progress bars on stderr.
    """

    def __init__(self, out: Path, resume: bool = False, progress: bool = False):
        self.out = Path(out)
        self.resume = resume
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name`` (added up when a stage runs several times)."""
        log.info("stage %s ...", name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        log.info("stage %s done in %.1f s", name, self.timings[name])

    def needed(self, *paths: Path) -> bool:
        """False when resuming and all outputs exist."""
        return not (self.resume and all(p.exists() for p in paths))


def jsonable(obj: Any) -> Any:
    """Tuples as lists, recursively (what JSON round trips give back)."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (replacing an earlier version of the run's own file)."""

    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(jsonable(obj), indent=1, default=float))


def slug(label: str) -> str:
    """File-name form of a method label (``"truth (parton)"`` -> ``"truth_parton"``)."""
    return label.replace(" (", "_").replace(")", "").replace(" ", "_")
