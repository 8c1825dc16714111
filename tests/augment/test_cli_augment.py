"""`lhcgold augment` on a toy events file."""

from __future__ import annotations

from lhcgold.cli import main
from lhcgold.io.samples import read_training_set


def test_augment_ratio_and_local(toy_events, tmp_path, capsys):
    path, _ = toy_events
    out = tmp_path / "ratio.h5"
    rc = main(
        [
            "-q",
            "augment",
            str(path),
            "-o",
            str(out),
            "--kind",
            "ratio",
            "--theta0",
            "random:20:flat,-1,1",
            "--theta1",
            "sm",
            "-n",
            "400",
            "--seed",
            "1",
        ]
    )
    assert rc == 0
    ts = read_training_set(out)
    assert ts.kind == "ratio" and len(ts) == 400 and ts.gold == {"r_xz", "t_xz"}
    assert (
        main(
            [
                "-q",
                "augment",
                str(path),
                "-o",
                str(out),
                "--kind",
                "ratio",
                "--theta0",
                "sm",
                "-n",
                "10",
            ]
        )
        == 1
    )  # exists, no --overwrite
    assert "--overwrite" in capsys.readouterr().err
    local = tmp_path / "local.h5"
    assert (
        main(
            [
                "-q",
                "augment",
                str(path),
                "-o",
                str(local),
                "--kind",
                "local",
                "--theta",
                "sm",
                "-n",
                "50",
            ]
        )
        == 0
    )
    assert read_training_set(local).gold == {"t_xz"}
    more = tmp_path / "more.h5"
    assert (
        main(
            [
                "-q",
                "augment",
                str(path),
                "-o",
                str(more),
                "--kind",
                "more-ratios",
                "--theta0",
                "prior:flat,-1,1",
                "--theta1",
                "prior:flat,-1,1",
                "--additional",
                "point:0.5,0.5",
                "-n",
                "40",
            ]
        )
        == 0
    )
    assert len(read_training_set(more)) == 80


def test_augment_errors(toy_events, tmp_path, capsys):
    path, _ = toy_events
    out = tmp_path / "x.h5"
    assert (
        main(
            [
                "-q",
                "augment",
                str(path),
                "-o",
                str(out),
                "--kind",
                "local",
                "--theta",
                "point:5,0",
                "-n",
                "10",
            ]
        )
        == 1
    )
    assert "outside the parameter range" in capsys.readouterr().err
    assert main(["-q", "augment", str(path), "-o", str(out), "--kind", "ratio", "-n", "10"]) == 1
    assert "--theta0" in capsys.readouterr().err
    assert not out.exists()
