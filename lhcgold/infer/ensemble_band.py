r"""Finite-training-sample uncertainty of ML limits: the spread of an ensemble's members as a band.

An ensemble of estimators trained alike (different seeds; :class:`lhcgold.ml.Ensemble`) is
combined by averaging the members' outputs (:class:`EnsembleMean`: the mean estimated score for
SALLY, the mean log r̂ for ratio estimators). :func:`ensemble_limits` computes the expected limits
with that mean model *and* with every member alone, on the same events and grid; the members'
spread is the uncertainty the finite training sample (and the training's randomness) leaves in
the limits:

* per scanned parameter and confidence level, the interval ends of every member (interpolated
  between grid points, as :func:`lhcgold.infer.nuisance.interpolated_interval`), summarised as
  mean ± standard deviation (ddof = 1) over members;
* the area (volume) of the confidence region of every member, mean ± standard deviation.

The summary lands in ``details["ensemble"]`` of the mean model's :class:`~lhcgold.infer.LimitResult`
(with the members' p-values, so that :func:`lhcgold.plot.plot_ensemble_band` can draw the band
from a saved result).

Example:
    >>> from lhcgold import infer, ml                                              # doctest: +SKIP
    >>> band = infer.ensemble_limits(lambda m: infer.ScoreHistogram(m, bins=10),   # doctest: +SKIP
    ...                              ml.load_model("models/sally"), "dy.h5",
    ...                              grid=infer.LimitGrid([(-0.05, 0.05), 0.0], 101), luminosity_ifb=30)
    >>> band.summary(0.68)       # per parameter: lower/upper_mean, lower/upper_std  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from ..exceptions import ConfigError
from ..io.view import EventsLike
from .diagnostics import contour_area
from .grid import LimitGrid
from .likelihood import NeuralRatio
from .limits import expected_limits
from .nuisance import interpolated_interval
from .results import LimitResult

logger = logging.getLogger(__name__)

__all__ = ["EnsembleBand", "EnsembleMean", "ensemble_limits", "ensemble_members"]

CLS = (0.68, 0.95)


def ensemble_members(ensemble: Any) -> list[Any]:
    """The members of an :class:`lhcgold.ml.Ensemble` (or of a sequence of estimators).

    Raises:
        ConfigError: fewer than two members, or members of different families/observables.
    """
    members = list(getattr(ensemble, "members", ensemble))
    if len(members) < 2:
        raise ConfigError(f"an ensemble band needs at least 2 members, got {len(members)}")
    fams = {getattr(m, "family", None) for m in members}
    obs = {tuple(getattr(m, "observables", None) or ()) for m in members}
    if len(fams) != 1 or len(obs) != 1:
        raise ConfigError(f"ensemble members differ in family {sorted(map(str, fams))} or observables {sorted(obs)}")
    return members


class EnsembleMean:
    """The members' averaged output behind the protocols of the likelihood models.

    ``score(x)`` is the mean of the members' t̂(x) (:class:`~lhcgold.infer.ScoreHistogram`);
    ``log_ratio(x, thetas)`` the mean of their log r̂(x|θ) (:class:`~lhcgold.infer.NeuralRatio`; each
    member through its fast grid evaluation when available).

    Args:
        ensemble: an :class:`lhcgold.ml.Ensemble` or a sequence of estimators of one family.
    """

    def __init__(self, ensemble: Any):
        self.members = ensemble_members(ensemble)
        first = self.members[0]
        self.family = getattr(first, "family", None)
        self.observables = getattr(first, "observables", None)
        refs = [getattr(m, "theta_ref", None) for m in self.members]
        if any(r is not None for r in refs) and not all(
            r is not None and np.allclose(np.asarray(r), np.asarray(refs[0])) for r in refs
        ):
            raise ConfigError("ensemble members have different ratio references theta_ref")
        self.theta_ref = refs[0]
        self._fns: list[Any] | None = None

    def score(self, x: ArrayLike, theta: ArrayLike | None = None) -> NDArray[np.float64]:
        outs = [np.asarray(m.score(x) if theta is None else m.score(x, theta), dtype=np.float64) for m in self.members]
        return np.mean(outs, axis=0)  # type: ignore[no-any-return]

    def log_ratio(self, x: ArrayLike, thetas: ArrayLike) -> NDArray[np.float64]:
        if self._fns is None:
            self._fns = [NeuralRatio(m)._evaluator() for m in self.members]
        outs = [np.asarray(fn(x, thetas), dtype=np.float64) for fn in self._fns]
        return np.mean(outs, axis=0)  # type: ignore[no-any-return]


def _ends(result: LimitResult, cl: float) -> dict[str, tuple[float, float]]:
    thr = float(chi2.ppf(cl, result.dof))
    q = result.q
    return {n: interpolated_interval(result.thetas[:, a], q, thr) for a, n in enumerate(result.parameter_names)}


def _area(result: LimitResult, cl: float) -> float | None:

    if result.grid_axes is None:
        return None
    return contour_area(result, cl)


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


@dataclass(frozen=True)
class EnsembleBand:
    """Limits of an ensemble's mean model and of each member.

    Attributes:
        mean: the result of the mean model (:class:`EnsembleMean`); its ``details["ensemble"]``
            holds :meth:`to_dict`.
        members: one result per member, same grid.
    """

    mean: LimitResult
    members: tuple[LimitResult, ...]

    def summary(self, cl: float = 0.68) -> dict[str, dict[str, Any]]:
        """Per parameter: the mean model's interval, every member's, and their ends' mean ± std."""
        mine = _ends(self.mean, cl)
        each = [_ends(r, cl) for r in self.members]
        out: dict[str, dict[str, Any]] = {}
        for name in self.mean.parameter_names:
            lo_m, lo_s = _mean_std([e[name][0] for e in each])
            hi_m, hi_s = _mean_std([e[name][1] for e in each])
            out[name] = {
                "mean_model": list(mine[name]),
                "members": [list(e[name]) for e in each],
                "lower_mean": lo_m,
                "lower_std": lo_s,
                "upper_mean": hi_m,
                "upper_std": hi_s,
            }
        return out

    def areas(self, cl: float = 0.68) -> dict[str, Any] | None:
        """Area (volume) of the ``cl`` region: mean model, members, members' mean ± std (None: scattered points)."""
        mine = _area(self.mean, cl)
        if mine is None:
            return None
        each = [float(_area(r, cl)) for r in self.members]  # type: ignore[arg-type]
        m, s = _mean_std(each)
        return {"mean_model": mine, "members": each, "mean": m, "std": s}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_members": len(self.members),
            "combination": "mean of the members' outputs (score: t; ratio: log r)",
            "intervals": {f"{cl:g}": self.summary(cl) for cl in CLS},
            "area": {f"{cl:g}": self.areas(cl) for cl in CLS},
            "member_p_values": [r.p_values.tolist() for r in self.members],
            "member_best_fit": [r.best_fit.tolist() for r in self.members],
        }


