"""The MG5_aMC backend: every card byte for byte, against real MG5 3.5.7 cards, and a run through the
runtime seam with a stand-in program that lays out files as MG5 does."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from lhcgold.config import load_card
from lhcgold.exceptions import ConfigError, ExternalToolError
from lhcgold.generate import mg5_cards as mc
from lhcgold.generate.backends import BACKENDS, backend_of, get_backend
from lhcgold.generate.mg5 import generate_mg5, parse_mg5, write_run_cards
from lhcgold.io.lhe import read_lhe_header

DATA = Path(__file__).parents[1] / "data"
CARDS = DATA / "mg5_cards"
REF_WA = DATA / "mg5" / "wgamma_ewdim6" / "Cards"
REF_DY = DATA / "mg5" / "dy_sm" / "Cards"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["dy", "wgamma", "dy_smeftsim"])
def test_cards_byte_for_byte(tmp_path: Path, name: str) -> None:
    generate_mg5(load_card(CARDS / f"{name}.yaml"), tmp_path, cards_only=True)
    got, want = _files(tmp_path / "mg5"), _files(CARDS / name)
    assert sorted(got) == sorted(want)
    for k in want:
        assert got[k] == want[k], k


def test_dy_run_and_param_cards_equal_mg5s_own(tmp_path: Path) -> None:
    generate_mg5(load_card(CARDS / "dy.yaml"), tmp_path, cards_only=True)
    cards = tmp_path / "mg5" / "sm" / "Cards"
    assert (cards / "run_card.dat").read_bytes() == (REF_DY / "run_card.dat").read_bytes()
    assert (cards / "param_card.dat").read_bytes() == (REF_DY / "param_card.dat").read_bytes()
    up = mc.parse_param_card((tmp_path / "mg5" / "up" / "Cards" / "param_card.dat").read_text())
    assert up[("sminputs", 1)] == pytest.approx(135.007)  # card_offset + theta


def _commands(text: str) -> list[str]:
    keep = ("import ", "define ", "generate ", "add process ")
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith(keep)]


@pytest.mark.parametrize(
    ("name", "ref"), [("dy", REF_DY / "proc_card_mg5.dat"), ("wgamma", REF_WA / "proc_card_mg5.dat")]
)
def test_proc_card_matches_mg5s_commands(tmp_path: Path, name: str, ref: Path) -> None:
    generate_mg5(load_card(CARDS / f"{name}.yaml"), tmp_path, cards_only=True)
    ours = (tmp_path / "mg5" / "sm" / "proc_card_mg5.dat").read_text()
    assert _commands(ours) == _commands(ref.read_text())
    assert ours.rstrip().endswith("output process")


def test_wgamma_cards_from_mg5s_templates_equal_the_real_second_run() -> None:
    """Patching MG5's run-1 cards with run 2's settings gives MG5's run-2 cards."""
    card = load_card(CARDS / "wgamma.yaml")
    opts = parse_mg5(card)
    run2 = opts.runs[1]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        written = write_run_cards(
            card,
            opts,
            run2,
            Path(d),
            run_card_template=(REF_WA / "run_card_run01_sm.dat").read_text(),
            param_card_template=(REF_WA / "param_card_run01_sm.dat").read_text(),
        )
        run_text = written.run_card.read_text()
        param_text = written.param_card.read_text()  # type: ignore[union-attr]
        rw = written.reweight_card.read_text()  # type: ignore[union-attr]
    ref_run = (REF_WA / "run_card_run02_cwww_p10.dat").read_text()
    # MG5 itself rewrote the iseed line with other spacing; the values are what matter there
    assert mc.parse_run_card(run_text) == mc.parse_run_card(ref_run)

    def no_seed(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if "iseed" not in ln]

    assert no_seed(run_text) == no_seed(ref_run)
    ref_param = (REF_WA / "param_card_run02_cwww_p10.dat").read_text()
    assert mc.parse_param_card(param_text) == mc.parse_param_card(ref_param)
    ref_rw = (REF_WA / "reweight_card.dat").read_text()
    assert rw.splitlines()[1:] == ref_rw.splitlines()[1:]  # all but the comment line


