"""``lhcgold fisher`` / ``lhcgold limits`` use the test partition of the events file (never training events)."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.cli import main


def _partition(path, frac):
    n = 4000
    start = int(round((1 - frac) * n))
    return infer.EventsView(path, start=start, stop=n, weight_scale=1 / frac)


@pytest.mark.parametrize(("extra", "frac"), [((), 0.2), (("--test-split", "0.5"), 0.5), (("--all-events",), None)])
def test_fisher_cli_uses_the_test_partition(two_param_events, tmp_path, capsys, extra, frac):
    path, _ = two_param_events
    out = tmp_path / "fi.json"
    assert main(["-q", "fisher", str(path), "-o", str(out), "--theta", "0.1,0.2", *extra]) == 0
    sample = infer.EventsView(path) if frac is None else _partition(path, frac)
    expected = infer.truth_information(sample, theta=[0.1, 0.2]).matrix
    np.testing.assert_allclose(infer.FisherInformation.load(out).matrix, expected, rtol=1e-12)
    # and it differs from the whole file unless asked for (the old behaviour)
    whole = infer.truth_information(path, theta=[0.1, 0.2]).matrix
    assert (frac is None) == np.allclose(expected, whole, rtol=1e-6)
    assert "Warning" not in capsys.readouterr().err  # no model: using every event is harmless


def test_limits_cli_uses_the_test_partition(two_param_events, tmp_path):
    path, _ = two_param_events
    grid = infer.LimitGrid([(-1, 1), (-1, 1)], 5)
    for extra, sample in (((), _partition(path, 0.2)), (("--all-events",), infer.EventsView(path))):
        out = tmp_path / f"lim{len(extra)}.json"
        assert (
            main(
                [
                    "-q",
                    "limits",
                    str(path),
                    "-o",
                    str(out),
                    "--observable",
                    "u",
                    "--bins",
                    "4",
                    "--grid",
                    "ca=-1:1:5",
                    "--grid",
                    "cb=-1:1:5",
                    *extra,
                ]
            )
            == 0
        )
        direct = infer.expected_limits(infer.Histogram(["u"], bins=4), sample, grid=grid, luminosity_ifb=300)
        np.testing.assert_allclose(infer.LimitResult.load(out).log_likelihood, direct.log_likelihood, rtol=1e-12)


@pytest.fixture(scope="module")
def sally_dir(tmp_path_factory):
    pytest.importorskip("torch")
    from lhcgold import augment
    from lhcgold.augment import BenchmarkTheta
    from lhcgold.ml import SALLY, TrainConfig

    from .conftest import make_setup, write_events

    d = tmp_path_factory.mktemp("sally")
    rng = np.random.default_rng(2)
    n = 1000
    x = rng.normal(size=(n, 1))
    comps = np.array([[0], [1], [2]])
    setup = make_setup(["theta"], [(-1.0, 1.0)], comps, np.array([[0.0], [0.5], [-0.5]]))
    m = np.stack([np.ones(n), 2 * x[:, 0], x[:, 0] ** 2], axis=1) / n
    ev = write_events(d / "ev.h5", setup, ["x"], x, m)
    est = SALLY(n_hidden=(8,))
    est.train(
        augment.sample_local(ev, theta=BenchmarkTheta("b0"), n_samples=400, rng=1),
        config=TrainConfig(n_epochs=1, seed=1, validation_split=0.0),
    )
    est.save(d / "model")
    return ev, d / "model"


def test_model_on_all_events_warns_loudly(sally_dir, tmp_path, capsys):
    ev, model = sally_dir
    assert main(["-q", "fisher", str(ev), "-o", str(tmp_path / "a.json"), "-m", "sally", "--model", str(model)]) == 0
    assert "Warning" not in capsys.readouterr().err
    assert (
        main(
            [
                "-q",
                "fisher",
                str(ev),
                "-o",
                str(tmp_path / "b.json"),
                "-m",
                "sally",
                "--model",
                str(model),
                "--all-events",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "Warning: --all-events" in err and "training" in err
    assert (
        main(
            [
                "-q",
                "limits",
                str(ev),
                "-o",
                str(tmp_path / "c.json"),
                "-m",
                "sally",
                "--model",
                str(model),
                "--resolution",
                "5",
                "--all-events",
            ]
        )
        == 0
    )
    assert "Warning: --all-events" in capsys.readouterr().err
