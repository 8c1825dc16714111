"""Writing Les Houches event files the way MG5_aMC writes them (LHEF 3 with ``<rwgt>`` weights).

The layout follows MG5_aMC 3.5 reweighted output: a ``<header>`` with an ``<MGRunCard>``
excerpt (``nevents``, ``event_norm = average``, beams, PDF), a ``<initrwgt>`` block with
``<weightgroup name='mg_reweighting' weight_name_strategy='includeIdInWeightName'>`` listing one
``<weight id=...>`` per benchmark, ``<init>`` with IDWTUP = −4, and per event the XWGTUP
(``event_norm = average``: the mean over the file is the cross section in pb) and
``<rwgt><wgt id='NAME'> w </wgt>...</rwgt>`` on the same scale. pylhe and Pythia 8
(``Beams:frameType = 4``) read these files; Pythia exposes the named weights.

Files are written atomically (:func:`lhcgold.io.atomic.atomic_path`), gzipped when the name
ends in ``.gz``.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from .atomic import atomic_path

__all__ = [
    "PARAM_BLOCK",
    "LHEChunkData",
    "LHEInit",
    "ParamEntry",
    "benchmark_descriptions",
    "param_entries",
    "slha_block",
    "write_lhe",
    "write_lhe_from_body",
]

#: param_card block of the embedded model's parameters (those without an ``lha_block`` of their own)
PARAM_BLOCK = "LHCGOLD"


@dataclass(frozen=True)
class ParamEntry:
    """Where a parameter lives in a param_card: ``BLOCK ID`` (SLHA)."""

    name: str
    block: str
    lha_id: int


def param_entries(parameters: Sequence[object]) -> tuple[ParamEntry, ...]:
    """Param_card entries of parameters (objects with ``name``, ``lha_block``, ``lha_id``).

    Parameters with an ``lha_block`` keep it; the others go to block ``LHCGOLD`` with ids 1, 2, ...
    in card order.
    """
    out = []
    k = 0
    for p in parameters:
        block = str(getattr(p, "lha_block", "") or "")
        lha_id = int(getattr(p, "lha_id", 0) or 0)
        if not block or lha_id <= 0:
            k += 1
            block, lha_id = PARAM_BLOCK, k
        out.append(ParamEntry(str(getattr(p, "name")), block.upper(), lha_id))  # noqa: B009
    return tuple(out)


def benchmark_descriptions(entries: Sequence[ParamEntry], benchmarks: Sequence[Mapping[str, float]]) -> tuple[str, ...]:
    """``<weight>`` texts in MG5's reweighting style: one ``set param_card BLOCK ID VALUE`` line per
    parameter (all of them, so each weight states its whole benchmark)."""
    return tuple(
        "".join(f"set param_card {e.block} {e.lha_id} {float(b.get(e.name, 0.0))!r} # {e.name}\n" for e in entries)
        for b in benchmarks
    )


def slha_block(entries: Sequence[ParamEntry], values: Mapping[str, float]) -> str:
    """An ``<slha>`` header section: the param_card of the generation point (MG5's banner layout)."""
    lines = [
        "<slha>",
        "######################################################################",
        "## PARAM_CARD written by lhcgold: the model parameters of the      ##",
        "## generation benchmark (the point of XWGTUP)                      ##",
        "######################################################################",
    ]
    blocks: dict[str, list[ParamEntry]] = {}
    for e in entries:
        blocks.setdefault(e.block, []).append(e)
    for block, es in blocks.items():
        lines.append(f"BLOCK {block} # ")
        lines += [f"  {e.lha_id:5d} {float(values.get(e.name, 0.0)):e} # {e.name}" for e in es]
    lines.append("</slha>")
    return "\n".join(lines)


@dataclass(frozen=True)
class LHEInit:
    """The ``<init>`` block and header information.

    Attributes:
        beam_energy_gev: energy of each proton beam.
        xsec_pb, xsec_err_pb, xmax_pb: the process line (XSECUP, XERRUP, XMAXUP).
        pdf_lhaid: LHAPDF id of the PDF set (247000 = NNPDF23_lo_as_0130_qed), 0 if unknown.
        weight_ids: benchmark names (``<weight id=...>``).
        weight_descriptions: text of each ``<weight>`` (e.g. the parameter values).
        n_events: number of events (run-card ``nevents``).
        extra_header: more XML/text put into ``<header>`` (escaped by the caller).
        run_card: extra ``key: value`` lines for the ``<MGRunCard>`` excerpt.
        event_norm: MG5's ``event_norm``: ``average`` (the mean weight is sigma) or ``sum``.
        slha: an ``<slha>`` section (the generation point's param_card, :func:`slha_block`).
        scale_weights: (id, μR factor, μF factor) of scale-variation weights, written as MG5's
            systematics module does (``<weightgroup name="Central scale variation">`` with ``MUR``,
            ``MUF`` and ``PDF`` attributes); their columns follow the benchmark ones in ``rwgt``.
    """

    beam_energy_gev: float
    xsec_pb: float
    xsec_err_pb: float
    xmax_pb: float
    n_events: int
    weight_ids: tuple[str, ...] = ()
    weight_descriptions: tuple[str, ...] = ()
    pdf_lhaid: int = 247000
    lprup: int = 1
    extra_header: str = ""
    run_card: Mapping[str, object] = field(default_factory=dict)
    event_norm: str = "average"
    slha: str = ""
    scale_weights: tuple[tuple[str, float, float], ...] = ()

    @property
    def all_weight_ids(self) -> tuple[str, ...]:
        """Every ``<wgt>`` id of an event, in ``rwgt`` column order."""
        return self.weight_ids + tuple(s[0] for s in self.scale_weights)


@dataclass
class LHEChunkData:
    """A chunk of events with a common particle layout.

    Attributes:
        pdg: (N, n) PDG ids; status (n,) or (N, n); mothers (n, 2) 1-based; colours (N, n, 2);
        momenta: (N, n, 4) (E, px, py, pz) GeV; masses (N, n); scale (N,) GeV;
        xwgt: (N,) event weights (XWGTUP); rwgt: (N, B) benchmark weights on the same scale.
        alpha_qed, alpha_s: AQEDUP, AQCDUP.
    """

    pdg: NDArray[np.int64]
    status: NDArray[np.int64]
    mothers: NDArray[np.int64]
    colours: NDArray[np.int64]
    momenta: NDArray[np.float64]
    masses: NDArray[np.float64]
    scale: NDArray[np.float64]
    xwgt: NDArray[np.float64]
    rwgt: NDArray[np.float64]
    alpha_qed: float = 0.0078125
    alpha_s: float = 0.130


def _header(init: LHEInit) -> str:
    lines = [
        '<LesHouchesEvents version="3.0">',
        "<header>",
        f"<MGVersion>\n#lhcgold {__version__} embedded LO generator (MG5_aMC-style output)\n</MGVersion>",
        "<MGRunCard>",
        f"  {init.n_events}\t= nevents ! Number of events",
        f"  {init.beam_energy_gev:.1f}\t= ebeam1 ! beam 1 total energy in GeV",
        f"  {init.beam_energy_gev:.1f}\t= ebeam2 ! beam 2 total energy in GeV",
        f"  {init.event_norm}\t= event_norm ! average/sum. Normalization of the weight in the LHEF",
        f"  {init.pdf_lhaid}\t= lhaid ! PDF set",
    ]
    for k, v in init.run_card.items():
        lines.append(f"  {v}\t= {k}")
    lines.append("</MGRunCard>")
    if init.slha:
        lines.append(init.slha)
    if init.extra_header:
        lines.append(init.extra_header)
    if init.weight_ids:
        lines.append("<initrwgt>")
        lines.append("<weightgroup name='mg_reweighting' weight_name_strategy='includeIdInWeightName'>")
        descs = list(init.weight_descriptions) + [""] * (len(init.weight_ids) - len(init.weight_descriptions))
        for wid, desc in zip(init.weight_ids, descs, strict=True):
            lines.append(f"<weight id='{escape(wid)}'>{escape(desc)}</weight>")
        lines.append("</weightgroup>")
    if init.scale_weights:
        if not init.weight_ids:
            lines.append("<initrwgt>")
        lines.append('<weightgroup name="Central scale variation" combine="envelope">')
        for wid, mur, muf in init.scale_weights:
            lines.append(
                f'<weight id="{escape(wid)}" MUR="{mur:g}" MUF="{muf:g}" PDF="{init.pdf_lhaid}" > '
                f"MUR={mur:g} MUF={muf:g} </weight>"
            )
        lines.append("</weightgroup>")
    if init.weight_ids or init.scale_weights:
        lines.append("</initrwgt>")
    lines.append("</header>")
    lines.append("<init>")
    e = init.beam_energy_gev
    lines.append(f"2212 2212 {e:.6e} {e:.6e} 0 0 {init.pdf_lhaid} {init.pdf_lhaid} -4 1")
    lines.append(f"{init.xsec_pb:.6e} {init.xsec_err_pb:.6e} {init.xmax_pb:.6e} {init.lprup}")
    lines.append(f"<generator name='lhcgold' version='{__version__}'>embedded LO generator</generator>")
    lines.append("</init>")
    return "\n".join(lines) + "\n"


def _chunk_text(ch: LHEChunkData, weight_ids: Sequence[str], lprup: int) -> str:
    n, npart = ch.pdg.shape
    status = np.broadcast_to(ch.status, (n, npart))
    head = f" {npart:d} {lprup:6d} %+.7e %.8e {ch.alpha_qed:.8e} {ch.alpha_s:.8e}\n"
    part = "".join(
        " %8d %2d %4d %4d %4d %4d %+.10e %+.10e %+.10e %.10e %.10e 0.0000e+00 9.0000e+00\n" for _ in range(npart)
    )
    wl = ""
    if weight_ids:
        wl = "<rwgt>\n" + "".join(f"<wgt id='{escape(w)}'> %+.10e </wgt>\n" for w in weight_ids) + "</rwgt>\n"
    template = "<event>\n" + head + part + wl + "</event>\n"
    cols = [ch.xwgt[:, None], ch.scale[:, None]]
    moth = np.broadcast_to(ch.mothers, (n, npart, 2))
    per = np.concatenate(
        [
            ch.pdg[..., None].astype(float),
            status[..., None].astype(float),
            moth.astype(float),
            ch.colours.astype(float),
            ch.momenta[..., 1:4],
            ch.momenta[..., :1],
            ch.masses[..., None],
        ],
        axis=2,
    )
    cols.append(per.reshape(n, -1))
    if weight_ids:
        cols.append(ch.rwgt)
    values = np.concatenate(cols, axis=1)
    # '%d' accepts the float-typed integer columns
    return "".join([template % tuple(row) for row in values.tolist()])


def write_lhe(
    path: str | os.PathLike[str],
    init: LHEInit,
    chunks: Iterable[LHEChunkData],
    *,
    overwrite: bool = False,
    compresslevel: int = 4,
) -> Path:
    """Write an LHE file (gzipped if ``path`` ends in ``.gz``) atomically; returns the path.

    Raises:
        EventFileError: ``path`` exists and ``overwrite`` is false.
    """
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        raw = (
            gzip.open(tmp, "wt", encoding="ascii", compresslevel=compresslevel)
            if target.suffix == ".gz"
            else open(tmp, "w", encoding="ascii")
        )
        with raw as fh:
            fh.write(_header(init))
            for ch in chunks:
                fh.write(_chunk_text(ch, init.all_weight_ids, init.lprup))
            fh.write("</LesHouchesEvents>\n")
    return target


def write_lhe_from_body(
    path: str | os.PathLike[str], init: LHEInit, body: Path, *, overwrite: bool = False, compresslevel: int = 4
) -> Path:
    """Write header + an already formatted ``<event>`` body file (streaming writers) atomically."""

    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        raw = (
            gzip.open(tmp, "wt", encoding="ascii", compresslevel=compresslevel)
            if target.suffix == ".gz"
            else open(tmp, "w", encoding="ascii")
        )
        with raw as fh, open(body, encoding="ascii") as src:
            fh.write(_header(init))
            shutil.copyfileobj(src, fh, length=1 << 20)
            fh.write("</LesHouchesEvents>\n")
    return target
