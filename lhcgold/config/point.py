"""``ParameterPoint``: one point θ of the parameter space, in the card's parameter order.

The one spelling of a θ at lhcgold's boundaries (command lines, benchmarks, grids, results):
a frozen, hashable pair of parameter names and values. Inner loops keep plain arrays:
``point.as_array()`` (or ``np.asarray(point)``) gives the (P,) float64 vector.

Parsed from the command line (:meth:`ParameterPoint.parse`) as

* ``gc=0.1,a3=0``: named values; parameters left out are 0 (as in a card's benchmarks);
* ``0.1,0``: one value per parameter, in the card's order;
* ``sm``: a benchmark's name, when benchmarks are given.

Unknown names are a :class:`~lhcgold.exceptions.ConfigError` with near-miss suggestions.

Example:
    >>> p = ParameterPoint.parse("a3=0.5", ("gc", "a2", "a3"))
    >>> p.as_dict()
    {'gc': 0.0, 'a2': 0.0, 'a3': 0.5}
    >>> str(p)
    'gc=0,a2=0,a3=0.5'
    >>> p.as_array().tolist()
    [0.0, 0.0, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError, unknown_name_error

__all__ = ["ParameterPoint"]


@dataclass(frozen=True)
class ParameterPoint:
    """A parameter point θ: values in the order of ``names`` (the card's parameters).

    Attributes:
        names: parameter names (unique identifiers), in θ-axis order.
        values: one finite value per parameter.

    Raises:
        ConfigError: names and values differ in length, duplicate names, or a non-finite value.
    """

    names: tuple[str, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        try:
            values = tuple(float(v) for v in self.values)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"parameter point values must be numbers, got {self.values!r}") from exc
        if len(names) != len(values):
            raise ConfigError(f"{len(values)} values for {len(names)} parameters ({', '.join(names)})")
        if len(set(names)) != len(names):
            raise ConfigError(f"parameter names listed twice: {names}")
        bad = [n for n, v in zip(names, values, strict=True) if not math.isfinite(v)]
        if bad:
            raise ConfigError(f"parameter point: {', '.join(bad)} not finite")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", values)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_array(cls, values: ArrayLike, names: Sequence[str]) -> ParameterPoint:
        """From a (P,) array in the order of ``names``."""
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.shape != (len(names),):
            raise ConfigError(f"theta needs {len(names)} values ({', '.join(names)}), got {arr.size}")
        return cls(tuple(names), tuple(arr.tolist()))

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, float], names: Sequence[str], *, missing: float | None = 0.0
    ) -> ParameterPoint:
        """From ``{name: value}``; parameters left out take ``missing`` (an error when None).

        Raises:
            ConfigError: an unknown name (with near-miss suggestions) or a missing one.
        """
        names = tuple(names)
        for key in values:
            if key not in names:
                raise unknown_name_error("parameter", key, names)
        if missing is None:
            absent = [n for n in names if n not in values]
            if absent:
                raise ConfigError(f"parameter point: no value for {', '.join(absent)}")
        return cls(names, tuple(float(values.get(n, missing)) for n in names))  # type: ignore[arg-type]

    @classmethod
    def parse(
        cls, text: str, names: Sequence[str], *, benchmarks: Mapping[str, ArrayLike] | None = None
    ) -> ParameterPoint:
        """Parse ``"gc=0.1,a3=0"``, ``"0.1,0"`` (one value per parameter) or a benchmark name.

        Args:
            text: the command-line string.
            names: the parameters, in the card's order.
            benchmarks: named points (name -> (P,) values), e.g. ``setup.benchmark_points()``.

        Raises:
            ConfigError: malformed text, an unknown parameter or benchmark name (with near-miss
                suggestions), a repeated parameter or the wrong number of values.
        """
        names = tuple(names)
        s = str(text).strip()
        bench = dict(benchmarks or {})
        if s in bench:
            return cls.from_array(bench[s], names)
        items = [t.strip() for t in s.split(",")]
        if not s or any(not t for t in items):
            raise ConfigError(f"invalid parameter point {text!r}: use NAME=VALUE,... or one value per parameter")
        if all("=" in t for t in items):
            return cls.from_mapping(_named_values(items, text), names)
        if any("=" in t for t in items):
            raise ConfigError(f"invalid parameter point {text!r}: name every value (NAME=VALUE) or none")
        try:
            vals = [float(t) for t in items]
        except ValueError:
            if len(items) == 1 and bench:
                raise unknown_name_error("benchmark", s, bench) from None
            raise ConfigError(
                f"invalid parameter point {text!r}: neither NAME=VALUE pairs of {', '.join(names)}, "
                f"nor numbers{', nor a benchmark (' + ', '.join(bench) + ')' if bench else ''}"
            ) from None
        if len(vals) != len(names):
            raise ConfigError(
                f"theta {text!r} needs {len(names)} values ({', '.join(names)}), got {len(vals)}; "
                "give one per parameter or name them (NAME=VALUE)"
            )
        return cls(names, tuple(vals))

    # ------------------------------------------------------------------ views
    def as_array(self) -> NDArray[np.float64]:
        """The (P,) float64 vector (a fresh array)."""
        return np.array(self.values, dtype=np.float64)

    def as_dict(self) -> dict[str, float]:
        """``{name: value}`` in parameter order."""
        return dict(zip(self.names, self.values, strict=True))

    def reordered(self, names: Sequence[str]) -> ParameterPoint:
        """The same point in the order of ``names`` (the same set of parameters).

        Raises:
            ConfigError: the parameters differ (an unknown name with near-miss suggestions).
        """
        names = tuple(names)
        if set(names) != set(self.names):
            extra = [n for n in self.names if n not in names]
            if extra:
                raise unknown_name_error("parameter", extra[0], names)
            raise ConfigError(f"parameter point has no value for {', '.join(n for n in names if n not in self.names)}")
        d = self.as_dict()
        return ParameterPoint(names, tuple(d[n] for n in names))

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        return np.array(self.values, dtype=dtype if dtype is not None else np.float64)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self) -> Iterator[float]:
        return iter(self.values)

    def __getitem__(self, name: str) -> float:
        if name not in self.names:
            raise unknown_name_error("parameter", name, self.names)
        return self.values[self.names.index(name)]

    def __str__(self) -> str:
        return ",".join(f"{n}={v:g}" for n, v in zip(self.names, self.values, strict=True))


def _named_values(items: list[str], text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, _, raw = item.partition("=")
        key = key.strip()
        if key in out:
            raise ConfigError(f"parameter point {text!r}: {key} given twice")
        try:
            out[key] = float(raw)
        except ValueError:
            raise ConfigError(f"parameter point {text!r}: {raw.strip()!r} is not a number for {key}") from None
    return out
