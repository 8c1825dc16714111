"""Les Houches event files: a fast, strict, streaming reader.

Reads LHE files (plain or gzipped; MG5_aMC, POWHEG, Pythia, Sherpa, WHIZARD) in chunks of
events into awkward arrays of particles (``Momentum4D`` records, vector behaviour) and numpy
arrays of weights, with memory that does not grow with the file.

Weights:

* ``nominal``: the event weight XWGTUP (the weight of the sampling benchmark, MadMiner's
  convention);
* ``weights``: one column per weight id declared in ``<initrwgt>`` (MG5 reweighting
  benchmarks, systematics), from the events' ``<rwgt><wgt id=...>`` entries, in the declared
  order; an older ``<weights>`` block (whitespace separated values) is read into columns
  ``weights_0, weights_1, ...`` when no ``<rwgt>`` is present.

Normalisation (``normalise=True``, default; :func:`lhe_weight_scale`): the weights of the events
read sum to the cross section in pb, following MG5's ``event_norm`` in the run card stored in the
header (``average``/``bias``: divide by the number of events read; ``sum``: as they are for the
whole file). Reading only the first K of N events reweights them by N/K, so a subset keeps sigma
(MadMiner divides by the run card's ``nevents``; for untrimmed files the two agree). Without a
run card the ``<init>`` cross section tells ``average`` from ``sum``; ``event_norm = unity``, or a
file where nothing tells, is refused.

Errors are :class:`~lhcgold.exceptions.EventFileError` and name the file and the event
number (1-based): truncated files, malformed XML, an event that lacks a declared weight,
non-finite weights.

Example:
    >>> from lhcgold.io.lhe import iter_lhe, read_lhe_header
    >>> header = read_lhe_header("tests/data/mg5/wgamma_ewdim6/run_01_sm_unweighted_events.lhe.gz")
    >>> header.weight_names[:3]
    ('sm', 'cwww_m10', 'cwww_m5')
    >>> for chunk in iter_lhe(header.path, chunk_size=1000):  # doctest: +SKIP
    ...     chunk.particles.pt, chunk.weights   # (n,) jagged, (n, 9)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import math
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO

import awkward as ak
import numpy as np
import vector

from ..exceptions import ConfigError, EventFileError, unknown_name_error

vector.register_awkward()

logger = logging.getLogger(__name__)

__all__ = [
    "LHEChunk",
    "LHEHeader",
    "count_lhe_events",
    "iter_lhe",
    "lhe_source_identity",
    "lhe_weight_scale",
    "open_text",
    "pid_charge",
    "read_lhe",
    "read_lhe_header",
]

_BLOCK = 1 << 22  # characters read at a time

_WGT_RE = re.compile(r"<wgt\s+id\s*=\s*(['\"])(.*?)\1\s*>([^<]*)</wgt\s*>", re.S)
_TAG_RE = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)[^>]*?(/?)>")
_WEIGHTS_RE = re.compile(r"<weights(?:\s[^>]*)?>([^<]*)</weights\s*>", re.S)
_RUNCARD_RE = re.compile(r"^\s*(\S+)\s*=\s*(\w+)\b", re.M)


@dataclass(frozen=True)
class LHEHeader:
    """What the header and ``<init>`` block of an LHE file say.

    Attributes:
        path: the file.
        weight_names: weight ids declared in ``<initrwgt>``, in order (empty if none).
        weight_groups: group name -> ids of its weights.
        weight_info: weight id -> the text of its ``<weight>`` tag (the reweight command).
        event_norm: ``event_norm`` from the MG5 run card (lower case), or None.
        nevents_card: ``nevents`` from the MG5 run card, or None.
        beam_pdg: the two beam PDG ids; beam_energy_gev: the two beam energies.
        idwtup: the weighting strategy; xsec_pb / xsec_err_pb: per process (``<init>`` lines).
        header_text: everything before ``<init>`` (banner, cards), for provenance.
    """

    path: Path
    weight_names: tuple[str, ...]
    weight_groups: dict[str, tuple[str, ...]]
    weight_info: dict[str, str]
    event_norm: str | None
    nevents_card: int | None
    beam_pdg: tuple[int, int]
    beam_energy_gev: tuple[float, float]
    idwtup: int
    xsec_pb: tuple[float, ...]
    xsec_err_pb: tuple[float, ...]
    header_text: str = field(repr=False)

    @property
    def total_xsec_pb(self) -> float:
        """Sum of the ``<init>`` cross sections."""
        return float(sum(self.xsec_pb))


@dataclass(frozen=True)
class LHEChunk:
    """A chunk of consecutive events.

    Attributes:
        particles: (n, var) ``Momentum4D`` records with fields px, py, pz, E [GeV], pid,
            status, charge (and mother1/mother2 when all particles are kept).
        nominal: (n,) XWGTUP [pb after normalisation].
        weights: (n, W) named weights [pb after normalisation], columns ``weight_names``.
        weight_names: names of the ``weights`` columns.
        first_event: 0-based index in the file of the first event of the chunk.
        scale: (n,) SCALUP; alpha_qcd: (n,) AQCDUP; alpha_qed: (n,) AQEDUP.
    """

    particles: ak.Array
    nominal: np.ndarray
    weights: np.ndarray
    weight_names: tuple[str, ...]
    first_event: int
    scale: np.ndarray
    alpha_qcd: np.ndarray
    alpha_qed: np.ndarray

    def __len__(self) -> int:
        return len(self.nominal)

    def weight(self, name: str) -> np.ndarray:
        """The column of one named weight (``"nominal"`` gives XWGTUP)."""
        if name == "nominal":
            return self.nominal
        try:
            return self.weights[:, self.weight_names.index(name)]
        except ValueError:
            raise unknown_name_error("weight", name, ("nominal", *self.weight_names)) from None


def open_text(path: str | Path) -> IO[str]:
    """Open a plain or gzipped text file (by its magic bytes) for reading."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(2)
    except FileNotFoundError:
        raise EventFileError(f"{str(p)!r}: no such file") from None
    except OSError as exc:
        raise EventFileError(f"{str(p)!r}: cannot open: {exc}") from exc
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace")
    return open(p, encoding="utf-8", errors="replace")


