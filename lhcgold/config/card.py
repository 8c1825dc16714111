"""The analysis card: YAML in, validated frozen dataclasses out.

Three layers of checks, each naming the key path in the file:

1. YAML syntax (line and column of the error);
2. the versioned JSON Schema shipped in the package (``schemas/card-1.json``);
3. semantic checks: unique names, benchmarks name only declared parameters and lie in
   their ranges, max powers are non-negative.

Stage sections (``generate``, ``detector``, ...) are free-form mappings here; each stage
validates its own section with :func:`check_section`.

Example:
    >>> card = load_card_text('''
    ... lhcgold_card: 1
    ... name: demo
    ... parameters:
    ...   - {name: cWL2, max_power: 2, range: [-20, 20]}
    ... benchmarks:
    ...   sm: {cWL2: 0.0}
    ... ''')
    >>> card.parameter_names
    ('cWL2',)
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from ..exceptions import ConfigError, unknown_name_error
from ..processes import get_process_class, process_names
from .point import ParameterPoint
from .sections import validate_sections

CARD_VERSION = 1
#: sections an embedded process supplies when the card leaves them out
_DEFAULTED_SECTIONS = ("observables", "cuts", "shower", "detector")
SECTIONS = (
    "process",
    "generator",
    "generate",
    "shower",
    "detector",
    "reconstruct",
    "observables",
    "cuts",
    "augment",
    "train",
    "infer",
    "run",
)


@dataclass(frozen=True)
class Parameter:
    """A theory parameter (e.g. a Wilson coefficient).

    Attributes:
        name: identifier used everywhere (θ axis order follows the card).
        lha_block: param_card block for MG5 (empty for the embedded generator).
        lha_id: id inside the block.
        max_power: highest power with which the parameter enters |M|².
        range: (low, high) range of interest: basis search, priors, limit grids.
        card_scale: value written to a param_card is ``card_scale * θ + card_offset``.
        card_offset: see ``card_scale``.
    """

    name: str
    lha_block: str = ""
    lha_id: int = 0
    max_power: int = 2
    range: tuple[float, float] = (-1.0, 1.0)
    card_scale: float = 1.0
    card_offset: float = 0.0

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigError(f"parameter name {self.name!r} is not an identifier")
        if self.max_power < 0:
            raise ConfigError(f"parameter {self.name!r}: max_power must be >= 0, got {self.max_power}")
        if not (math.isfinite(self.card_scale) and math.isfinite(self.card_offset)) or self.card_scale == 0:
            raise ConfigError(
                f"parameter {self.name!r}: card_scale must be finite and non-zero and card_offset "
                f"finite, got {self.card_scale}, {self.card_offset}"
            )
        lo, hi = self.range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"parameter {self.name!r}: range must be finite with low < high, got {self.range}")

    def card_value(self, theta: float) -> float:
        """The number written into an MG5 param_card for parameter value θ."""
        return self.card_scale * theta + self.card_offset

    @property
    def transform(self) -> str:
        """MadMiner's ``param_card_transform`` expression (a valid Python expression of ``theta``)."""
        if self.card_scale == 1.0 and self.card_offset == 0.0:
            return "theta"
        return f"{self.card_scale!r}*theta+{self.card_offset!r}"


@dataclass(frozen=True)
class Benchmark:
    """A named parameter point with its own weight column."""

    name: str
    values: Mapping[str, float] = field(default_factory=dict)

    def vector(self, parameter_names: tuple[str, ...]) -> NDArray[np.float64]:
        return np.array([float(self.values.get(p, 0.0)) for p in parameter_names])

    def point(self, parameter_names: tuple[str, ...]) -> ParameterPoint:
        """The benchmark's θ as a :class:`~lhcgold.config.point.ParameterPoint` (parameters left out are 0).

        Raises:
            ConfigError: the benchmark names a parameter that is not among ``parameter_names``.
        """
        return ParameterPoint.from_mapping(dict(self.values), parameter_names)


@dataclass(frozen=True)
class MorphingOptions:
    """How the morphing basis is built (``morphing:`` in the card)."""

    max_overall_power: int | None = None
    n_trials: int = 100
    n_test_thetas: int = 100
    seed: int | None = 1234
    include_existing_benchmarks: bool = True
    n_extra_benchmarks: int = 0
    optimize: bool = True


