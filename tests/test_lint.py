"""The code style is part of the test suite: ``ruff format`` and ``ruff check`` must pass on the whole tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["lhcgold", "tests", "benchmarks", "tools", "workflows", "docs"]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    if (
        shutil.which("ruff") is None
        and subprocess.run([sys.executable, "-m", "ruff", "--version"], capture_output=True).returncode != 0
    ):
        pytest.fail("ruff is part of the test extra: pip install -e '.[test]'")
    return subprocess.run([sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True)


def test_ruff_format_is_clean() -> None:
    res = _ruff("format", "--check")
    assert res.returncode == 0, "run `ruff format " + " ".join(PATHS) + "`:\n" + res.stdout + res.stderr


def test_ruff_check_is_clean() -> None:
    res = _ruff("check")
    assert res.returncode == 0, res.stdout + res.stderr
