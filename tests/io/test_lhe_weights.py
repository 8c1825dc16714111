"""MG5 scale/PDF systematics weights as MadMiner nuisance parameters (real MG5 3.5.8 file)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.exceptions import EventFileError
from lhcgold.io.lhe import read_lhe, read_lhe_header
from lhcgold.io.lhe_weights import (
    nuisance_factors,
    nuisance_layout,
    nuisance_weights,
    parse_weights,
    systematics_weights,
    write_nuisance_groups,
)

DATA = Path(__file__).parents[1] / "data"
JJ = DATA / "lhe" / "pylhe-testfile-madgraph5-3.5.8-pp_to_jj.lhe.gz"
WA = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"


@pytest.fixture(scope="module")
def jj():
    return read_lhe_header(JJ), read_lhe(JJ)


def test_weights_sorted_into_scale_and_pdf(jj) -> None:
    header, _ = jj
    ws = parse_weights(header.header_text)
    assert len(ws) == 145 and ws[0].mur == 0.5 and ws[1].dyn_scale == 1
    sw = systematics_weights(header.header_text)
    assert sw.central_pdf == 247000
    # 3 x 3 (MUR, MUF) grid without the central point, own scale choice only
    assert sorted((w.mur, w.muf) for w in sw.scale) == [
        (a, b) for a in (0.5, 1.0, 2.0) for b in (0.5, 1.0, 2.0) if (a, b) != (1.0, 1.0)
    ]
    ((name, members),) = sw.pdf_sets.items()
    assert name == "NNPDF23_lo_as_0130_qed" and len(members) == 101
    assert members[0].pdf == 247000 and members[-1].pdf == 247100


def test_madminer_layout(jj) -> None:
    header, _ = jj
    lay = nuisance_layout(header.header_text)
    assert lay.systematics[0] == ("scale", "scale", "0.5,1.0,2.0", "mu")
    assert lay.systematics[1] == ("pdf", "pdf", "NNPDF23_lo_as_0130_qed", "None")
    assert lay.nuisance_parameters[0] == (
        "scale_nuisance_param_0",
        "scale",
        "scale_nuisance_param_0_benchmark_0",
        "scale_nuisance_param_0_benchmark_1",
    )
    assert len(lay.nuisance_parameters) == 1 + 100
    assert lay.benchmark_ids["scale_nuisance_param_0_benchmark_0"] == "40"  # MUR = MUF = 2
    assert lay.benchmark_ids["scale_nuisance_param_0_benchmark_1"] == "1"  # MUR = MUF = 0.5
    assert lay.benchmark_ids["pdf_nuisance_param_0_benchmark_0"] == "46"
    mur = nuisance_layout(header.header_text, scale="mur", pdf=False)
    assert mur.benchmark_ids == {"scale_nuisance_param_0_benchmark_0": "35", "scale_nuisance_param_0_benchmark_1": "6"}


def test_nuisance_weights_and_factors(jj) -> None:
    header, chunk = jj
    lay = nuisance_layout(header.header_text)
    # MG5's central weight (id 45: MUR = MUF = 1, central PDF) reproduces XWGTUP: the columns are on its scale
    np.testing.assert_allclose(chunk.weight("45"), chunk.nominal, rtol=1e-5)
    cols = nuisance_weights(chunk.weights, chunk.weight_names, chunk.nominal, lay)
    assert cols.shape == (100, 102)
    names = lay.benchmark_names
    np.testing.assert_allclose(cols[:, names.index("scale_nuisance_param_0_benchmark_0")], chunk.weight("40"))
    # rescaled to another reference: ratios are kept
    ref = 2.5 * chunk.nominal
    np.testing.assert_allclose(
        nuisance_weights(chunk.weights, chunk.weight_names, chunk.nominal, lay, reference=ref), 2.5 * cols
    )
    # nu = +1 and -1 on the scale parameter give back the MUR=MUF=2 and 0.5 weights (two-sided interpolation)
    nu = np.zeros(len(lay.nuisance_parameters))
    nu[0] = 1.0
    np.testing.assert_allclose(
        chunk.nominal * nuisance_factors(nu, cols, chunk.nominal, lay), chunk.weight("40"), rtol=1e-9
    )
    nu[0] = -1.0
    np.testing.assert_allclose(
        chunk.nominal * nuisance_factors(nu, cols, chunk.nominal, lay), chunk.weight("1"), rtol=1e-9
    )
    # QCD 2 -> 2 at LO: alpha_s^2 falls with mu_R, so sigma(mu = 2) < sigma < sigma(mu = 0.5)
    assert chunk.weight("40").sum() < chunk.nominal.sum() < chunk.weight("1").sum()


def test_write_groups(tmp_path: Path, jj) -> None:
    header, _ = jj
    lay = nuisance_layout(header.header_text)
    with h5py.File(tmp_path / "n.h5", "w") as f:
        write_nuisance_groups(f, lay)
    with h5py.File(tmp_path / "n.h5") as f:
        assert f["systematics/names"].dtype == np.dtype("S256")
        assert [x.decode() for x in f["systematics/types"][()]] == ["scale", "pdf"]
        assert f["nuisance_parameters/benchmark_negative"][1] == b"None"
        assert len(f["nuisance_parameters/names"]) == 101


def test_no_systematics_in_a_reweighted_file() -> None:
    header = read_lhe_header(WA)
    assert systematics_weights(header.header_text).scale == ()
    with pytest.raises(EventFileError, match="use_syst = True"):
        nuisance_layout(header.header_text)
