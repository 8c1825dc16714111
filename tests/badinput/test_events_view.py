"""Bad events files through the events view (``lhcgold.io.view``) and the commands reading through it
(augment, fisher, limits): one clear error naming the file (and the event), nothing left behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.config import Benchmark, Parameter, Setup
from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.io.events import EventWriter
from lhcgold.io.view import open_events
from lhcgold.physics.morphing import Morpher, component_factors

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

COMPS = np.array([[0], [1], [2]])
BASIS = np.array([[0.0], [1.0], [-1.0]])
N = 500


def _write(path: Path) -> Path:
    setup = Setup(
        parameters=(Parameter(name="ca", max_power=2, range=(-2.0, 2.0)),),
        benchmarks=tuple(Benchmark(n, {"ca": float(v)}) for n, v in zip(("sm", "p", "m"), BASIS[:, 0])),
        components=COMPS,
        morphing_matrix=Morpher(COMPS, BASIS).matrix,
    )
    rng = np.random.default_rng(3)
    x = rng.normal(size=(N, 2))
    m = np.stack([np.ones(N), 0.2 * x[:, 0], 0.05 * (1 + x[:, 1] ** 2)], axis=1) / N
    w = m @ component_factors(setup.benchmark_values, COMPS).T
    with EventWriter(path, setup, ["u", "v"], store_components=True) as wr:
        wr.append(x, w, sampling_benchmarks=0, component_weights=m)
    return path


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set(dataset: str, index: tuple[int, ...], value: float) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            f[dataset][index] = value

    return edit


def _shorten_observations(path: Path) -> None:
    with h5py.File(path, "r+") as f:
        f["samples/observations"].resize(N - 10, axis=0)


def _drop_components_rows(path: Path) -> None:
    with h5py.File(path, "r+") as f:
        f["lhcgold/component_weights"].resize(N - 1, axis=0)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


#: case -> (damage, message on open or on reading the test partition)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (_truncate, r"events\.h5.*(truncated|not a readable HDF5)"),
    "empty_file": (_empty, r"events\.h5.*(truncated|not a readable HDF5|empty)"),
    "observations_shorter_than_weights": (_shorten_observations, r"inconsistent sample shapes"),
    "component_rows_missing": (_drop_components_rows, r"component weights and weights differ in length"),
    "nan_component_weight": (
        _set("lhcgold/component_weights", (N - 3, 1), np.nan),
        rf"events\.h5: event {N - 3} has a non-finite",
    ),
    "inf_observable": (_set("samples/observations", (N - 50, 0), -np.inf), rf"event {N - 50} has a non-finite"),
    "nan_weight": (_set("samples/weights", (N - 7, 2), np.nan), rf"event {N - 7} has a non-finite weight 'm'"),
    "bad_sampling_id": (_set("samples/sampling_benchmarks", (N - 1,), 9), rf"event {N - 1} has sampling benchmark"),
}


@pytest.fixture
def events(tmp_path: Path) -> Path:
    return _write(tmp_path / "events.h5")


@pytest.mark.parametrize("case", sorted(CASES))
def test_view_names_the_damage(case: str, events: Path, tmp_path: Path) -> None:
    damage, match = CASES[case]
    damage(events)
    before = snapshot(tmp_path)
    with pytest.raises(EventFileError, match=match):
        view = open_events(events, partition="test")
        for _ in view.iter_chunks(chunk_size=64):
            pass
    assert_no_leftovers(tmp_path, before)


@pytest.mark.parametrize("case", ["truncated", "nan_component_weight", "bad_sampling_id"])
@pytest.mark.parametrize(
    "command",
    [
        ["fisher", "{ev}", "-o", "{d}/out.json", "--theta", "sm"],
        ["limits", "{ev}", "-m", "rate", "-o", "{d}/out.json", "--resolution", "3"],
        ["augment", "{ev}", "-o", "{d}/out.h5", "--kind", "local", "--theta", "sm", "-n", "50", "--partition", "test"],
    ],
    ids=["fisher", "limits", "augment"],
)
def test_commands_reading_through_the_view(case: str, command: list[str], events: Path, tmp_path: Path, run_cli):
    damage, match = CASES[case]
    damage(events)
    before = snapshot(tmp_path)
    res = run_cli("-q", *[a.format(ev=events, d=tmp_path) for a in command])
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"partition": "test", "test_split": 0.0}, r"has no usable test partition.*empty"),
        ({"partition": "validation", "validation_split": 0.0}, r"has no usable validation partition.*empty"),
        ({"partition": "train", "test_split": 0.5, "validation_split": 0.5}, r"invalid splits"),
        ({"partition": "trian"}, r"unknown partition 'trian'"),
    ],
)
def test_bad_partitions(kwargs: dict, match: str, events: Path) -> None:
    with pytest.raises(ConfigError, match=match):
        open_events(events, **kwargs)


@pytest.mark.parametrize(
    ("theta", "match"),
    [
        ("caa=0.1", r"unknown parameter 'caa'.*did you mean 'ca'"),
        ("ca=0.1,ca=0.2", r"ca given twice"),
        ("0.1,0.2", r"theta '0.1,0.2' needs 1 values \(ca\), got 2"),
        ("smm", r"unknown benchmark 'smm'.*did you mean 'sm'"),
        ("ca=x", r"'x' is not a number for ca"),
        ("ca=0.1,0.2", r"name every value"),
    ],
)
def test_bad_theta_on_the_command_line(theta: str, match: str, events: Path, tmp_path: Path, run_cli) -> None:
    before = snapshot(tmp_path)
    res = run_cli("-q", "fisher", events, "-o", tmp_path / "out.json", "--theta", theta)
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)