def _reweight_blocks(text: str) -> dict[str, dict[tuple[str, int], float]]:
    """``{benchmark: {(BLOCK, id): value}}`` from a reweight_card's ``launch``/``set`` lines."""
    out: dict[str, dict[tuple[str, int], float]] = {}
    current = None
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["launch"]:
            current = out.setdefault(words[1].removeprefix("--rwgt_name="), {})
        elif words[:1] == ["set"] and current is not None:
            key = (words[1], int(words[2]))
            assert key not in current, line
            current[key] = float(words[3])
    return out


def test_dy_smeftsim_cards_set_exactly_the_parameters(tmp_path: Path) -> None:
    """Every benchmark's reweighting sets exactly the SMEFT ids of the card's parameters to
    card_scale * value + card_offset; each run's param_card holds its benchmark, every other Wilson
    coefficient at zero, the rest of the model's card unchanged; the proc_card imports the restricted
    model with SMEFTsim's NP orders for SM + linear + quadratic."""
    import yaml

    raw = yaml.safe_load((CARDS / "dy_smeftsim.yaml").read_text())  # read independently of lhcgold.config
    params = raw["parameters"]
    generate_mg5(load_card(CARDS / "dy_smeftsim.yaml"), tmp_path, cards_only=True)
    base = mc.parse_param_card((CARDS / "smeftsim_u35_massless_standin.dat").read_text())
    names = {}  # SMEFTsim's coefficient names, from the comments of the param_card
    for line in (CARDS / "smeftsim_u35_massless_standin.dat").read_text().splitlines():
        if "#" in line and line[:1] == " " and line.split()[0].isdigit():
            names[int(line.split()[0])] = line.split("#")[1].strip()

    def card_value(p: dict, v: float) -> float:
        return p.get("card_scale", 1.0) * v + p.get("card_offset", 0.0)

    for p in params:  # the ids are SMEFTsim's for these coefficients (restrict_massless.dat)
        assert p["lha_block"] == "SMEFT" and names[p["lha_id"]] == p["name"]
    for run in raw["generator"]["runs"]:
        rdir = tmp_path / "mg5" / run["name"]
        blocks = _reweight_blocks((rdir / "Cards" / "reweight_card.dat").read_text())
        assert list(blocks) == list(raw["benchmarks"])
        for bench, sets in blocks.items():
            want = {("SMEFT", p["lha_id"]): card_value(p, raw["benchmarks"][bench][p["name"]]) for p in params}
            assert sets == want, bench
        got = mc.parse_param_card((rdir / "Cards" / "param_card.dat").read_text())
        assert set(got) == set(base)
        point = raw["benchmarks"][run["benchmark"]]
        mine = {("smeft", p["lha_id"]): card_value(p, point[p["name"]]) for p in params}
        for key, value in got.items():
            if key in mine:
                assert value == mine[key], key
            elif key[0] == "smeft":
                assert value == 0.0 and base[key] != 0.0, key  # the restriction's placeholder is gone
            else:
                assert value == base[key], key
        proc = (rdir / "proc_card_mg5.dat").read_text().splitlines()
        assert "import model SMEFTsim_U35_MwScheme_UFO-massless" in proc
        (gen,) = [ln for ln in proc if ln.startswith("generate ")]
        assert gen.split()[1:5] == ["p", "p", ">", "mu+"] and {"NP<=1", "NP^2<=2", "SMHLOOP=0"} <= set(gen.split())
        launch = (rdir / "launch_commands.mg5").read_text().splitlines()
        assert "reweight=ON" in launch and "madspin=OFF" in launch


def test_dy_smeftsim_benchmarks_are_a_full_morphing_basis() -> None:
    """MG5 reweights to the card's benchmarks only, so they must span the morphing components
    (1 + 2n + n(n-1)/2 for total degree 2) without any basis point lhcgold would add."""
    from lhcgold.setup import build_setup

    card = load_card(CARDS / "dy_smeftsim.yaml")
    setup = build_setup(card)
    n = len(card.parameters)
    assert setup.components.shape[0] == 1 + 2 * n + n * (n - 1) // 2 == len(card.benchmarks)
    assert setup.benchmark_names == card.benchmark_names


