"""`lhcgold train` on toy samples, then load the model directory."""

from __future__ import annotations

import numpy as np

from lhcgold.cli import main
from lhcgold.io.samples import write_training_set
from lhcgold.ml import Ensemble, load_model


def test_train_alices_and_sally(ratio_set, local_set, tmp_path, capsys):
    rs = write_training_set(tmp_path / "ratio.h5", ratio_set.subset(slice(0, 3000)))
    ls = write_training_set(tmp_path / "local.h5", local_set.subset(slice(0, 3000)))
    out = tmp_path / "alices"
    assert (
        main(
            [
                "-q",
                "train",
                str(rs),
                "-o",
                str(out),
                "-m",
                "alices",
                "--hidden",
                "16,16",
                "--epochs",
                "2",
                "--seed",
                "1",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    est = load_model(out)
    assert est.method == "alices" and est.n_hidden == (16, 16)
    assert est.log_ratio(ratio_set.x[:4], np.zeros((2, 2))).shape == (2, 4)
    assert (
        main(
            [
                "-q",
                "train",
                str(ls),
                "-o",
                str(tmp_path / "sally"),
                "-m",
                "sally",
                "--hidden",
                "8",
                "--epochs",
                "1",
                "--ensemble",
                "2",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    assert isinstance(load_model(tmp_path / "sally"), Ensemble)
    # a method whose gold the sample lacks: clear error, exit code 1, nothing written
    assert main(["-q", "train", str(ls), "-o", str(tmp_path / "bad"), "-m", "rascal"]) == 1
    assert "needs r_xz" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
