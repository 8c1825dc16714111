"""Typed parameter-point specifications for sampling.

A specification says which θ values a sample is drawn at and how the samples are split
between them. Each resolves (:func:`resolve`) into an array of points (T, P) and the number
of samples drawn at each point, given the setup and the total number of samples.

========================================  ============================================================
``BenchmarkTheta("sm")``                  one named benchmark, all samples there
``Benchmarks(["sm", "w"])``               several benchmarks, samples split evenly
``Point([0.1, -0.2])``                    one morphing point (or ``Point({"gc": 0.1})``, named)
``Points([[...], [...]])``                several points, samples split evenly
``ThetaGrid([(-1, 1, 5), (-1, 1, 5)])``   a regular grid (lo, hi, n) per parameter, samples split evenly
``RandomMorphing(1000, prior=...)``       n random points from a prior, drawn once per call
``Prior(...)``                            one random point per sample (MadMiner's ``n_thetas=None``)
========================================  ============================================================

The names are unique across lhcgold: ``BenchmarkTheta`` (a θ specification naming a benchmark)
is not :class:`lhcgold.config.Benchmark` (a card's benchmark), and ``ThetaGrid`` (sampling points)
is not :class:`lhcgold.infer.LimitGrid` (a limit scan). The old names ``Benchmark`` and ``Grid``
still import, with a DeprecationWarning.

Priors are built per parameter from :class:`Flat` and :class:`Gaussian` (a single one is used
for all parameters). Explicit points and flat priors must lie inside the parameters' ranges
(:class:`~lhcgold.exceptions.ConfigError` otherwise); Gaussian draws are not truncated, as in
MadMiner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._renamed import module_getattr as _module_getattr
from ..config.point import ParameterPoint
from ..exceptions import ConfigError, unknown_name_error

__all__ = [
    "BenchmarkTheta",
    "Benchmarks",
    "Flat",
    "Gaussian",
    "ThetaGrid",
    "Point",
    "Points",
    "Prior",
    "RandomMorphing",
    "ThetaSpec",
    "check_in_range",
    "resolve",
]


@dataclass(frozen=True)
class Flat:
    """Uniform prior on [lo, hi]."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        if not self.hi > self.lo:
            raise ConfigError(f"flat prior needs lo < hi, got ({self.lo}, {self.hi})")

    def draw(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.uniform(self.lo, self.hi, n)


@dataclass(frozen=True)
class Gaussian:
    """Normal prior with mean and standard deviation."""

    mean: float
    std: float

    def __post_init__(self) -> None:
        if not self.std > 0:
            raise ConfigError(f"gaussian prior needs std > 0, got {self.std}")

    def draw(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.normal(self.mean, self.std, n)


_OnePrior = Flat | Gaussian


@dataclass(frozen=True)
class Prior:
    """A product prior, one factor per parameter (a single factor applies to all).

    Used as a θ specification, it draws one point per sample.
    """

    factors: tuple[_OnePrior, ...]

    def __init__(self, *factors: _OnePrior | Sequence[_OnePrior]):
        flat: list[_OnePrior] = []
        for f in factors:
            if isinstance(f, (Flat, Gaussian)):
                flat.append(f)
            else:
                flat.extend(f)
        if not flat:
            raise ConfigError("a prior needs at least one factor")
        object.__setattr__(self, "factors", tuple(flat))

    def draw(self, n: int, n_parameters: int, rng: np.random.Generator) -> NDArray[np.float64]:
        facs = self.factors * n_parameters if len(self.factors) == 1 else self.factors
        if len(facs) != n_parameters:
            raise ConfigError(f"prior has {len(self.factors)} factors for {n_parameters} parameters")
        return np.stack([f.draw(n, rng) for f in facs], axis=1) if n else np.zeros((0, n_parameters))


@dataclass(frozen=True)
class BenchmarkTheta:
    """One named benchmark."""

    name: str


@dataclass(frozen=True)
class Benchmarks:
    """Several named benchmarks (samples split evenly)."""

    names: tuple[str, ...]

    def __init__(self, names: Sequence[str]):
        object.__setattr__(self, "names", tuple(names))
        if not self.names:
            raise ConfigError("Benchmarks needs at least one name")


@dataclass(frozen=True)
class Point:
    """One parameter point: values in the setup's parameter order, or named.

    Args:
        values: a (P,) array in the setup's parameter order, a
            :class:`~lhcgold.config.ParameterPoint`, or a ``{name: value}`` mapping (parameters left
            out are 0). Named points are matched to the setup's parameters when resolved; an unknown
            name is a ConfigError with near-miss suggestions.
    """

    values: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __init__(self, values: ArrayLike | ParameterPoint | Mapping[str, float]):
        names: tuple[str, ...] = ()
        if isinstance(values, ParameterPoint):
            names, vals = values.names, values.values
        elif isinstance(values, Mapping):
            names, vals = tuple(values), tuple(values.values())
        else:
            vals = tuple(np.atleast_1d(np.asarray(values, float)))
        object.__setattr__(self, "values", tuple(float(v) for v in vals))
        object.__setattr__(self, "names", tuple(names))

    def theta(self, parameter_names: Sequence[str]) -> NDArray[np.float64]:
        """(1, P) in the order of ``parameter_names``."""
        if not self.names:
            return np.asarray([self.values], dtype=np.float64)
        given = dict(zip(self.names, self.values, strict=True))
        return ParameterPoint.from_mapping(given, parameter_names).as_array()[None, :]


@dataclass(frozen=True)
class Points:
    """Several parameter points (samples split evenly)."""

    values: tuple[tuple[float, ...], ...]

    def __init__(self, values: ArrayLike):
        arr = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if arr.shape[0] == 0:
            raise ConfigError("Points needs at least one point")
        object.__setattr__(self, "values", tuple(tuple(map(float, row)) for row in arr))


@dataclass(frozen=True)
class ThetaGrid:
    """A regular grid: one (lo, hi, n) per parameter (samples split evenly)."""

    axes: tuple[tuple[float, float, int], ...]

    def __init__(self, axes: Sequence[tuple[float, float, int]]):
        ax = tuple((float(lo), float(hi), int(n)) for lo, hi, n in axes)
        if not ax or any(n < 1 for _, _, n in ax):
            raise ConfigError(f"invalid grid axes {axes!r}")
        object.__setattr__(self, "axes", ax)

    def points(self) -> NDArray[np.float64]:
        lines = [np.linspace(lo, hi, n) for lo, hi, n in self.axes]
        mesh = np.meshgrid(*lines, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)


@dataclass(frozen=True)
class RandomMorphing:
    """``n`` random morphing points drawn from ``prior`` (samples split evenly)."""

    n: int
    prior: Prior

    def __post_init__(self) -> None:
        if int(self.n) < 1:
            raise ConfigError(f"RandomMorphing needs n >= 1, got {self.n}")


ThetaSpec = BenchmarkTheta | Benchmarks | Point | Points | ThetaGrid | RandomMorphing | Prior


def _split(n_samples: int, n_points: int) -> NDArray[np.int64]:
    """Split n_samples as evenly as possible over n_points (first points get the remainder)."""
    base, extra = divmod(n_samples, n_points)
    counts = np.full(n_points, base, dtype=np.int64)
    counts[:extra] += 1
    return counts


def check_in_range(thetas: NDArray[np.float64], ranges: NDArray[np.float64] | None, names: Sequence[str] = ()) -> None:
    """Raise ConfigError if any θ lies outside the parameter ranges (P, 2)."""
    if ranges is None:
        return
    lo, hi = ranges[:, 0], ranges[:, 1]
    bad = np.any((thetas < lo - 1e-12 * np.abs(lo)) | (thetas > hi + 1e-12 * np.abs(hi)), axis=1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        label = ", ".join(names) if names else "parameters"
        raise ConfigError(
            f"theta {thetas[i].tolist()} lies outside the parameter range {ranges.tolist()} "
            f"({label}); "
            f"{int(bad.sum())} point(s) affected"
        )


def resolve(
    spec: ThetaSpec,
    *,
    n_samples: int,
    parameter_names: Sequence[str],
    benchmark_names: Sequence[str],
    benchmark_values: NDArray[np.float64],
    ranges: NDArray[np.float64] | None,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Resolve a specification into points, per-point sample counts and benchmark indices.

    Returns:
        thetas (T, P), counts (T,) summing to ``n_samples``, and the benchmark index of each
        point (−1 where it is not a named benchmark).
    """
    n_par = len(parameter_names)
    bnames = list(benchmark_names)

    def bench_index(name: str) -> int:
        if name not in bnames:
            raise unknown_name_error("benchmark", name, bnames)
        return bnames.index(name)

    if isinstance(spec, BenchmarkTheta):
        idx = np.array([bench_index(spec.name)])
    elif isinstance(spec, Benchmarks):
        idx = np.array([bench_index(n) for n in spec.names])
    else:
        idx = None
    if idx is not None:
        thetas = np.asarray(benchmark_values, dtype=np.float64)[idx]
        return thetas, _split(n_samples, len(idx)), idx.astype(np.int64)

    if isinstance(spec, (Point, Points, ThetaGrid)):
        if isinstance(spec, Point):
            thetas = spec.theta(parameter_names)
        elif isinstance(spec, Points):
            thetas = np.asarray(spec.values, dtype=np.float64)
        else:
            thetas = spec.points()
        if thetas.shape[1] != n_par:
            raise ConfigError(
                f"theta points have {thetas.shape[1]} components, the setup has {n_par} "
                f"parameters ({', '.join(parameter_names)})"
            )
        check_in_range(thetas, ranges, parameter_names)
        n_pts = min(len(thetas), n_samples) if n_samples > 0 else len(thetas)
        counts = (
            _split(n_samples, len(thetas))
            if n_pts == len(thetas)
            else np.concatenate([_split(n_samples, n_pts), np.zeros(len(thetas) - n_pts, np.int64)])
        )
        return thetas, counts, np.full(len(thetas), -1, dtype=np.int64)

    if isinstance(spec, (RandomMorphing, Prior)):
        prior = spec.prior if isinstance(spec, RandomMorphing) else spec
        n_pts = min(int(spec.n), n_samples) if isinstance(spec, RandomMorphing) else n_samples
        n_pts = max(n_pts, 1)
        if ranges is not None:
            facs = prior.factors * n_par if len(prior.factors) == 1 else prior.factors
            for p, f in enumerate(facs):
                if isinstance(f, Flat) and (f.lo < ranges[p, 0] or f.hi > ranges[p, 1]):
                    raise ConfigError(
                        f"flat prior [{f.lo}, {f.hi}] for {parameter_names[p]!r} exceeds the "
                        f"parameter range {ranges[p].tolist()}"
                    )
        thetas = prior.draw(n_pts, n_par, rng)
        return thetas, _split(n_samples, n_pts), np.full(n_pts, -1, dtype=np.int64)

    raise ConfigError(f"not a theta specification: {spec!r}")


def _named(rest: str, text: str) -> dict[str, float]:
    """``gc=0.1,a3=0`` as a mapping (names are checked against the setup when resolved)."""
    out: dict[str, float] = {}
    for item in rest.split(","):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"invalid theta specification {text!r}: name every value (point:NAME=VALUE,...)")
        if key.strip() in out:
            raise ConfigError(f"invalid theta specification {text!r}: {key.strip()} given twice")
        out[key.strip()] = float(raw)
    return out


def parse_spec(text: str) -> ThetaSpec:
    """Parse a command-line θ specification.

    Grammar (one of)::

        sm | benchmark:sm                      BenchmarkTheta
        benchmarks:sm,w                        Benchmarks
        point:0.1,-0.2                         Point (one value per parameter)
        point:gc=0.1,a3=-0.2                   Point (named; parameters left out are 0)
        points:0.1,-0.2;0.3,0.4                Points
        grid:-1,1,5;-1,1,5                     ThetaGrid (lo,hi,n per parameter)
        random:1000:gaussian,0,15              RandomMorphing (one prior for all parameters;
        random:1000:flat,-1,1;gaussian,0,2     or one per parameter, separated by ';')
        prior:gaussian,0,15                    Prior (one point per sample)
    """

    def prior_of(s: str) -> Prior:
        facs: list[_OnePrior] = []
        for part in s.split(";"):
            kind, *vals = part.split(",")
            if kind == "flat" and len(vals) == 2:
                facs.append(Flat(float(vals[0]), float(vals[1])))
            elif kind == "gaussian" and len(vals) == 2:
                facs.append(Gaussian(float(vals[0]), float(vals[1])))
            else:
                raise ConfigError(f"invalid prior {part!r}: use flat,LO,HI or gaussian,MEAN,STD")
        return Prior(*facs)

    try:
        kind, _, rest = text.partition(":")
        if not _:
            return BenchmarkTheta(text)
        if kind == "benchmark":
            return BenchmarkTheta(rest)
        if kind == "benchmarks":
            return Benchmarks(rest.split(","))
        if kind == "point":
            if "=" in rest:
                return Point(_named(rest, text))
            return Point([float(v) for v in rest.split(",")])
        if kind == "points":
            return Points([[float(v) for v in p.split(",")] for p in rest.split(";")])
        if kind == "grid":
            return ThetaGrid([tuple(a.split(",")) for a in rest.split(";")])  # type: ignore[misc]
        if kind == "random":
            n, _, prior = rest.partition(":")
            return RandomMorphing(int(n), prior_of(prior))
        if kind == "prior":
            return prior_of(rest)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"invalid theta specification {text!r}: {exc}") from exc
    raise unknown_name_error(
        "theta specification kind",
        kind,
        ["benchmark", "benchmarks", "point", "points", "grid", "random", "prior"],
    )


__getattr__ = _module_getattr("lhcgold.augment.thetas")
