"""Inference: Fisher information, likelihood models, Asimov and observed limits, result objects.

Main entry points::

    from lhcgold import infer
    info = infer.truth_information("events.h5", theta="sm", luminosity_ifb=300)
    res = infer.expected_limits(infer.Histogram(["pt_w"]), "events.h5",
                                grid=infer.LimitGrid([(-0.02, 0.02), (-0.15, 0.15)], 25), luminosity_ifb=300)
    res.p_value_hist      # a hist.Hist

Events are read through :class:`~lhcgold.io.view.EventsView` (re-exported here with
:func:`~lhcgold.io.view.open_events`): pass a path, or a view of a partition such as
``infer.open_events("events.h5", partition="test")``.

Likelihood models: :class:`RateOnly`, :class:`Histogram`, :class:`ScoreHistogram` (SALLY),
:class:`NeuralRatio` (parameterised ratio estimators), :class:`Truth` (exact likelihood of an
embedded process). Diagnostics: :func:`closure_check` (attached to every Asimov result),
:func:`ratio_calibration`, :func:`batch_spread`. Systematics and validation: :func:`profile_limits`
(nuisance parameters, every model), :func:`profiled_information` /
:func:`truth_profiled_information` (their Fisher information), :func:`coverage` / :func:`neyman_belt` (toys),
:func:`ensemble_limits` (an ensemble's finite-training-sample band), :func:`report_sections`
(Markdown on all three). Nothing here imports torch or matplotlib.
"""

from __future__ import annotations

from .._renamed import module_getattr as _module_getattr
from ..io.view import EventsView, open_events
from .diagnostics import (
    ClosureCheck,
    MCSpread,
    RatioCalibration,
    batch_spread,
    closure_check,
    contour_area,
    ratio_calibration,
)
from .ensemble_band import EnsembleBand, EnsembleMean, ensemble_limits
from .fisher import (
    FisherInformation,
    exact_information,
    fisher_ellipse,
    histogram_information,
    ml_information,
    profile_information,
    project_information,
    rate_information,
    sally_information,
    truth_information,
)
from .grid import LimitGrid
from .histchoice import HistogramCandidate, HistogramChoice, choose_histogram, histogram_noise_floor
from .likelihood import Histogram, NeuralRatio, RateOnly, ScoreHistogram, Truth
from .limits import (
    asymptotic_p_values,
    expected_limits,
    expected_limits_by_method,
    observed_limits,
    toy_p_values,
)
from .neyman import CoverageResult, NeymanBelt, coverage, neyman_belt
from .nuisance import (
    Normalisation,
    NuisanceInformation,
    ProfileLimitResult,
    WeightVariation,
    interpolated_interval,
    learned_variations,
    nuisances_from_file,
    profile_limits,
    profiled_information,
    sally_profiled_information,
    truth_profiled_information,
)
from .profiled_toys import ProfiledToys
from .report import impacts_summary, report_sections
from .results import LimitResult

__all__ = [
    "ClosureCheck",
    "MCSpread",
    "RatioCalibration",
    "batch_spread",
    "closure_check",
    "contour_area",
    "ratio_calibration",
    "report_sections",
    "CoverageResult",
    "EnsembleBand",
    "EnsembleMean",
    "FisherInformation",
    "EventsView",
    "LimitGrid",
    "Histogram",
    "HistogramCandidate",
    "HistogramChoice",
    "LimitResult",
    "NeuralRatio",
    "NeymanBelt",
    "Normalisation",
    "NuisanceInformation",
    "ProfileLimitResult",
    "ProfiledToys",
    "RateOnly",
    "ScoreHistogram",
    "WeightVariation",
    "Truth",
    "asymptotic_p_values",
    "coverage",
    "ensemble_limits",
    "impacts_summary",
    "interpolated_interval",
    "expected_limits",
    "exact_information",
    "expected_limits_by_method",
    "fisher_ellipse",
    "choose_histogram",
    "histogram_information",
    "histogram_noise_floor",
    "ml_information",
    "learned_variations",
    "nuisances_from_file",
    "neyman_belt",
    "observed_limits",
    "profile_information",
    "profile_limits",
    "profiled_information",
    "sally_profiled_information",
    "project_information",
    "rate_information",
    "sally_information",
    "toy_p_values",
    "truth_profiled_information",
    "open_events",
    "truth_information",
]

__getattr__ = _module_getattr("lhcgold.infer")