class ParameterSpace:
    """Shared views of classes holding ``parameters`` and ``benchmarks`` (card and setup)."""

    parameters: tuple[Parameter, ...]
    benchmarks: tuple[Benchmark, ...]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def benchmark_names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.benchmarks)

    @property
    def benchmark_values(self) -> NDArray[np.float64]:
        """θ of every benchmark, (B, P) in parameter order."""
        names = self.parameter_names
        return np.array([b.vector(names) for b in self.benchmarks]).reshape(len(self.benchmarks), len(names))

    def benchmark_points(self) -> dict[str, ParameterPoint]:
        """Every benchmark's θ as a :class:`~lhcgold.config.point.ParameterPoint`, by name."""
        names = self.parameter_names
        return {b.name: ParameterPoint.from_array(v, names) for b, v in zip(self.benchmarks, self.benchmark_values)}

    def point(self, value: ParameterPoint | str | Mapping[str, float] | Any) -> ParameterPoint:
        """A θ in any accepted spelling as a :class:`~lhcgold.config.point.ParameterPoint` of these parameters:
        a point (reordered to the card's order), a benchmark name, ``"gc=0.1,a3=0"`` or ``"0.1,0"``, a
        ``{name: value}`` mapping (missing parameters are 0) or a (P,) array.

        Raises:
            ConfigError: unknown parameter or benchmark names (with near-miss suggestions), or the
                wrong number of values.
        """
        names = self.parameter_names
        if isinstance(value, ParameterPoint):
            return value.reordered(names)
        if isinstance(value, str):
            return ParameterPoint.parse(value, names, benchmarks=self.benchmark_points())
        if isinstance(value, Mapping):
            return ParameterPoint.from_mapping(value, names)
        return ParameterPoint.from_array(value, names)

    @property
    def ranges(self) -> NDArray[np.float64]:
        """(P, 2) parameter ranges."""
        return np.array([p.range for p in self.parameters], dtype=np.float64)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def n_benchmarks(self) -> int:
        return len(self.benchmarks)


@dataclass(frozen=True)
class AnalysisCard(ParameterSpace):
    """A validated analysis card. Build it with :func:`load_card`."""

    name: str
    parameters: tuple[Parameter, ...]
    benchmarks: tuple[Benchmark, ...]
    morphing: MorphingOptions
    raw: Mapping[str, Any]
    source: Path | None = None
    card_hash: str = ""
    description: str = ""

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise unknown_name_error("parameter", name, self.parameter_names, source=self._src)

    def section(self, name: str) -> dict[str, Any]:
        """A stage section (``generate``, ``detector``, ...) as a plain dict (empty if absent)."""
        if name not in SECTIONS:
            raise unknown_name_error("card section", name, SECTIONS)
        value = self.raw.get(name)
        if value is None:
            return {}
        return value  # type: ignore[no-any-return]

    def effective_section(self, name: str) -> Any:
        """A stage section as the stages see it: the card's own, else its process's default.

        The embedded process named in ``process:`` (:class:`lhcgold.processes.ProcessDefaults`)
        supplies ``observables``, ``cuts`` (only when the card sets neither observables nor cuts),
        ``shower`` and ``detector`` sections a card leaves out.
        """
        value = self.section(name)
        if value or name not in _DEFAULTED_SECTIONS:
            return value
        if name == "cuts" and self.raw.get("observables"):
            return value
        defaults = self.process_defaults()
        if defaults is None:
            return value
        if name == "cuts":
            return list(defaults.cuts)
        return dict(getattr(defaults, name))

    def process_defaults(self) -> Any:
        """The :class:`~lhcgold.processes.ProcessDefaults` of the card's embedded process, or None."""
        proc = self.raw.get("process")
        name = proc.get("name") if isinstance(proc, Mapping) else None
        if not isinstance(name, str):
            return None

        if name not in process_names():
            return None

        return get_process_class(name).defaults

    @property
    def _src(self) -> str | None:
        return str(self.source) if self.source else None


