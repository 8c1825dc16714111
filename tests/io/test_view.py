"""The events view: partitions as before, chunked = whole, memory flat in the file size, typed, σ semantics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import ConfigError
from lhcgold.generate.embedded import generate
from lhcgold.io.events import EventFile, EventWriter
from lhcgold.io.view import EventsView, ViewChunk, open_events, partition_bounds
from lhcgold.physics.morphing import component_factors
from lhcgold.setup import build_setup

DY = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, range: [-0.1, 0.1]}
  - {name: C_LR, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0, C_LR: 0}
  ll: {C_LL: 0.1, C_LR: 0}
  lr: {C_LL: 0, C_LR: -0.1}
  b3: {C_LL: -0.1, C_LR: 0}
  b4: {C_LL: 0, C_LR: 0.1}
  b5: {C_LL: 0.05, C_LR: 0.05}
morphing: {max_overall_power: 2}
process: {name: drell_yan, mll_gev: [500, 3000], scale_gev: 91.1876}
generate: {seed: 5, adapt: {iterations: 2, points: 2000}}
"""
N_EVENTS = 1003  # not a multiple of any chunk size or split


@pytest.fixture(scope="module")
def dy_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real events file from the embedded generator (Drell-Yan, toy size)."""
    card = load_card_text(DY)
    res = generate(card, n_events=N_EVENTS, rng=5)
    return res.write_events(tmp_path_factory.mktemp("view") / "dy.h5", setup=build_setup(card))


def _cat(chunks: list[ViewChunk]) -> dict[str, np.ndarray]:
    return {
        name: np.concatenate([getattr(c, name) for c in chunks])
        for name in ("observations", "weights", "sampling_benchmarks", "component_weights", "m")
    }


@pytest.mark.parametrize(("test_split", "validation_split"), [(0.2, 0.2), (0.25, 0.1), (0.3, 0.0)])
def test_partitions_are_madminers_contiguous_slices(dy_events: Path, test_split: float, validation_split: float):
    """train = [0, round(f_train N)), validation up to round((1 - f_test) N), test to N: the split that
    augment, fisher, limits and run used before the view, written out independently here."""
    n = N_EVENTS
    f_train = 1.0 - test_split - validation_split
    expected = {
        "train": (0, int(round(f_train * n)), f_train),
        "validation": (int(round(f_train * n)), int(round((1 - test_split) * n)), validation_split),
        "test": (int(round((1 - test_split) * n)), n, test_split),
    }
    view = open_events(dy_events)
    assert view.n_events == n and view.is_whole_file
    seen = []
    for name, (lo, hi, frac) in expected.items():
        if frac == 0:
            with pytest.raises(ConfigError, match=f"no usable {name} partition.*empty"):
                view.partition(name, test_split=test_split, validation_split=validation_split)
            continue
        part = open_events(dy_events, partition=name, test_split=test_split, validation_split=validation_split)
        assert (part.start, part.stop_index, part.n_events) == (lo, hi, hi - lo)
        assert part.weight_scale == 1.0 / frac and part.partition_name == name
        assert partition_bounds(n, name, test_split=test_split, validation_split=validation_split) == (lo, hi, 1 / frac)
        seen.extend(range(lo, hi))
    assert seen == list(range(n))  # disjoint and complete


def test_run_and_augment_test_partitions_are_the_views(dy_events: Path):
    """``lhcgold run``'s test/train samples and augment's test draws use the view's partitions."""
    from lhcgold.augment import BenchmarkTheta, sample_test
    from lhcgold.infer.mainjob import partition_sample

    for name in ("test", "train"):
        got, view = partition_sample(dy_events, name), open_events(dy_events, partition=name)
        assert (got.start, got.stop_index, got.weight_scale) == (view.start, view.stop_index, view.weight_scale)
    ts = sample_test(dy_events, theta=BenchmarkTheta("sm"), n_samples=300, rng=1)
    test_x = open_events(dy_events, partition="test").load().observations
    rows = {r.tobytes() for r in test_x}
    assert all(np.ascontiguousarray(x).tobytes() in rows for x in ts.x)


@pytest.mark.parametrize("partition", [None, "train", "test"])
def test_chunked_equals_whole_and_the_raw_file(dy_events: Path, partition: str | None):
    view = open_events(dy_events)
    whole = view.load(partition=partition)
    for chunk_size in (7, 137, 10_000):
        got = _cat(list(view.iter_chunks(partition=partition, chunk_size=chunk_size)))
        for name, arr in got.items():
            np.testing.assert_array_equal(arr, getattr(whole, name), err_msg=f"{name}, chunk_size {chunk_size}")
    # against the low-level reader, which knows nothing of partitions or factors
    part = view if partition is None else view.partition(partition)
    raw = EventFile(dy_events).read(part.start, part.stop_index)
    np.testing.assert_array_equal(whole.observations, raw.observations)
    np.testing.assert_array_equal(whole.weights, raw.weights)
    np.testing.assert_array_equal(whole.component_weights, raw.component_weights)
    np.testing.assert_array_equal(whole.m, raw.component_weights * part.weight_scale)  # a single run: share 1


