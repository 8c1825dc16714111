"""Augmentation carries the nuisance parameters: per-sample joint ratios and the joint nuisance score.

Checked against the ratios written into the events file and against finite differences of
log p(x,z|θ,ν) = log[w_i(θ) g_i(ν) / Σ_j w_j(θ) g_j(ν)] computed here from the events directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold.augment import ArrayEvents, Point, sample_local, sample_ratio
from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.io.events import EventWriter
from lhcgold.io.lhe_weights import NuisanceLayout
from lhcgold.io.samples import TrainingSet, read_training_set, write_training_set
from lhcgold.io.view import as_view, partition_bounds
from lhcgold.physics.morphing import component_factors

COMPS = np.array([[0], [1], [2]])
LAYOUT = NuisanceLayout(
    systematics=(("scale", "scale", "0.5,1.0,2.0", "mu"), ("extra", "norm", "0.1", "None")),
    nuisance_parameters=(
        ("scale_nuisance_param_0", "scale", "s_up", "s_down"),
        ("extra_nuisance_param_0", "extra", "e_up", "None"),
    ),
    benchmark_ids={"e_up": "e_up", "s_down": "s_down", "s_up": "s_up"},
)


def _toy(n: int, seed: int = 3) -> dict[str, np.ndarray]:
    """dσ/dx ∝ (1 + θx)² on [-1, 1] with a two-sided variation that depends on a latent z and a one-sided one."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    z = rng.integers(0, 2, n)
    m = np.stack([np.ones(n), 2 * x, x * x], axis=1) * (2.0 / n)
    up = np.stack([1.0 + 0.1 * x + 0.08 * (2 * z - 1), np.full(n, 1.05)], axis=1)
    down = np.stack([1.0 - 0.05 * x, 1.0 / up[:, 1]], axis=1)
    return {"x": x[:, None], "m": m, "up": up, "down": down}


def _events_file(path: Path, toy: dict[str, np.ndarray], make_setup) -> Path:
    setup = make_setup(["theta"], [(-1.0, 1.0)], COMPS, np.array([[0.0], [0.5], [-0.5]]))
    w = toy["m"] @ component_factors(setup.benchmark_values, COMPS).T
    ref = w[:, 0]
    cols = {"s_up": toy["up"][:, 0], "s_down": toy["down"][:, 0], "e_up": toy["up"][:, 1]}
    nuis = np.stack([ref * cols[b] for b in LAYOUT.benchmark_names], axis=1)
    with EventWriter(path, setup, ["x"], store_components=True, nuisance=LAYOUT) as wr:
        wr.append(toy["x"], w, sampling_benchmarks=0, component_weights=toy["m"], nuisance_weights=nuis)
    return path


@pytest.fixture
def toy_file(tmp_path: Path, helpers) -> tuple[Path, dict[str, np.ndarray]]:
    toy = _toy(4000)
    return _events_file(tmp_path / "nuis.h5", toy, helpers.make_setup), toy


def _event_index(x_samples: np.ndarray, x_events: np.ndarray) -> np.ndarray:
    order = np.argsort(x_events[:, 0])
    pos = np.searchsorted(x_events[order, 0], x_samples[:, 0])
    idx = order[np.clip(pos, 0, len(order) - 1)]
    assert np.array_equal(x_events[idx, 0], x_samples[:, 0]), "every sample is one of the events"
    return idx


def test_view_streams_the_written_ratios(toy_file):
    path, toy = toy_file
    view = as_view(path)
    assert view.nuisance_names == ("scale_nuisance_param_0", "extra_nuisance_param_0")
    chunks = list(view.iter_chunks(chunk_size=700))
    np.testing.assert_allclose(np.concatenate([c.nuisance_up for c in chunks]), toy["up"], rtol=1e-12)
    np.testing.assert_allclose(np.concatenate([c.nuisance_down for c in chunks]), toy["down"], rtol=1e-12)


def _fd_nuisance_score(toy: dict[str, np.ndarray], theta: float, start: int, stop: int, h: float = 1e-5):
    """∂/∂ν_k log[w_i g_i(ν) / Σ_j w_j g_j(ν)] at ν = 0 for every event, by central differences."""
    w = toy["m"] @ component_factors(np.array([[theta]]), COMPS)[0]
    up, down = toy["up"], toy["down"]
    a, b = 0.5 * np.log(up / down), 0.5 * np.log(up * down)
    out = np.zeros(up.shape)
    for k in range(up.shape[1]):
        vals = []
        for nu in (h, -h):
            g = np.exp(a[:, k] * nu + b[:, k] * nu * nu)
            vals.append(np.log(w * g) - np.log((w * g)[start:stop].sum()))
        out[:, k] = (vals[0] - vals[1]) / (2 * h)
    return out


