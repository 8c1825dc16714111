"""``SampleAugmenter`` and MadMiner's θ specifications, on lhcgold's augmentation (:mod:`lhcgold.augment`).

The θ helpers return MadMiner's tuples (``("benchmark", "sm")``, ...); :func:`theta_spec` turns them
into lhcgold's typed specifications. Samples are saved as MadMiner does: ``x_<name>.npy``,
``theta0_<name>.npy``, ``r_xz_<name>.npy`` (the joint ratio, not its log), ...
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ... import augment
from ...augment import thetas as th
from ...exceptions import ConfigError
from ...io.combine import combine_and_shuffle as _combine
from ...io.samples import TrainingSet
from ...io.view import EventsView
from ...physics.morphing import component_factors
from .analysis import DataAnalyzer
from .core import replace_file

logger = logging.getLogger(__name__)

__all__ = [
    "SampleAugmenter",
    "benchmark",
    "benchmarks",
    "combine_and_shuffle",
    "iid_nuisance_parameters",
    "morphing_point",
    "morphing_points",
    "nominal_nuisance_parameters",
    "random_morphing_points",
    "theta_spec",
]


def benchmark(benchmark_name: str) -> tuple[str, str]:
    """All samples at one named benchmark."""
    return "benchmark", benchmark_name


def benchmarks(benchmark_names: Sequence[str]) -> tuple[str, list[str]]:
    """Samples split evenly between named benchmarks."""
    return "benchmarks", list(benchmark_names)


def morphing_point(theta: ArrayLike) -> tuple[str, NDArray[np.float64]]:
    """All samples at one parameter point (morphing)."""
    return "morphing_point", np.asarray(theta, dtype=np.float64)


def morphing_points(thetas: ArrayLike) -> tuple[str, list[NDArray[np.float64]]]:
    """Samples split evenly between parameter points."""
    return "morphing_points", [np.asarray(t, dtype=np.float64) for t in thetas]


def random_morphing_points(n_thetas: int | None, priors: Sequence[tuple]) -> tuple[str, tuple[int | None, list]]:
    """``n_thetas`` random points (None: one per sample) from per-parameter priors
    ``("gaussian", mean, std)`` or ``("flat", low, high)``."""
    return "random_morphing_points", (n_thetas, list(priors))


def iid_nuisance_parameters(shape: str = "gaussian", param0: float = 0.0, param1: float = 1.0) -> tuple:
    """MadMiner's nuisance-parameter prior (sampling with nuisance parameters is not supported yet)."""
    return "iid", (shape, param0, param1)


def nominal_nuisance_parameters() -> tuple:
    """MadMiner's nominal nuisance values (the default: no nuisance variation)."""
    return "nominal", None


def theta_spec(spec: Any) -> th.ThetaSpec:
    """lhcgold's θ specification for one of MadMiner's θ tuples (lhcgold specifications pass through)."""
    if isinstance(
        spec, (th.BenchmarkTheta, th.Benchmarks, th.Point, th.Points, th.ThetaGrid, th.RandomMorphing, th.Prior)
    ):
        return spec
    try:
        kind, value = spec
    except (TypeError, ValueError):
        raise ConfigError(
            f"invalid theta specification {spec!r}: use sampling.benchmark(), benchmarks(), "
            "morphing_point(), morphing_points() or random_morphing_points()"
        ) from None
    if kind == "benchmark":
        return th.BenchmarkTheta(str(value))
    if kind == "benchmarks":
        return th.Benchmarks([str(v) for v in value])
    if kind == "morphing_point":
        return th.Point(np.asarray(value, dtype=np.float64))
    if kind == "morphing_points":
        return th.Points(np.asarray(value, dtype=np.float64))
    if kind == "random_morphing_points":
        n, priors = value
        factors = []
        for p in priors:
            shape, a, b = p
            if shape == "gaussian":
                factors.append(th.Gaussian(float(a), float(b)))
            elif shape == "flat":
                factors.append(th.Flat(float(a), float(b)))
            else:
                raise ConfigError(f"unknown prior {shape!r}; known: gaussian, flat")
        prior = th.Prior(*factors)
        return prior if n is None else th.RandomMorphing(int(n), prior)
    raise ConfigError(f"unknown theta specification type {kind!r}")


def _check_nuisance(*nus: Any) -> None:
    for nu in nus:
        if nu is not None and nu != nominal_nuisance_parameters():
            raise ConfigError("sampling with nuisance parameters is not supported yet (pass nu=None)")


