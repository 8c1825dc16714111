"""The ``lhcgold`` command line: one verb per pipeline stage.

Verbs are loaded lazily (``_VERBS`` maps a verb to ``module:function``), so
``lhcgold --help`` stays fast and never imports torch or matplotlib.
"""

from __future__ import annotations

import errno
import importlib
import logging
import signal
import sys
import threading
import traceback

import click

from .._version import __version__
from ..exceptions import LhcgoldError

_VERBS: dict[str, tuple[str, str]] = {
    "setup": ("lhcgold.cli.setup", "setup-file and morphing basis from an analysis card"),
    "inspect": ("lhcgold.cli.inspect", "show what a setup, events or sample file holds"),
    "generate": ("lhcgold.cli.generate", "generate events (embedded LO generator or MG5_aMC)"),
    "shower": ("lhcgold.cli.shower", "shower and hadronise LHE files with Pythia 8"),
    "reconstruct": ("lhcgold.cli.reconstruct", "observables, cuts and weights into an events file"),
    "combine": ("lhcgold.cli.combine", "combine and shuffle events files out of core"),
    "augment": ("lhcgold.cli.augment", "draw training and test samples with joint ratio and score"),
    "train": ("lhcgold.cli.train", "train an estimator (SALLY, ALICES, RASCAL, ...)"),
    "fisher": ("lhcgold.cli.fisher", "Fisher information of an analysis"),
    "limits": ("lhcgold.cli.limits", "Asimov expected limits on a parameter grid"),
    "run": ("lhcgold.cli.run", "run the whole chain from an analysis card to a limits plot"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _VERBS:
            return None
        module = importlib.import_module(_VERBS[cmd_name][0])
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in _VERBS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_state = {"verbosity": 0}


def _configure_logging(verbosity: int) -> None:
    _state["verbosity"] = verbosity
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG if verbosity > 0 else logging.ERROR)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("lhcgold").setLevel(level)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lhcgold")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """lhcgold: simulation-based inference at the LHC, mining gold from matrix elements."""
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet > 0
    _configure_logging(verbose - quiet)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every ``with`` block (atomic writes, temporary
    directories) unwinds and removes its temporaries, as on Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _install_sigterm() -> object:
    """Turn SIGTERM into :class:`Terminated` (main thread only); returns the previous handler."""

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 lhcgold error, 2 usage error, 130 SIGINT, 143 SIGTERM)."""

    previous = _install_sigterm()
    try:
        return _main(argv)
    except Terminated:
        click.echo("Error: terminated (SIGTERM); temporary files removed, no output written.", err=True)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="lhcgold", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:  # click turns Ctrl-C (SIGINT) into Abort
        click.echo("Error: aborted (interrupted); temporary files removed, no output written.", err=True)
        return 130
    except LhcgoldError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("Error: interrupted; temporary files removed, no output written.", err=True)
        return 130
    except OSError as exc:
        click.echo(f"Error: {describe_os_error(exc)}", err=True)
        _traceback_if_verbose()
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {_one_line(str(exc))} (run with -v for the traceback)", err=True
        )
        _traceback_if_verbose()
        return 1
    return 0


_OS_HINTS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a path component is not a directory",
    errno.EISDIR: "is a directory, expected a file",
    errno.ENOSPC: "no space left on the device",
    errno.EROFS: "read-only file system",
    errno.EEXIST: "already exists",
    errno.ENOTEMPTY: "directory not empty (another process wrote it?)",
}


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which path, and why."""
    what = _OS_HINTS.get(exc.errno or -1) or (exc.strerror or str(exc))
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    if not names:
        return f"{what} ({_one_line(str(exc))})" if exc.errno is None else what
    return f"cannot access {names[0]!r}: {what}" + (f" (and {names[1]!r})" if len(names) > 1 else "")


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:300]


def _traceback_if_verbose() -> None:
    if _state["verbosity"] > 0:
        traceback.print_exc(file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
