"""``FisherInformation`` (madminer's ``madminer.fisherinformation``) on :mod:`lhcgold.infer`.

Luminosities are in pb⁻¹ as in MadMiner (300000 = 300 fb⁻¹). Informations that use a trained model
are computed on the test partition of the events (the last ``test_split`` fraction, weights scaled
up by 1 / test_split), as MadMiner does. Covariances of histogram and truth informations are not
computed (None is returned in their place).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import infer
from ...exceptions import ConfigError
from .analysis import DataAnalyzer
from .ml import load_estimator, positional

__all__ = ["FisherInformation", "partition_sample", "project_information", "profile_information"]

PB_PER_IFB = 1000.0


def _lumi_ifb(luminosity: float) -> float:
    return float(luminosity) / PB_PER_IFB


def _unsupported(**kwargs: Any) -> None:
    given = [k for k, v in kwargs.items() if v is not None]
    if given:
        raise ConfigError(f"{', '.join(given)}: not supported by lhcgold.compat (apply cuts in the reader)")


def partition_sample(events: Any, test_split: float | None, *, part: str = "test") -> infer.EventsView:
    """The test (or train) partition of an events file as an :class:`~lhcgold.io.view.EventsView`, weights
    rescaled by the exact event-count ratio (MadMiner's convention, where lhcgold's partitions use 1/fraction)."""
    n = events.n_events
    if not test_split:
        return infer.EventsView(events)
    if not 0.0 < float(test_split) < 1.0:
        raise ConfigError(f"test_split must lie in (0, 1), got {test_split}")
    cut = int(round(n * (1.0 - float(test_split))))
    if part == "test":
        return infer.EventsView(events, start=cut, weight_scale=n / max(n - cut, 1))
    return infer.EventsView(events, stop=cut, weight_scale=n / max(cut, 1))


def _bins(bins: int | Sequence[float], histrange: Sequence[float] | None) -> Any:
    if isinstance(bins, (int, np.integer)):
        if histrange is None:
            return int(bins)
        return np.linspace(float(histrange[0]), float(histrange[1]), int(bins) + 1)
    return np.asarray(bins, dtype=np.float64)


class FisherInformation(DataAnalyzer):
    """Fisher information of truth, rate, histograms and trained estimators (madminer's ``FisherInformation``).

    Args:
        filename: the events file.
        include_nuisance_parameters: MadMiner's flag; informations with nuisance parameters are not
            computed yet (an error if the file has nuisance parameters and this is True).
    """

    def __init__(self, filename: str | os.PathLike[str], include_nuisance_parameters: bool = True):
        super().__init__(filename, include_nuisance_parameters=include_nuisance_parameters)

    def _no_nuisance(self, include: bool) -> None:
        if include and self.n_nuisance_parameters:
            raise ConfigError(
                "Fisher information with nuisance parameters is not supported yet; pass "
                "include_nuisance_parameters=False (the physics parameters only)"
            )

    def _weights_information(
        self, compute: Any, theta: ArrayLike, luminosity: float, unsupported: dict[str, Any], nuisance: bool
    ) -> tuple:
        """Truth and rate information: ``compute`` (an lhcgold information of the events) at ``theta``."""
        _unsupported(**unsupported)
        self._no_nuisance(nuisance and bool(self.nuisance_parameters))
        res = compute(self.events, theta=np.asarray(theta, dtype=np.float64), luminosity_ifb=_lumi_ifb(luminosity))
        return res.matrix, None

    def _histogram_information(
        self, observables: list[str], binning: list[tuple], theta: ArrayLike, luminosity: float, unsupported: dict
    ) -> tuple:
        """Information of a histogram of ``observables``, ``binning`` (bins, histrange) per observable."""
        _unsupported(**unsupported)
        res = infer.histogram_information(
            self.events,
            observables,
            bins=[_bins(b, r) for b, r in binning],
            theta=np.asarray(theta, dtype=np.float64),
            luminosity_ifb=_lumi_ifb(luminosity),
        )
        return res.matrix, None

    def truth_information(
        self,
        theta: ArrayLike,
        luminosity: float = 300000.0,
        cuts: Any = None,
        efficiency_functions: Any = None,
        include_nuisance_parameters: bool = True,
    ) -> tuple:
        """Information of the full parton-level truth: returns ``(information, None)``."""
        unsupported = {"cuts": cuts, "efficiency_functions": efficiency_functions}
        return self._weights_information(
            infer.truth_information, theta, luminosity, unsupported, include_nuisance_parameters
        )

    def rate_information(
        self,
        theta: ArrayLike,
        luminosity: float = 300000.0,
        cuts: Any = None,
        efficiency_functions: Any = None,
        include_nuisance_parameters: bool = True,
    ) -> tuple:
        """Information in the total rate: returns ``(information, None)``."""
        unsupported = {"cuts": cuts, "efficiency_functions": efficiency_functions}
        return self._weights_information(
            infer.rate_information, theta, luminosity, unsupported, include_nuisance_parameters
        )

    def histo_information(
        self,
        theta: ArrayLike,
        luminosity: float,
        observable: str,
        bins: int | Sequence[float],
        histrange: Sequence[float] | None = None,
        cuts: Any = None,
        efficiency_functions: Any = None,
        n_events_dynamic_binning: int | None = None,
    ) -> tuple:
        """Information of a 1-D histogram of ``observable`` (rate included): returns ``(information, None)``.

        ``bins``: edges, or a number of bins (equal width in ``histrange``, or of equal cross
        section without it). Events outside the edges fill the two overflow bins.
        """
        unsupported = {"cuts": cuts, "efficiency_functions": efficiency_functions}
        return self._histogram_information([observable], [(bins, histrange)], theta, luminosity, unsupported)

    def histo_information_2d(
        self,
        theta: ArrayLike,
        luminosity: float,
        observable1: str,
        bins1: int | Sequence[float],
        observable2: str,
        bins2: int | Sequence[float],
        histrange1: Sequence[float] | None = None,
        histrange2: Sequence[float] | None = None,
        cuts: Any = None,
        efficiency_functions: Any = None,
        n_events_dynamic_binning: int | None = None,
    ) -> tuple:
        """Information of a 2-D histogram (rate included): returns ``(information, None)``."""
        unsupported = {"cuts": cuts, "efficiency_functions": efficiency_functions}
        observables, binning = [observable1, observable2], [(bins1, histrange1), (bins2, histrange2)]
        return self._histogram_information(observables, binning, theta, luminosity, unsupported)

    def full_information(
        self,
        theta: ArrayLike,
        model_file: str | os.PathLike[str],
        unweighted_x_sample_file: str | None = None,
        luminosity: float = 300000.0,
        include_xsec_info: bool = True,
        mode: str = "score",
        calculate_covariance: bool = True,
        batch_size: int = 100000,
        test_split: float | None = 0.2,
    ) -> tuple:
        """Information from a trained score or ratio estimator (or an ensemble) on the test partition.

        Returns ``(information, covariance)``; the covariance (P, P, P, P) over the members of an
        ensemble, None for a single estimator.
        """
        if mode != "score":
            raise ConfigError("only mode='score' is supported")
        if unweighted_x_sample_file is not None:
            raise ConfigError("unweighted_x_sample_file is not supported: the information uses the weighted events")
        model = load_estimator(model_file)
        sample = partition_sample(self.events, test_split)
        th = np.asarray(theta, dtype=np.float64)
        members = getattr(model, "members", None)
        infos = [self._one(positional(m), sample, th, luminosity, include_xsec_info) for m in (members or [model])]
        if members is None:
            return infos[0], None
        stack = np.stack(infos)
        flat = stack.reshape(len(stack), -1)
        cov = np.cov(flat, rowvar=False) if len(stack) > 1 else np.zeros((flat.shape[1],) * 2)
        return stack.mean(axis=0), (cov.reshape(th.size, th.size, th.size, th.size) if calculate_covariance else None)

    @staticmethod
    def _one(
        model: Any, sample: infer.EventsView, th: NDArray[np.float64], luminosity: float, include_rate: bool
    ) -> NDArray[np.float64]:
        lumi = _lumi_ifb(luminosity)
        if model.family == "score":
            return infer.sally_information(
                sample, model, theta=th, luminosity_ifb=lumi, include_rate=include_rate
            ).matrix
        if model.family == "ratio":
            return infer.ml_information(sample, model, theta=th, luminosity_ifb=lumi, include_rate=include_rate).matrix
        raise ConfigError(f"full_information needs a score or ratio estimator, got a {model.family} model")


def project_information(
    fisher_information: ArrayLike, remaining_components: Sequence[int], covariance: Any = None
) -> NDArray[np.float64]:
    """The information on ``remaining_components`` with the others held fixed."""
    return infer.project_information(fisher_information, remaining_components)


def profile_information(
    fisher_information: ArrayLike, remaining_components: Sequence[int], covariance: Any = None, **kwargs: Any
) -> NDArray[np.float64]:
    """The information on ``remaining_components`` with the others profiled."""
    return infer.profile_information(fisher_information, remaining_components)