def _save(folder: str | None, filename: str | None, arrays: dict[str, NDArray[Any] | None]) -> None:
    if folder is None or filename is None:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for key, arr in arrays.items():
        if arr is not None:
            np.save(Path(folder) / f"{key}_{filename}.npy", arr)


# What each sample_* method returns before n_effective, by MadMiner's names and in its order; each array is
# also what it saves as ``<name>_<filename>.npy``.
_RETURNS: dict[str, tuple[str, ...]] = {
    "plain": ("x", "theta"),
    "local": ("x", "theta", "t_xz"),
    "density": ("x", "theta", "t_xz"),
    "ratio": ("x", "theta0", "theta1", "y", "r_xz", "t_xz"),
    "more_ratios": ("x", "theta0", "theta1", "y", "r_xz", "t_xz0", "t_xz1"),
    "test": ("x", "theta"),
}

# MadMiner's arrays from lhcgold's TrainingSet: y of shape (n, 1), the joint ratio itself (not its log).
_ARRAYS: dict[str, Callable[[TrainingSet], Any]] = {
    "x": lambda ts: ts.x,
    "theta": lambda ts: ts.theta0,
    "theta0": lambda ts: ts.theta0,
    "theta1": lambda ts: ts.theta1,
    "y": lambda ts: ts.y.reshape(-1, 1),
    "r_xz": lambda ts: np.exp(ts.log_r_xz),
    "t_xz": lambda ts: ts.t_xz,
    "t_xz0": lambda ts: ts.t_xz,
    "t_xz1": lambda ts: ts.t_xz1,
}


def _specs(thetas: dict[str, Any]) -> dict[str, Any]:
    """lhcgold's specifications for the θ arguments (``additional_thetas``: a list of them, or None)."""
    return {
        key: [theta_spec(t) for t in (value or [])] if key == "additional_thetas" else theta_spec(value)
        for key, value in thetas.items()
    }


