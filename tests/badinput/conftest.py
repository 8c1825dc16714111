"""Helpers for the bad-input corpus: every bad input is one clear error, with nothing lost.

Each case runs the real CLI (``lhcgold.cli.main``) or library call on a real bad input and
checks three things: the exit code (1 for an lhcgold error, 2 for a usage error), a single
``Error: ...`` line (no traceback) that names the problem, and no files left behind
(temporaries, half-written outputs) beside the user's files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from lhcgold.cli import main


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``directory`` with its size and mtime (to prove nothing changed)."""
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            p = Path(root) / name
            st = p.stat()
            files[str(p.relative_to(directory))] = (st.st_size, st.st_mtime_ns)
    return files


@pytest.fixture
def run_cli(capsys):
    """Run ``lhcgold ARGS`` in-process; return the exit code and the captured output."""

    def _run(*args: object) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def assert_clean_error(result: CliResult, match: str, *, code: int | tuple[int, ...] = (1, 2)) -> None:
    """One ``Error:`` message matching ``match`` (a regex, case-insensitive), no traceback."""
    codes = (code,) if isinstance(code, int) else code
    assert result.code in codes, f"exit code {result.code}, stderr:\n{result.err}"
    assert "Traceback" not in result.err, result.err
    assert re.search(match, result.err, flags=re.IGNORECASE), f"{match!r} not in stderr:\n{result.err}"
    assert "Error" in result.err, result.err


def assert_no_leftovers(directory: Path, before: dict[str, tuple[int, int]] | None = None) -> None:
    """No temporary files below ``directory``; with ``before``, no file changed or appeared."""
    now = snapshot(directory)
    temps = [name for name in now if ".tmp" in name or name.endswith("~")]
    assert not temps, f"temporary files left behind: {temps}"
    if before is not None:
        assert now == before, f"files changed: {set(now.items()) ^ set(before.items())}"