@cache
def card_schema() -> dict[str, Any]:
    """The JSON Schema of the current card version."""
    text = resources.files("lhcgold.config").joinpath(f"schemas/card-{CARD_VERSION}.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _key_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _schema_error(instance: Any, schema: Mapping[str, Any], *, prefix: str, source: str | None) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(e.path), list(map(str, e.path))))
    if not errors:
        return
    err = errors[0]
    path = _key_path(list(err.absolute_path))
    if prefix:
        path = prefix if path == "<top level>" else f"{prefix}{'' if path.startswith('[') else '.'}{path}"
    msg = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
        allowed = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        moved = err.schema.get("x-moved") or {}
        for key in extra:
            if key in moved:  # a key that lives in another section now: say where
                where = key if path == "<top level>" else f"{path}.{key}"
                raise ConfigError(f"moved to {moved[key]}", path=where, source=source)
        if extra:
            raise unknown_name_error("key", str(extra[0]), allowed, path=path, source=source)
    if len(errors) > 1:
        msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    raise ConfigError(msg, path=path, source=source)


def check_section(card: AnalysisCard, name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a stage section against a JSON Schema; returns the section (``{}`` if absent).

    Raises:
        ConfigError: naming the key path in the card file, with near-miss suggestions.
    """
    section = card.effective_section(name)
    _schema_error(section, schema, prefix=name, source=card._src)
    return section


def load_card(path: str | Path) -> AnalysisCard:
    """Read, validate and convert an analysis card (YAML).

    Raises:
        ConfigError: the file is missing, is not YAML, violates the schema, or is inconsistent.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"analysis card {str(p)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read analysis card: {exc}", source=str(p)) from exc
    return load_card_text(text, source=p)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


#: Integers in a card must fit a signed 64-bit integer (what HDF5, numpy and the generators use).
_INT_LIMIT = 2**63 - 1


def _check_numbers(raw: Any, src: str | None) -> None:
    """No integer beyond 64 bits and no NaN anywhere in the card (iteratively, naming the key path)."""
    stack: list[tuple[Any, list[Any]]] = [(raw, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, Mapping):
            stack.extend((v, [*path, k]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT_LIMIT:
            digits = f"about 10**{int(value.bit_length() * 0.30103)}"
            raise ConfigError(
                f"integer {digits} is too large (at most {_INT_LIMIT} in magnitude)", path=_key_path(path), source=src
            )
        elif isinstance(value, float) and math.isnan(value):
            raise ConfigError("value is NaN; give a number", path=_key_path(path), source=src)


def _parse_yaml(text: str, src: str | None) -> dict[str, Any]:
    """The card's YAML as a mapping, checked against the card schema."""
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"malformed YAML at {where}: {problem}", source=src) from None
    if not isinstance(raw, dict):
        raise ConfigError("the card must be a YAML mapping", source=src)
    if "lhcgold_card" not in raw:
        raise ConfigError("missing 'lhcgold_card: 1' (the card format version)", source=src)
    _check_numbers(raw, src)
    _schema_error(raw, card_schema(), prefix="", source=src)
    return raw


def _parameters(raw: Mapping[str, Any], src: str | None) -> list[Parameter]:
    params: list[Parameter] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw["parameters"]):
        name = entry["name"]
        if name in seen:
            raise ConfigError(f"duplicate parameter name {name!r}", path=f"parameters[{i}].name", source=src)
        seen.add(name)
        if entry.get("max_power", 2) < 0:
            raise ConfigError(
                f"max_power must be >= 0, got {entry['max_power']}", path=f"parameters[{i}].max_power", source=src
            )
        rng = tuple(float(v) for v in entry.get("range", (-1.0, 1.0)))
        if not rng[0] < rng[1]:
            raise ConfigError(
                f"range must be [low, high] with low < high, got {list(rng)}", path=f"parameters[{i}].range", source=src
            )
        params.append(
            Parameter(
                name=name,
                lha_block=entry.get("lha_block", ""),
                lha_id=entry.get("lha_id", 0),
                max_power=entry.get("max_power", 2),
                range=rng,  # type: ignore[arg-type]
                card_scale=float(entry.get("card_scale", 1.0)),
                card_offset=float(entry.get("card_offset", 0.0)),
            )
        )
    return params


def _benchmarks(raw: Mapping[str, Any], params: list[Parameter], src: str | None) -> list[Benchmark]:
    names = tuple(p.name for p in params)
    ranges = {p.name: p.range for p in params}
    benchmarks: list[Benchmark] = []
    for bname, values in (raw.get("benchmarks") or {}).items():
        for pname, value in values.items():
            if pname not in ranges:
                raise unknown_name_error("parameter", pname, names, path=f"benchmarks.{bname}.{pname}", source=src)
            lo, hi = ranges[pname]
            if not math.isfinite(value):
                raise ConfigError(f"value must be finite, got {value}", path=f"benchmarks.{bname}.{pname}", source=src)
            if not lo <= value <= hi:
                raise ConfigError(
                    f"{value} lies outside the range [{lo}, {hi}] of {pname}",
                    path=f"benchmarks.{bname}.{pname}",
                    source=src,
                )
        full = {p: float(values.get(p, 0.0)) for p in names}
        benchmarks.append(Benchmark(name=bname, values=full))
    vectors = [tuple(b.values.values()) for b in benchmarks]
    for i, v in enumerate(vectors):
        if v in vectors[:i]:
            other = benchmarks[vectors.index(v)].name
            raise ConfigError(
                f"benchmark {benchmarks[i].name!r} repeats the point of {other!r}",
                path=f"benchmarks.{benchmarks[i].name}",
                source=src,
            )
    return benchmarks


def load_card_text(text: str, *, source: Path | None = None) -> AnalysisCard:
    """Like :func:`load_card`, from a string."""
    src = str(source) if source else None
    raw = _parse_yaml(text, src)
    params = _parameters(raw, src)
    benchmarks = _benchmarks(raw, params, src)
    morph_raw = raw.get("morphing") or {}
    morphing = MorphingOptions(**morph_raw)

    validate_sections(raw, source=src)
    digest = hashlib.sha256(text.encode()).hexdigest()
    card = AnalysisCard(
        name=raw.get("name") or (source.stem if source else "analysis"),
        parameters=tuple(params),
        benchmarks=tuple(benchmarks),
        morphing=morphing,
        raw=raw,
        source=source,
        card_hash=digest,
        description=raw.get("description", ""),
    )
    _check_process(card)
    return card


def _check_process(card: AnalysisCard) -> None:
    """An embedded-generator card: its parameters and benchmarks must suit the named process."""
    proc = card.raw.get("process")
    gen = card.raw.get("generator") or {}
    if not isinstance(proc, Mapping) or (isinstance(gen, Mapping) and gen.get("backend", "embedded") != "embedded"):
        return
    from ..generate.card import parse_card  # cycle: config.card -> generate.card -> config -> config.card

    parse_card(card)
