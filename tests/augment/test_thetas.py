"""θ specifications: resolution, splits, range checks, parsing."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.augment import (
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
from lhcgold.augment.thetas import resolve
from lhcgold.exceptions import ConfigError

KW = dict(
    parameter_names=("a", "b"),
    benchmark_names=("sm", "w"),
    benchmark_values=np.array([[0.0, 0.0], [1.0, -1.0]]),
    ranges=np.array([[-2.0, 2.0], [-2.0, 2.0]]),
)


def _r(spec, n=10, seed=0):
    return resolve(spec, n_samples=n, rng=np.random.default_rng(seed), **KW)


def test_benchmarks_and_points():
    th, cnt, idx = _r(BenchmarkTheta("w"))
    np.testing.assert_array_equal(th, [[1.0, -1.0]]) and None
    assert cnt.tolist() == [10] and idx.tolist() == [1]
    th, cnt, _ = _r(Benchmarks(["sm", "w"]), n=11)
    assert cnt.tolist() == [6, 5]
    th, cnt, _ = _r(Points([[0, 0], [1, 1], [0.5, 0.5]]), n=10)
    assert cnt.sum() == 10 and len(th) == 3
    th, cnt, _ = _r(ThetaGrid([(-1, 1, 3), (-1, 1, 2)]), n=12)
    assert th.shape == (6, 2) and cnt.tolist() == [2] * 6
    np.testing.assert_allclose(np.unique(th[:, 0]), [-1, 0, 1])


def test_random_specs():
    th, cnt, _ = _r(RandomMorphing(4, Prior(Flat(-1, 1), Gaussian(0, 0.1))), n=10)
    assert th.shape == (4, 2) and cnt.sum() == 10
    assert np.all(np.abs(th[:, 0]) <= 1)
    th, cnt, _ = _r(Prior(Flat(-1, 1)), n=7)
    assert th.shape == (7, 2) and np.all(cnt == 1)


def test_out_of_range_and_unknown_names():
    with pytest.raises(ConfigError, match="outside the parameter range"):
        _r(Point([3.0, 0.0]))
    with pytest.raises(ConfigError, match="exceeds the parameter range"):
        _r(Prior(Flat(-5, 5)))
    with pytest.raises(ConfigError, match="did you mean 'sm'"):
        _r(BenchmarkTheta("smm"))
    with pytest.raises(ConfigError, match="components"):
        _r(Point([0.0, 0.0, 0.0]))


def test_parse_spec():
    assert parse_spec("sm") == BenchmarkTheta("sm")
    assert parse_spec("benchmarks:sm,w") == Benchmarks(["sm", "w"])
    assert parse_spec("point:0.5,-1") == Point([0.5, -1.0])
    assert parse_spec("random:10:gaussian,0,15") == RandomMorphing(10, Prior(Gaussian(0, 15)))
    assert parse_spec("prior:flat,-1,1;gaussian,0,2") == Prior(Flat(-1, 1), Gaussian(0, 2))
    assert parse_spec("grid:-1,1,3;0,1,2") == ThetaGrid([(-1, 1, 3), (0, 1, 2)])
    with pytest.raises(ConfigError):
        parse_spec("random:ten:gaussian,0,1")
    with pytest.raises(ConfigError, match="unknown theta specification kind"):
        parse_spec("pointz:1,2")


def test_named_points_follow_the_setups_parameter_order():
    """``point:b=0.5`` (CLI), a mapping or a ParameterPoint: matched to the parameters by name, the ones left
    out at 0; an unknown name is an error with a near miss."""
    from lhcgold.config import ParameterPoint

    for spec in (parse_spec("point:b=0.5"), Point({"b": 0.5}), Point(ParameterPoint(("b", "a"), (0.5, 0.0)))):
        th, cnt, _ = _r(spec)
        np.testing.assert_array_equal(th, [[0.0, 0.5]])
        assert cnt.tolist() == [10]
    assert parse_spec("point:a=1,b=-1") == Point({"a": 1.0, "b": -1.0})
    with pytest.raises(ConfigError, match="unknown parameter 'bb'.*did you mean 'b'"):
        _r(parse_spec("point:bb=0.5"))
    with pytest.raises(ConfigError, match="outside the parameter range"):
        _r(Point({"a": 3.0}))
    with pytest.raises(ConfigError, match="name every value"):
        parse_spec("point:a=1,2")
    with pytest.raises(ConfigError, match="a given twice"):
        parse_spec("point:a=1,a=2")
