"""The Delphes 3 backend: Pythia → HepMC → ``DelphesHepMC3`` (or ``DelphesHepMC2``) with a chosen card.

Delphes runs through :mod:`lhcgold.runtime` (locally from ``DELPHES_HOME``, or in a container);
its ROOT output is read by :func:`lhcgold.io.delphes.iter_delphes` and hence by
:func:`lhcgold.reconstruct.reconstruct`, like the Delphes files MG5_aMC writes itself
(``Events/run_01/tag_1_delphes_events.root``). Every named weight (benchmarks, systematics)
travels through HepMC into ``Weight.Weight``.

Python API::

    from lhcgold.detector.delphes import delphes_from_lhe
    res = delphes_from_lhe("run_01.lhe.gz", "run_01.delphes.root", card="delphes_card_CMS.tcl",
                           delphes_home="/opt/Delphes-3.5.1", seed=1)
    # then: lhcgold reconstruct run_01.delphes.root ...  (or iter_delphes(res.path, lhe="run_01.lhe.gz"))
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..exceptions import ConfigError, EventFileError, ExternalToolError
from ..io.atomic import atomic_path
from ..io.delphes import delphes_n_events
from ..runtime import Runtime, run_program
from ..shower.hepmc import shower_to_hepmc

logger = logging.getLogger(__name__)

__all__ = ["DelphesResult", "delphes_executable", "delphes_from_lhe", "find_delphes_card", "run_delphes"]


@dataclass(frozen=True)
class DelphesResult:
    """A finished Delphes run: the ROOT file, its number of events, the log and the command."""

    path: Path
    n_events: int
    log_path: Path
    command: tuple[str, ...]


def _home(delphes_home: str | os.PathLike[str] | None) -> Path | None:
    home = delphes_home if delphes_home is not None else os.environ.get("DELPHES_HOME")
    return Path(home) if home else None


def delphes_executable(
    fmt: Literal["HepMC3", "HepMC2"],
    *,
    delphes_home: str | os.PathLike[str] | None = None,
    runtime: Runtime | None = None,
) -> str:
    """The Delphes program for a HepMC format: ``DELPHES_HOME/DelphesHepMC3`` (``...HepMC2``, or the
    older ``DelphesHepMC`` for HepMC2); in a container, the name found on the image's ``PATH``.

    Raises:
        ExternalToolError: Delphes is not found.
    """
    names = ["DelphesHepMC3"] if fmt == "HepMC3" else ["DelphesHepMC2", "DelphesHepMC"]
    home = _home(delphes_home)
    if runtime is not None and runtime.engine != "local":
        return str(home / names[0]) if home else names[0]
    for name in names:
        if home is not None and (home / name).is_file():
            return str(home / name)
        if home is None and shutil.which(name):
            return str(shutil.which(name))
    where = f"in {str(home)!r}" if home else "on PATH (set DELPHES_HOME)"
    raise ExternalToolError(f"Delphes not found: no {' or '.join(names)} {where}", command=names[:1])


def find_delphes_card(card: str | os.PathLike[str], *, delphes_home: str | os.PathLike[str] | None = None) -> Path:
    """A Delphes card: a path, or a name in ``DELPHES_HOME/cards`` (e.g. ``delphes_card_CMS.tcl``).

    Raises:
        ConfigError: no such card.
    """
    p = Path(card)
    if p.is_file():
        return p.resolve()
    home = _home(delphes_home)
    if home is not None and (home / "cards" / p.name).is_file():
        return (home / "cards" / p.name).resolve()
    raise ConfigError(f"Delphes card {str(card)!r} not found (a path, or a card name in $DELPHES_HOME/cards)")


def run_delphes(
    hepmc: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    card: str | os.PathLike[str],
    fmt: Literal["HepMC3", "HepMC2"] = "HepMC3",
    delphes_home: str | os.PathLike[str] | None = None,
    runtime: Runtime | None = None,
    timeout_s: float | None = None,
    overwrite: bool = False,
    workdir: str | os.PathLike[str] | None = None,
) -> DelphesResult:
    """Run Delphes on a HepMC file; the ROOT output is moved onto ``output`` atomically.

    Raises:
        ConfigError: the card is missing. ExternalToolError: Delphes is missing or fails (with its log
        tail). EventFileError: ``output`` exists and ``overwrite`` is false.
    """

    target = Path(output)
    if target.exists() and not overwrite:
        raise EventFileError(f"{str(target)!r} exists; refusing to overwrite it (pass overwrite=True)")
    card_path = find_delphes_card(card, delphes_home=delphes_home)
    exe = delphes_executable(fmt, delphes_home=delphes_home, runtime=runtime)
    rt = runtime or Runtime()
    with tempfile.TemporaryDirectory(prefix=".lhcgold-delphes-", dir=workdir or target.parent) as tmp:
        wd = Path(tmp)
        root_tmp = wd / "delphes_events.root"
        mounts = tuple(str(p) for p in {card_path.parent, Path(hepmc).resolve().parent})
        rt_run = rt if rt.engine == "local" else dataclasses.replace(rt, mounts=(*rt.mounts, *mounts))
        res = run_program(
            [exe, str(card_path), str(root_tmp), str(Path(hepmc).resolve())],
            workdir=wd,
            runtime=rt_run,
            log_name="delphes.log",
            timeout_s=timeout_s,
        )
        if not root_tmp.is_file():
            raise ExternalToolError(
                "Delphes finished without writing its ROOT file",
                command=res.command,
                returncode=0,
                log_tail=res.log_tail,
            )
        n = delphes_n_events(root_tmp)
        log_keep = target.with_name(target.name + ".log")
        with atomic_path(target, overwrite=overwrite) as out:
            shutil.move(str(root_tmp), out)
        shutil.copyfile(res.log_path, log_keep)
    return DelphesResult(path=target, n_events=n, log_path=log_keep, command=tuple(res.command))


def delphes_from_lhe(
    lhe: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    card: str | os.PathLike[str],
    fmt: Literal["HepMC3", "HepMC2"] = "HepMC3",
    delphes_home: str | os.PathLike[str] | None = None,
    runtime: Runtime | None = None,
    timeout_s: float | None = None,
    overwrite: bool = False,
    keep_hepmc: str | os.PathLike[str] | None = None,
    **shower_options: Any,
) -> DelphesResult:
    """Shower an LHE file with Pythia 8, write HepMC, run Delphes: the full chain to a Delphes ROOT file.

    Args:
        lhe: the LHE file (ours or MG5's).
        output: the Delphes ROOT file to write.
        card: Delphes card (path, or name in ``DELPHES_HOME/cards``).
        fmt: HepMC flavour handed to Delphes.
        delphes_home: Delphes installation (default ``$DELPHES_HOME``; inside the image for containers).
        runtime: where Delphes runs (default: locally).
        timeout_s: Delphes time limit.
        overwrite: replace an existing output.
        keep_hepmc: also keep the HepMC file there (default: a temporary file, removed).
        **shower_options: for :func:`lhcgold.shower.iter_shower` (seed, n_events, mpi, ...).
    """
    target = Path(output)
    find_delphes_card(card, delphes_home=delphes_home)
    delphes_executable(fmt, delphes_home=delphes_home, runtime=runtime)
    if target.exists() and not overwrite:
        raise EventFileError(f"{str(target)!r} exists; refusing to overwrite it (pass overwrite=True)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lhcgold-hepmc-", dir=target.parent) as tmp:
        hepmc = Path(keep_hepmc) if keep_hepmc else Path(tmp) / "events.hepmc"
        shower_to_hepmc(lhe, hepmc, fmt=fmt, overwrite=overwrite, **shower_options)
        return run_delphes(
            hepmc,
            target,
            card=card,
            fmt=fmt,
            delphes_home=delphes_home,
            runtime=runtime,
            timeout_s=timeout_s,
            overwrite=overwrite,
        )
