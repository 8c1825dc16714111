"""Every profile in workflows/profiles/ is accepted by Snakemake (a dry run plans all 16 jobs). The
executors of the htcondor profile need its plugin, the apptainer one the apptainer program: those
dry runs are skipped when they are absent. Real runs: test_snakemake_local/slurm, test_container."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from .conftest import PROFILES, snakemake

NEEDS = {
    "htcondor": ("module", "snakemake_executor_plugin_htcondor"),
    "slurm": ("module", "snakemake_executor_plugin_slurm"),
    "apptainer": ("program", "apptainer"),
}


@pytest.mark.slow
@pytest.mark.parametrize("profile", sorted(p.name for p in PROFILES.iterdir() if (p / "config.yaml").is_file()))
def test_profile_dry_run_plans_the_whole_workflow(tmp_path, profile):
    kind, name = NEEDS.get(profile, (None, None))
    if kind == "module" and importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    if kind == "program" and shutil.which(name) is None:
        pytest.skip(f"{name} is not installed")
    proc = snakemake(tmp_path, profile, flags=("-n",), timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "This was a dry-run" in out
    assert "total                 16" in out, out[-2000:]
    assert not (tmp_path / "wf").exists()
