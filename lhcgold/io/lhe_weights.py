"""MG5_aMC scale and PDF weights of an LHE file as nuisance parameters in MadMiner's layout.

MG5's ``systematics`` module (``use_syst = True``) declares its weights in the header::

    <initrwgt>
    <weightgroup name="Central scale variation" combine="envelope">
    <weight id="1" MUR="0.5" MUF="0.5" PDF="247000" > MUR=0.5 MUF=0.5 </weight>
    ...
    <weightgroup name="NNPDF23_lo_as_0130_qed" combine="replicas">
    <weight id="45" MUR="1.0" MUF="1.0" PDF="247000" > </weight>
    <weight id="46" MUR="1.0" MUF="1.0" PDF="247001" > PDF=247000 MemberID=1 </weight>

:func:`systematics_weights` sorts them into scale variations and PDF members;
:func:`nuisance_layout` turns them into MadMiner's ``systematics/`` and ``nuisance_parameters/``
groups (same conventions as MadMiner's LHE reader): a ``scale`` systematic (type ``scale``, the
factors as text, ``mu``/``mur``/``muf``) with one two-sided nuisance parameter (ν = +1 the largest,
ν = −1 the smallest factor), and a ``pdf`` systematic (type ``pdf``, the set name) with one
one-sided nuisance parameter per non-central member. Nuisance benchmarks are named
``<systematic>_nuisance_param_<i>_benchmark_<0|1>``. :func:`nuisance_weights` gives their weight
columns for a chunk of events, rescaled to a reference weight as MadMiner's readers do
(w_nuis · w_ref / w_sampling), and :func:`write_nuisance_groups` writes the HDF5 groups.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..exceptions import EventFileError
from .lhe_writer import param_entries
from .slha import parse_param_card

__all__ = [
    "BenchmarkPoints",
    "NuisanceLayout",
    "SystematicsWeights",
    "WeightInfo",
    "benchmark_points",
    "nuisance_factors",
    "nuisance_ratios",
    "nuisance_layout",
    "nuisance_weights",
    "parse_weights",
    "ratio_coefficients",
    "read_nuisance_groups",
    "systematics_weights",
    "write_nuisance_groups",
]


@dataclass(frozen=True)
class WeightInfo:
    """One ``<weight>`` of ``<initrwgt>`` with MG5's attributes (None when absent)."""

    id: str
    group: str
    text: str
    mur: float | None = None
    muf: float | None = None
    pdf: int | None = None
    dyn_scale: int | None = None


def _num(value: str | None, kind: type) -> Any:
    if value is None:
        return None
    try:
        return kind(float(value)) if kind is int else kind(value)
    except ValueError:
        return None


def parse_weights(header_text: str) -> tuple[WeightInfo, ...]:
    """Every ``<weight>`` of the header's ``<initrwgt>`` block, in order, with its group.

    Raises:
        EventFileError: malformed ``<initrwgt>`` XML.
    """
    start = header_text.find("<initrwgt")
    if start < 0:
        return ()
    end = header_text.find("</initrwgt>", start)
    if end < 0:
        raise EventFileError("malformed header: <initrwgt> is not closed")
    try:
        root = ET.fromstring(header_text[start : end + len("</initrwgt>")])
    except ET.ParseError as exc:
        raise EventFileError(f"malformed XML in the header's <initrwgt> block: {exc}") from exc
    out: list[WeightInfo] = []

    def visit(node: ET.Element, group: str) -> None:
        for child in node:
            if child.tag == "weightgroup":
                visit(child, child.get("name") or child.get("type") or "")
            elif child.tag == "weight" and child.get("id") is not None:
                a = {k.upper(): v for k, v in child.attrib.items()}
                out.append(
                    WeightInfo(
                        id=str(child.get("id")),
                        group=group,
                        text=(child.text or "").strip(),
                        mur=_num(a.get("MUR"), float),
                        muf=_num(a.get("MUF"), float),
                        pdf=_num(a.get("PDF"), int),
                        dyn_scale=_num(a.get("DYN_SCALE"), int),
                    )
                )

    visit(root, "")
    return tuple(out)


