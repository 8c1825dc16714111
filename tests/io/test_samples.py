"""TrainingSet HDF5 I/O: round trip, atomic refusal to overwrite, foreign files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from lhcgold.exceptions import EventFileError
from lhcgold.io.samples import TrainingSet, read_training_set, write_training_set


def _set(n=50):
    g = np.random.default_rng(0)
    return TrainingSet(
        kind="ratio",
        x=g.normal(size=(n, 3)),
        theta0=g.normal(size=(n, 2)),
        theta1=np.zeros((n, 2)),
        y=(np.arange(n) % 2).astype(float),
        log_r_xz=g.normal(size=n),
        t_xz=g.normal(size=(n, 2)),
        observables=("a", "b", "c"),
        parameters=("p", "q"),
        metadata={"seed": 3, "source": "x.h5"},
    )


def test_round_trip(tmp_path):
    ts = _set()
    path = write_training_set(tmp_path / "s.h5", ts)
    back = read_training_set(path)
    for name, arr in ts.arrays().items():
        np.testing.assert_array_equal(getattr(back, name), arr)
    assert back.kind == "ratio" and back.observables == ("a", "b", "c") and back.parameters == ("p", "q")
    assert back.metadata == {"seed": 3, "source": "x.h5"}
    assert back.gold == {"r_xz", "t_xz"} and back.t_xz1 is None
    np.testing.assert_allclose(back.r_xz, np.exp(ts.log_r_xz))
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]  # no temporary left behind


def test_refuses_overwrite_and_foreign_files(tmp_path):
    path = write_training_set(tmp_path / "s.h5", _set())
    with pytest.raises(EventFileError, match="overwrite"):
        write_training_set(path, _set())
    write_training_set(path, _set(10), overwrite=True)
    assert len(read_training_set(path)) == 10
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1]
    with pytest.raises(EventFileError, match="not an lhcgold training-set"):
        read_training_set(tmp_path / "other.h5")
    with pytest.raises(EventFileError, match="does not exist"):
        read_training_set(tmp_path / "missing.h5")


def test_shape_checks_and_subset():
    with pytest.raises(EventFileError, match="rows"):
        TrainingSet(kind="local", x=np.zeros((3, 1)), t_xz=np.zeros((2, 1)))
    with pytest.raises(EventFileError, match="kind"):
        TrainingSet(kind="weird", x=np.zeros((3, 1)))
    sub = _set().subset(np.arange(5))
    assert len(sub) == 5 and sub.theta0.shape == (5, 2)
