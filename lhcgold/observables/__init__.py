"""Observables and cuts on whole arrays of reconstructed events.

Public API::

    from lhcgold.observables import Observable, Cut, Efficiency, compute, from_card
    obs = [Observable("pt_a", "a[0].pt"),
           Observable("mt", "mt(l[0], met)", default=0.0),
           Observable("my", lambda ev: some_function(ev.leptons, ev.met))]   # callables get RecoEvents
    result = compute(events, obs, cuts=[Cut("pt_a > 100")], efficiencies=[Efficiency("0.9")])
    result.values (n_pass, O); result.mask (n,); result.weights (n_pass, W); result.names

Observables are string expressions (:mod:`lhcgold.observables.expr`: parsed with ``ast`` against a
whitelist, never ``eval``) or Python callables on a :class:`~lhcgold.observables.objects.RecoEvents`
chunk; both return one number per event. A missing object gives NaN, replaced by ``default``
when one is given; ``required=True`` drops events where the value is NaN. Cuts are boolean
expressions (or callables) that may use the observables by name; NaN comparisons are false, so a
cut on a missing object drops the event. Efficiencies multiply the weights (<= 0 drops the event).

Analysis card sections (validated with :func:`lhcgold.config.check_section`)::

    observables:                    # name -> expression, or a mapping
      pt_a: "a[0].pt"
      mt_l: {expression: "mt(l[0], met)", default: 0.0}
      m_ee: {expression: "(e[0] + e[1]).m", required: true}
    cuts:
      - "pt_a > 100"
      - {expression: "n(l) >= 1"}
    reconstruct:
      efficiencies: ["0.95"]        # expressions of the observables and objects

The library of observables lives in :mod:`lhcgold.observables.library` (pT, eta, phi, masses,
Delta R, signed Delta phi, m_T, m_ll, Collins-Soper cos theta*, the W H angles with the neutrino p_z
solution, m_T(WH)).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import check_section
from ..config.sections import register_section
from ..exceptions import ConfigError
from .expr import Expression, compile_expression, to_numpy
from .objects import RecoEvents, make_met, make_objects

logger = logging.getLogger(__name__)

__all__ = [
    "BASE_NAMES",
    "CUTS_SCHEMA",
    "OBSERVABLES_SCHEMA",
    "Cut",
    "Efficiency",
    "Observable",
    "ObservableResult",
    "RecoEvents",
    "compute",
    "default_observables",
    "from_card",
    "make_met",
    "make_objects",
]

#: names every expression may use (more when truth particles are present: ``p``, ``v``)
BASE_NAMES: tuple[str, ...] = ("e", "mu", "l", "a", "j", "b", "met", "visible", "p", "v")

_EXPR_OR_MAPPING = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["expression"],
            "properties": {
                "expression": {"type": "string", "minLength": 1},
                "default": {"type": ["number", "null"]},
                "required": {"type": "boolean"},
            },
        },
    ]
}
OBSERVABLES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "additionalProperties": _EXPR_OR_MAPPING,
}
register_section("observables", OBSERVABLES_SCHEMA)
CUTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["expression"],
                "properties": {"expression": {"type": "string", "minLength": 1}},
            },
        ]
    },
}
register_section("cuts", CUTS_SCHEMA)

Definition = str | Callable[[RecoEvents], Any]


def _definition_text(d: Definition) -> str:
    """The expression text (or the callable's name)."""
    return d if isinstance(d, str) else f"<function {getattr(d, '__qualname__', repr(d))}>"


@dataclass(frozen=True)
class Observable:
    """One observable: a name, a definition (expression text or callable), a default, required."""

    name: str
    definition: Definition
    default: float | None = None
    required: bool = False

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigError(f"observable name {self.name!r} is not an identifier")
        if not (isinstance(self.definition, str) or callable(self.definition)):
            raise ConfigError(f"observable {self.name!r}: definition must be a string or a callable")

    @property
    def text(self) -> str:
        """The expression text (or the callable's name)."""
        return _definition_text(self.definition)


@dataclass(frozen=True)
class Cut:
    """A selection: events where the expression (or callable) is false or NaN are dropped."""

    definition: Definition

    @property
    def text(self) -> str:
        return _definition_text(self.definition)


@dataclass(frozen=True)
class Efficiency:
    """A per-event efficiency multiplying all weights; NaN gives ``default``; <= 0 drops the event."""

    definition: Definition
    default: float = 1.0


@dataclass(frozen=True)
class ObservableResult:
    """What :func:`compute` returns for a chunk.

    Attributes:
        names: observable names; values: (n_pass, O) float64 of the passing events;
        mask: (n,) which input events pass; efficiency: (n_pass,) weight factor;
        weights: (n_pass, W) input weights times the efficiency.
    """

    names: tuple[str, ...]
    values: np.ndarray
    mask: np.ndarray
    efficiency: np.ndarray
    weights: np.ndarray


class _Compiled:
    def __init__(self, observables: Sequence[Observable], cuts: Sequence[Cut], efficiencies: Sequence[Efficiency]):
        names: list[str] = []
        self.observables: list[tuple[Observable, Expression | Callable[[RecoEvents], Any]]] = []
        for ob in observables:
            if ob.name in names:
                raise ConfigError(f"observable {ob.name!r} defined twice")
            if ob.name in BASE_NAMES:
                raise ConfigError(f"observable name {ob.name!r} clashes with an object collection")
            fn = (
                compile_expression(ob.definition, names=(*BASE_NAMES, *names), path=f"observables.{ob.name}")
                if isinstance(ob.definition, str)
                else ob.definition
            )
            self.observables.append((ob, fn))
            names.append(ob.name)
        self.names = tuple(names)
        all_names = (*BASE_NAMES, *names)
        self.cuts = [
            compile_expression(c.definition, names=all_names, path=f"cuts[{k}]")
            if isinstance(c.definition, str)
            else c.definition
            for k, c in enumerate(cuts)
        ]
        self.efficiencies = [
            (
                compile_expression(e.definition, names=all_names, path=f"efficiencies[{k}]")
                if isinstance(e.definition, str)
                else e.definition,
                e.default,
            )
            for k, e in enumerate(efficiencies)
        ]


def _column(value: Any, n: int, what: str) -> np.ndarray:
    try:
        arr = to_numpy(value)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ConfigError(f"{what}: expected one value per event ({n}), got shape {arr.shape}")
    return arr


def compute(
    events: RecoEvents,
    observables: Sequence[Observable],
    *,
    cuts: Sequence[Cut] = (),
    efficiencies: Sequence[Efficiency] = (),
    compiled: Any = None,
) -> ObservableResult:
    """Evaluate observables, cuts and efficiencies on a chunk of events.

    Args:
        events: the chunk.
        observables: what to compute, in order (later ones and cuts may use earlier names).
        cuts: selections.
        efficiencies: weight factors.
        compiled: a cache from :func:`compile_analysis` (avoids re-parsing per chunk).

    Returns:
        An :class:`ObservableResult` with the passing events only.
    """
    comp = compiled if compiled is not None else _Compiled(observables, cuts, efficiencies)
    n = len(events)
    ns = events.namespace()
    for name in BASE_NAMES:
        ns.setdefault(name, None)
    cols = []
    keep = np.ones(n, dtype=bool)
    for ob, fn in comp.observables:
        if isinstance(fn, Expression):
            missing = [m for m in fn.names if ns.get(m) is None]
            if missing:
                raise ConfigError(f"observable {ob.name!r} uses {', '.join(missing)}, which this input does not have")
            raw = fn(ns)
        else:
            raw = fn(events)
        col = _column(raw, n, f"observable {ob.name!r}")
        nan = np.isnan(col)
        if ob.required:
            keep &= ~nan
        elif ob.default is not None:
            col = np.where(nan, ob.default, col)
        ns[ob.name] = col
        cols.append(col)
    for k, cut in enumerate(comp.cuts):
        raw = cut(ns) if isinstance(cut, Expression) else cut(events)
        val = _column(raw, n, f"cut {k}")
        keep &= np.nan_to_num(val, nan=0.0) != 0
    eff = np.ones(n)
    for fn, default in comp.efficiencies:
        raw = fn(ns) if isinstance(fn, Expression) else fn(events)
        val = _column(raw, n, "efficiency")
        val = np.where(np.isnan(val), default, val)
        eff *= val
    keep &= eff > 0
    values = np.stack(cols, axis=1) if cols else np.zeros((n, 0))
    return ObservableResult(
        names=comp.names,
        values=values[keep],
        mask=keep,
        efficiency=eff[keep],
        weights=events.weights[keep] * eff[keep, None],
    )


def compile_analysis(
    observables: Sequence[Observable], *, cuts: Sequence[Cut] = (), efficiencies: Sequence[Efficiency] = ()
) -> Any:
    """Check and compile once (raises ConfigError on bad expressions); pass as ``compiled=``."""
    return _Compiled(observables, cuts, efficiencies)


def default_observables(
    *, n_leptons: int = 2, n_photons: int = 1, n_jets: int = 2, include_met: bool = True, include_numbers: bool = True
) -> list[Observable]:
    """pT, eta, phi of the hardest objects, MET, and multiplicities (missing objects -> NaN)."""
    out: list[Observable] = []
    for coll, nmax in (("l", n_leptons), ("a", n_photons), ("j", n_jets)):
        for k in range(nmax):
            for attr in ("pt", "eta", "phi"):
                out.append(Observable(f"{attr}_{coll}{k + 1}", f"{coll}[{k}].{attr}"))
    if include_met:
        out += [Observable("et_miss", "met.pt"), Observable("phi_miss", "met.phi")]
    if include_numbers:
        out += [Observable(f"n_{c}", f"n({c})") for c in ("l", "a", "j")]
    return out


def from_card(card: Any) -> tuple[list[Observable], list[Cut], list[Efficiency]]:
    """Observables, cuts and efficiencies from an analysis card (sections checked and compiled).

    Raises:
        ConfigError: schema violations or bad expressions, with the key path.
    """

    src = str(card.source) if getattr(card, "source", None) else None
    obs_section = (
        check_section(card, "observables", OBSERVABLES_SCHEMA) if card.effective_section("observables") else {}
    )
    cut_section = card.effective_section("cuts") or []
    if cut_section:
        check_section(card, "cuts", CUTS_SCHEMA)
    observables = []
    for name, spec in obs_section.items():
        if isinstance(spec, str):
            observables.append(Observable(name, spec))
        else:
            observables.append(
                Observable(
                    name, spec["expression"], default=spec.get("default"), required=bool(spec.get("required", False))
                )
            )
    cuts = [Cut(c if isinstance(c, str) else c["expression"]) for c in cut_section]
    rec = card.section("reconstruct") or {}
    effs = [Efficiency(e) for e in rec.get("efficiencies", [])]
    try:
        compile_analysis(observables, cuts=cuts, efficiencies=effs)
    except ConfigError as exc:
        raise ConfigError(exc.message, path=exc.path, source=src) from None
    return observables, cuts, effs
