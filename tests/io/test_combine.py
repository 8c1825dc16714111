"""Out-of-core combine and shuffle: same events, shuffled, k-factors, setup checks, atomic output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import EventFileError
from lhcgold.io.combine import combine_and_shuffle
from lhcgold.io.events import EventFile, EventWriter
from lhcgold.setup import build_setup

CARD = """
lhcgold_card: 1
parameters: [{name: a, max_power: 2, range: [-1, 1]}]
benchmarks: {sm: {a: 0}, p: {a: 1}, m: {a: -1}}
"""


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    return build_setup(load_card_text(CARD), rng=1)


def _write(
    path: Path,
    setup,
    n: int,
    offset: float,
    sampling: int = 0,
    observables=("x", "y"),  # type: ignore[no-untyped-def]
    attrs=None,
) -> np.ndarray:
    rng = np.random.default_rng(int(offset))
    x = np.stack([np.arange(n) + offset, rng.normal(size=n)], axis=1)[:, : len(observables)]
    w = rng.uniform(0.5, 1.5, size=(n, 3))
    with EventWriter(path, setup, list(observables), attrs=attrs) as wr:
        for lo in range(0, n, 700):
            wr.append(x[lo : lo + 700], w[lo : lo + 700], sampling_benchmarks=sampling)
    return np.concatenate([x, w], axis=1)


def _rows(path: Path) -> np.ndarray:
    c = EventFile(path).read()
    return np.concatenate([c.observations, c.weights, c.sampling_benchmarks[:, None]], axis=1)


def test_combine_keeps_every_event_and_shuffles(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    a = _write(tmp_path / "a.h5", setup, 2500, 0.0, sampling=0)
    b = _write(tmp_path / "b.h5", setup, 1800, 100000.0, sampling=1)
    out = tmp_path / "c.h5"
    n = combine_and_shuffle(
        [tmp_path / "a.h5", tmp_path / "b.h5"],
        out,
        rng=3,
        bucket_size=500,
        chunk_size=300,
        k_factors=[1.0, 2.0],
        mode="samples",
    )
    assert n == 4300
    got = _rows(out)
    expected = np.concatenate([np.c_[a, np.zeros(len(a))], np.c_[b[:, :2], b[:, 2:] * 2.0, np.ones(len(b))]])
    order_got = np.lexsort(got[:, ::-1].T)
    order_exp = np.lexsort(expected[:, ::-1].T)
    np.testing.assert_allclose(got[order_got], expected[order_exp], rtol=1e-15)
    # shuffled: the events of the two files are mixed throughout, not in input order
    ids = got[:, -1]
    assert 0.3 < ids[:2150].mean() < 0.55 and 0.3 < ids[2150:].mean() < 0.55
    assert not np.all(np.diff(got[ids == 0, 0]) > 0)
    ef = EventFile(out)
    assert ef.attrs["lhcgold_stage"] == "combine"
    # rank correlation between position and original index is ~0 for a uniform shuffle
    pos = np.argsort(np.argsort(got[ids == 0, 0]))
    assert abs(np.corrcoef(pos, np.arange(len(pos)))[0, 1]) < 0.1


def test_combine_is_reproducible_and_order_kept_without_shuffle(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "a.h5", setup, 1000, 0.0)
    combine_and_shuffle([tmp_path / "a.h5"], tmp_path / "s1.h5", rng=7, bucket_size=300)
    combine_and_shuffle([tmp_path / "a.h5"], tmp_path / "s2.h5", rng=7, bucket_size=300)
    np.testing.assert_array_equal(_rows(tmp_path / "s1.h5"), _rows(tmp_path / "s2.h5"))
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "a.h5"], tmp_path / "cat.h5", shuffle=False, mode="samples")
    cat = _rows(tmp_path / "cat.h5")
    np.testing.assert_array_equal(cat[:1000], cat[1000:])
    np.testing.assert_array_equal(cat[:1000], _rows(tmp_path / "a.h5"))


def test_incompatible_inputs_are_refused(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "a.h5", setup, 100, 0.0)
    _write(tmp_path / "obs.h5", setup, 100, 0.0, observables=("x",))
    other = build_setup(load_card_text(CARD.replace("m: {a: -1}", "m: {a: -0.5}")), rng=1)
    _write(tmp_path / "bench.h5", other, 100, 0.0)
    for name, what in (("obs.h5", "different observables"), ("bench.h5", "different benchmark")):
        with pytest.raises(EventFileError, match=what):
            combine_and_shuffle([tmp_path / "a.h5", tmp_path / name], tmp_path / "out.h5")
        assert not (tmp_path / "out.h5").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "bench.h5", "obs.h5"]


def test_existing_output_is_refused(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path / "a.h5", setup, 10, 0.0)
    (tmp_path / "out.h5").write_text("keep me")
    with pytest.raises(EventFileError, match="exists"):
        combine_and_shuffle([tmp_path / "a.h5"], tmp_path / "out.h5")
    assert (tmp_path / "out.h5").read_text() == "keep me"
    combine_and_shuffle([tmp_path / "a.h5"], tmp_path / "out.h5", overwrite=True)
    assert EventFile(tmp_path / "out.h5").n_events == 10


def test_cli_combine(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    _write(tmp_path / "a.h5", setup, 300, 0.0)
    _write(tmp_path / "b.h5", setup, 200, 1000.0)
    rc = main(
        [
            "-q",
            "combine",
            str(tmp_path / "a.h5"),
            str(tmp_path / "b.h5"),
            "-o",
            str(tmp_path / "c.h5"),
            "--seed",
            "1",
            "--bucket-size",
            "100",
            "--samples",
        ]
    )
    assert rc == 0
    assert EventFile(tmp_path / "c.h5").n_events == 500
    assert main(["-q", "combine", str(tmp_path / "a.h5"), "-o", str(tmp_path / "c.h5")]) == 1


def _sigma(path: Path) -> np.ndarray:
    return EventFile(path).xsec_per_benchmark()


def test_shards_of_one_sample_average_and_samples_add(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    # two shards of one sample (same sample_id, other seeds), made from 3000 and 1000 events, each
    # summing to its own estimate of sigma; and a background sample
    a = _write(tmp_path / "a.h5", setup, 3000, 1.0, attrs={"sample_id": "S", "n_generated": 3000})
    b = _write(tmp_path / "b.h5", setup, 1000, 2.0, attrs={"sample_id": "S", "n_generated": 1000})
    bkg = _write(tmp_path / "bkg.h5", setup, 500, 3.0, sampling=-1, attrs={"sample_id": "B", "n_generated": 500})
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "ab.h5", rng=1)
    expected = (3000 * a[:, 2:].sum(axis=0) + 1000 * b[:, 2:].sum(axis=0)) / 4000
    np.testing.assert_allclose(_sigma(tmp_path / "ab.h5"), expected, rtol=1e-12)
    assert EventFile(tmp_path / "ab.h5").attrs["sample_id"] == "S"
    assert EventFile(tmp_path / "ab.h5").attrs["n_generated"] == 4000
    # a shard combined with itself keeps sigma (the old code doubled it)
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "a.h5"], tmp_path / "aa.h5", rng=1)
    np.testing.assert_allclose(_sigma(tmp_path / "aa.h5"), _sigma(tmp_path / "a.h5"), rtol=1e-12)
    # distinct samples add: signal shards + background
    combine_and_shuffle([tmp_path / "ab.h5", tmp_path / "bkg.h5"], tmp_path / "all.h5", rng=2)
    np.testing.assert_allclose(_sigma(tmp_path / "all.h5"), expected + bkg[:, 2:].sum(axis=0), rtol=1e-12)
    # the same shards again with the explicit option give the same sigma
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "ab2.h5", rng=1, mode="shards")
    np.testing.assert_allclose(_sigma(tmp_path / "ab2.h5"), expected, rtol=1e-12)


def test_files_without_sample_identity_need_the_user_to_say(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.exceptions import ConfigError

    a = _write(tmp_path / "a.h5", setup, 400, 1.0)
    b = _write(tmp_path / "b.h5", setup, 600, 2.0)
    with pytest.raises(ConfigError, match="--shards.*--samples"):
        combine_and_shuffle([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "c.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "b.h5"]
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "sh.h5", mode="shards")
    np.testing.assert_allclose(
        _sigma(tmp_path / "sh.h5"), (400 * a[:, 2:].sum(axis=0) + 600 * b[:, 2:].sum(axis=0)) / 1000, rtol=1e-12
    )
    combine_and_shuffle([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "sa.h5", mode="samples")
    np.testing.assert_allclose(_sigma(tmp_path / "sa.h5"), a[:, 2:].sum(axis=0) + b[:, 2:].sum(axis=0), rtol=1e-12)


def test_combine_help_documents_the_semantics(capsys) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    assert main(["combine", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("--shards", "--samples", "AVERAGED", "ADD", "sample_id"):
        assert phrase in text