@pytest.mark.parametrize("source", ["file", "arrays"])
def test_local_sample_carries_ratios_and_nuisance_score(toy_file, source):
    path, toy = toy_file
    events = (
        path
        if source == "file"
        else ArrayEvents(
            toy["x"],
            toy["m"],
            COMPS,
            ["theta"],
            nuisance_names=["scale_nuisance_param_0", "extra_nuisance_param_0"],
            nuisance_up=toy["up"],
            nuisance_down=toy["down"],
        )
    )
    ts = sample_local(events, theta=Point([0.4]), n_samples=600, rng=5, nuisances=True)
    assert ts.nuisances == ("scale_nuisance_param_0", "extra_nuisance_param_0")
    assert {"nu_ratio", "t_xz_nu", "t_xz"} <= ts.gold
    idx = _event_index(ts.x, toy["x"])
    np.testing.assert_allclose(ts.nu_up, toy["up"][idx], rtol=1e-12)
    np.testing.assert_allclose(ts.nu_down, toy["down"][idx], rtol=1e-12)
    start, stop, _ = partition_bounds(len(toy["x"]), "train")
    expected = _fd_nuisance_score(toy, 0.4, start, stop)[idx]
    np.testing.assert_allclose(ts.t_xz_nu, expected, atol=1e-7)
    # the one-sided normalisation-like nuisance changes no shape: its joint score is 0
    np.testing.assert_allclose(ts.t_xz_nu[:, 1], 0.0, atol=1e-12)


def test_ratio_sample_nuisance_score_at_theta0(toy_file):
    path, toy = toy_file
    ts = sample_ratio(path, theta0=Point([0.6]), theta1=Point([0.0]), n_samples=400, rng=2, nuisances=True)
    idx = _event_index(ts.x, toy["x"])
    start, stop, _ = partition_bounds(len(toy["x"]), "train")
    np.testing.assert_allclose(ts.t_xz_nu, _fd_nuisance_score(toy, 0.6, start, stop)[idx], atol=1e-7)


def test_training_set_round_trip_keeps_nuisances(toy_file, tmp_path):
    path, _ = toy_file
    ts = sample_local(path, theta=Point([0.0]), n_samples=50, rng=1, nuisances=True)
    back = read_training_set(write_training_set(tmp_path / "s.h5", ts))
    assert back.nuisances == ts.nuisances
    for name in ("nu_up", "nu_down", "t_xz_nu"):
        np.testing.assert_array_equal(getattr(back, name), getattr(ts, name))
    assert back.subset(np.arange(5)).nu_up.shape == (5, 2)


def test_samples_without_nuisances_stay_as_before(toy_file):
    path, _ = toy_file
    ts = sample_local(path, theta=Point([0.0]), n_samples=50, rng=1)
    assert ts.nu_up is None and ts.t_xz_nu is None and ts.nuisances == ()


def test_nuisances_requested_from_a_file_without_them(tmp_path, helpers):
    toy = _toy(200)
    setup = helpers.make_setup(["theta"], [(-1.0, 1.0)], COMPS, np.array([[0.0], [0.5], [-0.5]]))
    path = helpers.write_events(tmp_path / "plain.h5", setup, ["x"], toy["x"], toy["m"])
    with pytest.raises(ConfigError, match="no nuisance weights.*--systematics"):
        sample_local(path, theta=Point([0.0]), n_samples=10, rng=1, nuisances=True)


def test_bad_nuisance_arrays():
    toy = _toy(20)
    with pytest.raises(EventFileError, match="shape"):
        ArrayEvents(toy["x"], toy["m"], COMPS, ["t"], nuisance_names=["a"], nuisance_up=toy["up"])
    with pytest.raises(EventFileError, match="positive and finite"):
        ArrayEvents(
            toy["x"],
            toy["m"],
            COMPS,
            ["t"],
            nuisance_names=["a"],
            nuisance_up=-toy["up"][:, :1],
            nuisance_down=toy["down"][:, :1],
        )
    with pytest.raises(EventFileError, match="columns for 1 nuisances"):
        TrainingSet(kind="local", x=toy["x"], nu_up=toy["up"], nu_down=toy["down"], nuisances=("a",))
