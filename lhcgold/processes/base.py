r"""The process seam of the embedded generator: the base class and the registry of processes.

A process maps points of the unit hypercube u ∈ [0,1]^d to partonic events and evaluates, for
every *channel* k (quark type or charge × which beam carries the quark), the exact morphing
components of the fully differential cross section, dσ_c/du in pb (PDFs, flux, phase space and
|M̄|² components). The generator picks one channel per point with probability ∝ a θ-independent,
positive proposal; the joint ratio and score of the chosen channel follow from its components
alone (:mod:`lhcgold.physics.gold`).

Every process is one module in :mod:`lhcgold.processes` (or a third-party package declaring an
entry point in the ``lhcgold.processes`` group) holding one :class:`EmbeddedProcess` subclass,
decorated with :func:`register_process`. The class carries everything the rest of the toolkit
needs to know about it: its ``name`` (the card's ``process.name``), the parameters it accepts,
the JSON schema of its own keys in the card's ``process:`` section (:meth:`options_from_card`
turns them into constructor arguments), its matrix elements and truth, and its
:class:`ProcessDefaults` (detector-level observables, cuts, histogram observables, plot labels)
used when a card does not set them. Nothing outside the module names the process.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import unknown_name_error
from ..physics.ew import PYTHIA_EW, EWInputs
from ..physics.pdf import PDFGrid

__all__ = [
    "COMMON_OPTIONS_SCHEMA",
    "Batch",
    "EmbeddedProcess",
    "EventRecord",
    "ProcessDefaults",
    "get_process_class",
    "process_names",
    "process_section_schema",
    "register_process",
]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: Keys of the card's ``process:`` section that every embedded process understands.
COMMON_OPTIONS_SCHEMA: dict[str, Any] = {
    "name": {"type": "string"},
    "sqrt_s_gev": {"type": "number", "exclusiveMinimum": 0},
    "pdf": {"type": "string", "minLength": 1},
    "pdf_lhaid": {"type": "integer", "minimum": 0},
    "scale_gev": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "dynamic"}]},
    "n_flavours": {"enum": [4, 5]},
    "lepton": {"enum": ["e", "mu"]},
    "ew": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "scheme": {"enum": ["pythia", "mg5_sm"]},
            **{
                k: {"type": "number", "exclusiveMinimum": 0}
                for k in ("alpha", "sw2", "mz", "gz", "mw", "gw", "mh", "alpha_s")
            },
        },
    },
}


@dataclass(frozen=True)
class ProcessDefaults:
    """What a card gets from its process when it does not say otherwise.

    Attributes:
        observables: detector-level observables, name → expression (:mod:`lhcgold.observables`).
        cuts: detector-level cuts (expressions).
        histogram_observables: candidates of the histogram baseline (the best 2-D histogram is
            chosen among them by its Fisher information); include a CP-odd one when a parameter
            is CP-odd, or the comparison with the full-kinematics methods is not fair.
        plot_observables: observables drawn in the distribution plots of the main job.
        labels: axis labels (symbol, meaning) of observables and parameters, name → text, without
            the unit (:func:`lhcgold.plot.axis_label` adds it).
        units: units of observables and parameters, name → text (None: dimensionless); names left
            out get :func:`lhcgold.plot.style.default_unit`'s guess (GeV for momenta and masses).
        shower: default ``shower:`` section.
        detector: default ``detector:`` section.
        truth_note: the latent variables z the joint likelihood p(x,z|θ) knows beyond the observed x
            (a few words for the main job's report, e.g. "the neutrino p_z and the parton flavours").
    """

    observables: Mapping[str, str] = field(default_factory=dict)
    cuts: tuple[str, ...] = ()
    histogram_observables: tuple[str, ...] = ()
    plot_observables: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str | None] = field(default_factory=dict)
    shower: Mapping[str, Any] = field(default_factory=dict)
    detector: Mapping[str, Any] = field(default_factory=lambda: {"preset": "atlas"})
    truth_note: str = ""


_REGISTRY: dict[str, type[EmbeddedProcess]] = {}
_DISCOVERED = False


def register_process(cls: type[EmbeddedProcess]) -> type[EmbeddedProcess]:
    """Class decorator: make ``cls`` available under ``cls.name`` (cards, CLI, truth).

    Raises:
        ValueError: no name, or the name is taken by another class.
    """
    name = getattr(cls, "name", "")
    if not name or not str(name).isidentifier():
        raise ValueError(f"process class {cls.__qualname__} needs an identifier as its 'name', got {name!r}")
    other = _REGISTRY.get(name)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise ValueError(f"process name {name!r} is taken by {other.__module__}.{other.__qualname__}")
    from ..observables.expr import register_function

    for fname, fn in cls.observable_functions.items():
        register_function(fname, fn)
    _REGISTRY[name] = cls
    return cls


def _discover() -> None:
    """Import every module of :mod:`lhcgold.processes` and the ``lhcgold.processes`` entry points once."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    from .. import processes as pkg  # cycle: processes.base -> processes -> processes.base

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{pkg.__name__}.{info.name}")
    from importlib.metadata import entry_points

    for ep in entry_points(group="lhcgold.processes"):
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not hide the built-in processes
            log.warning("process plug-in %s could not be loaded: %s", ep.name, exc)


def process_names() -> tuple[str, ...]:
    """Names of the registered processes, sorted."""
    _discover()
    return tuple(sorted(_REGISTRY))


def get_process_class(name: str, *, path: str | None = None, source: str | None = None) -> type[EmbeddedProcess]:
    """The process class registered as ``name``.

    Raises:
        ConfigError: unknown name (with near-miss suggestions).
    """
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise unknown_name_error("process", str(name), sorted(_REGISTRY), path=path, source=source) from None


def process_section_schema(name: str | None = None) -> dict[str, Any]:
    """JSON schema of the card's ``process:`` section: the common keys plus those of process ``name``.

    Without a name (or with an unknown one) only the common keys and the name's choices are given.
    """
    _discover()
    props = dict(COMMON_OPTIONS_SCHEMA)
    props["name"] = {"enum": sorted(_REGISTRY)}
    if name in _REGISTRY:
        props.update(_REGISTRY[name].options_schema)
    return {"type": "object", "required": ["name"], "additionalProperties": False, "properties": props}


def eta(p: Array) -> Array:
    """Pseudorapidity of four-momenta (..., 4) (E, px, py, pz)."""
    pt = np.hypot(p[..., 1], p[..., 2])
    return np.arcsinh(p[..., 3] / np.where(pt > 0, pt, 1e-300))


@dataclass
class Batch:
    """Per-point evaluation: channel components (N, K, C) [pb per unit u], proposal (N, K), kinematics."""

    u: Array
    comps: Array
    proposal: Array
    kin: dict[str, Array] = field(default_factory=dict)


@dataclass
class EventRecord:
    """Parton-level particles of N events with a fixed particle layout (LHE-like)."""

    pdg: NDArray[np.int64]  # (N, n)
    momenta: Array  # (N, n, 4) E, px, py, pz [GeV]
    masses: Array  # (N, n)
    status: NDArray[np.int64]  # (n,)
    mothers: NDArray[np.int64]  # (n, 2), 1-based, 0 = none
    colours: NDArray[np.int64]  # (N, n, 2)
    scale: Array  # (N,)


def _broad_vector(components: NDArray[np.int64], ranges: Array) -> Array:
    """g_c with Σ_c g_c m_c = m_SM + Σ_i r_i² m_{2e_i} >= |M(θ)|²/(1+P) for every |θ_i| <= r_i."""
    g = np.zeros(components.shape[0])
    for c, row in enumerate(components):
        if row.sum() == 0:
            g[c] = 1.0
        elif row.sum() == 2 and np.count_nonzero(row) == 1:
            i = int(np.flatnonzero(row)[0])
            g[c] = ranges[i] ** 2
    return g


class EmbeddedProcess:
    """Common machinery of the embedded processes.

    Args:
        parameters: θ names (card order).
        components: (C, P) morphing exponents (madminer order).
        pdf: the proton PDF grid.
        sqrt_s: collider energy in GeV.
        scale: fixed factorisation scale μ_F in GeV, or ``"dynamic"`` (√ŝ); never θ-dependent.
        ew: electroweak inputs.
        proposal_ranges: |θ_i| half-ranges used by the θ-independent proposal.
        shat_bias: β in the proposal factor (ŝ/ŝ_min)^β (β > 0 biases towards high ŝ).
        n_flavours: number of quark flavours in the proton (4 or 5).
    """

    #: the card's ``process.name``
    name: ClassVar[str] = ""
    #: one line for ``lhcgold generate --help`` and the docs
    description: ClassVar[str] = ""
    #: the parameters a card may use with this process (a subset, in any order)
    parameter_names: ClassVar[tuple[str, ...]] = ()
    #: JSON-schema ``properties`` of the process's own keys in the card's ``process:`` section
    options_schema: ClassVar[dict[str, Any]] = {}
    #: observables, cuts and plot settings used when the card does not set them
    defaults: ClassVar[ProcessDefaults] = ProcessDefaults()
    #: functions the process adds to the observables language (name → callable on objects/arrays)
    observable_functions: ClassVar[Mapping[str, Any]] = {}
    #: the generator can add μ_R/μ_F variation weights (:mod:`lhcgold.generate.variations`)
    supports_scale_variations: ClassVar[bool] = False
    #: ``xsec_components_with_errors()`` is a deterministic quadrature, used instead of the sample's MC estimate
    quadrature_xsec: ClassVar[bool] = False
    dim = 0
    n_channels = 0
    observable_names: tuple[str, ...] = ()
    observed_names: tuple[str, ...] = ()

    @classmethod
    def options_from_card(
        cls, section: Mapping[str, Any], *, sqrt_s: float, ew: EWInputs, source: str | None = None
    ) -> dict[str, Any]:
        """Constructor arguments from the process's own keys of a (schema-valid) ``process:`` section.

        Raises:
            ConfigError: values the schema cannot express (e.g. cuts that leave no phase space).
        """
        return {}

    def __init__(
        self,
        parameters: Sequence[str],
        components: ArrayLike,
        pdf: PDFGrid,
        *,
        sqrt_s: float,
        scale: float | str = 91.188,
        ew: EWInputs = PYTHIA_EW,
        proposal_ranges: ArrayLike | None = None,
        shat_bias: float = 0.0,
        n_flavours: int = 5,
    ):
        self.parameters = tuple(parameters)
        comps = np.asarray(components, dtype=np.int64)
        self.components = (
            comps.reshape(max(comps.shape[0], 1) if comps.ndim == 2 else -1, len(self.parameters))
            if self.parameters
            else np.zeros((1, 0), np.int64)
        )
        self.pdf = pdf
        self.sqrt_s = float(sqrt_s)
        self.s = self.sqrt_s**2
        self.scale = scale
        self.ew = ew
        pr = np.ones(len(self.parameters)) if proposal_ranges is None else np.asarray(proposal_ranges, float)
        self.proposal_vector = _broad_vector(self.components, pr)
        self.shat_bias = float(shat_bias)
        self.n_flavours = int(n_flavours)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def _mu2(self, shat: Array) -> float | Array:
        if isinstance(self.scale, str):
            return np.asarray(shat)
        return float(self.scale) ** 2

    def _proposal(self, comps: Array, shat: Array, shat_min: float) -> Array:
        prop = np.maximum(comps @ self.proposal_vector, 0.0)
        if self.shat_bias:
            prop = prop * (shat / shat_min) ** self.shat_bias
        return prop

    # interface -------------------------------------------------------------------------
    def evaluate(self, u: Array) -> Batch:  # pragma: no cover - abstract
        raise NotImplementedError

    def realise(
        self, batch: Batch, channel: NDArray[np.intp], rng: np.random.Generator
    ) -> tuple[EventRecord, Array, Array]:  # pragma: no cover - abstract
        """Particles, observables (N, O) and observed x (N, X) of the selected channels."""
        raise NotImplementedError

    def truth_components(self, x: ArrayLike) -> Array:  # pragma: no cover - abstract
        """m̄_c(x): observed-level differential cross-section components (N, C) [pb per unit x]."""
        raise NotImplementedError

    def xsec_components_with_errors(
        self,
        *,
        n_points: int = 400_000,
        rng: np.random.Generator | int | None = 0,
        n_adapt: int = 5,
        **_: Any,
    ) -> tuple[Array, Array]:
        """(σ_c, δσ_c) [pb] by adaptive Monte Carlo of the channel sum (cached per (n_points, seed)).

        A process with a deterministic quadrature overrides this (and sets ``quadrature_xsec``).
        """
        from ..generate.sampling import estimate_xsec  # cycle: lhcgold.generate.sampling -> lhcgold.processes.base

        key = (n_points, rng, n_adapt) if not isinstance(rng, np.random.Generator) else None
        cache = self.__dict__.setdefault("_xsec_cache", {})
        if key is not None and key in cache:
            sig, err = cache[key]
            return sig.copy(), err.copy()
        out = estimate_xsec(self, n_points=n_points, rng=rng, n_adapt=n_adapt)
        if key is not None:
            cache[key] = out
        return out[0].copy(), out[1].copy()

    def xsec_components(self, **options: Any) -> Array:
        """σ_c [pb], (C,) in madminer component order: the normalisation of the truth."""
        return self.xsec_components_with_errors(**options)[0]