def ensemble_limits(
    likelihood: Callable[[Any], Any],
    ensemble: Any,
    events: EventsLike,
    *,
    grid: LimitGrid | ArrayLike,
    **kwargs: Any,
) -> EnsembleBand:
    """Expected limits of an ensemble's mean model and of each member (see the module docstring).

    Args:
        likelihood: builds the likelihood model from an estimator, e.g.
            ``lambda m: infer.ScoreHistogram(m, bins=10)`` or ``infer.NeuralRatio``.
        ensemble: an :class:`lhcgold.ml.Ensemble` (or a sequence of ≥ 2 estimators).
        events: as in :func:`~lhcgold.infer.expected_limits`.
        grid: as in :func:`~lhcgold.infer.expected_limits`.
        **kwargs: further arguments of :func:`~lhcgold.infer.expected_limits` (luminosity_ifb,
            asimov_theta, profile, ...).
    """
    mean_model = EnsembleMean(ensemble)
    mean = expected_limits(likelihood(mean_model), events, grid=grid, **kwargs)
    members = tuple(expected_limits(likelihood(m), events, grid=grid, **kwargs) for m in mean_model.members)
    band = EnsembleBand(mean, members)
    mean.details["ensemble"] = band.to_dict()
    s = band.summary(0.68)
    logger.info(
        "ensemble of %d: 68%% CL ends %s",
        len(members),
        {n: (round(v["lower_mean"], 6), round(v["upper_mean"], 6)) for n, v in s.items()},
    )
    return band