def test_memory_is_flat_in_the_file_size(dy_events: Path):
    """One chunk at a time, never more than chunk_size events: the number of chunks grows with the
    file, their size does not."""
    view = open_events(dy_events)
    for chunk_size in (50, 200):
        chunks = view.iter_chunks(chunk_size=chunk_size)
        first = next(chunks)  # lazy: the first chunk arrives before the rest is read
        sizes = [len(first)] + [len(c) for c in chunks]
        assert len(sizes) == math.ceil(N_EVENTS / chunk_size)
        assert max(sizes) == chunk_size and sum(sizes) == N_EVENTS
    test = view.partition("test")
    assert len(list(test.iter_chunks(chunk_size=64))) == math.ceil(test.n_events / 64)
    # a file too large to load whole is refused with a pointer to streaming
    with pytest.raises(ConfigError, match="above the 0 MiB limit of load.*iter_chunks"):
        view.load(max_bytes=1000)


def test_typed_description(dy_events: Path):
    view = open_events(dy_events)
    ef = EventFile(dy_events)
    assert view.observables == tuple(ef.observables) and len(view.observables) > 3
    assert view.observable_dtype == np.float64
    assert view.parameter_names == ("C_LL", "C_LR")
    assert view.benchmark_names == ("sm", "ll", "lr", "b3", "b4", "b5")
    assert view.components is not None and view.components.shape == (6, 2)
    chunk = next(view.iter_chunks(chunk_size=10))
    assert chunk.observations.dtype == chunk.weights.dtype == chunk.component_weights.dtype == np.float64
    assert chunk.sampling_benchmarks.dtype == np.int64 and chunk.weights.shape == (10, 6)
    assert int(view.sampling_counts.sum()) == N_EVENTS
    assert "dy.h5" in repr(view.partition("test")) and "partition='test'" in repr(view.partition("test"))


def test_partition_cross_sections_add_up(dy_events: Path):
    """Each partition's weights are scaled by 1/fraction: fraction × its Σm over the partitions is the
    file's Σm, and the whole file's component σ is the generator's stored precise value."""
    view = open_events(dy_events)
    total = view.event_component_xsec()
    parts = sum(
        view.partition(p).event_component_xsec() / view.partition(p).weight_scale
        for p in ("train", "validation", "test")
    )
    np.testing.assert_allclose(parts, total, rtol=1e-12)
    np.testing.assert_allclose(view.component_xsec(), EventFile(dy_events).component_xsec(), rtol=0)
    # and the weights morph: w_b = m · f(θ_b) at every benchmark
    c = view.load()
    f = component_factors(view.setup.benchmark_values, view.components)
    np.testing.assert_allclose(c.weights, c.component_weights @ f.T, rtol=1e-9, atol=1e-300)


def test_runs_at_several_benchmarks_get_madminers_shares(tmp_path: Path, dy_events: Path):
    """A file that combines runs generated at two benchmarks (each summing to the full σ): the view's
    ``m`` weighs each run by its share of the signal events, background keeps weight 1."""
    src = EventFile(dy_events).read()
    ids = np.array([0] * 600 + [3] * 300 + [-1] * (N_EVENTS - 900))
    path = tmp_path / "runs.h5"
    with EventWriter(path, EventFile(dy_events).setup, EventFile(dy_events).observables, store_components=True) as w:
        w.append(src.observations, src.weights, sampling_benchmarks=ids, component_weights=src.component_weights)
    whole = open_events(path).load()
    share = np.where(ids == 0, 600 / 900, np.where(ids == 3, 300 / 900, 1.0))
    np.testing.assert_allclose(whole.m, src.component_weights * share[:, None], rtol=1e-15)
    test = open_events(path, partition="test").load()
    np.testing.assert_allclose(test.m, src.component_weights[test.start :] * share[test.start :, None] * 5.0)


def test_views_of_views_and_bad_ranges(dy_events: Path):
    view = EventsView(dy_events, 100, 300, weight_scale=2.0)
    assert EventsView(view).file is view.file and view.n_events == 200 and not view.is_whole_file
    sub = view.partition("test")  # the last 20 % of the view, scaled once more
    assert (sub.start, sub.stop_index, sub.weight_scale) == (260, 300, 2.0 * 5.0)
    assert view.partition("all") is not view and open_events(dy_events).partition("all").is_whole_file
    with pytest.raises(AttributeError, match="read-only"):
        view.start = 0  # type: ignore[misc]
    with pytest.raises(ConfigError, match="invalid event range"):
        EventsView(dy_events, 10, 5)
    with pytest.raises(ConfigError, match="weight_scale must be positive"):
        EventsView(dy_events, weight_scale=float("nan"))
    with pytest.raises(ConfigError, match="unknown partition 'tset'"):
        open_events(dy_events, partition="tset")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="chunk_size must be positive"):
        next(view.iter_chunks(chunk_size=0))
    with pytest.raises(ConfigError, match="whole events file.*partition="):
        from lhcgold.augment import BenchmarkTheta, sample_plain

        sample_plain(view, theta=BenchmarkTheta("sm"), n_samples=10)
