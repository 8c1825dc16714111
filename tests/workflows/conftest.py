"""Helpers: run Snakemake on workflows/Snakefile at toy size in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
SNAKEFILE = REPO / "workflows" / "Snakefile"
PROFILES = REPO / "workflows" / "profiles"
TOY = REPO / "workflows" / "toy.yaml"
CARD = REPO / "cards" / "wh.yaml"


def snakemake(
    cwd: Path,
    profile: str,
    *targets: str,
    configfiles: tuple[Path, ...] = (),
    flags: tuple[str, ...] = (),
    card: Path | str = CARD,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """Run the workflow at toy size (workflows/toy.yaml, then ``configfiles``) in ``cwd``, outputs in
    cwd/wf, through ``profile``."""
    pytest.importorskip("snakemake")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # jobs run `python -m lhcgold.workflow`: the interpreter of this test first on PATH
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    argv = [
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        str(PROFILES / profile),
        "--snakefile",
        str(SNAKEFILE),
        *flags,
        "--configfile",
        str(TOY),
        *map(str, configfiles),
        "--config",
        f"card={card}",
        f"output={cwd / 'wf'}",
        "--",
        *targets,
    ]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def outputs(root: Path) -> dict[str, int]:
    """Every file under ``root`` (but logs) with its modification time."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file() and "logs" not in p.parts
    }


@pytest.fixture(scope="session")
def local_toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy workflow run once through the local profile (shared by the tests of a session)."""
    cwd = tmp_path_factory.mktemp("local")
    proc = snakemake(cwd, "local")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cwd / "wf"
