"""Combine and shuffle events files out of core (bounded memory).

MadMiner's ``combine_and_shuffle`` loads every event of every input into memory. Here a two-pass
bucket shuffle keeps memory bounded by ``bucket_size`` rows whatever the number of events:

1. stream every input in chunks, send each event to one of K = ceil(N / bucket_size) temporary
   bucket files chosen uniformly at random;
2. read the buckets one by one, permute each in memory, append it to the output.

An iid uniform bucket assignment followed by a uniform permutation inside each bucket gives a
uniformly random permutation of all events. The inputs must share the setup (parameters,
benchmarks, morphing) and the observables; weights can be scaled per file (``k_factors``).

Shards and samples (``mode``): every file written by lhcgold records the identity of its sample
(root attribute ``sample_id``: process, sampling benchmark, cards and generator settings, not the
seed) and the number of events it was made from (``n_generated``, before cuts). Each file's weights
sum to its sample's cross section, so:

* shards of one sample (same ``sample_id``) are **averaged**: shard i's weights are multiplied by
  n_i / sum_j n_j, so the sample still sums to sigma;
* distinct samples are kept as they are (MadMiner's semantics): background and other processes add;
  signal runs at different sampling benchmarks are averaged by the readers' sampling factors
  N_b / sum N (:meth:`~lhcgold.io.events.EventFile.sampling_factors`).

Files without ``sample_id`` (MadMiner's own, older files) are refused in ``mode="auto"``: say
``mode="shards"`` (all inputs are shards of one sample) or ``mode="samples"`` (all are distinct).

Example::

    from lhcgold.io.combine import combine_and_shuffle
    combine_and_shuffle(["run_01.h5", "run_02.h5"], "events.h5", rng=1)
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..exceptions import ConfigError, EventFileError
from .events import EventFile, EventWriter

logger = logging.getLogger(__name__)

__all__ = ["CombineMode", "check_compatible", "combine_and_shuffle", "sample_factors"]

CombineMode = Literal["auto", "shards", "samples"]


@dataclass(frozen=True)
class SamplePlan:
    """How the inputs combine: a weight factor per input and the output's sample attributes."""

    factors: list[float]
    attrs: dict[str, object]


def sample_factors(files: Sequence[EventFile], mode: CombineMode = "auto") -> SamplePlan:
    """Weight factors that average shards of one sample and keep distinct samples (module docstring).

    Raises:
        ConfigError: ``mode="auto"`` and an input has no ``sample_id`` (and there are several
            inputs), or an unknown mode.
    """
    if mode not in ("auto", "shards", "samples"):
        raise ConfigError(f"unknown combine mode {mode!r}: use 'auto', 'shards' or 'samples'")
    ids = [f.attrs.get("sample_id") for f in files]
    if mode == "auto" and len(files) > 1:
        missing = [str(f.path) for f, i in zip(files, ids) if not i or i == "None"]
        if missing:
            raise ConfigError(
                f"cannot tell whether the inputs are shards of one sample or distinct samples: "
                f"{', '.join(missing)} record no sample_id (files not written by lhcgold?); "
                "say --shards (average them) or --samples (add them)"
            )
    if mode == "samples" or (mode == "auto" and len(files) == 1):
        keys = [str(k) for k in range(len(files))] if mode == "samples" else ["0"]
    elif mode == "shards":
        keys = ["0"] * len(files)
    else:
        keys = [str(i) for i in ids]
    n_gen = [_n_generated(f) for f in files]
    totals: dict[str, float] = {}
    for k, n in zip(keys, n_gen):
        totals[k] = totals.get(k, 0.0) + n
    factors = [n / totals[k] if totals[k] > 0 else 1.0 for k, n in zip(keys, n_gen)]
    attrs: dict[str, object] = {}
    uniq = sorted({str(i) for i in ids if i and i != "None"})
    if len(set(keys)) == 1:
        attrs["n_generated"] = int(sum(n_gen))
        if len(uniq) == 1:
            attrs["sample_id"] = uniq[0]
    elif mode == "auto":
        digest = hashlib.sha256("\n".join(sorted(str(i) for i in ids)).encode()).hexdigest()[:32]
        attrs["sample_id"] = "mixed:" + digest
        attrs["n_generated"] = int(sum(n_gen))
    for f, k, fac in zip(files, keys, factors):
        if fac != 1.0:
            logger.info("%s: shard of sample %s, weights x %.6g", f.path, k, fac)
    return SamplePlan(factors=factors, attrs=attrs)


