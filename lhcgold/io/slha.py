"""SLHA param_cards as text: read one-index entries, set values keeping the layout (MG5's ``%e``).

Example:
    >>> text = "BLOCK DIM6\\n      1 0.000000e+00 # cwwwl2\\n"
    >>> print(patch_param_card(text, {("dim6", 1): 10.0}), end="")
    BLOCK DIM6
          1 1.000000e+01 # cwwwl2
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..exceptions import ConfigError

__all__ = ["parse_param_card", "patch_param_card"]

_BLOCK_LINE = re.compile(r"^\s*block\s+(\S+)", re.I)
_DECAY_LINE = re.compile(r"^(\s*decay\s+)([+-]?\d+)(\s+)(\S+)(.*)$", re.I)
_ENTRY_LINE = re.compile(r"^(\s+)([+-]?\d+)(\s+)(\S+)(.*)$")


def parse_param_card(text: str) -> dict[tuple[str, int], float]:
    """``{(block, id): value}`` of the one-index entries of an SLHA param_card (blocks lower case).

    ``DECAY pdg width`` lines appear as ``("decay", pdg)``.
    """
    out: dict[tuple[str, int], float] = {}
    block: str | None = None
    for line in text.splitlines():
        body = line.split("#", 1)[0]
        if not body.strip():
            continue
        m = _BLOCK_LINE.match(body)
        if m:
            block = m.group(1).lower()
            continue
        d = _DECAY_LINE.match(body)
        if d:
            out[("decay", int(d.group(2)))] = float(d.group(4))
            block = None
            continue
        parts = body.split()
        if block is not None and len(parts) == 2 and line[:1].isspace():
            try:
                out[(block, int(parts[0]))] = float(parts[1])
            except ValueError:
                continue
    return out


def patch_param_card(text: str, values: Mapping[tuple[str, int], float]) -> str:
    """Set one-index param_card entries ``(block, id) -> value`` (MG5's ``%e`` format).

    Raises:
        ConfigError: an entry is not in the card (lists the blocks the card has).
    """
    want = {(b.lower(), int(i)): float(v) for (b, i), v in values.items()}
    done: set[tuple[str, int]] = set()
    blocks: list[str] = []
    block: str | None = None
    lines = text.splitlines(keepends=True)
    for n, line in enumerate(lines):
        core = line.rstrip("\r\n")
        end = line[len(core) :]
        m = _BLOCK_LINE.match(core)
        if m:
            block = m.group(1).lower()
            blocks.append(block)
            continue
        d = _DECAY_LINE.match(core)
        if d:
            block = None
            key = ("decay", int(d.group(2)))
            if key in want:
                lines[n] = f"{d.group(1)}{d.group(2)}{d.group(3)}{want[key]:e}{d.group(5)}{end}"
                done.add(key)
            continue
        e = _ENTRY_LINE.match(core)
        if e and block is not None and not core.lstrip().startswith("#"):
            rest = e.group(5)
            if rest.strip() and not rest.lstrip().startswith("#"):
                continue  # a multi-index entry
            key = (block, int(e.group(2)))
            if key in want:
                lines[n] = f"{e.group(1)}{e.group(2)}{e.group(3)}{want[key]:e}{rest}{end}"
                done.add(key)
    missing = [k for k in want if k not in done]
    if missing:
        b, i = missing[0]
        raise ConfigError(
            f"the param_card has no entry {i} in block {b.upper()} "
            f"(blocks: {', '.join(x.upper() for x in blocks) or 'none'})",
            path="parameters",
        )
    return "".join(lines)