@dataclass(frozen=True)
class SystematicsWeights:
    """MG5's systematics weights, sorted.

    Attributes:
        scale: scale variations at the central PDF with the run's own scale choice (no ``DYN_SCALE``).
        pdf_sets: PDF set (group name) -> its members at MUR = MUF = 1, central member first.
        central_pdf: LHAPDF id of the central PDF (None without systematics weights).
    """

    scale: tuple[WeightInfo, ...]
    pdf_sets: dict[str, tuple[WeightInfo, ...]]
    central_pdf: int | None


def systematics_weights(header_text: str) -> SystematicsWeights:
    """Sort the header's MG5 systematics weights into scale variations and PDF sets."""
    ws = [w for w in parse_weights(header_text) if w.mur is not None and w.muf is not None]
    central = [w for w in ws if w.mur == 1.0 and w.muf == 1.0 and w.dyn_scale is None and w.pdf is not None]
    central_pdf = central[0].pdf if central else next((w.pdf for w in ws if w.pdf is not None), None)
    scale = tuple(
        w
        for w in ws
        if w.dyn_scale is None and (w.pdf is None or w.pdf == central_pdf) and not (w.mur == 1.0 and w.muf == 1.0)
    )
    sets: dict[str, list[WeightInfo]] = {}
    for w in ws:
        at_central_scale = w.mur == 1.0 and w.muf == 1.0 and w.dyn_scale is None
        if at_central_scale and w.pdf is not None and "scale" not in w.group.lower():
            sets.setdefault(w.group, []).append(w)
    pdf_sets = {g: tuple(sorted(m, key=lambda w: w.pdf or 0)) for g, m in sets.items() if len(m) > 1}
    return SystematicsWeights(scale=scale, pdf_sets=pdf_sets, central_pdf=central_pdf)


@dataclass(frozen=True)
class NuisanceLayout:
    """MadMiner's ``systematics/`` and ``nuisance_parameters/`` content, with the LHE weight ids.

    Attributes:
        systematics: (name, type, value, scale) rows; ``scale`` is ``"None"`` unless type is scale.
        nuisance_parameters: (name, systematic, benchmark_positive, benchmark_negative) rows.
        benchmark_ids: nuisance benchmark name -> LHE weight id, in column order.
    """

    systematics: tuple[tuple[str, str, str, str], ...]
    nuisance_parameters: tuple[tuple[str, str, str, str], ...]
    benchmark_ids: dict[str, str]

    @property
    def benchmark_names(self) -> tuple[str, ...]:
        """Nuisance benchmark names, sorted (MadMiner appends them after the physics ones, sorted)."""
        return tuple(sorted(self.benchmark_ids))


def _fmt(x: float) -> str:
    return repr(float(x))


