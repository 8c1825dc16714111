"""Result objects of the limits: a frozen dataclass with the p-value map as a ``hist.Hist``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ConfigError
from ..io.results import read_result, write_result

__all__ = ["LimitResult"]


@dataclass(frozen=True, eq=False)
class LimitResult:
    """Likelihood scan and p-values over parameter points.

    Attributes:
        method: label of the likelihood model ("rate", "histogram(pt_v)", "sally", "ml", "truth").
        parameter_names: names of the parameters of the points (after profiling: the kept ones).
        thetas: (T, P) the parameter points.
        log_likelihood: (T,) total log-likelihood (kinematic + rate), up to a θ-independent constant.
        log_likelihood_kinematic: (T,) kinematic part n_obs Σ_i ŵ_i log p̂(x_i|θ).
        log_likelihood_rate: (T,) Poisson rate part (zeros without the rate term).
        p_values: (T,) p-values (asymptotic χ² with ``dof`` degrees of freedom, or toys).
        dof: degrees of freedom used for the p-values.
        n_observed: number of (expected) observed events.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        asimov_theta: θ of the Asimov data (full parameter space), None for observed data.
        grid_axes: one array of values per kept parameter for regular grids, None for scattered points.
        profiled: names of profiled parameters (maximised over on the grid).
        profiled_values: (T, len(profiled)) values of the profiled parameters at the maximum.
        fixed: values of parameters held fixed on the grid, by name.
        details: free-form metadata.
        coverage: the coverage of this method's intervals at θ_true from toys
            (:meth:`lhcgold.infer.CoverageResult.to_dict`), when measured.
        impacts: the nuisance parameters' impacts on the intervals (``lhcgold limits
            --norm-uncertainty/--profile-systematics``), when profiled.
    """

    method: str
    parameter_names: tuple[str, ...]
    thetas: NDArray[np.float64]
    log_likelihood: NDArray[np.float64]
    log_likelihood_kinematic: NDArray[np.float64]
    log_likelihood_rate: NDArray[np.float64]
    p_values: NDArray[np.float64]
    dof: int
    n_observed: float
    luminosity_ifb: float
    asimov_theta: NDArray[np.float64] | None = None
    grid_axes: tuple[NDArray[np.float64], ...] | None = None
    profiled: tuple[str, ...] = ()
    profiled_values: NDArray[np.float64] | None = None
    fixed: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    coverage: dict[str, Any] | None = None
    impacts: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        th = np.asarray(self.thetas, dtype=np.float64)
        if th.ndim != 2 or th.shape[1] != len(self.parameter_names):
            raise ConfigError(f"thetas of shape {th.shape} do not fit parameters {self.parameter_names}")
        object.__setattr__(self, "thetas", th)
        for name in ("log_likelihood", "log_likelihood_kinematic", "log_likelihood_rate", "p_values"):
            a = np.asarray(getattr(self, name), dtype=np.float64)
            if a.shape != (len(th),):
                raise ConfigError(f"{name} has shape {a.shape}, expected ({len(th)},)")
            object.__setattr__(self, name, a)
        if self.grid_axes is not None:
            axes = tuple(np.asarray(a, dtype=np.float64) for a in self.grid_axes)
            if int(np.prod([len(a) for a in axes])) != len(th):
                raise ConfigError("grid_axes do not match the number of points")
            object.__setattr__(self, "grid_axes", axes)

    # ---------------------------------------------------------------- derived quantities
    @property
    def log_likelihood_ratio(self) -> NDArray[np.float64]:
        """log L(θ) − log L(θ̂) (≤ 0), θ̂ the best point."""
        return self.log_likelihood - self.log_likelihood[self.best_fit_index]

    @property
    def q(self) -> NDArray[np.float64]:
        """Test statistic q(θ) = −2 [log L(θ) − log L(θ̂)] (≥ 0)."""
        return -2.0 * self.log_likelihood_ratio

    @property
    def best_fit_index(self) -> int:
        ll = np.where(np.isnan(self.log_likelihood), -np.inf, self.log_likelihood)
        return int(np.argmax(ll))

    @property
    def best_fit(self) -> NDArray[np.float64]:
        return self.thetas[self.best_fit_index]

    @property
    def grid_shape(self) -> tuple[int, ...]:
        if self.grid_axes is None:
            raise ConfigError("this result is on scattered points, not a regular grid")
        return tuple(len(a) for a in self.grid_axes)

    def reshaped(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """A (T,) array reshaped onto the grid (first parameter first)."""
        return np.asarray(values).reshape(self.grid_shape)

    def _hist(self, values: NDArray[np.float64], label: str) -> Any:
        import hist

        axes = []
        for name, a in zip(self.parameter_names, self.grid_axes or ()):
            if len(a) > 1:
                step = a[1] - a[0]
                if np.allclose(np.diff(a), step):
                    axes.append(
                        hist.axis.Regular(
                            len(a),
                            a[0] - step / 2,
                            a[-1] + step / 2,
                            name=name,
                            label=name,
                            underflow=False,
                            overflow=False,
                        )
                    )
                    continue
                mids = 0.5 * (a[1:] + a[:-1])
                edges = np.concatenate([[a[0] - (mids[0] - a[0])], mids, [a[-1] + (a[-1] - mids[-1])]])
            else:
                edges = np.array([a[0] - 0.5, a[0] + 0.5])
            axes.append(hist.axis.Variable(edges, name=name, label=name, underflow=False, overflow=False))
        h = hist.Hist(*axes, storage=hist.storage.Double(), label=label)
        h.view()[...] = self.reshaped(values)
        return h

    @property
    def p_value_hist(self) -> Any:
        """The p-value map as a ``hist.Hist`` (one axis per kept parameter; bin centres = grid points)."""
        return self._hist(self.p_values, "p-value")

    @property
    def q_hist(self) -> Any:
        """q(θ) as a ``hist.Hist``."""
        return self._hist(self.q, "q")

    def excluded(self, cl: float = 0.95) -> NDArray[np.bool_]:
        """Points excluded at confidence level ``cl`` (p < 1 − cl)."""
        return self.p_values < 1.0 - cl

    # ---------------------------------------------------------------- I/O
    def to_dict(self) -> dict[str, Any]:
        def arr(a: Any) -> Any:
            return None if a is None else np.asarray(a).tolist()

        return {
            "method": self.method,
            "parameter_names": list(self.parameter_names),
            "thetas": arr(self.thetas),
            "log_likelihood": arr(self.log_likelihood),
            "log_likelihood_kinematic": arr(self.log_likelihood_kinematic),
            "log_likelihood_rate": arr(self.log_likelihood_rate),
            "p_values": arr(self.p_values),
            "dof": int(self.dof),
            "n_observed": float(self.n_observed),
            "luminosity_ifb": float(self.luminosity_ifb),
            "asimov_theta": arr(self.asimov_theta),
            "grid_axes": None if self.grid_axes is None else [arr(a) for a in self.grid_axes],
            "profiled": list(self.profiled),
            "profiled_values": arr(self.profiled_values),
            "fixed": {k: float(v) for k, v in self.fixed.items()},
            "details": _plain(self.details),
            "coverage": _plain(self.coverage),
            "impacts": _plain(self.impacts),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LimitResult:
        def arr(a: Any) -> Any:
            return None if a is None else np.asarray(a, dtype=np.float64)

        n_par = len(d["parameter_names"])
        return cls(
            method=d["method"],
            parameter_names=tuple(d["parameter_names"]),
            thetas=np.asarray(d["thetas"], dtype=np.float64).reshape(-1, n_par),
            log_likelihood=arr(d["log_likelihood"]),
            log_likelihood_kinematic=arr(d["log_likelihood_kinematic"]),
            log_likelihood_rate=arr(d["log_likelihood_rate"]),
            p_values=arr(d["p_values"]),
            dof=int(d["dof"]),
            n_observed=float(d["n_observed"]),
            luminosity_ifb=float(d["luminosity_ifb"]),
            asimov_theta=arr(d.get("asimov_theta")),
            grid_axes=None if d.get("grid_axes") is None else tuple(arr(a) for a in d["grid_axes"]),
            profiled=tuple(d.get("profiled", ())),
            profiled_values=None
            if d.get("profiled_values") is None
            else np.asarray(d["profiled_values"], dtype=np.float64).reshape(-1, len(d.get("profiled", ()))),
            fixed=dict(d.get("fixed", {})),
            details=dict(d.get("details", {})),
            coverage=d.get("coverage"),
            impacts=d.get("impacts"),
        )

    def save(self, path: str, *, overwrite: bool = False) -> None:
        """Write as JSON (``.json``) or HDF5 (``.h5``/``.hdf5``), atomically."""

        write_result(path, "limit_result", self.to_dict(), overwrite=overwrite)

    @classmethod
    def load(cls, path: str) -> LimitResult:

        return cls.from_dict(read_result(path, "limit_result"))


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
