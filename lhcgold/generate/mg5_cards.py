"""MG5_aMC cards in MG5's own formats: proc_card, run_card, param_card, reweight_card, madspin_card.

Pure text in, text out (no files, no MG5): every card the MG5 backend writes is built here, so
each can be checked byte for byte. Templates (MG5's native formats) live in ``lhcgold/data/mg5/``
(``cards/mg5/`` in the source tree links there); run and param cards are *patched*: every line
keeps its layout and comment, only the value changes, as a user editing the card by hand would.

Example:
    >>> text = "BLOCK DIM6\\n      1 0.000000e+00 # cwwwl2\\n"
    >>> print(patch_param_card(text, {("dim6", 1): 10.0}), end="")
    BLOCK DIM6
          1 1.000000e+01 # cwwwl2
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from ..exceptions import ConfigError
from ..io.slha import parse_param_card, patch_param_card

__all__ = [
    "format_value",
    "launch_commands",
    "madspin_card",
    "parse_param_card",
    "parse_run_card",
    "patch_param_card",
    "patch_run_card",
    "proc_card",
    "reweight_card",
    "template_text",
]

_RUN_LINE = re.compile(r"^(\s*)(\S+)(\s*=\s*)([A-Za-z_][\w]*)(.*)$")


def template_text(name: str, *, directory: str | Path | None = None) -> str:
    """The text of a card template: ``directory/name`` if given, else the packaged one."""
    if directory is not None:
        p = Path(directory) / name
        try:
            return p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read MG5 card template {str(p)!r}: {exc.strerror or exc}") from None
    return resources.files("lhcgold").joinpath("data", "mg5", name).read_text(encoding="utf-8")


def format_value(value: object) -> str:
    """A run_card / reweight value as MG5 writes it (``True``, ``10``, ``0.5``, ``nn23lo1``)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def proc_card(
    *,
    model: str,
    processes: Sequence[str],
    output: str,
    defines: Mapping[str, str] | None = None,
    restrict: str | None = None,
    template: str | None = None,
) -> str:
    """A proc_card (MG5 command file): ``import model``, ``define``, ``generate``/``add process``, ``output``.

    Args:
        model: UFO model name (in MG5's ``models/``) or a path to a UFO directory.
        processes: MG5 process strings; the first is ``generate``, the others ``add process``.
        output: the process directory MG5 creates.
        defines: multiparticle labels, e.g. ``{"p": "g u c d s u~ c~ d~ s~"}``.
        restrict: restriction name (``restrict_<name>.dat`` in the model): imports ``MODEL-<name>``.
        template: the template text (default: the packaged ``proc_card_mg5.dat``).
    """
    if not processes:
        raise ConfigError("the MG5 generator needs at least one process", path="generator.process")
    for text in [model, output, *processes, *(defines or {}), *(defines or {}).values()]:
        if "\n" in text or "\r" in text:
            raise ConfigError(f"MG5 card entries are single lines, got {text!r}", path="generator")
    name = f"{model}-{restrict}" if restrict else model
    lines = [f"generate {processes[0]}"] + [f"add process {p}" for p in processes[1:]]
    defs = [f"define {k} = {v}" for k, v in (defines or {}).items()]
    tpl = string.Template(template if template is not None else template_text("proc_card_mg5.dat"))
    text = tpl.substitute(model=name, defines="\n".join(defs), processes="\n".join(lines), output=output)
    return re.sub(r"\n{2,}", "\n", text)


def parse_run_card(text: str) -> dict[str, str]:
    """``{name: value}`` of every ``value = name`` line of a run_card (names lower case)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        m = _RUN_LINE.match(line)
        if m:
            out.setdefault(m.group(4).lower(), m.group(2))
    return out


def patch_run_card(text: str, settings: Mapping[str, object]) -> str:
    """Set run_card entries; keys absent from the template are appended in MG5's line format.

    Raises:
        ConfigError: a value would not fit on one line.
    """
    want = {k.lower(): format_value(v) for k, v in settings.items()}
    for k, v in want.items():
        if not v or any(c in v for c in "\n\r=!#"):
            raise ConfigError(f"run_card value for {k!r} is not a single token: {v!r}", path=f"generator.run_card.{k}")
    done: set[str] = set()
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            continue
        m = _RUN_LINE.match(line.rstrip("\r\n"))
        if m and m.group(4).lower() in want and m.group(4).lower() not in done:
            key = m.group(4).lower()
            end = line[len(line.rstrip("\r\n")) :]
            lines[i] = f"{m.group(1)}{want[key]}{m.group(3)}{m.group(4)}{m.group(5)}{end}"
            done.add(key)
    extra = [k for k in want if k not in done]
    if extra:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append("#*********************************************************************\n")
        lines.append("# Set by lhcgold (not in the template)                               *\n")
        lines.append("#*********************************************************************\n")
        lines += [f"  {want[k]}\t= {k} ! set by lhcgold\n" for k in extra]
    return "".join(lines)


def reweight_card(
    benchmarks: Sequence[tuple[str, Sequence[tuple[str, int, float]]]], *, template: str | None = None
) -> str:
    """A reweight_card: the template's ``change`` lines, then per benchmark
    ``launch --rwgt_name=NAME`` and one ``set BLOCK ID VALUE`` line per parameter."""
    head = template if template is not None else template_text("reweight_card.dat")
    out = [head.rstrip("\n") + "\n"]
    for name, sets in benchmarks:
        if not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
            raise ConfigError(f"benchmark name {name!r} cannot be an MG5 reweighting name", path="benchmarks")
        out.append(f"\nlaunch --rwgt_name={name}\n")
        out += [f"  set {block.upper()} {lha_id} {float(v):.12g}\n" for block, lha_id, v in sets]
    return "".join(out)


def madspin_card(
    *, decays: Sequence[str], seed: int, defines: Mapping[str, str] | None = None, template: str | None = None
) -> str:
    """A MadSpin card: ``set seed``, ``define`` lines, one ``decay`` line per entry, ``launch``."""
    for d in decays:
        if "\n" in d:
            raise ConfigError(f"a decay is one line, got {d!r}", path="generator.decays")
    tpl = string.Template(template if template is not None else template_text("madspin_card.dat"))
    text = tpl.substitute(
        seed=int(seed),
        defines="\n".join(f"define {k} = {v}" for k, v in (defines or {}).items()),
        decays="\n".join(f"decay {d}" for d in decays),
    )
    return re.sub(r"\n{2,}", "\n", text)


def launch_commands(process_dir: str, *, reweight: bool, madspin: bool, shower: str = "OFF") -> str:
    """The MG5 command file that launches a run with explicit switches (as MadMiner does): ``launch DIR``,
    ``shower=``, ``detector=OFF``, ``analysis=OFF``, ``madspin=``, ``reweight=``, ``done``; the cards in
    ``DIR/Cards`` are used as they are."""
    if "\n" in process_dir or "\n" in shower:
        raise ConfigError(f"bad process directory {process_dir!r}")
    onoff = {True: "ON", False: "OFF"}
    return (
        f"launch {process_dir}\nshower={shower}\ndetector=OFF\nanalysis=OFF\nmadspin={onoff[madspin]}\n"
        f"reweight={onoff[reweight]}\ndone\n"
    )
