"""The ``lhcgold`` command line: one verb per pipeline stage.

Verbs are loaded lazily (``_VERBS`` maps a verb to ``module:function``), so
``lhcgold --help`` stays fast and never imports torch or matplotlib.
"""

from __future__ import annotations

import importlib
import logging
import sys

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


def _configure_logging(verbosity: int) -> None:
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
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 lhcgold error, 2 usage error, 130 SIGINT, 143 SIGTERM)."""
    import signal

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
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
