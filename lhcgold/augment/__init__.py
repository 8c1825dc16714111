"""Training and test samples with gold (joint likelihood ratio and joint score).

Example:
    >>> from lhcgold.augment import sample_ratio, RandomMorphing, Prior, Gaussian, BenchmarkTheta
    >>> # ts = sample_ratio("events.h5", theta0=RandomMorphing(1000, Prior(Gaussian(0, 15))),
    >>> #                   theta1=BenchmarkTheta("sm"), n_samples=100_000, rng=1)
"""

from __future__ import annotations

from .._renamed import module_getattr as _module_getattr
from ..io.samples import TrainingSet, read_training_set, write_training_set
from ..io.view import partition_bounds
from .sampling import (
    ArrayEvents,
    sample_density,
    sample_local,
    sample_more_ratios,
    sample_plain,
    sample_ratio,
    sample_test,
)
from .thetas import (
    Benchmarks,
    BenchmarkTheta,
    Flat,
    Gaussian,
    Point,
    Points,
    Prior,
    RandomMorphing,
    ThetaGrid,
    parse_spec,
)

__all__ = [
    "ArrayEvents",
    "BenchmarkTheta",
    "Benchmarks",
    "Flat",
    "Gaussian",
    "ThetaGrid",
    "Point",
    "Points",
    "Prior",
    "RandomMorphing",
    "TrainingSet",
    "parse_spec",
    "partition_bounds",
    "read_training_set",
    "sample_density",
    "sample_local",
    "sample_more_ratios",
    "sample_plain",
    "sample_ratio",
    "sample_test",
    "write_training_set",
]

__getattr__ = _module_getattr("lhcgold.augment")