def _read_block(fh: IO[str], path: Path, where: str) -> str:
    try:
        return fh.read(_BLOCK)
    except (EOFError, gzip.BadGzipFile, OSError, ValueError) as exc:  # zlib.error is an Exception
        raise EventFileError(f"{str(path)!r}: truncated or corrupt compressed data {where}: {exc}") from exc
    except Exception as exc:  # zlib.error
        raise EventFileError(f"{str(path)!r}: corrupt compressed data {where}: {exc}") from exc


def count_lhe_events(path: str | Path) -> int:
    """Number of ``<event>`` blocks in a file (a fast scan of the decompressed text)."""
    p = Path(path)
    n = 0
    tail = ""
    with open_text(p) as fh:
        while True:
            block = _read_block(fh, p, f"after event {n}")
            if not block:
                break
            text = tail + block
            n += text.count("</event>")
            # keep an overlap that cannot hold a whole closing tag
            cut = max(len(text) - 7, 0)
            tail = text[cut:]
            if "</event>" in tail:  # pragma: no cover - impossible with 7 characters
                tail = ""
    return n


def _parse_header(text: str, path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, str], tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    info: dict[str, str] = {}
    names: list[str] = []
    start = text.find("<initrwgt")
    if start < 0:
        return groups, info, ()
    end = text.find("</initrwgt>", start)
    if end < 0:
        raise EventFileError(f"{str(path)!r}: malformed header: <initrwgt> is not closed")
    block = text[start : end + len("</initrwgt>")]
    try:
        root = ET.fromstring(block)
    except ET.ParseError as exc:
        raise EventFileError(f"{str(path)!r}: malformed XML in the header's <initrwgt> block: {exc}") from exc

    def visit(node: ET.Element, group: str) -> None:
        for child in node:
            if child.tag == "weightgroup":
                gname = child.get("name") or child.get("type") or f"group_{len(groups)}"
                visit(child, gname)
            elif child.tag == "weight":
                wid = child.get("id")
                if wid is None:
                    raise EventFileError(f"{str(path)!r}: malformed header: a <weight> in <initrwgt> has no id")
                if wid in info:
                    raise EventFileError(f"{str(path)!r}: malformed header: weight id {wid!r} declared twice")
                names.append(wid)
                info[wid] = (child.text or "").strip()
                groups[group] = (*groups.get(group, ()), wid)

    visit(root, "")
    return groups, info, tuple(names)