def _n_generated(f: EventFile) -> float:
    n = f.attrs.get("n_generated")
    try:
        value = float(n)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    return value if np.isfinite(value) and value > 0 else float(f.n_events)


def check_compatible(files: Sequence[EventFile]) -> None:
    """Raise EventFileError unless all files share parameters, benchmarks, morphing and observables."""
    ref = files[0]
    s0 = ref.setup
    for f in files[1:]:
        s = f.setup
        where = f"{str(f.path)!r} and {str(ref.path)!r}"
        if s.parameter_names != s0.parameter_names:
            raise EventFileError(f"{where} have different parameters: {s.parameter_names} vs {s0.parameter_names}")
        if s.benchmark_names != s0.benchmark_names:
            raise EventFileError(f"{where} have different benchmarks: {s.benchmark_names} vs {s0.benchmark_names}")
        if not np.allclose(s.benchmark_values, s0.benchmark_values, rtol=1e-12, atol=1e-12):
            raise EventFileError(f"{where} have different benchmark parameter values")
        if (s.components is None) != (s0.components is None) or (
            s.components is not None
            and (
                s.components.shape != s0.components.shape  # type: ignore[union-attr]
                or not np.array_equal(s.components, s0.components)
            )
        ):
            raise EventFileError(f"{where} have different morphing components")
        if (
            s.morphing_matrix is not None
            and s0.morphing_matrix is not None
            and (
                s.morphing_matrix.shape != s0.morphing_matrix.shape
                or not np.allclose(s.morphing_matrix, s0.morphing_matrix, rtol=1e-9, atol=1e-12)
            )
        ):
            raise EventFileError(f"{where} have different morphing matrices")
        if f.observables != ref.observables:
            raise EventFileError(f"{where} have different observables: {f.observables} vs {ref.observables}")


def shared_nuisance(files: Sequence[EventFile]) -> Any:
    """The nuisance layout all files share (their nuisance weights are carried), else None (with a
    warning when only some files, or files with different layouts, have nuisance weights)."""
    layouts = [f.nuisance for f in files]
    first = layouts[0]
    if first is not None and all(
        lay is not None
        and lay.nuisance_parameters == first.nuisance_parameters
        and lay.benchmark_names == first.benchmark_names
        for lay in layouts
    ):
        return first
    if any(lay is not None for lay in layouts):
        logger.warning("the inputs do not all share one nuisance setup: their nuisance weights are dropped")
    return None