def _smeftsim_card(tmp_path: Path, old: str, new: str) -> Path:
    text = (CARDS / "dy_smeftsim.yaml").read_text()
    assert old in text
    shutil.copy(CARDS / "smeftsim_u35_massless_standin.dat", tmp_path)
    p = tmp_path / "card.yaml"
    p.write_text(text.replace(old, new))
    return p


def test_param_card_set_errors(tmp_path: Path) -> None:
    card = _smeftsim_card(tmp_path, "SMEFT: 0 ", "SMEFTcpv: 0 ")
    with pytest.raises(ConfigError, match=r"has no block SMEFTCPV \(blocks: .*SMEFT"):
        generate_mg5(load_card(card), tmp_path / "o", cards_only=True)
    card = _smeftsim_card(tmp_path, "{1: 1000.0}", "{1: 1000.0, 2: 1.0}")
    with pytest.raises(ConfigError, match=r"no entry SMEFTCUTOFF 2"):
        generate_mg5(load_card(card), tmp_path / "o", cards_only=True)
    card = _smeftsim_card(tmp_path, "SMEFT: 0 ", "SMEFT: {36: 0.5} ")
    with pytest.raises(ConfigError, match=r"SMEFT 36 is parameter 'clq3'"):
        parse_mg5(load_card(card))
    assert not (tmp_path / "o").exists()


def test_patch_run_card_keeps_layout_and_appends_unknown() -> None:
    text = "#c\n  10000\t= nevents ! Number\n  0\t= iseed ! seed\n"
    out = mc.patch_run_card(text, {"nevents": 50, "use_syst": True})
    assert out.startswith("#c\n  50\t= nevents ! Number\n  0\t= iseed ! seed\n")
    assert "  True\t= use_syst ! set by lhcgold\n" in out
    with pytest.raises(ConfigError, match="single token"):
        mc.patch_run_card(text, {"nevents": "5\n  1 = iseed"})


def test_patch_param_card_missing_entry() -> None:
    with pytest.raises(ConfigError, match="no entry 7 in block DIM6"):
        mc.patch_param_card((REF_WA / "param_card_run01_sm.dat").read_text(), {("dim6", 7): 1.0})
    out = mc.patch_param_card((REF_WA / "param_card_run01_sm.dat").read_text(), {("decay", 24): 2.0})
    assert mc.parse_param_card(out)[("decay", 24)] == 2.0


def test_registry_and_backend_choice() -> None:
    assert set(BACKENDS) >= {"embedded", "mg5"}
    assert backend_of(load_card(CARDS / "wgamma.yaml")) == "mg5"
    assert backend_of(load_card(Path(__file__).parents[2] / "cards" / "dy.yaml")) == "embedded"
    with pytest.raises(ConfigError, match="unknown generator backend 'mg6'.*mg5"):
        get_backend("mg6")
    assert callable(get_backend("mg5").load())


def test_parameters_need_lha_entries(tmp_path: Path) -> None:
    text = (CARDS / "wgamma.yaml").read_text().replace("lha_block: dim6, lha_id: 2, ", "")
    p = tmp_path / "c.yaml"
    p.write_text(text.replace("../mg5/", str(DATA / "mg5") + "/"))
    with pytest.raises(ConfigError, match="'CWL2' needs lha_block and lha_id"):
        parse_mg5(load_card(p))