def read_lhe_header(path: str | Path) -> LHEHeader:
    """Read the header, ``<init>`` and ``<initrwgt>`` blocks of an LHE file.

    Raises:
        EventFileError: no such file, not an LHE file, malformed or truncated header.
    """
    p = Path(path)
    text = ""
    with open_text(p) as fh:
        while True:
            block = _read_block(fh, p, "in the header")
            if not block:
                break
            text += block
            if "</init>" in text:
                break
            if len(text) > 1 << 28:
                break
    return _header_from_text(text, p)


_VOLATILE_LINE = re.compile(r"seed|nevents|number of events|integrated weight|run_tag|n_trials", re.I)


def lhe_source_identity(path: str | Path) -> str:
    """Identity of the sample an LHE file belongs to (:func:`lhcgold.reconstruct.source_identity`).

    LHE files written by lhcgold carry ``sample_id`` in their ``<lhcgold>`` header block; other LHE
    files (MG5) are named by a hash of their header (banner, cards) without the lines that differ
    between shards (seed, number of events, integrated weight, run tag).

    Raises:
        EventFileError: no such file, not an LHE file, malformed or truncated header.
    """
    head = read_lhe_header(path).header_text
    m = re.search(r"<lhcgold>.*?^\s*sample_id\s*=\s*(\S+)", head, re.S | re.M)
    if m:
        return m.group(1)
    kept = "\n".join(ln.strip() for ln in head.splitlines() if ln.strip() and not _VOLATILE_LINE.search(ln))
    return "lhe:" + hashlib.sha256(kept.encode()).hexdigest()[:32]


def _header_from_text(text: str, p: Path) -> LHEHeader:
    if "<LesHouchesEvents" not in text[:10000] and "<init>" not in text:
        raise EventFileError(f"{str(p)!r}: not an LHE file (no <LesHouchesEvents> tag)")
    i0 = text.find("<init>")
    i1 = text.find("</init>", i0)
    if i0 < 0 or i1 < 0:
        raise EventFileError(f"{str(p)!r}: truncated or malformed header: no complete <init> block")
    lines = [
        ln for ln in text[i0 + len("<init>") : i1].splitlines() if ln.strip() and not ln.lstrip().startswith(("<", "#"))
    ]
    try:
        first = lines[0].split()
        beam_pdg = (int(first[0]), int(first[1]))
        beam_e = (float(first[2]), float(first[3]))
        idwtup = int(first[8])
        nprup = int(first[9])
        procs = [lines[1 + k].split() for k in range(nprup)]
        xsec = tuple(float(q[0]) for q in procs)
        xerr = tuple(float(q[1]) for q in procs)
    except (IndexError, ValueError) as exc:
        raise EventFileError(f"{str(p)!r}: malformed <init> block: {exc}") from exc
    head = text[:i0]
    groups, info, names = _parse_header(head + text[i1:], p)
    event_norm = nevents = None
    run_card = head
    m0 = head.find("<MGRunCard>")
    if m0 >= 0:
        run_card = head[m0 : head.find("</MGRunCard>", m0)]
    for value, key in _RUNCARD_RE.findall(run_card):
        if key == "event_norm" and event_norm is None:
            event_norm = value.lower()
        elif key == "nevents" and nevents is None:
            try:
                nevents = int(float(value))
            except ValueError:
                nevents = None
    return LHEHeader(
        path=p,
        weight_names=names,
        weight_groups=groups,
        weight_info=info,
        event_norm=event_norm,
        nevents_card=nevents,
        beam_pdg=beam_pdg,
        beam_energy_gev=beam_e,
        idwtup=idwtup,
        xsec_pb=xsec,
        xsec_err_pb=xerr,
        header_text=head,
    )


