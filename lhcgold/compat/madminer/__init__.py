"""MadMiner's API on lhcgold: run a madminer 0.9.6 script by changing only its imports.

Replace ``madminer`` by ``lhcgold.compat.madminer`` in the import lines::

    from lhcgold.compat.madminer import MadMiner                 # from madminer import MadMiner
    from lhcgold.compat.madminer.lhe import LHEReader            # from madminer.lhe import LHEReader
    from lhcgold.compat.madminer.sampling import SampleAugmenter # from madminer.sampling import ...
    from lhcgold.compat.madminer import sampling                 # sampling.benchmark("sm"), ...
    from lhcgold.compat.madminer.ml import ScoreEstimator, ParameterizedRatioEstimator
    from lhcgold.compat.madminer.fisherinformation import FisherInformation
    from lhcgold.compat.madminer.limits import AsymptoticLimits

The classes keep MadMiner's names, argument names, defaults, return tuples and file conventions
(setup and events files in MadMiner's HDF5 layout, ``x_<name>.npy`` samples, luminosities in pb⁻¹);
the work is done by lhcgold's stages. What differs is listed in the migration guide
(``docs/migrating-from-madminer.md``): MadGraph and Delphes are not driven from here, models are
lhcgold model directories, and a few options are not supported (each raises a clear error).
"""

from __future__ import annotations

from . import core, delphes, fisherinformation, lhe, limits, ml, plotting, sampling
from .analysis import DataAnalyzer
from .core import MadMiner
from .delphes import DelphesReader
from .fisherinformation import FisherInformation
from .lhe import LHEReader
from .limits import AsymptoticLimits
from .ml import Ensemble, LikelihoodEstimator, ParameterizedRatioEstimator, ScoreEstimator
from .plotting import (
    plot_2d_morphing_basis,
    plot_distributions,
    plot_fisher_information_contours_2d,
    plot_histograms,
)
from .sampling import SampleAugmenter, combine_and_shuffle

__all__ = [
    "AsymptoticLimits",
    "DataAnalyzer",
    "DelphesReader",
    "Ensemble",
    "FisherInformation",
    "LHEReader",
    "LikelihoodEstimator",
    "MadMiner",
    "ParameterizedRatioEstimator",
    "SampleAugmenter",
    "ScoreEstimator",
    "combine_and_shuffle",
    "core",
    "delphes",
    "fisherinformation",
    "lhe",
    "limits",
    "ml",
    "plot_2d_morphing_basis",
    "plot_distributions",
    "plot_fisher_information_contours_2d",
    "plot_histograms",
    "plotting",
    "sampling",
]
