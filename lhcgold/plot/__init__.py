"""Plots: ax in, artists out (needs matplotlib and mplhep: ``pip install 'lhcgold[plot]'``).

Every function takes ``ax=`` (default: the current axes), draws, and returns the artists in a
dict; nothing calls ``plt.show()``. matplotlib is imported only when a function is called.

* :func:`plot_distributions` — weighted distributions of an observable per benchmark / θ;
* :func:`plot_pvalue_map`, :func:`plot_contours`, :func:`plot_q_1d` — limit scans;
* :func:`plot_ensemble_band` — an ensemble's finite-training-sample band around its limits;
* :func:`plot_fisher_ellipses` — Fisher-information ellipses of several methods;
* :func:`plot_training_history`, :func:`plot_learning_curve` — estimator training;
* :func:`plot_calibration` — reliability curves of ratio estimators;
* :func:`hep_style`, :func:`hep_label`, :func:`axis_label` — HEP style (mplhep style sheets, the
  "lhcgold Simulation" label with √s and luminosity, "symbol (meaning) [unit]" axis labels).

Every function takes ``labels=``/``units=`` mappings (parameter or observable name -> text / unit)
where it draws parameters or observables, and keeps at most a handful of ticks per linear axis so
that tick labels never overlap.
"""

from __future__ import annotations

from .diagnostics import plot_calibration
from .distributions import distribution_hists, plot_distributions
from .fisher import plot_fisher_ellipses
from .limits import plot_contours, plot_ensemble_band, plot_pvalue_map, plot_q_1d
from .style import axis_label, hep_label, hep_style
from .training import plot_learning_curve, plot_training_history

__all__ = [
    "axis_label",
    "hep_label",
    "hep_style",
    "plot_calibration",
    "distribution_hists",
    "plot_contours",
    "plot_distributions",
    "plot_ensemble_band",
    "plot_fisher_ellipses",
    "plot_learning_curve",
    "plot_pvalue_map",
    "plot_q_1d",
    "plot_training_history",
]
