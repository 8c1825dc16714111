"""The lhcgold image (docker/Dockerfile) runs `lhcgold run` at toy size with its output on a bind mount,
as a non-root user. Needs podman or docker and the image built (docker/README.md); skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

IMAGE = os.environ.get("LHCGOLD_IMAGE", "localhost/lhcgold:latest")
CARD = Path(__file__).parents[2] / "cards" / "wh.yaml"


def _engine() -> str:
    for engine in filter(None, (os.environ.get("LHCGOLD_CONTAINER_ENGINE"), "podman", "docker")):
        if shutil.which(engine) is None:
            continue
        proc = subprocess.run([engine, "image", "inspect", IMAGE], capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            _skip_if_stale(engine)
            return engine
    pytest.skip(f"no container engine with the image {IMAGE} (build it as docker/README.md says)")


_HASH_SOURCES = (
    "import hashlib, pathlib, sys; root = pathlib.Path(sys.argv[1]); h = hashlib.sha256()\n"
    "for p in sorted(root.rglob('*.py')):\n"
    "    h.update(str(p.relative_to(root)).encode() + b'\\0' + p.read_bytes())\n"
    "print(h.hexdigest())"
)


def _skip_if_stale(engine: str) -> None:
    """Skip (saying so) when the image holds other lhcgold sources than this checkout: its results
    would test old code. The image keeps its sources in /opt/lhcgold/src (docker/Dockerfile)."""
    here = subprocess.run(
        ["python3", "-c", _HASH_SOURCES, str(CARD.parents[1] / "lhcgold")], capture_output=True, text=True, check=True
    ).stdout.strip()
    proc = subprocess.run(
        [engine, "run", "--rm", "--network", "none", IMAGE, "python", "-c", _HASH_SOURCES, "/opt/lhcgold/src/lhcgold"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0 or proc.stdout.strip() != here:
        pytest.skip(
            f"the image {IMAGE} was built from other lhcgold sources than this checkout; rebuild it "
            "(docker/README.md) to run the container tests"
        )


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
    argv = [
        engine,
        "run",
        "--rm",
        "--network",
        "none",
        "--user",
        user,
        "-v",
        f"{work}:/work",
        IMAGE,
        "lhcgold",
        "run",
        "wh.yaml",
        "-o",
        "out",
        "-n",
        "800",
        "--n-parton",
        "3000",
        "--n-train",
        "1500",
        "--epochs",
        "1",
        "--grid-resolution",
        "5",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = work / "out"
    assert (out / "report.md").is_file() and (out / "plots" / "contours.png").is_file()
    assert (out / "events.h5").stat().st_uid == int(user.split(":")[0])  # the caller's files, not root's
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["n_events"] == 800 and set(summary["limits"]) >= {"ml", "truth (parton)"}


@pytest.mark.container
@pytest.mark.slow
def test_container_profile_runs_every_job_in_the_image_with_the_local_limits(request, tmp_path):
    """workflows/profiles/container: each job in the image under podman/docker; same limits as the local run."""
    from .conftest import snakemake

    engine = _engine()
    local_toy = request.getfixturevalue("local_toy")  # only once the image is known to be usable
    extra = tmp_path / "engine.yaml"
    extra.write_text(f"engine: {engine}\nimage: {IMAGE}\n")
    shutil.copy(CARD, tmp_path / "wh.yaml")  # jobs see the working directory only
    proc = snakemake(tmp_path, "container", configfiles=(extra,), card="wh.yaml", timeout=2400)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert log.count(f"{engine} run --rm") >= 15, log[-3000:]
    # same library versions inside and outside (pinned wheels), so equal up to floating-point noise at most
    for path in sorted((local_toy / "limits").glob("*.json")) + [local_toy / "fisher.json"]:
        rel = path.relative_to(local_toy)
        _assert_same_numbers(json.loads((tmp_path / "wf" / rel).read_text()), json.loads(path.read_text()), str(rel))


def _assert_same_numbers(a, b, where):
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for k in a:
            _assert_same_numbers(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and a and not isinstance(a[0], (dict, str)):
        np.testing.assert_allclose(
            np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-9, atol=1e-12, err_msg=where
        )
    elif isinstance(a, (int, float)) and not isinstance(a, bool):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=where)
    else:
        assert a == b, where
