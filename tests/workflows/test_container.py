"""The lhcgold image (docker/Dockerfile) runs `lhcgold run` at toy size with its output on a bind mount,
as a non-root user. Needs podman or docker and the image built (docker/README.md); skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

IMAGE = os.environ.get("LHCGOLD_IMAGE", "localhost/lhcgold:latest")
CARD = Path(__file__).parents[2] / "cards" / "wh.yaml"


def _engine() -> str:
    for engine in filter(None, (os.environ.get("LHCGOLD_CONTAINER_ENGINE"), "podman", "docker")):
        if shutil.which(engine) is None:
            continue
        proc = subprocess.run([engine, "image", "inspect", IMAGE], capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            return engine
    pytest.skip(f"no container engine with the image {IMAGE} (build it as docker/README.md says)")


@pytest.mark.container
@pytest.mark.slow
def test_lhcgold_run_at_toy_size_in_the_image_writes_to_a_bind_mount(tmp_path):
    engine = _engine()
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(CARD, work / "wh.yaml")
    uid, gid = os.getuid(), os.getgid()
    user = f"{uid}:{gid}" if uid != 0 else "1000:1000"  # never root inside, even when the test runs as root
    if uid == 0:
        os.chown(work, 1000, 1000)
    argv = [engine, "run", "--rm", "--network", "none", "--user", user, "-v", f"{work}:/work", IMAGE,
            "lhcgold", "run", "wh.yaml", "-o", "out", "-n", "800", "--n-parton", "3000", "--n-train", "1500",
            "--epochs", "1", "--grid-resolution", "5"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = work / "out"
    assert (out / "report.md").is_file() and (out / "plots" / "contours.png").is_file()
    assert (out / "events.h5").stat().st_uid == int(user.split(":")[0])  # the caller's files, not root's
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["n_events"] == 800 and set(summary["limits"]) >= {"ml", "truth (parton)"}
