"""Running external programs (MG5_aMC, Delphes, ...): locally or in a container.

One seam for every stage that calls a program we do not ship. A command is an argument list
(never a shell string); each run has its own working directory, a log file that captures
stdout and stderr, an optional timeout, and a completion marker, so a rerun skips work that
is already done. Failures raise :class:`~lhcgold.exceptions.ExternalToolError` carrying the
command, the exit code and the tail of the log.

Engines:

* ``local``: the program runs on this machine.
* ``docker`` / ``podman``: ``ENGINE run --rm`` with the working directory (and any extra
  paths) bind-mounted at the same place, ``--user UID:GID`` so the files stay the user's,
  ``--workdir`` the run directory.
* ``apptainer`` (or ``singularity``): ``apptainer exec --bind DIR --pwd DIR IMAGE ...``.

Example:
    >>> from lhcgold.runtime import Runtime, run_program
    >>> result = run_program(["python3", "-c", "print('hi')"], workdir="/tmp/lhcgold-doc",
    ...                      runtime=Runtime())  # doctest: +SKIP
    >>> result.log_tail  # doctest: +SKIP
    'hi'
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .._renamed import module_getattr as _module_getattr
from ..exceptions import ConfigError, ExternalToolError, unknown_name_error

__all__ = ["ENGINES", "ProgramResult", "Runtime", "engine_available", "read_tail", "run_program"]

logger = logging.getLogger(__name__)

Engine = Literal["local", "docker", "podman", "apptainer", "singularity"]
ENGINES: tuple[str, ...] = ("local", "docker", "podman", "apptainer", "singularity")
_MARKER_PREFIX = ".lhcgold-done-"


@dataclass(frozen=True)
class Runtime:
    """Where external programs run.

    Attributes:
        engine: ``local``, ``docker``, ``podman``, ``apptainer`` or ``singularity``.
        image: container image (a name for docker/podman; a ``.sif`` file or ``docker://`` URI
            for apptainer); required for every engine but ``local``.
        engine_path: the engine's executable (default: found on ``PATH``).
        mounts: more host paths made visible in the container at the same place.
        extra_args: more ``run``/``exec`` arguments placed before the image (e.g. ``["--network=host"]``).
        engine_args: global engine options placed before ``run``/``exec`` (e.g. podman's
            ``["--runtime", "runc", "--cgroup-manager", "cgroupfs"]``).
        user: docker/podman ``--user`` value (default: the caller's ``UID:GID``); ``""`` for none.
    """

    engine: Engine = "local"
    image: str | None = None
    engine_path: str | None = None
    mounts: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    user: str | None = None
    engine_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise unknown_name_error("runtime engine", str(self.engine), ENGINES)
        if self.engine != "local" and not self.image:
            raise ConfigError(f"the {self.engine} runtime needs an image")

    @classmethod
    def from_mapping(cls, spec: Mapping[str, object] | None) -> Runtime:
        """A runtime from a card's ``runtime:`` mapping (``engine``, ``image``, ``mounts``, ...)."""
        spec = dict(spec or {})
        return cls(
            engine=str(spec.get("engine", "local")),  # type: ignore[arg-type]
            image=spec.get("image"),  # type: ignore[arg-type]
            engine_path=spec.get("engine_path"),  # type: ignore[arg-type]
            mounts=tuple(str(m) for m in spec.get("mounts", ()) or ()),  # type: ignore[attr-defined]
            extra_args=tuple(str(a) for a in spec.get("extra_args", ()) or ()),  # type: ignore[attr-defined]
            user=spec.get("user"),  # type: ignore[arg-type]
            engine_args=tuple(str(a) for a in spec.get("engine_args", ()) or ()),  # type: ignore[attr-defined]
        )

    def engine_executable(self) -> str:
        """The engine's executable, resolved on ``PATH``.

        Raises:
            ExternalToolError: the engine is not installed.
        """
        name = self.engine_path or self.engine
        found = shutil.which(name)
        if found is None:
            raise ExternalToolError(
                f"container engine {name!r} not found (install it or choose another runtime)", command=[name]
            )
        return found

    def wrap(self, argv: Sequence[str], *, workdir: Path) -> list[str]:
        """The full argument list that runs ``argv`` in ``workdir`` under this runtime."""
        argv = [str(a) for a in argv]
        if self.engine == "local":
            return argv
        exe = self.engine_executable()
        binds = [str(workdir)] + [str(Path(m).resolve()) for m in self.mounts]
        if self.engine in ("docker", "podman"):
            user = self.user if self.user is not None else f"{os.getuid()}:{os.getgid()}"
            cmd = [exe, *self.engine_args, "run", "--rm", "-i"]
            for b in binds:
                cmd += ["--volume", f"{b}:{b}"]
            cmd += ["--workdir", str(workdir)]
            if user:
                cmd += ["--user", user]
            return [*cmd, *self.extra_args, str(self.image), *argv]
        cmd = [exe, *self.engine_args, "exec"]
        for b in binds:
            cmd += ["--bind", b]
        return [*cmd, "--pwd", str(workdir), *self.extra_args, str(self.image), *argv]

    def check_image(self) -> None:
        """Raise :class:`ExternalToolError` if the engine or the image is absent."""
        if self.engine == "local":
            return
        exe = self.engine_executable()
        if self.engine in ("docker", "podman"):
            cmd = [exe, *self.engine_args, "image", "inspect", str(self.image)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ExternalToolError(f"cannot query the {self.engine} engine: {exc}", command=cmd) from exc
            if proc.returncode != 0:
                raise ExternalToolError(
                    f"{self.engine} image {self.image!r} is not available locally",
                    command=cmd,
                    returncode=proc.returncode,
                    log_tail=(proc.stderr or proc.stdout).strip(),
                )
        elif "://" not in str(self.image) and not Path(str(self.image)).is_file():
            raise ExternalToolError(f"{self.engine} image {self.image!r} not found", command=[exe, "exec"])


def engine_available(engine: str) -> bool:
    """True when a container engine is installed and answers (``ENGINE info`` / ``version``)."""
    exe = shutil.which(engine)
    if exe is None:
        return False
    cmd = [exe, "version"] if engine in ("apptainer", "singularity") else [exe, "info"]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass(frozen=True)
class ProgramResult:
    """The outcome of :func:`run_program`.

    Attributes:
        command: the argument list that ran (engine wrapper included).
        returncode: the exit status (0; failures raise).
        workdir: the run's working directory.
        log_path: the captured stdout + stderr.
        log_tail: the last lines of the log.
        duration_s: wall time (0 when skipped).
        skipped: True when a completion marker showed that this step was already done.
    """

    command: list[str]
    returncode: int
    workdir: Path
    log_path: Path
    log_tail: str
    duration_s: float
    skipped: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def read_tail(path: Path, *, lines: int = 40, max_bytes: int = 1 << 16) -> str:
    """The last ``lines`` lines of a text file (empty if it does not exist)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(size - max_bytes, 0))
            data = fh.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def _marker_path(workdir: Path, step: str) -> Path:
    if not step or "/" in step or step.startswith("."):
        raise ValueError(f"bad step name {step!r}")
    return workdir / f"{_MARKER_PREFIX}{step}.json"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_program(
    argv: Sequence[str | os.PathLike[str]],
    *,
    workdir: str | os.PathLike[str],
    runtime: Runtime | None = None,
    step: str | None = None,
    log_name: str | None = None,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    tail_lines: int = 40,
) -> ProgramResult:
    """Run one external program in ``workdir``, capturing its output.

    Args:
        argv: the program and its arguments (a list; no shell is involved).
        workdir: the run's working directory (created if needed).
        runtime: where to run (default: locally).
        step: a name for this step; when given, a completion marker is written on success and a
            later call with the same step and command returns at once (``skipped=True``).
        log_name: log file name in ``workdir`` (default ``<step or program>.log``).
        timeout_s: kill the program (its whole process group) after this many seconds.
        env: extra environment variables (local runs).
        stdin_text: text fed to the program's standard input (else it reads nothing).
        tail_lines: lines of the log kept in the result and in errors.

    Raises:
        ExternalToolError: the program or image is missing, it timed out, or it exited non-zero.
    """
    rt = runtime or Runtime()
    if not argv:
        raise ValueError("argv is empty")
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    program = [os.fspath(a) for a in argv]
    command = rt.wrap(program, workdir=wd)
    marker = _marker_path(wd, step) if step else None
    log_path = wd / (log_name or f"{step or Path(program[0]).name}.log")
    if marker is not None and marker.is_file():
        try:
            done = json.loads(marker.read_text())
        except (OSError, ValueError):
            done = {}
        if done.get("program") == program and done.get("engine") == rt.engine and done.get("image") == rt.image:
            logger.info("%s: already done (%s), skipping", step, marker)
            return ProgramResult(
                command=command,
                returncode=0,
                workdir=wd,
                log_path=log_path,
                log_tail=read_tail(log_path, lines=tail_lines),
                duration_s=0.0,
                skipped=True,
            )
        marker.unlink()
    if rt.engine == "local" and shutil.which(program[0]) is None:
        raise ExternalToolError(f"program {program[0]!r} not found or not executable", command=program)
    rt.check_image()
    full_env = None if env is None else {**os.environ, **env}
    logger.info("running %s in %s (log %s)", command, wd, log_path)
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(
                command,
                cwd=wd,
                stdout=log,
                stderr=subprocess.STDOUT,  # noqa: S603
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                env=full_env,
                start_new_session=True,
            )
        except OSError as exc:
            raise ExternalToolError(f"cannot start {command[0]!r}: {exc.strerror or exc}", command=command) from exc
        try:
            proc.communicate(input=stdin_text.encode() if stdin_text is not None else None, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ExternalToolError(
                f"{Path(program[0]).name} timed out after {timeout_s:g} s (log: {log_path})",
                command=command,
                returncode=proc.returncode,
                log_tail=read_tail(log_path, lines=tail_lines),
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
    duration = time.monotonic() - t0
    tail = read_tail(log_path, lines=tail_lines)
    if proc.returncode != 0:
        raise ExternalToolError(
            f"{Path(program[0]).name} failed (log: {log_path})",
            command=command,
            returncode=proc.returncode,
            log_tail=tail,
        )
    if marker is not None:
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "program": program,
                    "engine": rt.engine,
                    "image": rt.image,
                    "duration_s": duration,
                    "finished": time.time(),
                }
            )
        )
        os.replace(tmp, marker)
    return ProgramResult(
        command=command, returncode=0, workdir=wd, log_path=log_path, log_tail=tail, duration_s=duration
    )


__getattr__ = _module_getattr("lhcgold.runtime")
