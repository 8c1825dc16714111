"""Delphes 3 ROOT files: electrons, muons, photons, jets, missing E_T and weights, in chunks.

Reads the ``Delphes`` tree with uproot (no ROOT needed) into
:class:`~lhcgold.observables.objects.RecoEvents` chunks, memory flat in the number of events.

Weights come from the ``Weight.Weight`` branch (one entry per named weight, the layout MadMiner
reads with ``weights="delphes"``: Pythia's nominal weight first, then the LHE's ``<rwgt>`` weights)
or, without it, from ``Event.Weight``. Names: ``weight_names=`` or, given the LHE file the events
came from (``lhe=``), ``("nominal", *<initrwgt> ids)``; else ``weight_0, weight_1, ...``.

Normalisation: ``normalise=None`` follows the LHE file's ``event_norm`` when ``lhe`` is given
(``average``: divide by its number of events, so weights sum to sigma), else leaves the weights
raw; ``True`` divides by the number of entries in the tree; an int divides by that number. Reading
only the first K of N entries (``n_events``) reweights them by N/K, so a subset keeps sigma.

Example:
    >>> from lhcgold.io.delphes import iter_delphes
    >>> for ev in iter_delphes("tests/data/delphes/wa_sm_200_delphes_CMS_skim.root", chunk_size=100):
    ...     print(len(ev), ev.weights.shape)
    100 (100, 10)
    100 (100, 10)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import awkward as ak
import numpy as np

from ..exceptions import ConfigError, EventFileError
from ..observables.objects import RecoEvents, make_met, make_objects
from .lhe import count_lhe_events, read_lhe_header

logger = logging.getLogger(__name__)

__all__ = ["DELPHES_BRANCHES", "delphes_n_events", "iter_delphes", "read_delphes"]

#: leaves read per collection
DELPHES_BRANCHES: dict[str, tuple[str, ...]] = {
    "Electron": ("PT", "Eta", "Phi", "Charge"),
    "Muon": ("PT", "Eta", "Phi", "Charge"),
    "Photon": ("PT", "Eta", "Phi"),
    "Jet": ("PT", "Eta", "Phi", "Mass", "BTag", "TauTag"),
    "MissingET": ("MET", "Phi"),
}
_MASS = {"Electron": 0.000511, "Muon": 0.10566, "Photon": 0.0}


def _open_tree(path: Path, tree: str):  # type: ignore[no-untyped-def]
    import uproot

    if not path.exists():
        raise EventFileError(f"{str(path)!r}: no such file")
    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises ValueError/OSError/... on foreign or truncated files
        raise EventFileError(f"{str(path)!r}: not a readable ROOT file: {exc}") from exc
    try:
        keys = [k.split(";")[0] for k in f.keys()]
        if tree not in keys:
            f.close()
            raise EventFileError(
                f"{str(path)!r}: no {tree!r} tree (not a Delphes file?); keys: {', '.join(keys) or 'none'}"
            )
        t = f[tree]
    except EventFileError:
        raise
    except Exception as exc:
        f.close()
        raise EventFileError(f"{str(path)!r}: cannot read the {tree!r} tree: {exc}") from exc
    return f, t


def _subset_factor(n_entries: int, n_events: int | None) -> float:
    """N / K for the first K of N entries, so that a subset keeps the cross section."""
    if n_events is None:
        return 1.0
    if n_events < 1:
        raise ConfigError(f"n_events must be >= 1, got {n_events}")
    return n_entries / min(n_events, n_entries) if n_entries else 1.0


def delphes_n_events(path: str | Path, *, tree: str = "Delphes") -> int:
    """Number of entries of the Delphes tree."""
    f, t = _open_tree(Path(path), tree)
    with f:
        return int(t.num_entries)


def _weight_names(n: int, weight_names: Sequence[str] | None, lhe_names: tuple[str, ...] | None) -> tuple[str, ...]:
    if weight_names is not None:
        names = tuple(weight_names)
        if len(names) != n:
            raise EventFileError(f"{n} weights per event but {len(names)} weight names given")
        return names
    if lhe_names is not None:
        if n == len(lhe_names) + 1:
            return ("nominal", *lhe_names)
        if n == len(lhe_names):
            return lhe_names
        logger.warning("%d weights per event, the LHE file declares %d: using generic names", n, len(lhe_names))
    return ("nominal",) if n == 1 else tuple(f"weight_{k}" for k in range(n))


def iter_delphes(
    path: str | Path,
    *,
    chunk_size: int = 50_000,
    weight_names: Sequence[str] | None = None,
    lhe: str | Path | None = None,
    normalise: bool | int | None = None,
    tree: str = "Delphes",
    n_events: int | None = None,
    progress: bool = False,
) -> Iterator[RecoEvents]:
    """Stream a Delphes ROOT file as :class:`RecoEvents` chunks.

    Args:
        path: the ROOT file.
        chunk_size: entries per chunk.
        weight_names: names of the ``Weight.Weight`` entries.
        lhe: the LHE file the events came from (weight names and ``event_norm``).
        normalise: see the module docstring.
        tree: the tree name.
        n_events: stop after this many entries.
        progress: tqdm progress bar on stderr.

    Raises:
        EventFileError: a missing or foreign file, no Delphes tree, missing branches, non-finite
            weights (naming the file and the entry).
    """
    p = Path(path)
    lhe_names = None
    scale = 1.0
    f, t = _open_tree(p, tree)
    with f:
        n_total = int(t.num_entries) if n_events is None else min(int(t.num_entries), n_events)
        if lhe is not None:
            header = read_lhe_header(lhe)
            lhe_names = header.weight_names
            if normalise is None and header.event_norm == "average":
                scale = 1.0 / max(count_lhe_events(lhe), 1)
        if normalise is True:
            scale = 1.0 / max(int(t.num_entries), 1)
        elif normalise not in (None, False, True) and isinstance(normalise, int):
            scale = 1.0 / max(normalise, 1)
        scale *= _subset_factor(int(t.num_entries), n_events)
        keys = set(t.keys(recursive=True, full_paths=False))
        leaves = [f"{c}.{leaf}" for c, ls in DELPHES_BRANCHES.items() for leaf in ls]
        missing = [b for b in leaves if b not in keys]
        if missing:
            raise EventFileError(f"{str(p)!r}: the {tree!r} tree lacks branches {', '.join(missing)}")
        wbranch = "Weight.Weight" if "Weight.Weight" in keys else ("Event.Weight" if "Event.Weight" in keys else None)
        if wbranch is None:
            raise EventFileError(f"{str(p)!r}: no Weight.Weight or Event.Weight branch")
        expressions = [*leaves, wbranch]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc=p.name, total=n_total, unit=" events")
        names: tuple[str, ...] | None = None
        start = 0
        try:
            for arrays in t.iterate(expressions, step_size=chunk_size, library="ak", how=dict, entry_stop=n_total):
                ev, names = _to_events(arrays, wbranch, names, weight_names, lhe_names, scale, p, start)
                start += len(ev)
                if bar is not None:
                    bar.update(len(ev))
                yield ev
        except EventFileError:
            raise
        except Exception as exc:
            raise EventFileError(f"{str(p)!r}: cannot read entries from {start}: {exc}") from exc
        finally:
            if bar is not None:
                bar.close()


def _to_events(
    arrays: dict[str, ak.Array],
    wbranch: str,
    names: tuple[str, ...] | None,
    weight_names: Sequence[str] | None,
    lhe_names: tuple[str, ...] | None,
    scale: float,
    path: Path,
    start: int,
) -> tuple[RecoEvents, tuple[str, ...]]:
    w = arrays[wbranch]
    counts = np.asarray(ak.num(w, axis=1))
    n_w = int(counts[0]) if len(counts) else (len(names) if names else 1)
    if (counts != n_w).any():
        k = int(np.argmax(counts != n_w))
        raise EventFileError(f"{str(path)!r}, entry {start + k}: {counts[k]} weights, expected {n_w}")
    weights = np.asarray(ak.to_numpy(ak.flatten(w)), dtype=np.float64).reshape(len(w), n_w)
    bad = ~np.isfinite(weights).all(axis=1)
    if bad.any():
        k = int(np.argmax(bad))
        raise EventFileError(f"{str(path)!r}, entry {start + k} (0-based): non-finite weight")
    if names is None:
        names = _weight_names(n_w, weight_names, lhe_names)
    colls = {}
    for c in ("Electron", "Muon", "Photon"):
        pt = ak.values_astype(arrays[f"{c}.PT"], np.float64)
        extra = {"charge": ak.values_astype(arrays[f"{c}.Charge"], np.float64)} if f"{c}.Charge" in arrays else {}
        colls[c] = make_objects(
            pt,
            ak.values_astype(arrays[f"{c}.Eta"], np.float64),
            ak.values_astype(arrays[f"{c}.Phi"], np.float64),
            ak.zeros_like(pt) + _MASS[c],
            **extra,
        )
    pt = ak.values_astype(arrays["Jet.PT"], np.float64)
    jets = make_objects(
        pt,
        ak.values_astype(arrays["Jet.Eta"], np.float64),
        ak.values_astype(arrays["Jet.Phi"], np.float64),
        ak.values_astype(arrays["Jet.Mass"], np.float64),
        btag=ak.values_astype(arrays["Jet.BTag"], np.int64),
        tautag=ak.values_astype(arrays["Jet.TauTag"], np.int64),
    )
    met_v = ak.fill_none(ak.firsts(arrays["MissingET.MET"]), 0.0)
    met_phi = ak.fill_none(ak.firsts(arrays["MissingET.Phi"]), 0.0)
    met = make_met(ak.to_numpy(met_v).astype(np.float64), ak.to_numpy(met_phi).astype(np.float64))
    ev = RecoEvents(
        electrons=colls["Electron"],
        muons=colls["Muon"],
        photons=colls["Photon"],
        jets=jets,
        met=met,
        weights=weights * scale,
        weight_names=names,
    )
    return ev, names


def read_delphes(path: str | Path, **options: object) -> RecoEvents:
    """The whole file as one :class:`RecoEvents` (options as :func:`iter_delphes`)."""
    chunks = list(iter_delphes(path, **options))  # type: ignore[arg-type]
    if not chunks:
        raise EventFileError(f"{str(path)!r}: no events")
    if len(chunks) == 1:
        return chunks[0]
    c0 = chunks[0]
    return RecoEvents(
        electrons=ak.concatenate([c.electrons for c in chunks]),
        muons=ak.concatenate([c.muons for c in chunks]),
        photons=ak.concatenate([c.photons for c in chunks]),
        jets=ak.concatenate([c.jets for c in chunks]),
        met=ak.concatenate([c.met for c in chunks]),
        weights=np.concatenate([c.weights for c in chunks]),
        weight_names=c0.weight_names,
    )
