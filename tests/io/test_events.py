"""The events file: MadMiner layout, chunked streaming, atomic writes, clear errors on bad files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import EventFileError
from lhcgold.io.events import EventFile, EventWriter
from lhcgold.io.setupfile import read_setup, write_setup
from lhcgold.physics import gold
from lhcgold.setup import build_setup

CARD = """
lhcgold_card: 1
parameters:
  - {name: a, max_power: 2, range: [-1, 1]}
  - {name: b, max_power: 2, range: [-1, 1], lha_block: dim6, lha_id: 5, card_scale: 16.52}
benchmarks: {sm: {a: 0, b: 0}}
morphing: {max_overall_power: 2, seed: 5}
"""


@pytest.fixture()
def setup():
    return build_setup(load_card_text(CARD))


def _events(setup, rng, n):
    # |a + b.theta|^2 + |c.theta|^2 in the component basis (0,0),(0,1),(0,2),(1,0),(1,1),(2,0): positive
    a, b, c = rng.uniform(0.5, 1.5, n), rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    m = np.stack(
        [
            a**2,
            2 * a * b[:, 1],
            b[:, 1] ** 2 + c[:, 1] ** 2,
            2 * a * b[:, 0],
            2 * (b[:, 0] * b[:, 1] + c[:, 0] * c[:, 1]),
            b[:, 0] ** 2 + c[:, 0] ** 2,
        ],
        axis=1,
    )
    w = gold.event_weights(m, setup.components, setup.benchmark_values).T  # (n, B)
    x = rng.normal(size=(n, 3))
    return x, w, m


def test_roundtrip_in_chunks_with_components(tmp_path, setup):
    rng = np.random.default_rng(0)
    x, w, m = _events(setup, rng, 2500)
    path = tmp_path / "events.h5"
    with EventWriter(path, setup, ["x0", "x1", "x2"], store_components=True, attrs={"seed": 42}) as writer:
        for lo in range(0, 2500, 1000):
            writer.append(
                x[lo : lo + 1000], w[lo : lo + 1000], sampling_benchmarks=0, component_weights=m[lo : lo + 1000]
            )
    ef = EventFile(path)
    assert ef.n_events == 2500 and ef.observables == ("x0", "x1", "x2") and ef.has_components
    assert ef.attrs["seed"] == 42 and ef.attrs["lhcgold_format_version"] == "1.0"
    chunks = list(ef.iter_chunks(700))
    assert [len(c) for c in chunks] == [700, 700, 700, 400]
    np.testing.assert_array_equal(np.concatenate([c.observations for c in chunks]), x)
    np.testing.assert_array_equal(np.concatenate([c.weights for c in chunks]), w)
    np.testing.assert_allclose(ef.xsec_per_benchmark(), w.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ef.component_xsec(), m.sum(axis=0), rtol=1e-12)
    # morphing the benchmark weights gives back the stored components
    np.testing.assert_allclose(setup.morpher.components_from_benchmarks(w[:, :6]), m, rtol=1e-8, atol=1e-8)
    assert read_setup(path).parameters[1].card_scale == 16.52


def test_madminer_layout_exactly(tmp_path, setup):
    rng = np.random.default_rng(1)
    x, w, _ = _events(setup, rng, 10)
    path = tmp_path / "events.h5"
    with EventWriter(path, setup, ["x0", "x1", "x2"]) as writer:
        writer.append(x[:6], w[:6], sampling_benchmarks=0)
        writer.append(x[6:], w[6:], sampling_benchmarks=-1)
    with h5py.File(path) as f:
        assert f["parameters/names"].dtype == np.dtype("S256")
        assert f["parameters/names"][()].tolist() == [b"a", b"b"]
        assert f["parameters/transforms"][()].tolist() == [b"theta", b"16.52*theta+0.0"]
        assert f["parameters/val_ranges"].shape == (2, 2)
        assert f["benchmarks/values"].shape == (6, 2) and f["benchmarks/is_reference"][()].tolist()[0] == 1
        assert f["morphing/components"].dtype == np.int64 and f["morphing/morphing_matrix"].shape == (6, 6)
        assert f["observables/definitions"][()].tolist() == [b"None"] * 3
        assert f["samples/weights"].shape == (10, 6) and f["samples/sampling_benchmarks"].dtype == np.int64
        assert f["sample_summary/signal_events"][()].tolist() == [6, 0, 0, 0, 0, 0]
        assert int(f["sample_summary/background_events"][()]) == 4


def test_existing_output_is_never_overwritten_silently(tmp_path, setup):
    path = tmp_path / "events.h5"
    path.write_bytes(b"precious")
    with pytest.raises(EventFileError, match="refusing to overwrite"):
        EventWriter(path, setup, ["x"])
    assert path.read_bytes() == b"precious"
    with pytest.raises(EventFileError):
        write_setup(path, setup)
    write_setup(path, setup, overwrite=True)
    assert read_setup(path).benchmark_names == setup.benchmark_names


def test_failed_write_leaves_nothing_behind(tmp_path, setup):
    path = tmp_path / "events.h5"
    rng = np.random.default_rng(2)
    x, w, _ = _events(setup, rng, 5)
    with pytest.raises(RuntimeError), EventWriter(path, setup, ["x0", "x1", "x2"]) as writer:
        writer.append(x, w)
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "bad, message",
    [
        ("nan", "event 3 has a non-finite weight"),
        ("negative", "event 3 has a negative weight"),
        ("shape", r"weights must have shape \(n, 6\)"),
        ("obs", r"observations must have shape \(5, 3\)"),
    ],
)
def test_bad_chunks_are_rejected(tmp_path, setup, bad, message):
    rng = np.random.default_rng(3)
    x, w, _ = _events(setup, rng, 5)
    if bad == "nan":
        w[3, 2] = np.nan
    elif bad == "negative":
        w[3, 1] = -1.0
    elif bad == "shape":
        w = w[:, :4]
    else:
        x = x[:, :2]
    with pytest.raises(EventFileError, match=message), EventWriter(tmp_path / "e.h5", setup, ["x0", "x1", "x2"]) as wr:
        wr.append(x, w)
    assert not (tmp_path / "e.h5").exists()


def test_truncated_foreign_and_inconsistent_files(tmp_path, setup):
    rng = np.random.default_rng(4)
    x, w, _ = _events(setup, rng, 2000)
    good = tmp_path / "good.h5"
    with EventWriter(good, setup, ["x0", "x1", "x2"]) as writer:
        writer.append(x, w)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(EventFileError, match="truncated or foreign"):
        EventFile(truncated)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(EventFileError, match="not a readable HDF5"):
        EventFile(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(EventFileError, match="not a MadMiner/lhcgold file"):
        EventFile(foreign)
    with pytest.raises(EventFileError, match="not found"):
        EventFile(tmp_path / "missing.h5")
    with h5py.File(good, "a") as f:
        del f["samples/sampling_benchmarks"]
        f["samples/sampling_benchmarks"] = np.zeros(7, dtype=np.int64)
    with pytest.raises(EventFileError, match="inconsistent sample shapes"):
        EventFile(good)