def combine_and_shuffle(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    k_factors: float | Sequence[float] = 1.0,
    shuffle: bool = True,
    rng: np.random.Generator | int | None = None,
    bucket_size: int = 200_000,
    chunk_size: int = 100_000,
    overwrite: bool = False,
    mode: CombineMode = "auto",
    attrs: dict[str, object] | None = None,
    progress: bool = False,
) -> int:
    """Concatenate events files into one, shuffled, with memory bounded by ``bucket_size`` rows.

    Args:
        inputs: events files (ours or MadMiner's) with the same setup and observables.
        output: the combined file (written atomically).
        k_factors: one factor for all inputs or one per input; multiplies the weights.
        shuffle: shuffle the events (else concatenate in order).
        rng: numpy Generator, seed or None.
        bucket_size: rows per bucket (the memory bound).
        chunk_size: rows read at a time.
        overwrite: replace an existing output.
        mode: ``"auto"`` (shards of one sample, by ``sample_id``, are averaged; distinct samples kept),
            ``"shards"`` (all inputs are shards of one sample) or ``"samples"`` (all are distinct).
        attrs: more root attributes for the output (they take precedence).
        progress: progress bars.

    Returns:
        The number of events written.

    Raises:
        EventFileError: incompatible or unreadable inputs; an existing output without ``overwrite``.
        ConfigError: bad sizes; ``mode="auto"`` with inputs that record no sample identity.
    """
    if not inputs:
        raise EventFileError("no input files")
    for name, value in (("bucket_size", bucket_size), ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    out = Path(output)
    if out.exists() and not overwrite:
        raise EventFileError(f"{str(out)!r} exists; refusing to overwrite it (pass overwrite=True)")
    files = [EventFile(p) for p in inputs]
    check_compatible(files)
    ks = [float(k_factors)] * len(files) if isinstance(k_factors, (int, float)) else [float(k) for k in k_factors]
    if len(ks) != len(files):
        raise ConfigError(f"{len(ks)} k-factors for {len(files)} inputs: give one, or one per input")
    plan = sample_factors(files, mode)
    attrs_extra = dict(attrs or {})
    factors = [k * s for k, s in zip(ks, plan.factors)]
    gen = np.random.default_rng(rng)
    setup = files[0].setup
    store_components = all(f.has_components for f in files)
    n_total = sum(f.n_events for f in files)
    n_o, n_b = len(files[0].observables), setup.n_benchmarks
    n_c = setup.components.shape[0] if (store_components and setup.components is not None) else 0
    nuisance = shared_nuisance(files)
    n_n = 0 if nuisance is None else len(nuisance.benchmark_ids)
    width = n_o + n_b + 1 + n_c + n_n
    attrs = {
        "lhcgold_stage": "combine",
        "inputs": [str(f.path) for f in files],
        "shuffled": bool(shuffle),
        "k_factors": ks,
        "sample_factors": plan.factors,
        "combine_mode": mode,
        **plan.attrs,
    }
    for key in ("card_hash", "level", "detector"):
        vals = {str(f.attrs.get(key)) for f in files}
        if len(vals) == 1 and key in files[0].attrs:
            attrs[key] = files[0].attrs[key]
    attrs.update(attrs_extra)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="combine", total=2 * n_total if shuffle else n_total, unit=" events")

    def rows(chunk, k: float) -> np.ndarray:  # type: ignore[no-untyped-def]
        parts = [chunk.observations, chunk.weights * k, chunk.sampling_benchmarks[:, None].astype(np.float64)]
        if n_c:
            parts.append(chunk.component_weights * k)
        if n_n:
            parts.append(chunk.nuisance_weights * k)
        return np.concatenate(parts, axis=1)

    def write(writer: EventWriter, block: np.ndarray) -> None:
        c0 = n_o + n_b + 1
        writer.append(
            block[:, :n_o],
            block[:, n_o : n_o + n_b],
            block[:, n_o + n_b].astype(np.int64),
            component_weights=block[:, c0 : c0 + n_c] if n_c else None,
            nuisance_weights=block[:, c0 + n_c :] if n_n else None,
        )

    definitions = list(files[0].definitions) if files[0].definitions else None
    try:
        with EventWriter(
            out,
            setup,
            files[0].observables,
            definitions=definitions,
            overwrite=overwrite,
            store_components=store_components,
            attrs=attrs,
            negative_weights="keep",
            nuisance=nuisance,
        ) as writer:
            if not shuffle or n_total == 0:
                for f, k in zip(files, factors):
                    for chunk in f.iter_chunks(chunk_size):
                        write(writer, rows(chunk, k))
                        if bar is not None:
                            bar.update(len(chunk))
                return n_total
            n_buckets = max(1, math.ceil(n_total / bucket_size))
            with tempfile.TemporaryDirectory(dir=out.parent, prefix=".lhcgold-shuffle-") as tmp:
                paths = [Path(tmp) / f"bucket_{b:05d}.bin" for b in range(n_buckets)]
                handles = [open(p, "wb") for p in paths]
                try:
                    for f, k in zip(files, factors):
                        for chunk in f.iter_chunks(chunk_size):
                            block = rows(chunk, k)
                            target = gen.integers(0, n_buckets, size=len(block))
                            order = np.argsort(target, kind="stable")
                            bounds = np.searchsorted(target[order], np.arange(n_buckets + 1))
                            for b in range(n_buckets):
                                lo, hi = bounds[b], bounds[b + 1]
                                if hi > lo:
                                    handles[b].write(np.ascontiguousarray(block[order[lo:hi]]).tobytes())
                            if bar is not None:
                                bar.update(len(block))
                finally:
                    for h in handles:
                        h.close()
                for p in paths:
                    block = np.fromfile(p, dtype=np.float64).reshape(-1, width)
                    p.unlink()
                    if len(block):
                        write(writer, block[gen.permutation(len(block))])
                    if bar is not None:
                        bar.update(len(block))
    finally:
        if bar is not None:
            bar.close()
    logger.info("combined %d events from %d files into %s", n_total, len(files), out)
    return n_total
