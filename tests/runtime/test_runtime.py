"""The runtime seam with small real programs (and a container engine when one works)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lhcgold.exceptions import ConfigError, ExternalToolError
from lhcgold.runtime import Runtime, engine_available, read_tail, run_program

PY = sys.executable


def test_success_captures_log(tmp_path: Path) -> None:
    res = run_program(
        [PY, "-c", "import sys; print('out line'); print('err line', file=sys.stderr)"],
        workdir=tmp_path / "run",
        step="hello",
    )
    assert res.returncode == 0 and not res.skipped
    text = res.log_path.read_text()
    assert "out line" in text and "err line" in text
    assert res.log_path.parent == (tmp_path / "run").resolve()
    assert "err line" in res.log_tail


def test_working_directory_is_the_run_directory(tmp_path: Path) -> None:
    run_program([PY, "-c", "open('made_here.txt', 'w').write('x')"], workdir=tmp_path / "wd")
    assert (tmp_path / "wd" / "made_here.txt").read_text() == "x"


def test_true_binary(tmp_path: Path) -> None:
    assert run_program(["/bin/true"], workdir=tmp_path).returncode == 0


def test_failure_carries_command_exit_code_and_tail(tmp_path: Path) -> None:
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\necho 'step one ok'\necho 'fatal: model not found' >&2\nexit 3\n")
    script.chmod(0o755)
    with pytest.raises(ExternalToolError) as info:
        run_program([str(script), "arg with space"], workdir=tmp_path / "w", step="fail")
    err = info.value
    assert err.returncode == 3
    assert err.command == [str(script), "arg with space"]
    assert "fatal: model not found" in err.log_tail
    assert "exit code: 3" in str(err)
    assert not list((tmp_path / "w").glob(".lhcgold-done-*")), "no completion marker after a failure"


def test_arguments_are_not_interpreted_by_a_shell(tmp_path: Path) -> None:
    evil = "; touch pwned; echo $HOME"
    res = run_program([PY, "-c", "import sys; print(repr(sys.argv[1]))", evil], workdir=tmp_path)
    assert repr(evil) in res.log_path.read_text()
    assert not (tmp_path / "pwned").exists()


def test_missing_program(tmp_path: Path) -> None:
    with pytest.raises(ExternalToolError, match="not found"):
        run_program(["lhcgold-no-such-program-xyz"], workdir=tmp_path)
    with pytest.raises(ExternalToolError, match="not found"):
        run_program([str(tmp_path / "absent" / "bin" / "mg5_aMC")], workdir=tmp_path)


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    # a child that would outlive its parent: the whole group must go
    code = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "open('child.pid', 'w').write(str(p.pid)); print('started', flush=True); time.sleep(60)"
    )
    t0 = time.monotonic()
    with pytest.raises(ExternalToolError, match="timed out after 1 s") as info:
        run_program([PY, "-c", code], workdir=tmp_path, timeout_s=1.0, step="slow")
    assert time.monotonic() - t0 < 15
    assert "started" in info.value.log_tail
    pid = int((tmp_path / "child.pid").read_text())
    time.sleep(0.2)
    alive = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    assert alive == "" or alive.startswith("Z"), f"child {pid} still running ({alive})"


def test_resumable_step_skips_done_work(tmp_path: Path) -> None:
    counter = tmp_path / "count.txt"
    code = (
        f"p = {str(counter)!r}; import os; n = int(open(p).read()) if os.path.exists(p) else 0; "
        "open(p, 'w').write(str(n + 1))"
    )
    first = run_program([PY, "-c", code], workdir=tmp_path / "r", step="gen")
    again = run_program([PY, "-c", code], workdir=tmp_path / "r", step="gen")
    assert not first.skipped and again.skipped
    assert counter.read_text() == "1"
    # a different command for the same step is not "done"
    other = run_program([PY, "-c", code + " # changed"], workdir=tmp_path / "r", step="gen")
    assert not other.skipped and counter.read_text() == "2"


def test_stdin_text(tmp_path: Path) -> None:
    res = run_program(
        [PY, "-c", "import sys; print(sys.stdin.read().upper())"], workdir=tmp_path, stdin_text="launch\ndone\n"
    )
    assert "LAUNCH" in res.log_path.read_text()


def test_read_tail(tmp_path: Path) -> None:
    p = tmp_path / "log"
    p.write_text("\n".join(str(i) for i in range(100)))
    assert read_tail(p, lines=3) == "97\n98\n99"
    assert read_tail(tmp_path / "absent") == ""


def test_container_argv_shapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("podman", "apptainer"):
        (fake / name).write_text("#!/bin/sh\nexit 0\n")
        (fake / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    wd = tmp_path / "work"
    rt = Runtime(engine="podman", image="lhcgold-sim:1", user="1000:1000")
    cmd = rt.wrap(["mg5_aMC", "proc card.dat"], workdir=wd)
    assert cmd == [
        str(fake / "podman"),
        "run",
        "--rm",
        "-i",
        "--volume",
        f"{wd}:{wd}",
        "--workdir",
        str(wd),
        "--user",
        "1000:1000",
        "lhcgold-sim:1",
        "mg5_aMC",
        "proc card.dat",
    ]
    cmd = Runtime(engine="apptainer", image="sim.sif", mounts=(str(tmp_path),)).wrap(["DelphesHepMC3"], workdir=wd)
    assert cmd == [
        str(fake / "apptainer"),
        "exec",
        "--bind",
        str(wd),
        "--bind",
        str(tmp_path.resolve()),
        "--pwd",
        str(wd),
        "sim.sif",
        "DelphesHepMC3",
    ]


def test_bad_runtime_specs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown runtime engine 'podmna'.*podman"):
        Runtime(engine="podmna", image="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs an image"):
        Runtime(engine="docker")
    with pytest.raises(ExternalToolError, match="not found"):
        run_program(
            ["/bin/true"],
            workdir=tmp_path,
            runtime=Runtime(engine="apptainer", image=str(tmp_path / "no.sif"), engine_path="/bin/true"),
        )


def test_absent_engine(tmp_path: Path) -> None:
    rt = Runtime(engine="docker", image="x", engine_path="lhcgold-no-such-engine")
    with pytest.raises(ExternalToolError, match="container engine 'lhcgold-no-such-engine' not found"):
        run_program(["/bin/true"], workdir=tmp_path, runtime=rt)


def _local_image(engine: str) -> str | None:
    if os.environ.get("LHCGOLD_TEST_IMAGE"):
        return os.environ["LHCGOLD_TEST_IMAGE"]
    out = subprocess.run(
        [engine, "images", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout.split()
    usable = [o for o in out if "<none>" not in o]
    return usable[0] if usable else None


@pytest.mark.container
@pytest.mark.parametrize("engine", ["podman", "docker"])
def test_container_run(tmp_path: Path, engine: str) -> None:
    if not engine_available(engine):
        pytest.skip(f"{engine} is not available")
    image = _local_image(engine)
    if image is None:
        pytest.skip(f"no local {engine} image (set LHCGOLD_TEST_IMAGE)")
    args = tuple(os.environ.get(f"LHCGOLD_TEST_{engine.upper()}_ARGS", "").split())
    rt = Runtime(engine=engine, image=image, engine_args=args)  # type: ignore[arg-type]
    try:
        run_program(["/bin/true"], workdir=tmp_path / "probe", runtime=rt, timeout_s=300)
    except ExternalToolError as exc:
        if "OCI" in exc.log_tail or "cgroup" in exc.log_tail:
            pytest.skip(f"{engine} cannot start containers here: {exc.log_tail.splitlines()[-1]}")
        raise
    res = run_program(
        ["/bin/sh", "-c", "echo inside > marker.txt; id -u"], workdir=tmp_path / "c", runtime=rt, timeout_s=300
    )
    assert (tmp_path / "c" / "marker.txt").read_text().strip() == "inside"
    assert str(os.getuid()) in res.log_tail
    with pytest.raises(ExternalToolError, match="not available"):
        run_program(
            ["/bin/true"],
            workdir=tmp_path,
            runtime=Runtime(engine=engine, image="lhcgold-absent-image:0", engine_args=args),
        )  # type: ignore[arg-type]
