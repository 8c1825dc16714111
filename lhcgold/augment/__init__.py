"""Training and test samples with gold (joint likelihood ratio and joint score).

Example:
    >>> from lhcgold.augment import sample_ratio, RandomMorphing, Prior, Gaussian, Benchmark
    >>> # ts = sample_ratio("events.h5", theta0=RandomMorphing(1000, Prior(Gaussian(0, 15))),
    >>> #                   theta1=Benchmark("sm"), n_samples=100_000, rng=1)
"""

from __future__ import annotations

from ..io.samples import TrainingSet, read_training_set, write_training_set
from .sampling import (
    ArrayEvents,
    partition_bounds,
    sample_density,
    sample_local,
    sample_more_ratios,
    sample_plain,
    sample_ratio,
    sample_test,
)
from .thetas import (
    Benchmark,
    Benchmarks,
    Flat,
    Gaussian,
    Grid,
    Point,
    Points,
    Prior,
    RandomMorphing,
    parse_spec,
)

__all__ = [
    "ArrayEvents",
    "Benchmark",
    "Benchmarks",
    "Flat",
    "Gaussian",
    "Grid",
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