class SampleAugmenter(DataAnalyzer):
    """Training and test samples with the joint likelihood ratio and score (madminer's ``SampleAugmenter``).

    Args:
        filename: the events file.
        disable_morphing: MadMiner's flag (lhcgold always needs the morphing setup to sample).
        include_nuisance_parameters: MadMiner's flag.
        rng: seed or generator (an lhcgold addition: every draw is reproducible).
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        disable_morphing: bool = False,
        include_nuisance_parameters: bool = True,
        *,
        rng: np.random.Generator | int | None = None,
    ):
        super().__init__(filename, disable_morphing, include_nuisance_parameters)
        self.rng = np.random.default_rng(rng)

    def _opts(
        self, test_split: float | None, validation_split: float | None, partition: str, closest: bool
    ) -> dict[str, Any]:
        return {
            "test_split": 0.0 if test_split is None else float(test_split),
            "validation_split": 0.0 if validation_split is None else float(validation_split),
            "partition": partition,
            "sample_only_from_closest_benchmark": bool(closest),
            "rng": self.rng,
        }

    @staticmethod
    def _n_eff(ts: TrainingSet, individual: bool = False) -> Any:
        if ts.n_effective is None:
            return None
        return ts.n_effective if individual else float(np.min(ts.n_effective))

    def _sample(
        self,
        kind: str,
        nus: tuple[Any, ...],
        thetas: dict[str, Any],
        n_samples: int,
        save_as: tuple[str | None, str | None],
        split: tuple[Any, Any, str, bool],
        individual: bool = False,
    ) -> tuple:
        """The sample_* methods' one path: ``augment.sample_<kind>`` at ``thetas`` (MadMiner's θ arguments by
        lhcgold's keyword), MadMiner's arrays (:data:`_RETURNS`) saved to ``save_as`` = (folder, filename),
        then n_effective. ``split``: test_split, validation_split, partition, sample_only_from_closest_benchmark."""
        _check_nuisance(*nus)
        ts = getattr(augment, f"sample_{kind}")(
            self.events, **_specs(thetas), n_samples=n_samples, **self._opts(*split)
        )
        arrays = {name: _ARRAYS[name](ts) for name in _RETURNS[kind]}
        _save(*save_as, arrays)
        return (*arrays.values(), self._n_eff(ts, individual))

    def sample_train_plain(
        self,
        theta: Any,
        n_samples: int,
        nu: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "train",
        n_processes: int = 1,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """x and θ drawn at ``theta``: returns ``x, theta, n_effective``."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample("plain", (nu,), {"theta": theta}, n_samples, (folder, filename), split)

    def sample_train_local(
        self,
        theta: Any,
        n_samples: int,
        nu: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        nuisance_score: Any = "auto",
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "train",
        n_processes: int = 1,
        log_message: bool = True,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """x with the joint score at ``theta`` (SALLY): returns ``x, theta, t_xz, n_effective``."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample("local", (nu,), {"theta": theta}, n_samples, (folder, filename), split)

    def sample_train_density(
        self,
        theta: Any,
        n_samples: int,
        nu: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        nuisance_score: Any = "auto",
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "train",
        n_processes: int = 1,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """x with the joint score, θ from a prior (NDE, SCANDAL): returns ``x, theta, t_xz, n_effective``."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample("density", (nu,), {"theta": theta}, n_samples, (folder, filename), split)

    def sample_train_ratio(
        self,
        theta0: Any,
        theta1: Any,
        n_samples: int,
        nu0: Any = None,
        nu1: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        nuisance_score: Any = "auto",
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "train",
        n_processes: int = 1,
        return_individual_n_effective: bool = False,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """Ratio samples (CARL, ROLR, RASCAL, ALICE(S), CASCAL):
        returns ``x, theta0, theta1, y, r_xz, t_xz, n_effective`` (``y`` of shape (n, 1))."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample(
            "ratio",
            (nu0, nu1),
            {"theta0": theta0, "theta1": theta1},
            n_samples,
            (folder, filename),
            split,
            return_individual_n_effective,
        )

    def sample_train_more_ratios(
        self,
        theta0: Any,
        theta1: Any,
        n_samples: int,
        nu0: Any = None,
        nu1: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        additional_thetas: Sequence[Any] | None = None,
        nuisance_score: Any = "auto",
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "train",
        n_processes: int = 1,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """Ratio samples with the score at both points (doubly parameterised estimators):
        returns ``x, theta0, theta1, y, r_xz, t_xz0, t_xz1, n_effective``."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample(
            "more_ratios",
            (nu0, nu1),
            {"theta0": theta0, "theta1": theta1, "additional_thetas": additional_thetas},
            n_samples,
            (folder, filename),
            split,
        )

    def sample_test(
        self,
        theta: Any,
        n_samples: int,
        nu: Any = None,
        sample_only_from_closest_benchmark: bool = True,
        folder: str | None = None,
        filename: str | None = None,
        test_split: float | None = 0.2,
        validation_split: float | None = 0.2,
        partition: str = "test",
        n_processes: int = 1,
        n_eff_forced: float | None = None,
        double_precision: bool = False,
    ) -> tuple:
        """Test events drawn at ``theta`` from the test partition: returns ``x, theta, n_effective``."""
        split = (test_split, validation_split, partition, sample_only_from_closest_benchmark)
        return self._sample("test", (nu,), {"theta": theta}, n_samples, (folder, filename), split)

    def cross_sections(
        self, theta: Any, nu: Any = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Total cross sections [pb] at the points of ``theta``: returns ``thetas, xsecs, xsec_uncertainties``."""

        _check_nuisance(nu)
        spec = theta_spec(theta)
        s = self.setup
        thetas, _, _ = th.resolve(
            spec,
            n_samples=1 if isinstance(spec, th.Prior) else 1_000_000,
            parameter_names=s.parameter_names,
            benchmark_names=s.benchmark_names,
            benchmark_values=s.benchmark_values,
            ranges=s.ranges,
            rng=self.rng,
        )
        thetas = np.atleast_2d(thetas)
        comps = self.setup.components
        if comps is None:
            raise ConfigError("cross sections at arbitrary points need a morphing setup")
        f = component_factors(thetas, comps)  # (T, C)
        xsec = np.zeros(len(thetas))
        var = np.zeros(len(thetas))
        for chunk in EventsView(self.events).iter_chunks(chunk_size=200_000):
            w = chunk.m @ f.T  # the run shares applied
            xsec += w.sum(axis=0)
            var += (w**2).sum(axis=0)
        return thetas, xsec, np.sqrt(var)


def combine_and_shuffle(
    input_filenames: Sequence[str | os.PathLike[str]],
    output_filename: str | os.PathLike[str],
    k_factors: float | Sequence[float] | None = None,
    recalculate_header: bool = True,
    *,
    rng: np.random.Generator | int | None = None,
) -> None:
    """Concatenate and shuffle events files (out of core); replaces ``output_filename`` like MadMiner."""

    path = replace_file(output_filename)
    _combine(list(input_filenames), path, k_factors=1.0 if k_factors is None else k_factors, rng=rng, overwrite=True)