def nuisance_layout(
    header_text: str,
    *,
    scale: Literal["mu", "mur", "muf"] | None = "mu",
    pdf: bool = True,
    scale_name: str = "scale",
    pdf_name: str = "pdf",
) -> NuisanceLayout:
    """MadMiner's nuisance setup from MG5's systematics weights.

    Args:
        header_text: the LHE header (``LHEHeader.header_text``).
        scale: ``mu`` (μR = μF varied together), ``mur`` (μF = 1), ``muf`` (μR = 1), or None for no
            scale systematic.
        pdf: add the PDF members of the first PDF set as one-sided nuisance parameters.
        scale_name: the scale systematic's name.
        pdf_name: the PDF systematic's name.

    Raises:
        EventFileError: the requested variations are not in the file (e.g. ``use_syst = False``).
    """
    sw = systematics_weights(header_text)
    systs: list[tuple[str, str, str, str]] = []
    nps: list[tuple[str, str, str, str]] = []
    ids: dict[str, str] = {}
    if scale is not None:
        pick = {"mu": lambda w: w.mur == w.muf, "mur": lambda w: w.muf == 1.0, "muf": lambda w: w.mur == 1.0}[scale]
        cands = [w for w in sw.scale if pick(w)]
        if not cands:
            raise EventFileError(f"no {scale} scale variations among the file's weights (was use_syst = True?)")
        key = (lambda w: w.mur) if scale in ("mu", "mur") else (lambda w: w.muf)
        up, down = max(cands, key=key), min(cands, key=key)
        factors = sorted({key(w) for w in cands} | {1.0})
        systs.append((scale_name, "scale", ",".join(_fmt(f) for f in factors), scale))
        name = f"{scale_name}_nuisance_param_0"
        pos, neg = f"{name}_benchmark_0", f"{name}_benchmark_1"
        ids[pos] = up.id
        if down.id != up.id:
            ids[neg] = down.id
        nps.append((name, scale_name, pos, neg if down.id != up.id else "None"))
    if pdf:
        if not sw.pdf_sets:
            raise EventFileError("no PDF members among the file's weights (was use_syst = True?)")
        set_name, members = next(iter(sw.pdf_sets.items()))
        systs.append((pdf_name, "pdf", set_name, "None"))
        for k, w in enumerate(members[1:]):
            name = f"{pdf_name}_nuisance_param_{k}"
            ids[f"{name}_benchmark_0"] = w.id
            nps.append((name, pdf_name, f"{name}_benchmark_0", "None"))
    return NuisanceLayout(systematics=tuple(systs), nuisance_parameters=tuple(nps), benchmark_ids=ids)