def test_missing_mg5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MG5_HOME", raising=False)
    with pytest.raises(ExternalToolError, match="MG5_aMC not configured"):
        generate_mg5(load_card(CARDS / "dy.yaml"), tmp_path / "o")
    monkeypatch.setenv("MG5_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(ExternalToolError, match="MG5_aMC not found"):
        generate_mg5(load_card(CARDS / "dy.yaml"), tmp_path / "o")


FAKE_MG5 = r'''#!{python}
"""Stand-in for bin/mg5_aMC. With a proc_card it makes the process directory the way MG5 does
(Cards/ with MG5's own run and param cards); with the launch commands it checks the switches and the
cards lhcgold wrote, then puts a real MG5 LHE file (and a real Delphes file) into Events/run_01."""
import shutil, sys, pathlib
card = pathlib.Path(sys.argv[1]).read_text()
lines = card.splitlines()
if lines[0].startswith("launch "):
    root = pathlib.Path(lines[0].split()[1])
    assert lines[1:] == ["shower=OFF", "detector=OFF", "analysis=OFF", "madspin=OFF", "reweight=ON", "done"], lines
    cards = root / "Cards"
    assert (cards / "reweight_card.dat").is_file()
    assert "8765 = iseed" in (cards / "run_card.dat").read_text()
    assert "1.000000e+01 # cwwwl2" in (cards / "param_card.dat").read_text()
    ev = root / "Events" / "run_01"
    ev.mkdir(parents=True)
    shutil.copy({lhe!r}, ev / "unweighted_events.lhe.gz")
    shutil.copy({delphes!r}, ev / "tag_1_delphes_events.root")
    print("INFO: generation done")
    sys.exit(0)
out = [l.split()[1] for l in lines if l.startswith("output ")][0]
proc = pathlib.Path(out)
(proc / "Cards").mkdir(parents=True)
shutil.copy({run_card!r}, proc / "Cards" / "run_card.dat")
shutil.copy({param_card!r}, proc / "Cards" / "param_card.dat")
print("INFO: output done")
'''


def test_run_through_the_runtime_with_a_stand_in_mg5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "MG5"
    (home / "bin").mkdir(parents=True)
    exe = home / "bin" / "mg5_aMC"
    exe.write_text(
        FAKE_MG5.format(
            python=sys.executable,
            run_card=str(REF_WA / "run_card_run01_sm.dat"),
            param_card=str(REF_WA / "param_card_run01_sm.dat"),
            delphes=str(DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"),
            lhe=str(DATA / "mg5" / "wgamma_ewdim6" / "run_02_cwww_p10_unweighted_events.lhe.gz"),
        )
    )
    exe.chmod(0o755)
    monkeypatch.setenv("MG5_HOME", str(home))
    card = load_card(CARDS / "wgamma.yaml")
    out = tmp_path / "out"
    summary = generate_mg5(card, out, runs=["cwww_p10"])
    (r,) = summary.runs
    assert r.lhe == out / "cwww_p10.lhe.gz" and r.n_events == 3000
    assert r.xsec_pb == pytest.approx(0.0787799)
    head = read_lhe_header(r.lhe)
    assert set(card.benchmark_names) <= set(head.weight_names)
    manifest = json.loads((out / "runs.json").read_text())
    assert manifest["runs"][0]["sampled_from"] == "cwww_p10" and manifest["runs"][0]["file"] == "cwww_p10.lhe.gz"
    # Delphes run by MG5 is collected and read by the Delphes reader, weights named from the LHE
    from lhcgold.io.delphes import read_delphes

    assert manifest["runs"][0]["delphes"] == "cwww_p10.delphes.root"
    ev = read_delphes(out / "cwww_p10.delphes.root", lhe=r.lhe)
    assert ev.weight_names[:2] == ("nominal", "sm") and ev.weights.shape == (200, 10)
    # the MG5 param_card template came from the process directory, with the benchmark set
    assert "1.000000e+01 # cwwwl2" in (out / "mg5" / "cwww_p10" / "process" / "Cards" / "param_card.dat").read_text()
    # resumable: a rerun skips both MG5 steps (the stand-in would fail on an existing directory)
    again = generate_mg5(card, out, runs=["cwww_p10"], overwrite=True)
    assert again.runs[0].n_events == 3000
    with pytest.raises(ConfigError, match="exists; pass --overwrite"):
        generate_mg5(card, out, runs=["cwww_p10"])


@pytest.mark.slow
def test_two_runs_combine_with_the_right_cross_sections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs at two benchmarks -> runs.json -> one events file whose cross sections are MG5's."""
    from lhcgold.generate.mg5 import samples_from_manifest
    from lhcgold.io.events import EventFile
    from lhcgold.observables import Observable
    from lhcgold.reconstruct import reconstruct
    from lhcgold.setup import build_setup

    home = tmp_path / "MG5"
    (home / "bin").mkdir(parents=True)
    exe = home / "bin" / "mg5_aMC"
    exe.write_text(
        FAKE_TWO_RUNS.format(
            python=sys.executable,
            run_card=str(REF_WA / "run_card_run01_sm.dat"),
            param_card=str(REF_WA / "param_card_run01_sm.dat"),
            data=str(DATA / "mg5" / "wgamma_ewdim6"),
        )
    )
    exe.chmod(0o755)
    monkeypatch.setenv("MG5_HOME", str(home))
    card = load_card(CARDS / "wgamma.yaml")
    out = tmp_path / "out"
    summary = generate_mg5(card, out)
    assert [r.name for r in summary.runs] == ["sm", "cwww_p10"]
    assert summary.runs[0].xsec_pb == pytest.approx(0.04066757) and summary.runs[1].xsec_pb == pytest.approx(0.0787799)
    samples = samples_from_manifest(out / "runs.json")
    assert [(s.sampled_from, s.is_background) for s in samples] == [("sm", False), ("cwww_p10", False)]
    obs = [Observable("pt_a", "a[0].pt")]
    res = reconstruct(samples, tmp_path / "events.h5", setup=build_setup(card), observables=obs, level="parton", rng=1)
    assert res.n_written == 6000
    sigma = EventFile(tmp_path / "events.h5").xsec_per_benchmark()
    names = list(card.benchmark_names)
    # MadMiner's convention: each run's weights sum to that run's sigma estimate, and a file that joins runs
    # weights each by its share of the events, so sigma(b) is the mean of the two runs' estimates
    from lhcgold.io.lhe import read_lhe

    per_run = [read_lhe(r.lhe) for r in summary.runs]
    for b in names:
        want = 0.5 * sum(float(ch.weight(b).sum()) for ch in per_run)
        assert sigma[names.index(b)] == pytest.approx(want, rel=1e-9), b
    # the generation points reproduce MG5's own cross sections
    assert float(per_run[0].weight("sm").sum()) == pytest.approx(0.04066757, rel=1e-6)
    assert float(per_run[1].weight("cwww_p10").sum()) == pytest.approx(0.0787799, rel=1e-6)


FAKE_TWO_RUNS = r"""#!{python}
import pathlib, shutil, sys
lines = pathlib.Path(sys.argv[1]).read_text().splitlines()
if lines[0].startswith("launch "):
    root = pathlib.Path(lines[0].split()[1])
    seed = [l for l in (root / "Cards" / "run_card.dat").read_text().splitlines() if "= iseed" in l][0].split()[0]
    src = {{"4321": "run_01_sm", "8765": "run_02_cwww_p10"}}[seed]
    (root / "Events" / "run_01").mkdir(parents=True)
    shutil.copy(pathlib.Path({data!r}) / (src + "_unweighted_events.lhe.gz"),
                root / "Events" / "run_01" / "unweighted_events.lhe.gz")
    sys.exit(0)
proc = pathlib.Path([l.split()[1] for l in lines if l.startswith("output ")][0])
(proc / "Cards").mkdir(parents=True)
shutil.copy({run_card!r}, proc / "Cards" / "run_card.dat")
shutil.copy({param_card!r}, proc / "Cards" / "param_card.dat")
"""


def test_failing_mg5_reports_log_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "MG5"
    (home / "bin").mkdir(parents=True)
    exe = home / "bin" / "mg5_aMC"
    exe.write_text(f"#!{sys.executable}\nimport sys\nprint('InvalidCmd: No model EWdim6 found')\nsys.exit(1)\n")
    exe.chmod(0o755)
    monkeypatch.setenv("MG5_HOME", str(home))
    with pytest.raises(ExternalToolError, match="No model EWdim6 found") as info:
        generate_mg5(load_card(CARDS / "wgamma.yaml"), tmp_path / "o")
    assert info.value.returncode == 1
    assert not (tmp_path / "o" / "runs.json").exists()


@pytest.mark.external
def test_real_mg5_drell_yan(tmp_path: Path) -> None:
    home = os.environ.get("MG5_HOME")
    if not home or not (Path(home) / "bin" / "mg5_aMC").is_file():
        pytest.skip("MG5_HOME is not set to an MG5_aMC installation")
    if shutil.which("gfortran") is None:
        pytest.skip("MG5 needs gfortran")
    card = load_card(CARDS / "dy.yaml")
    summary = generate_mg5(card, tmp_path, n_events=200, runs=["sm"])
    (r,) = summary.runs
    assert r.n_events == 200
    assert 1.1 < r.xsec_pb < 1.3  # the reference run: 1.195 +- 0.003 pb
    assert {"sm", "up", "down"} <= set(r.weight_names)
