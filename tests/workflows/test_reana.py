"""workflows/reana.yaml is a REANA specification that `reana-client validate` accepts.

reana-client pins its own versions of shared dependencies, so it lives in a virtual environment of its
own: `reana-client` on PATH, else $LHCGOLD_REANA_CLIENT, else one installed by this test (needs PyPI);
skipped, saying why, when none can be had."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
REANA_VERSION = "0.9.6"


def _reana_client(tmp_path_factory: pytest.TempPathFactory) -> str:
    found = os.environ.get("LHCGOLD_REANA_CLIENT") or shutil.which("reana-client")
    if found:
        return found
    env_dir = tmp_path_factory.mktemp("reana-venv")
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    try:
        proc = subprocess.run(
            [str(py), "-m", "pip", "install", "-q", f"reana-client=={REANA_VERSION}"],
            capture_output=True,
            text=True,
            timeout=900,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"installing reana-client {REANA_VERSION} took more than 15 minutes")
    if proc.returncode != 0:
        pytest.skip(f"reana-client {REANA_VERSION} could not be installed: {proc.stderr.strip()[-300:]}")
    return str(env_dir / "bin" / "reana-client")


@pytest.mark.slow
def test_reana_client_validates_the_specification(tmp_path_factory):
    client = _reana_client(tmp_path_factory)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REANA_")}
    proc = subprocess.run(
        [client, "validate", "-f", "workflows/reana.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "SUCCESS: Valid REANA specification file" in out, out
    assert "Workflow operations appear valid" in out and "ERROR" not in out, out


def test_reana_specification_names_files_that_exist():
    import yaml

    spec = yaml.safe_load((REPO / "workflows" / "reana.yaml").read_text())
    assert spec["workflow"]["type"] == "snakemake"
    assert (REPO / spec["workflow"]["file"]).is_file()
    for d in spec["inputs"]["directories"]:
        assert (REPO / d).is_dir(), d
    config = yaml.safe_load((REPO / spec["inputs"]["parameters"]["input"]).read_text())
    assert (REPO / config["card"]).is_file()
    assert sys.version_info >= (3, 10)
