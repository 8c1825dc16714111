"""``AsymptoticLimits`` (madminer's ``madminer.limits``) on :func:`lhcgold.infer.expected_limits`.

Modes: ``"rate"``, ``"histo"`` (``hist_vars``), ``"sally"``/``"sallino"``/``"adaptive-sally"`` (a score
model: histogram of t̂), ``"ml"`` (a ratio or likelihood model). The Asimov data and observed
likelihoods use the test partition of the events (the last ``test_split`` fraction, as in MadMiner);
histogram templates use the training partition. The return values are MadMiner's tuple; the
histograms themselves are not returned (None in their place).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2

from ... import infer
from ...exceptions import ConfigError
from ...physics.morphing import component_factors
from .analysis import DataAnalyzer
from .fisherinformation import _lumi_ifb, partition_sample
from .ml import load_estimator, positional

__all__ = ["AsymptoticLimits"]


class AsymptoticLimits(DataAnalyzer):
    """Expected and observed p-values over a parameter grid (madminer's ``AsymptoticLimits``).

    Args:
        filename: the events file.
        include_nuisance_parameters: must be False (as in MadMiner).
    """

    def __init__(self, filename: str | os.PathLike[str] | None = None, include_nuisance_parameters: bool = False):
        if filename is None:
            raise ConfigError("AsymptoticLimits needs an events file")
        if include_nuisance_parameters:
            raise ConfigError("AsymptoticLimits does not support nuisance parameters (as in MadMiner)")
        super().__init__(filename, include_nuisance_parameters=False)

    def _likelihood(
        self,
        mode: str,
        model_file: Any,
        hist_vars: Sequence[str] | None,
        score_components: Any,
        hist_bins: Any,
        include_xsec: bool,
        test_split: float | None,
    ) -> Any:
        templates = partition_sample(self.events, test_split, part="train")
        if mode == "rate":
            return infer.RateOnly()
        if mode == "histo":
            if not hist_vars:
                raise ConfigError("mode 'histo' needs hist_vars")
            return infer.Histogram(list(hist_vars), bins=hist_bins, templates=templates, include_rate=include_xsec)
        if model_file is None:
            raise ConfigError(f"mode {mode!r} needs model_file")
        model = positional(load_estimator(model_file))
        if mode in ("sally", "sallino", "adaptive-sally"):
            if model.family != "score":
                raise ConfigError(f"mode {mode!r} needs a score estimator, {model_file!s} holds a {model.family} model")
            return infer.ScoreHistogram(
                model, components=score_components, bins=hist_bins, templates=templates, include_rate=include_xsec
            )
        if mode == "ml":
            return infer.NeuralRatio(model, include_rate=include_xsec)
        raise ConfigError(f"unknown mode {mode!r}; known: rate, histo, sally, sallino, adaptive-sally, ml")

    def _inputs(
        self,
        mode: str,
        model_file: Any,
        hist_vars: Sequence[str] | None,
        score_components: Any,
        hist_bins: Any,
        include_xsec: bool,
        test_split: float | None,
        postprocessing: Any,
    ) -> tuple[Any, infer.EventsView]:
        """What expected and observed limits start from: the likelihood of ``mode`` and the test partition."""
        if postprocessing is not None:
            raise ConfigError("postprocessing is not supported")
        like = self._likelihood(mode, model_file, hist_vars, score_components, hist_bins, include_xsec, test_split)
        return like, partition_sample(self.events, test_split)

    def _scan_options(
        self, grid_ranges: Any, grid_resolutions: Any, thetas_eval: Any, luminosity: float, dof: int | None
    ) -> dict[str, Any]:
        """The grid, the luminosity (MadMiner's pb⁻¹ in fb⁻¹) and the dof, as lhcgold's limit scans take them."""
        return {
            "grid": self._grid(grid_ranges, grid_resolutions, thetas_eval),
            "luminosity_ifb": _lumi_ifb(luminosity),
            "dof": dof,
        }

    def _grid(self, grid_ranges: Any, grid_resolutions: Any, thetas_eval: Any) -> Any:
        if thetas_eval is not None:
            return np.atleast_2d(np.asarray(thetas_eval, dtype=np.float64))
        ranges = [tuple(r) for r in (grid_ranges if grid_ranges is not None else self.setup.ranges.tolist())]
        res = grid_resolutions if isinstance(grid_resolutions, (int, np.integer)) else tuple(grid_resolutions)
        return infer.LimitGrid(ranges, resolutions=res)

    @staticmethod
    def _tuple(res: infer.LimitResult, histo_data: Any) -> tuple:
        i_ml = int(np.argmax(res.log_likelihood))
        return (res.thetas, res.p_values, i_ml, res.log_likelihood_kinematic, res.log_likelihood_rate, histo_data)

    def expected_limits(
        self,
        mode: str,
        theta_true: ArrayLike,
        grid_ranges: Any = None,
        grid_resolutions: Any = 25,
        include_xsec: bool = True,
        model_file: Any = None,
        hist_vars: Sequence[str] | None = None,
        score_components: Any = None,
        hist_bins: Any = None,
        thetaref: Any = None,
        luminosity: float = 300000.0,
        weighted_histo: bool = True,
        n_histo_toys: int = 100000,
        histo_theta_batchsize: int = 1000,
        dof: int | None = None,
        test_split: float | None = 0.2,
        return_histos: bool = True,
        return_asimov: bool = False,
        fix_adaptive_binning: Any = "auto-grid",
        sample_only_from_closest_benchmark: bool = True,
        postprocessing: Any = None,
        n_asimov: int | None = None,
        n_binning_toys: int = 100000,
        thetas_eval: Any = None,
    ) -> tuple:
        """Expected p-values for Asimov data at ``theta_true``.

        Returns ``theta_grid, p_values, best_fit_index, log_likelihood_kinematic, log_likelihood_rate,
        histo_data`` (``histo_data``: None, or ``(None, x_asimov, weights_asimov)`` with ``return_asimov``).
        """
        like, data = self._inputs(
            mode, model_file, hist_vars, score_components, hist_bins, include_xsec, test_split, postprocessing
        )
        res = infer.expected_limits(
            like,
            data,
            **self._scan_options(grid_ranges, grid_resolutions, thetas_eval, luminosity, dof),
            asimov_theta=np.asarray(theta_true, dtype=np.float64),
        )
        histo = None
        if return_asimov:
            x, w = self._asimov(data, np.asarray(theta_true, dtype=np.float64))
            histo = (None, x, w)
        return self._tuple(res, histo)

    def _asimov(self, data: infer.EventsView, theta: NDArray[np.float64]) -> tuple:

        f = component_factors(theta, self.setup.components)
        xs, ws = [], []
        for x, m in data.component_chunks():
            xs.append(x)
            ws.append(m @ f)
        w = np.concatenate(ws)
        return np.concatenate(xs), w / w.sum()

    def observed_limits(
        self,
        mode: str,
        x_observed: ArrayLike,
        grid_ranges: Any = None,
        grid_resolutions: Any = 25,
        include_xsec: bool = True,
        model_file: Any = None,
        hist_vars: Sequence[str] | None = None,
        score_components: Any = None,
        hist_bins: Any = None,
        thetaref: Any = None,
        luminosity: float = 300000.0,
        weighted_histo: bool = True,
        n_histo_toys: int = 100000,
        histo_theta_batchsize: int = 1000,
        n_observed: float | None = None,
        dof: int | None = None,
        test_split: float | None = 0.2,
        return_histos: bool = True,
        return_observed: bool = False,
        fix_adaptive_binning: Any = "auto-grid",
        postprocessing: Any = None,
        n_binning_toys: int = 100000,
        thetas_eval: Any = None,
    ) -> tuple:
        """p-values for observed events ``x_observed`` (n, n_observables); returns MadMiner's tuple."""
        like, data = self._inputs(
            mode, model_file, hist_vars, score_components, hist_bins, include_xsec, test_split, postprocessing
        )
        res = infer.observed_limits(
            like,
            np.asarray(x_observed, dtype=np.float64),
            data,
            **self._scan_options(grid_ranges, grid_resolutions, thetas_eval, luminosity, dof),
            n_observed=n_observed,
        )
        return self._tuple(res, None)

    def asymptotic_p_value(self, log_likelihood_ratio: ArrayLike, dof: int | None = None) -> NDArray[np.float64]:
        """p-values of −2 log r with ``dof`` degrees of freedom (default: the number of parameters)."""
        q = -2.0 * np.asarray(log_likelihood_ratio, dtype=np.float64)
        return chi2.sf(q, self.n_parameters if dof is None else dof)
