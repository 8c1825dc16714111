"""Scale/PDF systematics weights carried by reconstruct into the events file (MadMiner's nuisance layout),
checked against the MG5 3.5.8 LHE's own weights, read back by the inference stage and by the file readers."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.config import load_card
from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.infer.nuisance import nuisances_from_file
from lhcgold.io.combine import combine_and_shuffle
from lhcgold.io.events import EventFile
from lhcgold.io.h5common import decode_strings
from lhcgold.io.lhe import read_lhe
from lhcgold.reconstruct import ReconstructionSample, analysis_from_card, reconstruct
from lhcgold.setup import build_setup

DATA = Path(__file__).parents[1] / "data"
JJ = DATA / "lhe" / "pylhe-testfile-madgraph5-3.5.8-pp_to_jj.lhe.gz"
WA = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
JJ_SAMPLE = ReconstructionSample(JJ, sampled_from="sm", weight_map={"p": "40"})  # a theta dependence: MUR = MUF = 2

CARD = """lhcgold_card: 1
name: jj
parameters: [{name: a, max_power: 1, range: [-1, 1]}]
benchmarks: {sm: {a: 0}, p: {a: 1}}
observables: {pt_j: {expression: "j[0].pt", default: 0.0}}
reconstruct: {level: parton, shuffle: false, systematics: [scale, pdf]}
"""


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("card") / "jj.yaml"
    path.write_text(CARD)
    return load_card(path)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory, card):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("ev") / "events.h5"
    reconstruct([JJ_SAMPLE], out, setup=build_setup(card), **analysis_from_card(card))
    return out


def test_stored_scale_weights_reproduce_the_lhe(stored: Path) -> None:
    lhe = read_lhe(JJ)
    ids = lhe.weight_names
    ef = EventFile(stored)
    chunk = ef.read()
    assert ef.setup.benchmark_names == ("sm", "p") and chunk.weights.shape == (100, 2)
    names = ef.nuisance.benchmark_names
    assert len(names) == 102 and chunk.nuisance_weights.shape == (100, 102)
    # MUR = MUF = 2 is weight id 40, MUR = MUF = 0.5 is id 1 in the header (checked in test_lhe_weights)
    up = chunk.nuisance_weights[:, names.index("scale_nuisance_param_0_benchmark_0")]
    down = chunk.nuisance_weights[:, names.index("scale_nuisance_param_0_benchmark_1")]
    np.testing.assert_allclose(up, lhe.weights[:, ids.index("40")], rtol=1e-9, atol=0)
    np.testing.assert_allclose(down, lhe.weights[:, ids.index("1")], rtol=1e-9, atol=0)
    np.testing.assert_allclose(chunk.weights[:, 0], lhe.nominal, rtol=1e-12)
    pdf1 = chunk.nuisance_weights[:, names.index("pdf_nuisance_param_0_benchmark_0")]
    np.testing.assert_allclose(pdf1, lhe.weights[:, ids.index("46")], rtol=1e-9, atol=0)
    with h5py.File(stored, "r") as f:  # MadMiner's layout: physics first, nuisance benchmarks after, sorted
        bn = decode_strings(f["benchmarks/names"])
        assert bn[:2] == ["sm", "p"] and bn[2:] == sorted(bn[2:])
        np.testing.assert_array_equal(f["benchmarks/is_nuisance"][()], [0, 0] + [1] * 102)
        np.testing.assert_array_equal(f["benchmarks/values"][2:], 0.0)
        assert f["samples/weights"].shape == (100, 104)
        assert decode_strings(f["systematics/types"]) == ["scale", "pdf"]


def test_inference_reads_them_back(stored: Path) -> None:
    lhe = read_lhe(JJ)
    ids = lhe.weight_names
    nus = nuisances_from_file(stored)
    assert [n.name for n in nus][:2] == ["scale_nuisance_param_0", "pdf_nuisance_param_0"] and len(nus) == 101
    np.testing.assert_allclose(nus[0].up, lhe.weights[:, ids.index("40")] / lhe.nominal, rtol=1e-9)
    np.testing.assert_allclose(nus[0].down, lhe.weights[:, ids.index("1")] / lhe.nominal, rtol=1e-9)
    assert nus[1].down is None


def test_combine_keeps_the_nuisance_columns(stored: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.h5"
    combine_and_shuffle([stored], out, rng=2)
    a, b = EventFile(stored).read(), EventFile(out).read()
    order = np.argsort(b.observations[:, 0], kind="stable")
    ref = np.argsort(a.observations[:, 0], kind="stable")
    np.testing.assert_array_equal(b.nuisance_weights[order], a.nuisance_weights[ref])
    assert EventFile(out).nuisance.nuisance_parameters == EventFile(stored).nuisance.nuisance_parameters


def test_no_systematics_requested_writes_plain_file(tmp_path: Path, card) -> None:  # type: ignore[no-untyped-def]
    opts = analysis_from_card(card)
    opts["systematics"] = ()
    reconstruct([JJ_SAMPLE], tmp_path / "e.h5", setup=build_setup(card), **opts)
    ef = EventFile(tmp_path / "e.h5")
    assert ef.nuisance is None and ef.read().nuisance_weights is None and nuisances_from_file(ef.path) == []


@pytest.mark.parametrize(
    ("systematics", "err", "match"),
    [
        (("scale", "muf"), ConfigError, "one scale systematic"),
        (("alpha_s",), ConfigError, "unknown systematics"),
    ],
)
def test_bad_choices(tmp_path: Path, card, systematics, err, match) -> None:  # type: ignore[no-untyped-def]
    opts = analysis_from_card(card)
    opts["systematics"] = systematics
    with pytest.raises(err, match=match):
        reconstruct([JJ_SAMPLE], tmp_path / "e.h5", setup=build_setup(card), **opts)
    assert list(tmp_path.iterdir()) == []


def test_file_without_systematics_weights_is_a_clear_error(tmp_path: Path, card) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EventFileError, match=r"run_01_sm.*no mu scale variations"):
        reconstruct(
            [ReconstructionSample(WA, sampled_from="sm", weight_map={"p": "sm"})],
            tmp_path / "e.h5",
            setup=build_setup(card),
            **analysis_from_card(card),
        )
    assert list(tmp_path.iterdir()) == []


def test_downstream_stages_ignore_the_nuisance_columns(stored: Path, tmp_path: Path, card) -> None:  # type: ignore[no-untyped-def]
    """fisher, limits and augment give the same numbers with and without the 102 extra weight columns."""
    import json

    from lhcgold.cli import main

    opts = analysis_from_card(card)
    opts["systematics"] = ()
    plain = tmp_path / "plain.h5"
    reconstruct([JJ_SAMPLE], plain, setup=build_setup(card), **opts)
    got = {}
    for tag, path in (("nuis", stored), ("plain", plain)):
        for cmd in (
            ["fisher", str(path), "-m", "rate", "--all-events", "-o", str(tmp_path / f"{tag}_f.json")],
            [
                "limits",
                str(path),
                "-m",
                "histogram",
                "--observable",
                "pt_j",
                "--bins",
                "3",
                "--all-events",
                "--resolution",
                "5",
                "-o",
                str(tmp_path / f"{tag}_l.json"),
            ],
            [
                "augment",
                str(path),
                "--kind",
                "local",
                "-n",
                "50",
                "--theta",
                "sm",
                "--partition",
                "all",
                "--seed",
                "3",
                "-o",
                str(tmp_path / f"{tag}_a"),
            ],
        ):
            assert main(cmd) == 0, cmd
        got[tag] = (
            json.loads((tmp_path / f"{tag}_f.json").read_text())["data"]["matrix"],
            json.loads((tmp_path / f"{tag}_l.json").read_text())["data"]["log_likelihood"],
            _datasets(tmp_path / f"{tag}_a"),
        )
    assert got["nuis"][:2] == got["plain"][:2]
    assert got["plain"][0][0][0] > 0 and len(got["plain"][1]) == 5
    a, b = got["nuis"][2], got["plain"][2]
    assert sorted(a) == sorted(b) and len(a) >= 2
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def _datasets(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
    return out


def test_inconsistent_nuisance_groups_are_ignored_by_the_reader(stored: Path, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A file whose nuisance_parameters name a benchmark that does not exist still opens (physics part)."""
    import shutil

    bad = tmp_path / "bad.h5"
    shutil.copy(stored, bad)
    with h5py.File(bad, "a") as f:
        names = f["nuisance_parameters/benchmark_positive"][()]
        names[0] = b"no_such_benchmark"
        del f["nuisance_parameters/benchmark_positive"]
        f["nuisance_parameters/benchmark_positive"] = names
    ef = EventFile(bad)
    assert ef.nuisance is None and ef.read().nuisance_weights is None
    np.testing.assert_array_equal(ef.read().weights, EventFile(stored).read().weights)
    assert "nuisance parameters ignored" in caplog.text
    with pytest.raises(EventFileError, match="no_such_benchmark"):
        nuisances_from_file(bad)
