"""The reconstruction pipeline into the events file: weights per benchmark from MG5 LHE and
Delphes inputs (checked against independent reads), sampling ids, cuts, atomic output, CLI."""

from __future__ import annotations

import re
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from lhcgold.config import load_card
from lhcgold.exceptions import EventFileError
from lhcgold.io.events import EventFile
from lhcgold.io.lhe import read_lhe
from lhcgold.reconstruct import ReconstructionSample, analysis_from_card, detect_kind, reconstruct
from lhcgold.setup import build_setup

DATA = Path(__file__).resolve().parents[1] / "data"
WA = DATA / "mg5" / "wgamma_ewdim6"
RUN1 = WA / "run_01_sm_unweighted_events.lhe.gz"
RUN2 = WA / "run_02_cwww_p10_unweighted_events.lhe.gz"
ROOT_FILE = DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"
BENCH = {
    "sm": (0, 0),
    "cwww_m10": (-10, 0),
    "cwww_m5": (-5, 0),
    "cwww_p5": (5, 0),
    "cwww_p10": (10, 0),
    "cw_m10": (0, -10),
    "cw_p10": (0, 10),
    "mix_p5_p5": (5, 5),
    "mix_m5_p10": (-5, 10),
}


def _card_text(extra_benchmark: bool = False) -> str:
    lines = [
        "lhcgold_card: 1",
        "name: wgamma",
        "parameters:",
        "  - {name: cwww, max_power: 2, range: [-10, 10]}",
        "  - {name: cw, max_power: 2, range: [-10, 10]}",
        "benchmarks:",
    ]
    lines += [f"  {k}: {{cwww: {a}, cw: {b}}}" for k, (a, b) in BENCH.items()]
    if extra_benchmark:
        lines.append("  other: {cwww: 3, cw: 3}")
    lines += [
        "morphing: {max_overall_power: 2}",
        "observables:",
        '  pt_a: "a[0].pt"',
        '  pt_l: "l[0].pt"',
        '  mt: {expression: "mt(l[0], met)", default: 0.0}',
        "cuts:",
        '  - "pt_a > 120"',
        "reconstruct: {level: parton, shuffle: false}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("card") / "wgamma.yaml"
    path.write_text(_card_text())
    return load_card(path)


@pytest.fixture(scope="module")
def setup(card):  # type: ignore[no-untyped-def]
    return build_setup(card, rng=1)


def _independent(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Photon pT and the benchmark weights of the events passing pT(a) > 120, straight from the LHE."""
    lhe = read_lhe(path)
    a = lhe.particles[lhe.particles.pid == 22]
    pta = ak.to_numpy(ak.fill_none(ak.max(a.pt, axis=1), 0.0))
    keep = pta > 120
    return pta[keep], lhe.weights[keep]


def test_parton_level_weights_and_sampling_ids(tmp_path: Path, card, setup) -> None:  # type: ignore[no-untyped-def]
    opts = analysis_from_card(card)
    assert opts["level"] == "parton" and opts["shuffle"] is False
    out = tmp_path / "events.h5"
    res = reconstruct([RUN1, RUN2], out, setup=setup, **opts)
    ef = EventFile(out)
    chunk = ef.read()
    assert ef.observables == ("pt_a", "pt_l", "mt")
    n1 = len(_independent(RUN1)[0])
    assert res.n_read == 6000 and res.n_written == ef.n_events == n1 + len(_independent(RUN2)[0])
    # run 1 generated at sm (index 0), run 2 at cwww_p10 (index 4): detected from XWGTUP
    np.testing.assert_array_equal(chunk.sampling_benchmarks[:n1], 0)
    np.testing.assert_array_equal(chunk.sampling_benchmarks[n1:], setup.benchmark_names.index("cwww_p10"))
    for sl, path in ((slice(0, n1), RUN1), (slice(n1, None), RUN2)):
        pta, w = _independent(path)
        np.testing.assert_array_equal(chunk.observations[sl, 0], pta)
        cols = [read_lhe(path, n_events=1).weight_names.index(b) for b in setup.benchmark_names]
        np.testing.assert_allclose(chunk.weights[sl], w[:, cols], rtol=1e-15)
    # two runs of one process at two benchmarks: averaged by their event counts (MadMiner's sampling
    # factors), and the number reported is the file's own (what `lhcgold inspect` prints)
    n2 = ef.n_events - n1
    averaged = (n1 * chunk.weights[:n1].sum(axis=0) + n2 * chunk.weights[n1:].sum(axis=0)) / (n1 + n2)
    np.testing.assert_allclose(res.xsec_pb, averaged, rtol=1e-12)
    np.testing.assert_allclose(res.xsec_pb, ef.xsec_per_benchmark(), rtol=1e-12)
    assert ef.attrs["card_hash"] == card.card_hash


def test_shuffled_output_has_the_same_events(tmp_path: Path, card, setup) -> None:  # type: ignore[no-untyped-def]
    opts = analysis_from_card(card)
    opts["shuffle"] = True
    opts["rng"] = 3
    reconstruct([RUN1], tmp_path / "s.h5", setup=setup, **opts)
    opts["shuffle"] = False
    reconstruct([RUN1], tmp_path / "u.h5", setup=setup, **opts)
    s, u = EventFile(tmp_path / "s.h5").read(), EventFile(tmp_path / "u.h5").read()
    assert not np.array_equal(s.observations, u.observations)
    np.testing.assert_array_equal(np.sort(s.observations[:, 0]), np.sort(u.observations[:, 0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.h5", "u.h5"]  # no temporary files left


def test_missing_benchmark_weight_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_text(_card_text(extra_benchmark=True))
    card = load_card(path)
    setup = build_setup(card, rng=1)
    out = tmp_path / "events.h5"
    with pytest.raises(EventFileError, match=r"run_01_sm_unweighted_events.lhe.gz.*no weight for benchmark 'other'"):
        reconstruct([RUN1], out, setup=setup, **analysis_from_card(card))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.yaml"]
    # mapped explicitly, it works
    res = reconstruct(
        [ReconstructionSample(RUN1, weight_map={"other": "mix_p5_p5"})], out, setup=setup, **analysis_from_card(card)
    )
    w = EventFile(out).read().weights
    names = setup.benchmark_names
    np.testing.assert_array_equal(w[:, names.index("other")], w[:, names.index("mix_p5_p5")])
    assert res.n_written == len(w)


def test_delphes_input(tmp_path: Path, card, setup) -> None:  # type: ignore[no-untyped-def]
    opts = analysis_from_card(card)
    opts["level"] = "detector"
    assert detect_kind(ROOT_FILE) == "delphes" and detect_kind(RUN1) == "lhe"
    res = reconstruct([ReconstructionSample(ROOT_FILE, lhe=RUN1)], tmp_path / "d.h5", setup=setup, **opts)
    with uproot.open(ROOT_FILE) as f:
        pt = f["Delphes"]["Photon.PT"].array()
        w = ak.to_numpy(f["Delphes"]["Weight.Weight"].array()).astype(np.float64)
    lead = ak.to_numpy(ak.fill_none(ak.max(pt, axis=1), 0.0))
    keep = lead > 120
    chunk = EventFile(tmp_path / "d.h5").read()
    assert res.n_read == 200 and res.n_written == keep.sum()
    np.testing.assert_allclose(chunk.observations[:, 0], lead[keep], rtol=1e-6)
    # Weight.Weight = (nominal, sm, cwww_m10, ...): benchmark b is column 1 + its <initrwgt> position
    names = read_lhe(RUN1, n_events=1).weight_names
    cols = [1 + names.index(b) for b in setup.benchmark_names]
    np.testing.assert_allclose(chunk.weights, w[keep][:, cols] / 3000, rtol=1e-12)


def test_detector_level_with_shower(tmp_path: Path, card, setup) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pythia8mc")
    opts = analysis_from_card(card)
    opts["level"] = "detector"
    opts["rng"] = 2
    res = reconstruct([RUN1], tmp_path / "sh.h5", setup=setup, n_events=40, **opts)
    assert res.n_read == 40 and 5 < res.n_written < 40
    chunk = EventFile(tmp_path / "sh.h5").read()
    assert np.all(chunk.observations[:, 0] > 120)
    # each event's weights are still the LHE's (the shower does not change weights)
    lhe = read_lhe(RUN1, n_events=40)
    sm = lhe.weights[:, lhe.weight_names.index("sm")]
    mix = lhe.weights[:, lhe.weight_names.index("mix_m5_p10")]
    pairs = set(zip(np.round(sm, 15), np.round(mix, 15)))
    names = setup.benchmark_names
    got = set(
        zip(
            np.round(chunk.weights[:, names.index("sm")], 15), np.round(chunk.weights[:, names.index("mix_m5_p10")], 15)
        )
    )
    assert got <= pairs


def test_cli_reconstruct(tmp_path: Path) -> None:
    from lhcgold.cli import main

    card = tmp_path / "card.yaml"
    card.write_text(_card_text())
    out = tmp_path / "ev.h5"
    assert main(["-q", "reconstruct", str(RUN1), "--card", str(card), "-o", str(out), "--seed", "1"]) == 0
    assert EventFile(out).n_events == len(_independent(RUN1)[0])
    assert main(["-q", "reconstruct", str(RUN1), "--card", str(card), "-o", str(out)]) == 1
    assert (
        main(
            [
                "-q",
                "reconstruct",
                str(ROOT_FILE),
                "--card",
                str(card),
                "-o",
                str(tmp_path / "d.h5"),
                "--level",
                "detector",
                "--lhe",
                str(RUN1),
                "--detector",
                "cms",
            ]
        )
        == 0
    )
    assert main(["-q", "reconstruct", str(ROOT_FILE), "--card", str(card), "-o", str(tmp_path / "p.h5")]) == 1
    assert not (tmp_path / "p.h5").exists()


def test_store_components_reproduce_every_benchmark(tmp_path: Path, card, setup) -> None:  # type: ignore[no-untyped-def]
    """MG5 weights are exact quadratics in (cwww, cw): components morphed from the basis benchmarks
    must give back all nine benchmark weights, including those outside the basis (to ~1e-5)."""
    from lhcgold.physics.morphing import component_factors

    opts = analysis_from_card(card)
    reconstruct([RUN2], tmp_path / "c.h5", setup=setup, store_components=True, **opts)
    ef = EventFile(tmp_path / "c.h5")
    assert ef.has_components
    chunk = ef.read()
    f = component_factors(setup.benchmark_values, setup.components)  # (B, C)
    back = chunk.component_weights @ f.T
    np.testing.assert_allclose(back, chunk.weights, rtol=2e-5, atol=1e-9 * chunk.weights.max())
    assert setup.morphing_matrix.shape == (6, 9)  # least-squares morphing over the 9 benchmarks


# ------------------------------------------------------------------ cross sections (issue: wrong numbers)
RUN1_XSEC_PB = 0.04066757  # MG5's own cross section of run_01_sm (LHE <init>, tests/data/mg5/xsec.json)


def _nocut_card(tmp_path: Path, cut: str | None = None) -> Path:
    text = _card_text().replace('cuts:\n  - "pt_a > 120"\n', "" if cut is None else f'cuts:\n  - "{cut}"\n')
    path = tmp_path / "card.yaml"
    path.write_text(text)
    return path


def _sigma_sm(path: Path) -> float:
    return float(EventFile(path).xsec_per_benchmark()[0])


def test_subset_keeps_the_cross_section(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    card = load_card(_nocut_card(tmp_path))
    opts = analysis_from_card(card)
    full = reconstruct([RUN1], tmp_path / "full.h5", setup=setup, **opts)
    part = reconstruct([RUN1], tmp_path / "part.h5", setup=setup, n_events=500, **opts)
    assert full.n_read == 3000 and part.n_read == 500
    # unweighted MG5 events: the subset's sigma is the banner's exactly (it was 500/3000 of it)
    assert full.xsec_pb[0] == pytest.approx(RUN1_XSEC_PB, rel=1e-9)
    assert part.xsec_pb[0] == pytest.approx(RUN1_XSEC_PB, rel=1e-9)
    assert _sigma_sm(tmp_path / "part.h5") == pytest.approx(RUN1_XSEC_PB, rel=1e-9)
    # after a cut, the subset agrees with the full file within its statistical error
    opts_cut = analysis_from_card(load_card(_nocut_card(tmp_path, "pt_a > 120")))
    f = reconstruct([RUN1], tmp_path / "fc.h5", setup=setup, **opts_cut).xsec_pb[0]
    p = reconstruct([RUN1], tmp_path / "pc.h5", setup=setup, n_events=1000, **opts_cut).xsec_pb[0]
    eff = f / RUN1_XSEC_PB
    err = RUN1_XSEC_PB * np.sqrt(eff * (1 - eff) / 1000)
    assert 0.05 < eff < 0.95 and abs(p - f) < 4 * err


def test_cli_summary_is_the_files_and_inspects_cross_section(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    card = _nocut_card(tmp_path)
    out = tmp_path / "ev.h5"
    assert main(["-q", "reconstruct", str(RUN1), str(RUN2), "--card", str(card), "-o", str(out)]) == 0
    printed = float(re.search(r"sigma\[sm\] = (\S+) pb", capsys.readouterr().out).group(1))
    assert main(["inspect", str(out)]) == 0
    shown = float(re.search(r"^\s+sm\s.*sigma = (\S+) pb", capsys.readouterr().out, re.M).group(1))
    assert printed == shown == pytest.approx(_sigma_sm(out), rel=1e-5)
    # two runs of one process (at sm and cwww_p10): their average, near MG5's sm cross section
    # (it printed twice the stored value before)
    assert printed == pytest.approx(RUN1_XSEC_PB, rel=0.03)


def test_shards_of_one_sample_keep_the_cross_section(tmp_path: Path, setup) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    card_path = _nocut_card(tmp_path)
    opts = analysis_from_card(load_card(card_path))
    # the same MG5 run given twice is two shards of one sample: sigma stays (it doubled)
    res = reconstruct([RUN1, RUN1], tmp_path / "twice.h5", setup=setup, **opts)
    assert res.n_written == 6000 and res.xsec_pb[0] == pytest.approx(RUN1_XSEC_PB, rel=1e-9)
    # shards reconstructed separately, then combined: averaged, decided from the files' sample_id
    for name, seed in (("a.h5", "1"), ("b.h5", "2")):
        assert (
            main(
                [
                    "-q",
                    "reconstruct",
                    str(RUN1),
                    "--card",
                    str(card_path),
                    "-o",
                    str(tmp_path / name),
                    "--seed",
                    seed,
                    "--n-events",
                    "1500" if name == "a.h5" else "3000",
                ]
            )
            == 0
        )
    assert EventFile(tmp_path / "a.h5").attrs["sample_id"] == EventFile(tmp_path / "b.h5").attrs["sample_id"]
    assert main(["-q", "combine", str(tmp_path / "a.h5"), str(tmp_path / "b.h5"), "-o", str(tmp_path / "ab.h5")]) == 0
    assert _sigma_sm(tmp_path / "ab.h5") == pytest.approx(RUN1_XSEC_PB, rel=1e-9)
    # distinct samples (runs at two benchmarks): combined separately == reconstructed together
    assert main(["-q", "reconstruct", str(RUN2), "--card", str(card_path), "-o", str(tmp_path / "c.h5")]) == 0
    assert EventFile(tmp_path / "c.h5").attrs["sample_id"] != EventFile(tmp_path / "b.h5").attrs["sample_id"]
    assert main(["-q", "combine", str(tmp_path / "b.h5"), str(tmp_path / "c.h5"), "-o", str(tmp_path / "bc.h5")]) == 0
    together = reconstruct([RUN1, RUN2], tmp_path / "together.h5", setup=setup, **opts)
    np.testing.assert_allclose(EventFile(tmp_path / "bc.h5").xsec_per_benchmark(), together.xsec_pb, rtol=1e-9)


def test_no_event_passing_the_cuts_is_an_error(tmp_path: Path, setup, capsys) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.cli import main

    card_path = _nocut_card(tmp_path, "pt_a > 1e9")
    with pytest.raises(EventFileError, match="none of the 3000 events read passes the cuts"):
        reconstruct([RUN1], tmp_path / "ev.h5", setup=setup, **analysis_from_card(load_card(card_path)))
    assert main(["-q", "reconstruct", str(RUN1), "--card", str(card_path), "-o", str(tmp_path / "ev.h5")]) == 1
    assert "passes the cuts" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.yaml"]