@lru_cache(maxsize=4096)
def _charge_of(pid: int) -> float:
    a = abs(pid)
    sign = 1 if pid > 0 else -1
    table = {
        1: -1 / 3,
        2: 2 / 3,
        3: -1 / 3,
        4: 2 / 3,
        5: -1 / 3,
        6: 2 / 3,
        11: -1,
        13: -1,
        15: -1,
        24: 1,
        37: 1,
        12: 0,
        14: 0,
        16: 0,
        21: 0,
        22: 0,
        23: 0,
        25: 0,
    }
    if a in table:
        return sign * table[a]
    try:
        from particle import Particle

        q = Particle.from_pdgid(pid).charge
        return float(q) if q is not None else 0.0
    except Exception:  # unknown to the particle table: neutral
        return 0.0


def pid_charge(pid: np.ndarray) -> np.ndarray:
    """Electric charges (units of e) for an array of PDG ids."""
    pid = np.asarray(pid)
    if pid.size == 0:
        return np.zeros(pid.shape)
    uniq, inv = np.unique(pid, return_inverse=True)
    q = np.array([_charge_of(int(u)) for u in uniq], dtype=np.float64)
    return q[inv].reshape(pid.shape)


class _ChunkBuilder:
    """Accumulates the text of the events of one chunk."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.particle_text: list[str] = []
        self.nup: list[int] = []
        self.weight_rows: list[list[float]] = []

    def __len__(self) -> int:
        return len(self.nup)


class _Reader:
    def __init__(self, path: Path, header: LHEHeader, *, final_state_only: bool):
        self.path = path
        self.header = header
        self.final_state_only = final_state_only
        self.declared = header.weight_names
        self.index = {name: k for k, name in enumerate(self.declared)}
        self.mode: str | None = "rwgt" if self.declared else None
        self.weight_names: tuple[str, ...] = self.declared

    def error(self, event: int, message: str) -> EventFileError:
        return EventFileError(f"{str(self.path)!r}, event {event} (1-based): {message}")

    def parse_event(self, text: str, number: int, b: _ChunkBuilder) -> None:
        """Parse the text between ``<event...>`` and ``</event>``."""
        gt = text.find(">")
        if gt < 0 or not text.startswith("<event"):
            raise self.error(number, "malformed XML: bad <event> tag")
        body = text[gt + 1 :]
        lt = body.find("<")
        numeric = body if lt < 0 else body[:lt]
        tail = "" if lt < 0 else body[lt:]
        lines = numeric.strip().split("\n")
        if "#" in numeric:
            lines = [ln for ln in lines if not ln.lstrip().startswith("#")]
        head = lines[0].split()
        if len(head) < 6:
            raise self.error(number, f"malformed event header line {lines[0].strip()!r}")
        try:
            nup = int(head[0])
        except ValueError:
            raise self.error(number, f"malformed event header line {lines[0].strip()!r}") from None
        if len(lines) != nup + 1:
            extra = [ln for ln in lines[nup + 1 :] if ln.strip()]
            if len(lines) < nup + 1 or extra:
                found = len(lines) - 1 - (len(lines[nup + 1 :]) - len(extra) if len(lines) > nup + 1 else 0)
                raise self.error(number, f"NUP = {nup} declares {nup} particle lines, found {found}")
        ptext = "\n".join(lines[1 : 1 + nup])
        # weights
        row: list[float]
        if tail:
            opened = tail.count("<")
            closing = tail.count("</")
            if opened != tail.count(">") or opened - closing - tail.count("/>") != closing:
                self._check_xml(tail, number)
        if self.mode == "rwgt" or (self.mode is None and "<wgt" in tail):
            found = _WGT_RE.findall(tail)
            if self.mode is None:
                self.mode = "rwgt"
                self.weight_names = tuple(m[1] for m in found)
                self.index = {name: k for k, name in enumerate(self.weight_names)}
            if tail.count("<wgt") != len(found):
                raise self.error(number, "malformed XML in the <rwgt> block")
            row = [math.nan] * len(self.weight_names)
            seen = 0
            for _, wid, value in found:
                k = self.index.get(wid)
                if k is None:
                    raise self.error(number, f"weight id {wid!r} is not declared in the header")
                try:
                    row[k] = float(value)
                except ValueError:
                    raise self.error(number, f"weight {wid!r} is not a number: {value.strip()!r}") from None
                seen += 1
            if seen != len(self.weight_names):
                ids = {m[1] for m in found}
                missing = [n for n in self.weight_names if n not in ids]
                if missing:
                    raise self.error(number, f"missing declared weight(s) {', '.join(map(repr, missing))}")
                raise self.error(number, "a weight id appears twice")
        elif self.mode == "weights" or (self.mode is None and "<weights" in tail):
            m = _WEIGHTS_RE.search(tail)
            vals = m.group(1).split() if m else []
            if self.mode is None:
                self.mode = "weights"
                self.weight_names = tuple(f"weights_{k}" for k in range(len(vals)))
            if len(vals) != len(self.weight_names):
                raise self.error(number, f"expected {len(self.weight_names)} values in <weights>, found {len(vals)}")
            try:
                row = [float(v) for v in vals]
            except ValueError:
                raise self.error(number, "non-numeric value in <weights>") from None
        else:
            if self.mode is None:
                self.mode = "none"
            elif self.weight_names:
                raise self.error(
                    number, f"missing declared weights ({len(self.weight_names)} expected, no <rwgt> block)"
                )
            row = []
        b.head.append(" ".join(head[:6]))
        b.particle_text.append(ptext)
        b.nup.append(nup)
        b.weight_rows.append(row)

    def _check_xml(self, tail: str, number: int) -> None:
        stack: list[str] = []
        for close, name, selfclose in _TAG_RE.findall(tail):
            if selfclose:
                continue
            if not close:
                stack.append(name)
            elif not stack or stack.pop() != name:
                raise self.error(number, f"malformed XML: unexpected </{name}>")
        if stack:
            raise self.error(number, f"malformed XML: <{stack[-1]}> is not closed")
        if tail.count("<") != tail.count(">"):
            raise self.error(number, "malformed XML: unbalanced '<' and '>'")

    def _slow_particles(self, b: _ChunkBuilder, first: int) -> np.ndarray:
        rows = []
        for k, (text, nup) in enumerate(zip(b.particle_text, b.nup)):
            vals = _parse_floats(text)
            if vals is None:
                raise self.error(first + k + 1, "non-numeric value in a particle line")
            if vals.size != 13 * nup:
                # some generators append columns: keep the first 13 numbers of each line
                lines = text.split("\n")
                if len(lines) == nup and all(len(ln.split()) >= 13 for ln in lines):
                    vals = _parse_floats("\n".join(" ".join(ln.split()[:13]) for ln in lines))
                    if vals is not None:
                        rows.append(vals)
                        continue
                raise self.error(
                    first + k + 1, f"expected {nup} particle lines of 13 numbers, found {vals.size} numbers"
                )
            rows.append(vals)
        return np.concatenate(rows) if rows else np.zeros(0)

    def build(self, b: _ChunkBuilder, first: int, scale: float) -> LHEChunk:
        n = len(b)
        try:
            head = np.array(" ".join(b.head).split(), dtype=np.float64).reshape(n, 6)
        except ValueError as exc:
            bad = next(k for k, h in enumerate(b.head) if not _is_numeric(h))
            raise self.error(first + bad + 1, f"non-numeric event header line: {exc}") from None
        flat = _parse_floats("\n".join(b.particle_text))
        if flat is None or flat.size != 13 * sum(b.nup):
            flat = self._slow_particles(b, first)
        flat = flat.reshape(-1, 13)
        nw = len(self.weight_names)
        weights = np.array(b.weight_rows, dtype=np.float64).reshape(n, nw)
        nominal = head[:, 2].copy()
        bad_rows = ~np.isfinite(nominal) | ~np.isfinite(weights).all(axis=1)
        if bad_rows.any():
            k = int(np.argmax(bad_rows))
            cols = [nm for nm, v in zip(self.weight_names, weights[k]) if not np.isfinite(v)]
            what = f"weight(s) {', '.join(map(repr, cols))}" if cols else "XWGTUP"
            raise self.error(first + k + 1, f"non-finite {what}")
        if not np.isfinite(flat).all():
            k = int(np.searchsorted(np.cumsum(b.nup), np.argmax(~np.isfinite(flat).all(axis=1)), side="right"))
            raise self.error(first + k + 1, "non-finite particle momentum")
        counts = np.asarray(b.nup, dtype=np.int64)
        pid = flat[:, 0].astype(np.int64)
        status = flat[:, 1].astype(np.int64)
        fields = {
            "px": flat[:, 6],
            "py": flat[:, 7],
            "pz": flat[:, 8],
            "E": flat[:, 9],
            "pid": pid,
            "status": status,
            "charge": pid_charge(pid),
        }
        if self.final_state_only:
            keep = status == 1
            event_of = np.repeat(np.arange(n), counts)
            counts = np.bincount(event_of[keep], minlength=n).astype(np.int64)
            fields = {k: v[keep] for k, v in fields.items()}
        else:
            fields["mother1"] = flat[:, 2].astype(np.int64)
            fields["mother2"] = flat[:, 3].astype(np.int64)
        particles = ak.unflatten(ak.zip(fields, with_name="Momentum4D"), counts)
        return LHEChunk(
            particles=particles,
            nominal=nominal * scale,
            weights=weights * scale,
            weight_names=self.weight_names,
            first_event=first,
            scale=head[:, 3].copy(),
            alpha_qcd=head[:, 5].copy(),
            alpha_qed=head[:, 4].copy(),
        )


def _parse_floats(text: str) -> np.ndarray | None:
    """Whitespace separated floats (C speed); None if the text holds anything else."""

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = np.fromstring(text, dtype=np.float64, sep=" ")
        except (DeprecationWarning, ValueError):
            return None
    return out


def _is_numeric(text: str) -> bool:
    try:
        np.array(text.split(), dtype=np.float64)
    except ValueError:
        return False
    return True


#: ``event_norm`` values whose weights average to the cross section (MG5: ``bias`` weights have the
#: bias divided out, so their mean is still the cross section)
_AVERAGE_NORMS = ("average", "bias")


def lhe_weight_scale(
    header: LHEHeader,
    *,
    normalise: bool | int = True,
    n_events: int | None = None,
    first_weights: np.ndarray | None = None,
) -> float:
    """The factor that turns an LHE file's weights into pb, such that the events read sum to sigma.

    Follows MG5's ``event_norm`` (run card in the header): ``average``/``bias``: the mean weight is
    sigma; ``sum``: the weights of the whole file sum to sigma. Reading only the first ``n_events``
    of N events reweights them by N / n_events, so a subset keeps sigma. Without a run card the
    ``<init>`` cross section decides: the mean of ``first_weights`` is compared with it (average) and
    with it / N (sum); if neither fits, the file is refused; IDWTUP = +-3 (unweighted, equal |XWGTUP|)
    gives every event sigma / N. ``event_norm = unity`` (weights carry no
    cross section) and unknown values are refused.

    Args:
        header: the file's header.
        normalise: True (the rules above), False (raw weights), or an int (divide by it).
        n_events: only the first ``n_events`` events are used.
        first_weights: XWGTUP of the first events (needed only without a run card).

    Raises:
        EventFileError: the normalisation cannot be told or is not supported.
    """
    if normalise is False:
        return 1.0
    if normalise is not True and isinstance(normalise, int):
        if normalise < 1:
            raise EventFileError(f"normalise must be >= 1, got {normalise}")
        return 1.0 / normalise
    norm = header.event_norm
    n_file = count_lhe_events(header.path)
    n_used = n_file if n_events is None else min(n_events, n_file)
    if n_used < 1:
        return 1.0
    if norm is None:
        if abs(header.idwtup) == 3:
            return _unweighted_init_scale(header, first_weights) / n_used
        norm = _guess_norm_from_init(header, n_file, first_weights)
    if norm in _AVERAGE_NORMS:
        if header.nevents_card is not None and header.nevents_card != n_file:
            logger.info(
                "%s: %d events in the file, the run card says nevents = %d; dividing by the events read",
                header.path,
                n_file,
                header.nevents_card,
            )
        return 1.0 / n_used
    if norm == "sum":
        return n_file / n_used
    raise EventFileError(
        f"{str(header.path)!r}: event_norm = {norm} is not supported (weights that do not "
        "carry the cross section); regenerate with event_norm = average or sum"
    )


def _unweighted_init_scale(header: LHEHeader, first: np.ndarray | None) -> float:
    """IDWTUP = +-3 without a run card (Les Houches accord): unweighted events, all with the same |XWGTUP|;
    sigma is the ``<init>`` cross section. Returns sigma / |XWGTUP| (to be divided by the events read)."""
    xsec = header.total_xsec_pb
    where = f"{str(header.path)!r}: no MG5 run card with event_norm; IDWTUP = {header.idwtup} (unweighted)"
    if first is None or not len(first) or not math.isfinite(xsec) or xsec <= 0:
        raise EventFileError(f"{where} but no positive <init> cross section: cannot normalise the weights")
    unit = float(np.abs(first[0]))
    if unit == 0 or not np.allclose(np.abs(first), unit, rtol=1e-6, atol=0):
        raise EventFileError(f"{where} but the event weights differ: cannot tell how they are normalised")
    return xsec / unit


def _guess_norm_from_init(header: LHEHeader, n_file: int, first: np.ndarray | None) -> str:
    """``average`` or ``sum`` for a file without a run card, from its ``<init>`` cross section."""
    xsec = header.total_xsec_pb
    where = f"{str(header.path)!r}: no MG5 run card with event_norm in the header"
    if first is None or not len(first) or not math.isfinite(xsec) or xsec <= 0:
        raise EventFileError(
            f"{where} and no positive <init> cross section: cannot tell how the weights are normalised"
        )
    mean = float(np.mean(first))
    if mean <= 0:
        raise EventFileError(f"{where}; the mean weight is {mean:g}: cannot tell how the weights are normalised")
    dist_avg = abs(math.log(mean / xsec))
    dist_sum = abs(math.log(mean * n_file / xsec))
    best, dist = ("average", dist_avg) if dist_avg <= dist_sum else ("sum", dist_sum)
    if dist > math.log(3.0):
        raise EventFileError(
            f"{where}; the mean weight {mean:g} pb fits neither the <init> cross section "
            f"{xsec:g} pb (average) nor it / {n_file} events (sum): cannot tell how the weights "
            "are normalised"
        )
    logger.info("%s: no run card; weights taken as event_norm = %s from the <init> cross section", header.path, best)
    return best


def iter_lhe(
    path: str | Path,
    *,
    chunk_size: int = 10_000,
    final_state_only: bool = True,
    normalise: bool | int = True,
    n_events: int | None = None,
    progress: bool = False,
) -> Iterator[LHEChunk]:
    """Stream an LHE file in chunks of events.

    Args:
        path: LHE file, plain or gzipped.
        chunk_size: events per chunk.
        final_state_only: keep only status-1 particles (else all, with mother indices).
        normalise: True: weights in pb that sum to sigma over the events read (see
            :func:`lhe_weight_scale`); False: raw weights; an int: divide by that number.
        n_events: stop after this many events (reweighted by N / n_events, so they keep sigma).
        progress: show a tqdm progress bar on stderr.

    Yields:
        :class:`LHEChunk` objects, in file order.

    Raises:
        EventFileError: naming the file and event number for truncated files, malformed XML,
            missing declared weights, non-finite weights or momenta.
    """
    p = Path(path)
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    if n_events is not None and n_events < 1:
        raise ConfigError(f"n_events must be >= 1, got {n_events}")
    fh = open_text(p)
    bar = None
    try:
        text = ""
        while "</init>" not in text:
            block = _read_block(fh, p, "in the header")
            if not block:
                break
            text += block
        header = _header_from_text(text, p)
        scale: float | None = None
        reader = _Reader(p, header, final_state_only=final_state_only)
        pos = text.find("</init>") + len("</init>")
        buf = text[pos:]
        number = 0  # events parsed so far
        builder = _ChunkBuilder()
        first = 0
        ended = False
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc=p.name, unit=" events", total=n_events)
        while True:
            pos = 0
            start = buf.find("<event", pos)
            while start >= 0:
                end = buf.find("</event>", start)
                if end < 0:
                    break
                nxt = buf.find("<event", start + 6, end)
                number += 1
                if nxt >= 0:
                    raise reader.error(number, "malformed XML: <event> not closed before the next <event>")
                reader.parse_event(buf[start:end], number, builder)
                pos = end + len("</event>")
                start = buf.find("<event", pos)
                if len(builder) >= chunk_size or (n_events is not None and number >= n_events):
                    if scale is None:
                        scale = _first_scale(header, builder, normalise, n_events)
                    chunk = reader.build(builder, first, scale)
                    if bar is not None:
                        bar.update(len(chunk))
                    yield chunk
                    first = number
                    builder = _ChunkBuilder()
                    if n_events is not None and number >= n_events:
                        return
            buf = buf[pos:]
            if start < 0 and "</LesHouchesEvents>" in buf:
                ended = True
                break
            block = _read_block(fh, p, f"after event {number}")
            if not block:
                break
            buf += block
        if not ended:
            if "<event" in buf:
                raise reader.error(number + 1, "file truncated inside the event")
            raise EventFileError(f"{str(p)!r}: file truncated after event {number} (no </LesHouchesEvents>)")
        if len(builder):
            if scale is None:
                scale = _first_scale(header, builder, normalise, n_events)
            chunk = reader.build(builder, first, scale)
            if bar is not None:
                bar.update(len(chunk))
            yield chunk
    finally:
        fh.close()
        if bar is not None:
            bar.close()


def _first_scale(header: LHEHeader, builder: _ChunkBuilder, normalise: bool | int, n_events: int | None) -> float:
    first = None
    if header.event_norm is None and normalise is True:
        try:
            first = np.array([float(h.split()[2]) for h in builder.head])
        except (IndexError, ValueError):
            first = None
    return lhe_weight_scale(header, normalise=normalise, n_events=n_events, first_weights=first)


def read_lhe(path: str | Path, **options: object) -> LHEChunk:
    """Read a whole LHE file into one :class:`LHEChunk` (options as :func:`iter_lhe`)."""
    chunks = list(iter_lhe(path, **options))  # type: ignore[arg-type]
    return concatenate_chunks(chunks)


def concatenate_chunks(chunks: Sequence[LHEChunk]) -> LHEChunk:
    """Join consecutive chunks of one file."""
    if not chunks:
        raise EventFileError("no events")
    names = chunks[0].weight_names
    return LHEChunk(
        particles=ak.concatenate([c.particles for c in chunks]) if len(chunks) > 1 else chunks[0].particles,
        nominal=np.concatenate([c.nominal for c in chunks]),
        weights=np.concatenate([c.weights for c in chunks]),
        weight_names=names,
        first_event=chunks[0].first_event,
        scale=np.concatenate([c.scale for c in chunks]),
        alpha_qcd=np.concatenate([c.alpha_qcd for c in chunks]),
        alpha_qed=np.concatenate([c.alpha_qed for c in chunks]),
    )
