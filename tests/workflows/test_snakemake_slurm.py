"""workflows/Snakefile through the slurm profile on a real SLURM cluster (tools/slurm-cluster up makes a
single-node one): every job goes through sbatch, and the limits equal the local run's bit for bit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import snakemake


def _slurm_answers() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "SLURM is not installed (Debian: apt-get install slurm-wlm munge)"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo does not answer"
    if proc.returncode != 0 or not proc.stdout.strip():
        return f"no SLURM cluster answers (start one with `tools/slurm-cluster up`): {proc.stderr.strip()[:200]}"
    return None


@pytest.mark.cluster
@pytest.mark.slow
def test_slurm_profile_runs_every_job_through_sbatch_with_the_local_limits(local_toy, tmp_path):
    reason = _slurm_answers()
    if reason:
        pytest.skip(reason)
    proc = snakemake(tmp_path, "slurm", timeout=2400)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    submitted = re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log)
    rules = re.findall(r"^rule (\w+):", log, flags=re.MULTILINE)
    # every job but the target rule `all` (no command) went through sbatch, and each left its SLURM log
    assert len(submitted) == len([r for r in rules if r != "all"]) == 15, log[-4000:]
    slurm_logs = list((tmp_path / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert sorted(int(p.stem) for p in slurm_logs) == sorted(int(j) for _, j in submitted)
    jobcomp = Path(os.environ.get("LHCGOLD_SLURM_DIR", "/tmp/lhcgold-slurm")) / "jobcomp.log"
    if jobcomp.is_file():  # tools/slurm-cluster's job completion log: each of them COMPLETED
        done = dict(re.findall(r"JobId=(\d+) .*?JobState=(\w+)", jobcomp.read_text()))
        assert all(done.get(j) == "COMPLETED" for _, j in submitted), done

    local, slurm = local_toy, tmp_path / "wf"
    names = sorted(p.name for p in (local / "limits").glob("*.json"))
    assert names and names == sorted(p.name for p in (slurm / "limits").glob("*.json"))
    for name in names + ["../fisher.json"]:
        assert (local / "limits" / name).read_bytes() == (slurm / "limits" / name).read_bytes(), name