def nuisance_weights(
    weights: NDArray[np.float64],
    weight_names: Sequence[str],
    nominal: NDArray[np.float64],
    layout: NuisanceLayout,
    *,
    reference: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Nuisance benchmark columns (``layout.benchmark_names`` order) for a chunk of events.

    Args:
        weights: (n, W) named weights of the chunk (``LHEChunk.weights``).
        weight_names: their ids.
        nominal: (n,) the sampling weight (XWGTUP).
        layout: from :func:`nuisance_layout`.
        reference: (n,) the reference benchmark's weight (default: ``nominal``); each column is
            rescaled as w_nuis · w_ref / w_sampling.

    Raises:
        EventFileError: a weight id of the layout is not among ``weight_names``.
    """
    index = {n: k for k, n in enumerate(weight_names)}
    ref = nominal if reference is None else reference
    out = np.empty((len(nominal), len(layout.benchmark_ids)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_base = np.where(nominal != 0, ref / nominal, 0.0)
    for c, name in enumerate(layout.benchmark_names):
        wid = layout.benchmark_ids[name]
        if wid not in index:
            raise EventFileError(f"weight id {wid!r} ({name}) is not in the events' weights")
        out[:, c] = weights[:, index[wid]] * ratio_base
    return out


def nuisance_ratios(
    columns: NDArray[np.float64], reference: NDArray[np.float64], layout: NuisanceLayout
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-event weight ratios w(ν_k = ±1)/w(ν = 0) of every nuisance parameter: ``(up, down)``, each (n, K).

    ``columns`` are the nuisance benchmarks' weights (``layout.benchmark_names`` order) and
    ``reference`` (n,) the weight they vary. A one-sided nuisance gets down = 1/up (so that its
    morphing is exp(ν ln up), MadMiner's). A ratio that is not finite (zero reference weight) is 1:
    the event does not vary.
    """
    col = {n: k for k, n in enumerate(layout.benchmark_names)}
    n, k = len(reference), len(layout.nuisance_parameters)
    up, down = np.ones((n, k)), np.ones((n, k))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, (_, _, pos, neg) in enumerate(layout.nuisance_parameters):
            up[:, j] = columns[:, col[pos]] / reference
            down[:, j] = 1.0 / up[:, j] if neg == "None" else columns[:, col[neg]] / reference
    ok = np.isfinite(up) & np.isfinite(down) & (up > 0) & (down > 0)
    return np.where(ok, up, 1.0), np.where(ok, down, 1.0)


def ratio_coefficients(
    up: NDArray[np.float64], down: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """MadMiner's nuisance morphing coefficients from the ±1 ratios: log g(ν) = a ν + b ν².

    Two-sided: a = ½ ln(up/down), b = ½ ln(up·down); one-sided (``down`` None): a = ln up, b = 0.
    Non-finite values become 0 and both are clipped to [−10, 10], as MadMiner's NuisanceMorpher.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if down is None:
            a, b = np.log(up), np.zeros_like(up)
        else:
            a, b = 0.5 * np.log(up / down), 0.5 * np.log(up * down)
    clean = lambda v: np.clip(np.nan_to_num(v, nan=0.0, posinf=0.0, neginf=0.0), -10.0, 10.0)  # noqa: E731
    return clean(a), clean(b)


def nuisance_factors(
    nu: Sequence[float], columns: NDArray[np.float64], reference: NDArray[np.float64], layout: NuisanceLayout
) -> NDArray[np.float64]:
    """Per-event factor exp(Σ a_k ν_k + b_k ν_k²) (MadMiner's NuisanceMorpher; a, b clipped to ±10)."""
    log = np.zeros(len(reference))
    col = {n: k for k, n in enumerate(layout.benchmark_names)}
    with np.errstate(divide="ignore", invalid="ignore"):
        for (_, _, pos, neg), v in zip(layout.nuisance_parameters, nu, strict=True):
            wp = columns[:, col[pos]] / reference
            wn = None if neg == "None" else columns[:, col[neg]] / reference
            a, b = ratio_coefficients(wp, wn)
            log += a * v + b * v * v
    return np.exp(log)


def write_nuisance_groups(f: Any, layout: NuisanceLayout) -> None:
    """Write ``systematics/*`` and ``nuisance_parameters/*`` (MadMiner's S256 datasets) into an h5py file."""
    from .h5common import encode_strings

    if not layout.systematics:
        return
    for k, key in enumerate(("names", "types", "values", "scales")):
        f[f"systematics/{key}"] = encode_strings([row[k] for row in layout.systematics])
    for k, key in enumerate(("names", "systematics", "benchmark_positive", "benchmark_negative")):
        f[f"nuisance_parameters/{key}"] = encode_strings([row[k] for row in layout.nuisance_parameters])


_SET_LINE = re.compile(r"^\s*set\s+(?:param_card\s+)?([A-Za-z_][\w]*)\s+([+-]?\d+)\s+(\S+)", re.I | re.M)


@dataclass(frozen=True)
class BenchmarkPoints:
    """Benchmark values recovered from an LHE header (MG5 reweighting style).

    Attributes:
        base: the ``<slha>`` param_card of the generation point, ``{(block, id): value}`` (blocks lower case).
        points: weight id -> the full param_card entries of that benchmark (``base`` updated by the
            weight's ``set param_card BLOCK ID VALUE`` lines; MG5 writes only the changed entries, and
            no line at all for the generation point).
    """

    base: dict[tuple[str, int], float]
    points: dict[str, dict[tuple[str, int], float]]

    def values(self, parameters: Sequence[Any]) -> dict[str, dict[str, float]]:
        """``{weight id: {parameter name: θ}}`` for parameters with ``name``, ``lha_block``, ``lha_id``
        and optionally ``card_scale``/``card_offset`` (parameters without a block use the ``LHCGOLD``
        block, ids 1, 2, ... as the embedded generator writes them).

        Raises:
            EventFileError: a parameter's entry is neither set by the weight nor in the ``<slha>`` card.
        """

        entries = param_entries(parameters)
        out: dict[str, dict[str, float]] = {}
        for wid, point in self.points.items():
            row = {}
            for p, e in zip(parameters, entries, strict=True):
                key = (e.block.lower(), e.lha_id)
                if key not in point:
                    raise EventFileError(f"weight {wid!r}: no value for {e.block} {e.lha_id} ({e.name}) in the header")
                scale = float(getattr(p, "card_scale", 1.0))
                row[e.name] = (point[key] - float(getattr(p, "card_offset", 0.0))) / scale
            out[wid] = row
        return out


def benchmark_points(header_text: str, *, group: str | None = "mg_reweighting") -> BenchmarkPoints:
    """The benchmark of each reweighting weight, from ``<slha>`` and the ``set param_card`` lines.

    Works for MG5's files and for the embedded generator's (which states every parameter).

    Args:
        header_text: the LHE header (``LHEHeader.header_text``).
        group: only weights of this weight group (None: every weight that has ``set`` lines).
    """

    base: dict[tuple[str, int], float] = {}
    i0 = header_text.find("<slha>")
    if i0 >= 0:
        i1 = header_text.find("</slha>", i0)
        base = parse_param_card(header_text[i0 + len("<slha>") : i1 if i1 >= 0 else None])
    points: dict[str, dict[tuple[str, int], float]] = {}
    for w in parse_weights(header_text):
        sets = _SET_LINE.findall(w.text)
        if group is not None and w.group != group:
            continue
        if group is None and not sets:
            continue
        if w.text and not sets:
            continue  # not a param_card statement (e.g. morphing component weights)
        point = dict(base)
        for block, lha_id, value in sets:
            try:
                point[(block.lower(), int(lha_id))] = float(value)
            except ValueError:
                raise EventFileError(f"weight {w.id!r}: bad value {value!r} in 'set param_card'") from None
        points[w.id] = point
    return BenchmarkPoints(base=base, points=points)


def read_nuisance_groups(f: Any) -> tuple[NuisanceLayout, tuple[int, ...]] | None:
    """The nuisance setup of an open h5py events file and the weight column of each nuisance benchmark.

    Returns:
        None without ``nuisance_parameters/``; else the layout (``benchmark_ids`` maps each nuisance
        benchmark to itself) and, in ``layout.benchmark_names`` order, the index of its column in
        ``samples/weights``.

    Raises:
        EventFileError: inconsistent nuisance groups (a benchmark named there is not in the file).
    """
    from .h5common import decode_strings

    if "nuisance_parameters/names" not in f:
        return None
    keys = ("names", "systematics", "benchmark_positive", "benchmark_negative")
    cols = [decode_strings(f[f"nuisance_parameters/{k}"]) if f"nuisance_parameters/{k}" in f else None for k in keys]
    n = len(cols[0])
    if cols[1] is None:  # files of MadMiner < 0.6 have no systematics dataset
        cols[1] = [""] * n
    if any(c is None or len(c) != n for c in cols):
        raise EventFileError("inconsistent nuisance_parameters/ datasets")
    negs = ["None" if v in ("", "None") else v for v in cols[3]]  # type: ignore[union-attr]
    nps = tuple(zip(cols[0], cols[1], cols[2], negs, strict=True))  # type: ignore[arg-type]
    systs: tuple[tuple[str, str, str, str], ...] = ()
    if "systematics/names" in f:
        srows = [
            decode_strings(f[f"systematics/{k}"]) if f"systematics/{k}" in f else None
            for k in ("names", "types", "values", "scales")
        ]
        if all(r is not None and len(r) == len(srows[0]) for r in srows):  # type: ignore[arg-type]
            systs = tuple(zip(*srows, strict=True))  # type: ignore[misc]
    bench = decode_strings(f["benchmarks/names"])
    wanted = sorted({b for row in nps for b in (row[2], row[3]) if b != "None"})
    missing = [b for b in wanted if b not in bench]
    if missing:
        raise EventFileError(f"nuisance benchmarks {missing} are not in benchmarks/names")
    layout = NuisanceLayout(systematics=systs, nuisance_parameters=nps, benchmark_ids={b: b for b in wanted})
    return layout, tuple(bench.index(b) for b in layout.benchmark_names)
