"""The embedded generator's μR/μF variation weights in the LHE (MG5 systematics style), read back by the
same path as MG5's files, checked against an independent run at the doubled scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import ConfigError
from lhcgold.generate.embedded import generate_to_files
from lhcgold.io.lhe import read_lhe, read_lhe_header
from lhcgold.io.lhe_weights import nuisance_layout, systematics_weights

DY = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, range: [-0.1, 0.1]}
benchmarks: {sm: {C_LL: 0}, ll: {C_LL: 0.1}, m: {C_LL: -0.1}}
morphing: {max_overall_power: 2}
process: {name: drell_yan, mll_gev: [500, 3000], scale_gev: SCALE}
generate: {seed: 5, adapt: {iterations: 0}, events: false, scale_variations: SV}
observables: {pt_l: "l[0].pt"}
reconstruct: {level: parton, shuffle: false, systematics: [scale]}
"""


def _card(scale: float, sv: bool):  # type: ignore[no-untyped-def]
    return load_card_text(DY.replace("SCALE", repr(scale)).replace("SV", str(sv).lower()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("sv")
    a, b = d / "a.lhe.gz", d / "b.lhe.gz"
    generate_to_files(_card(91.1876, True), lhe_path=a, n_events=2000, rng=5)
    generate_to_files(_card(2 * 91.1876, False), lhe_path=b, n_events=2000, rng=5)
    return a, b


def test_header_is_mg5_systematics_style(runs: tuple[Path, Path]) -> None:
    head = read_lhe_header(runs[0]).header_text
    sw = systematics_weights(head)
    assert sorted((w.mur, w.muf) for w in sw.scale) == [
        (r, f) for r in (0.5, 1.0, 2.0) for f in (0.5, 1.0, 2.0) if (r, f) != (1.0, 1.0)
    ]
    assert sw.central_pdf == 247000
    lay = nuisance_layout(head, pdf=False)
    assert lay.benchmark_ids == {
        "scale_nuisance_param_0_benchmark_0": "scale_mur2_muf2",
        "scale_nuisance_param_0_benchmark_1": "scale_mur0.5_muf0.5",
    }
    assert "scale_mur2" not in read_lhe_header(runs[1]).header_text  # off unless asked


def test_varied_weights_reproduce_the_run_at_twice_the_scale(runs: tuple[Path, Path]) -> None:
    a, b = read_lhe(runs[0]), read_lhe(runs[1])
    np.testing.assert_array_equal(np.asarray(a.particles.px.tolist()), np.asarray(b.particles.px.tolist()))
    ids = a.weight_names
    sm = a.weights[:, ids.index("sm")]
    up = a.weights[:, ids.index("scale_mur2_muf2")]
    # an independent generation at mu0' = 2 mu0 (same phase-space points): its cross section
    ratio = up.sum() / b.weights[:, b.weight_names.index("sm")].sum()
    assert abs(ratio - 1) < 1e-3
    assert abs(sm.sum() / b.weights[:, b.weight_names.index("sm")].sum() - 1) > 5e-3  # the check is not trivial
    # mu_R alone changes nothing at LO (no alpha_s), the central point is the nominal weight
    np.testing.assert_allclose(a.weights[:, ids.index("scale_mur2_muf1")], sm, rtol=1e-10)
    np.testing.assert_allclose(a.weights[:, ids.index("scale_mur1_muf1")], sm, rtol=1e-10)


def test_reconstruct_stores_them_as_nuisances(runs: tuple[Path, Path], tmp_path: Path) -> None:
    from lhcgold.infer.nuisance import nuisances_from_file
    from lhcgold.reconstruct import ReconstructionSample, analysis_from_card, reconstruct
    from lhcgold.setup import build_setup

    card = _card(91.1876, True)
    out = tmp_path / "events.h5"
    reconstruct(
        [ReconstructionSample(runs[0], sampled_from="sm")], out, setup=build_setup(card), **analysis_from_card(card)
    )
    a = read_lhe(runs[0])
    ids = a.weight_names
    (nu,) = nuisances_from_file(out)
    sm = a.weights[:, ids.index("sm")]
    np.testing.assert_allclose(nu.up, a.weights[:, ids.index("scale_mur2_muf2")] / sm, rtol=1e-9)
    np.testing.assert_allclose(nu.down, a.weights[:, ids.index("scale_mur0.5_muf0.5")] / sm, rtol=1e-9)


def test_cli_flag_and_unweighted_path(tmp_path: Path) -> None:
    from lhcgold.cli import main

    card = tmp_path / "dy.yaml"
    card.write_text(
        DY.replace("SCALE", "91.1876").replace("SV", "false").replace("adapt: {iterations: 0}", "unweighted: true")
    )
    assert main(["generate", str(card), "-o", str(tmp_path / "out"), "-n", "200", "--scale-variations"]) == 0
    lhe = read_lhe(tmp_path / "out" / "events.lhe.gz")
    w = lhe.weights[:, lhe.weight_names.index("scale_mur2_muf2")] / lhe.weights[:, lhe.weight_names.index("sm")]
    assert np.all(w > 0.5) and np.all(w < 1.5) and np.ptp(w) > 1e-3


def test_wh_has_no_scale_variations(tmp_path: Path) -> None:
    card = load_card_text("""
lhcgold_card: 1
name: wh
parameters: [{name: gc, range: [-0.02, 0.02]}]
benchmarks: {sm: {gc: 0}, p: {gc: 0.02}, m: {gc: -0.02}}
morphing: {max_overall_power: 2}
process: {name: wh}
generate: {scale_variations: true}
""")
    with pytest.raises(ConfigError, match="has no scale-variation weights"):
        generate_to_files(card, lhe_path=tmp_path / "w.lhe.gz", n_events=10, rng=1)
    assert list(tmp_path.iterdir()) == []


def test_mg5_backend_refuses_the_embedded_flag(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    card = Path(__file__).parents[1] / "data" / "mg5_cards" / "dy.yaml"
    code = main(["generate", str(card), "-o", str(tmp_path / "out"), "--cards-only", "--scale-variations"])
    err = capsys.readouterr().err
    assert code == 2 and "use_syst" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
