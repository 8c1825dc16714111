"""The ``process:`` and ``generate:`` sections of an analysis card for the embedded generator.

Schema (JSON Schema, validated with :func:`lhcgold.config.check_section`)::

    process:
      name: drell_yan                       # required: a registered process (lhcgold.processes)
      sqrt_s_gev: 13000                     # > 0
      pdf: NNPDF23_lo_as_0130_qed_0000.dat  # LHAPDF6 grid file (path, or a file in Pythia's pdfdata)
      pdf_lhaid: 247000                     # written to LHE <init>
      scale_gev: 91.188                     # fixed mu_F, or "dynamic" (sqrt(shat)); never theta-dependent
      n_flavours: 5                         # 4 or 5 quark flavours in the proton
      lepton: mu                            # e | mu
      ew: {scheme: pythia, alpha: .., sw2: .., mz: .., mw: .., mh: ..}  # gz/gw: fixed widths (default:
                                            # derived at LO from these inputs, as Pythia does)
      mll_gev: [500, 3000]                  # drell_yan: dilepton mass window
      charges: [1, -1]                      # wh: W+ and/or W-
      w_mode: offshell | nwa                # wh: W off shell (Breit-Wigner) or narrow width
      mlnu_gev: [10, null]                  # wh, off shell: m_lnu window
      max_sqrt_shat_gev: null               # wh: upper cut on sqrt(shat)

    generate:
      n_events: 100000
      seed: 1
      unweighted: false
      generation_benchmark: sm              # unweighting point (a benchmark name)
      shat_bias: 0.0                        # proposal x (shat/shat_min)^bias: > 0 favours the EFT tails
      adapt: {iterations: 5, points: 20000, bins: 50}
      batch_size: 50000
      xsec_points: 0                        # > 0: sigma_c from a separate MC run of that size (DY: quadrature)
      lhe: true                             # write events.lhe.gz
      events: true                          # write events.h5 (event store with component weights)
      scale_variations: false               # drell_yan: mu_R/mu_F x {0.5, 1, 2} weights in the LHE (MG5 style)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import AnalysisCard, check_section
from ..config.sections import register_section
from ..exceptions import ConfigError, unknown_name_error
from ..physics.ew import MG5_SM_EW, PYTHIA_EW, EWInputs
from ..processes import get_process_class, process_names, process_section_schema

__all__ = ["GENERATE_SCHEMA", "GenerateOptions", "ProcessOptions", "parse_card"]

_range = {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2}

GENERATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "n_events": {"type": "integer", "minimum": 1},
        "seed": {"type": ["integer", "null"], "minimum": 0},
        "unweighted": {"type": "boolean"},
        "generation_benchmark": {"type": "string"},
        "shat_bias": {"type": "number", "minimum": 0, "maximum": 3},
        "adapt": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "iterations": {"type": "integer", "minimum": 0},
                "points": {"type": "integer", "minimum": 100},
                "bins": {"type": "integer", "minimum": 2},
            },
        },
        "batch_size": {"type": "integer", "minimum": 100},
        "xsec_points": {"type": "integer", "minimum": 0},
        "lhe": {"type": "boolean"},
        "events": {"type": "boolean"},
        "scale_variations": {"type": "boolean"},
    },
}


def _process_schema(raw: Mapping[str, Any]) -> dict[str, Any]:
    sec = raw.get("process")
    name = sec.get("name") if isinstance(sec, Mapping) else None
    if isinstance(name, str):
        get_process_class(name, path="process.name")  # an unknown name: near-miss error, not its keys'
    return process_section_schema(name if isinstance(name, str) else None)


register_section("process", _process_schema)
register_section("generate", GENERATE_SCHEMA)


@dataclass(frozen=True)
class ProcessOptions:
    """The validated ``process:`` section.

    Attributes:
        name: the registered process (:mod:`lhcgold.processes`).
        options: the process's own constructor arguments (from its ``options_from_card``).
    """

    name: str
    sqrt_s_gev: float = 13000.0
    pdf: str | None = None
    pdf_lhaid: int = 247000
    scale: float | str = 91.188
    n_flavours: int = 5
    lepton: int = 13
    ew: EWInputs = PYTHIA_EW
    options: Mapping[str, Any] = field(default_factory=dict)

    def with_options(self, **options: Any) -> ProcessOptions:
        """A copy with some process-specific options replaced (e.g. ``mll=(1500, 3000)``)."""
        return replace(self, options={**self.options, **options})


@dataclass(frozen=True)
class GenerateOptions:
    """The validated ``generate:`` section."""

    n_events: int = 100_000
    seed: int | None = None
    unweighted: bool = False
    generation_benchmark: str | None = None
    shat_bias: float = 0.0
    adapt_iterations: int = 5
    adapt_points: int = 20_000
    adapt_bins: int = 50
    batch_size: int = 50_000
    xsec_points: int = 0
    lhe: bool = True
    events: bool = True
    scale_variations: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _ew(sec: dict[str, Any]) -> EWInputs:
    base = MG5_SM_EW if sec.get("scheme") == "mg5_sm" else PYTHIA_EW
    over = {k: float(v) for k, v in sec.items() if k != "scheme"}
    if "sw2" in over and not 0 < over["sw2"] < 1:
        raise ConfigError(f"sw2 must lie in (0, 1), got {over['sw2']}", path="process.ew.sw2")
    return base.with_inputs(**over)  # widths not given are derived from the new inputs


def parse_card(card: AnalysisCard) -> tuple[ProcessOptions, GenerateOptions]:
    """Validate the ``process`` and ``generate`` sections and the parameters/benchmarks.

    Raises:
        ConfigError: schema violations (with the key path), unknown parameters, cuts that leave no
            phase space, benchmarks outside the parameter ranges, missing quadratic components.
    """
    src = str(card.source) if card.source else None
    raw = card.section("process")
    if not raw:
        raise ConfigError(
            "the embedded generator needs a 'process:' section (name: " + " | ".join(_names()) + ")", source=src
        )
    name = raw.get("name")
    cls = get_process_class(name, path="process.name", source=src) if isinstance(name, str) else None
    psec = check_section(card, "process", process_section_schema(None if cls is None else cls.name))
    assert cls is not None  # the schema requires a name among the registered ones
    gsec = check_section(card, "generate", GENERATE_SCHEMA)
    ew = _ew(psec.get("ew", {}))
    sqrt_s = float(psec.get("sqrt_s_gev", 13000.0))
    scale = psec.get("scale_gev", 91.188)
    _check_parameters(card, cls.name, cls.parameter_names, src)
    own = {k: v for k, v in psec.items() if k in cls.options_schema}
    popts = ProcessOptions(
        name=cls.name,
        sqrt_s_gev=sqrt_s,
        pdf=psec.get("pdf"),
        pdf_lhaid=int(psec.get("pdf_lhaid", 247000)),
        scale=scale if isinstance(scale, str) else float(scale),
        n_flavours=int(psec.get("n_flavours", 5)),
        lepton={"e": 11, "mu": 13}[psec.get("lepton", "mu")],
        ew=ew,
        options=cls.options_from_card(own, sqrt_s=sqrt_s, ew=ew, source=src),
    )
    adapt = gsec.get("adapt", {})
    gb = gsec.get("generation_benchmark")
    if gb is not None and gb not in card.benchmark_names:
        raise unknown_name_error(
            "benchmark", gb, card.benchmark_names, path="generate.generation_benchmark", source=src
        )
    gopts = GenerateOptions(
        n_events=int(gsec.get("n_events", 100_000)),
        seed=gsec.get("seed"),
        unweighted=bool(gsec.get("unweighted", False)),
        generation_benchmark=gb,
        shat_bias=float(gsec.get("shat_bias", 0.0)),
        adapt_iterations=int(adapt.get("iterations", 5)),
        adapt_points=int(adapt.get("points", 20_000)),
        adapt_bins=int(adapt.get("bins", 50)),
        batch_size=int(gsec.get("batch_size", 50_000)),
        xsec_points=int(gsec.get("xsec_points", 0)),
        lhe=bool(gsec.get("lhe", True)),
        events=bool(gsec.get("events", True)),
        scale_variations=bool(gsec.get("scale_variations", False)),
    )
    if not math.isfinite(gopts.shat_bias):  # pragma: no cover - schema guards
        raise ConfigError("shat_bias must be finite", path="generate.shat_bias", source=src)
    return popts, gopts


def _names() -> tuple[str, ...]:

    return process_names()


def _check_parameters(card: AnalysisCard, name: str, known: tuple[str, ...], src: str | None) -> None:
    """Parameters known to the process, entering quadratically; benchmarks inside the ranges."""
    for i, p in enumerate(card.parameters):
        if p.name not in known:
            raise unknown_name_error(f"{name} parameter", p.name, known, path=f"parameters[{i}].name", source=src)
        if p.max_power < 2:
            raise ConfigError(
                f"parameter {p.name!r} enters |M|^2 quadratically: max_power must be >= 2",
                path=f"parameters[{i}].max_power",
                source=src,
            )
    if card.parameters and card.morphing.max_overall_power is not None and card.morphing.max_overall_power < 2:
        raise ConfigError(
            "|M|^2 is quadratic in the parameters: morphing.max_overall_power must be >= 2",
            path="morphing.max_overall_power",
            source=src,
        )
    for b in card.benchmarks:
        for p in card.parameters:
            v = float(b.values.get(p.name, 0.0))
            lo, hi = p.range
            if not lo <= v <= hi:
                raise ConfigError(
                    f"benchmark {b.name!r}: {p.name} = {v} lies outside the parameter range [{lo}, {hi}]",
                    path=f"benchmarks.{b.name}.{p.name}",
                    source=src,
                )
