"""Training and test samples with gold: the :class:`TrainingSet` and its HDF5 file.

A training set holds, per sample: the observables ``x``, the parameter points ``theta0``
(the sampling point for single-θ kinds), ``theta1`` (denominator of ratio kinds), the class
label ``y`` (0 = drawn at θ0, 1 = drawn at θ1, MadMiner's convention), the joint log ratio
``log_r_xz`` = log r(x,z|θ0,θ1) and the joint scores ``t_xz`` (at θ0) and ``t_xz1`` (at θ1).
Drawn with ``nuisances=True`` from a file with nuisance weights, it also carries, per nuisance
parameter ν_k, the joint ratios ``nu_up``/``nu_down`` = w(x,z|ν_k = ±1)/w(x,z|ν = 0) of each
drawn event and the joint nuisance score ``t_xz_nu`` = ∂/∂ν_k log p(x,z|θ0,ν) at ν = 0.
Arrays are float64. Files are written atomically.

Example:
    >>> import numpy as np
    >>> ts = TrainingSet(kind="local", x=np.zeros((2, 1)), theta0=np.zeros((2, 1)),
    ...                  t_xz=np.ones((2, 1)), observables=("x",), parameters=("a",))
    >>> sorted(ts.gold)
    ['t_xz']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from ..exceptions import EventFileError
from .atomic import atomic_path

__all__ = ["SampleKind", "TrainingSet", "read_training_set", "write_training_set"]

SampleKind = Literal["plain", "local", "density", "ratio", "more_ratios", "test"]
_KINDS = ("plain", "local", "density", "ratio", "more_ratios", "test")
_ARRAYS = ("x", "theta0", "theta1", "y", "log_r_xz", "t_xz", "t_xz1", "n_effective", "nu_up", "nu_down", "t_xz_nu")
FORMAT = "lhcgold-training-set"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TrainingSet:
    """A sample of events with parameter points and (optionally) gold.

    Attributes:
        kind: how it was drawn (plain, local, density, ratio, more_ratios, test).
        x: observables (n, O).
        theta0: parameter point per sample (n, P) (the sampling point for single-θ kinds).
        theta1: denominator point (n, P) for ratio kinds.
        y: labels (n,), 0 for samples drawn at θ0 and 1 for θ1.
        log_r_xz: joint log likelihood ratio log r(x,z|θ0,θ1) (n,).
        t_xz: joint score t(x,z|θ0) (n, P).
        t_xz1: joint score t(x,z|θ1) (n, P) (double-parameterised kinds).
        n_effective: effective number of events behind each sample's draw (n,).
        nu_up / nu_down: joint nuisance ratios w(x,z|ν_k = ±1)/w(x,z|ν = 0) (n, K).
        t_xz_nu: joint nuisance score ∂ log p(x,z|θ0,ν)/∂ν_k at ν = 0 (n, K).
        observables: observable names (O).
        parameters: parameter names (P).
        nuisances: nuisance parameter names (K).
        metadata: free-form JSON-serialisable provenance (seed, partition, source file, ...).
    """

    kind: str
    x: NDArray[np.float64]
    theta0: NDArray[np.float64] | None = None
    theta1: NDArray[np.float64] | None = None
    y: NDArray[np.float64] | None = None
    log_r_xz: NDArray[np.float64] | None = None
    t_xz: NDArray[np.float64] | None = None
    t_xz1: NDArray[np.float64] | None = None
    n_effective: NDArray[np.float64] | None = None
    nu_up: NDArray[np.float64] | None = None
    nu_down: NDArray[np.float64] | None = None
    t_xz_nu: NDArray[np.float64] | None = None
    observables: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    nuisances: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise EventFileError(f"unknown training-set kind {self.kind!r}; known: {', '.join(_KINDS)}")
        x = np.asarray(self.x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        object.__setattr__(self, "x", x)
        n = len(x)
        for name in _ARRAYS[1:]:
            v = getattr(self, name)
            if v is None:
                continue
            a = np.asarray(v, dtype=np.float64)
            if name in ("y", "log_r_xz", "n_effective"):
                a = a.reshape(-1)
            elif a.ndim == 1:
                a = a[:, None]
            if len(a) != n:
                raise EventFileError(f"training set: {name} has {len(a)} rows, x has {n}")
            object.__setattr__(self, name, a)
        object.__setattr__(self, "observables", tuple(self.observables))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "nuisances", tuple(self.nuisances))
        for name in ("nu_up", "nu_down", "t_xz_nu"):
            v = getattr(self, name)
            if v is not None and v.shape[1] != len(self.nuisances):
                raise EventFileError(
                    f"training set: {name} has {v.shape[1]} columns for {len(self.nuisances)} nuisances"
                )
        if (self.nu_up is None) != (self.nu_down is None):
            raise EventFileError("training set: nu_up and nu_down come together")
        if self.observables and len(self.observables) != x.shape[1]:
            raise EventFileError(f"{len(self.observables)} observable names for {x.shape[1]} columns")

    # -------------------------------------------------------------- views
    def __len__(self) -> int:
        return int(len(self.x))

    @property
    def n_samples(self) -> int:
        return len(self)

    @property
    def theta(self) -> NDArray[np.float64] | None:
        """The parameter point of single-θ kinds (an alias of ``theta0``)."""
        return self.theta0

    @property
    def r_xz(self) -> NDArray[np.float64] | None:
        """Joint likelihood ratio r(x,z|θ0,θ1) (n,)."""
        return None if self.log_r_xz is None else np.exp(self.log_r_xz)

    @property
    def gold(self) -> frozenset[str]:
        """Which gold the set carries: a subset of {"r_xz", "t_xz", "t_xz1", "nu_ratio", "t_xz_nu"}."""
        out = set()
        if self.log_r_xz is not None:
            out.add("r_xz")
        if self.t_xz is not None:
            out.add("t_xz")
        if self.t_xz1 is not None:
            out.add("t_xz1")
        if self.nu_up is not None:
            out.add("nu_ratio")
        if self.t_xz_nu is not None:
            out.add("t_xz_nu")
        return frozenset(out)

    def subset(self, index: NDArray[np.int64] | slice) -> TrainingSet:
        """The samples at ``index`` (a copy)."""
        kw = {name: (None if getattr(self, name) is None else getattr(self, name)[index]) for name in _ARRAYS}
        return replace(self, **kw)

    def with_nuisance_score(self) -> TrainingSet:
        """The same samples with the nuisance score appended to the joint score, for a SALLY over (θ, ν).

        ``t_xz`` becomes [t(x,z|θ0), t_ν(x,z|θ0)], ``parameters`` gains the nuisance names and
        ``theta0`` the point ν = 0 (MadMiner's ``sample_train_local(..., nuisance_score=True)``).

        Raises:
            EventFileError: the set has no joint score or no nuisance score (draw it with ``nuisances=True``).
        """
        if self.t_xz is None or self.t_xz_nu is None:
            raise EventFileError(
                "with_nuisance_score needs t_xz and t_xz_nu: draw with sample_local(..., nuisances=True)"
            )
        n, k = len(self), len(self.nuisances)
        theta0 = None if self.theta0 is None else np.concatenate([self.theta0, np.zeros((n, k))], axis=1)
        return replace(
            self,
            t_xz=np.concatenate([self.t_xz, self.t_xz_nu], axis=1),
            theta0=theta0,
            parameters=tuple(self.parameters) + tuple(self.nuisances),
            metadata={**self.metadata, "nuisance_score": True},
        )

    def arrays(self) -> dict[str, NDArray[np.float64]]:
        """The non-empty arrays by name."""
        return {name: getattr(self, name) for name in _ARRAYS if getattr(self, name) is not None}


def write_training_set(path: str | Path, ts: TrainingSet, *, overwrite: bool = False) -> Path:
    """Write a training set to HDF5 (atomically). Returns the path."""
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["lhcgold_version"] = __version__
            f.attrs["kind"] = ts.kind
            f.attrs["observables"] = json.dumps(list(ts.observables))
            f.attrs["parameters"] = json.dumps(list(ts.parameters))
            f.attrs["nuisances"] = json.dumps(list(ts.nuisances))
            f.attrs["metadata"] = json.dumps(ts.metadata, default=_json_default)
            g = f.create_group("samples")
            for name, arr in ts.arrays().items():
                g.create_dataset(
                    name, data=arr, compression="gzip" if arr.size > 4096 else None, fletcher32=arr.size > 0
                )
    return target


def read_training_set(path: str | Path) -> TrainingSet:
    """Read a training set written by :func:`write_training_set`.

    Raises:
        EventFileError: missing, unreadable or not a training-set file.
    """
    p = Path(path)
    if not p.is_file():
        raise EventFileError(f"training-set file {str(p)!r} does not exist")
    try:
        with h5py.File(p, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise EventFileError(f"{str(p)!r} is not an lhcgold training-set file")
            version = int(f.attrs["format_version"])
            if version > FORMAT_VERSION:
                raise EventFileError(
                    f"{str(p)!r} has format version {version}; this lhcgold reads up to {FORMAT_VERSION}"
                )
            g = f["samples"]
            arrays = {name: g[name][...] for name in _ARRAYS if name in g}
            _check_finite(p, arrays)
            return TrainingSet(
                kind=str(f.attrs["kind"]),
                observables=tuple(json.loads(f.attrs["observables"])),
                parameters=tuple(json.loads(f.attrs["parameters"])),
                nuisances=tuple(json.loads(f.attrs.get("nuisances", "[]"))),
                metadata=json.loads(f.attrs["metadata"]),
                **arrays,
            )
    except (OSError, KeyError, ValueError) as exc:
        if isinstance(exc, EventFileError):
            raise
        raise EventFileError(f"cannot read training set {str(p)!r}: {exc}") from exc


def _check_finite(path: Path, arrays: dict[str, Any]) -> None:
    for name, arr in arrays.items():
        a = np.asarray(arr)
        if a.dtype.kind != "f":
            continue
        bad = ~np.isfinite(a)
        if bad.any():
            row = int(np.argwhere(bad)[0][0]) if a.ndim else 0
            raise EventFileError(
                f"{str(path)!r}: sample {row} has a non-finite {name} value; "
                f"{int(bad.reshape(len(a), -1).any(axis=1).sum()) if a.ndim else 1} "
                "such sample(s): the file is damaged"
            )


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
