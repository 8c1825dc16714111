"""``lhcgold fisher`` and ``lhcgold limits``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lhcgold import infer
from lhcgold.cli import main


def test_fisher_cli_truth_and_histogram(two_param_events, tmp_path, capsys):
    path, _ = two_param_events
    out = tmp_path / "fi.json"
    assert main(["-q", "fisher", str(path), "-o", str(out), "--theta", "0.1,0.2", "-L", "10"]) == 0
    info = infer.FisherInformation.load(out)
    test = infer.EventsView(path, start=3200, stop=4000, weight_scale=5.0)  # the last 20% (augment's test partition)
    np.testing.assert_allclose(
        info.matrix, infer.truth_information(test, theta=[0.1, 0.2], luminosity_ifb=10).matrix, rtol=1e-12
    )
    assert "truth Fisher information" in capsys.readouterr().out
    # refuses to overwrite, then does with --overwrite
    assert main(["-q", "fisher", str(path), "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert (
        main(
            [
                "-q",
                "fisher",
                str(path),
                "-o",
                str(out),
                "--overwrite",
                "-m",
                "histogram",
                "--observable",
                "u",
                "--observable",
                "v",
                "--bins",
                "4",
                "--profile",
                "ca",
            ]
        )
        == 0
    )
    info = infer.FisherInformation.load(out)
    assert info.parameter_names == ("ca",)
    assert main(["-q", "fisher", str(path), "-o", str(tmp_path / "x.json"), "-m", "histogram"]) == 1
    assert "needs at least one --observable" in capsys.readouterr().err
    assert main(["-q", "fisher", str(path), "-o", str(tmp_path / "x.json"), "--theta", "nope"]) == 1


def test_limits_cli_histogram_with_plot(two_param_events, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _ = two_param_events
    out, png = tmp_path / "lim.h5", tmp_path / "lim.png"
    rc = main(
        [
            "-q",
            "limits",
            str(path),
            "-o",
            str(out),
            "--observable",
            "u",
            "--bins",
            "5",
            "--grid",
            "ca=-1:1:9",
            "--grid",
            "cb=-1:1:7",
            "--asimov",
            "0.2,0.0",
            "-L",
            "5",
            "--plot",
            str(png),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    res = infer.LimitResult.load(out)
    test = infer.EventsView(path, start=3200, stop=4000, weight_scale=5.0)  # the last 20% (augment's test partition)
    direct = infer.expected_limits(
        infer.Histogram(["u"], bins=5),
        test,
        grid=infer.LimitGrid([(-1, 1), (-1, 1)], (9, 7)),
        luminosity_ifb=5,
        asimov_theta=[0.2, 0.0],
    )
    np.testing.assert_allclose(res.log_likelihood, direct.log_likelihood, rtol=1e-12)
    assert png.stat().st_size > 1000
    # fixed parameter and profiling, JSON output
    out2 = tmp_path / "lim.json"
    assert (
        main(["-q", "limits", str(path), "-o", str(out2), "-m", "rate", "--grid", "cb=0.5", "--resolution", "11"]) == 0
    )
    d = json.loads(out2.read_text())
    assert d["lhcgold_result"] == "limit_result" and d["data"]["fixed"] == {"cb": 0.5}
    assert (
        main(
            [
                "-q",
                "limits",
                str(path),
                "-o",
                str(tmp_path / "p.json"),
                "-m",
                "rate",
                "--profile",
                "cb",
                "--resolution",
                "5",
            ]
        )
        == 0
    )
    assert main(["-q", "limits", str(path), "-o", str(tmp_path / "bad.json"), "-m", "rate", "--grid", "ca=-5:5"]) == 1
    assert "outside the range" in capsys.readouterr().err
    assert main(["-q", "limits", str(path), "-o", str(tmp_path / "bad.json"), "-m", "rate", "--grid", "cx=0"]) == 1
    assert "unknown parameter 'cx'" in capsys.readouterr().err
    assert main(["-q", "limits", str(path), "-o", str(tmp_path / "bad.json"), "-m", "ml"]) == 1
