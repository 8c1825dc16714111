"""The embedded generator end to end: reproducibility, weights, LHE (pylhe, Pythia), event store, CLI, cards."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import load_card, load_card_text
from lhcgold.exceptions import ConfigError
from lhcgold.generate.card import parse_card
from lhcgold.generate.embedded import generate

ROOT = Path(__file__).parents[2]

DY = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, range: [-0.1, 0.1]}
  - {name: C_LR, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0, C_LR: 0}
  ll: {C_LL: 0.1, C_LR: 0}
  lr: {C_LL: 0, C_LR: -0.1}
  b3: {C_LL: -0.1, C_LR: 0}
  b4: {C_LL: 0, C_LR: 0.1}
  b5: {C_LL: 0.05, C_LR: 0.05}
morphing: {max_overall_power: 2}
process: {name: drell_yan, mll_gev: [500, 3000], scale_gev: 91.1876}
generate: {seed: 5, adapt: {iterations: 3, points: 5000}}
"""


@pytest.fixture(scope="module")
def dy_card():  # noqa: ANN201
    return load_card_text(DY)


@pytest.fixture(scope="module")
def dy_small(dy_card):  # noqa: ANN001, ANN201
    return generate(dy_card, n_events=3000, rng=5)


def test_reproducible_and_seed_dependent(dy_card) -> None:  # noqa: ANN001
    a = generate(dy_card, n_events=500, rng=7)
    b = generate(dy_card, n_events=500, rng=7)
    c = generate(dy_card, n_events=500, rng=8)
    np.testing.assert_array_equal(a.component_weights, b.component_weights)
    np.testing.assert_array_equal(a.particles.momenta, b.particles.momenta)
    assert not np.array_equal(a.component_weights, c.component_weights)


def test_weights_sum_to_cross_section(dy_card) -> None:  # noqa: ANN001
    res = generate(dy_card, n_events=40_000, rng=3)
    est = res.component_weights.sum(0)
    # per-trial MC error of each component estimate
    n = res.n_trials
    err = np.sqrt(np.maximum((res.component_weights**2).sum(0) * n - est**2, 0) / n)
    ok = err > 0
    assert np.all(np.abs(est - res.xsec_components)[ok] < 4 * err[ok])
    assert res.xsec_components[0] == pytest.approx(0.08643, rel=2e-4)
    # benchmark weights are the morphing of the components
    th = res.benchmark_values
    np.testing.assert_allclose(res.benchmark_weights, res.weights(th).T, rtol=1e-12)


def test_kinematics_and_observables(dy_small) -> None:  # noqa: ANN001
    p = dy_small.particles.momenta
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2] + p[:, 3], atol=1e-6)
    m = dy_small.observables[:, 0]
    assert m.min() >= 500 and m.max() <= 3000
    mll = np.sqrt(np.maximum((p[:, 2, 0] + p[:, 3, 0]) ** 2 - np.sum((p[:, 2, 1:] + p[:, 3, 1:]) ** 2, 1), 0))
    np.testing.assert_allclose(mll, m, rtol=1e-9)
    assert set(np.unique(np.abs(dy_small.particles.pdg[:, :2]))) <= {1, 2, 3, 4, 5}
    assert np.all(dy_small.particles.pdg[:, 2] == 13)


def test_unweighted_events(dy_card) -> None:  # noqa: ANN001
    res = generate(dy_card, n_events=3000, rng=4, unweighted=True)
    assert res.n_events == 3000
    w = res.weights(np.zeros(2))
    # all but the rare over-weighted events carry the same weight
    assert np.mean(np.isclose(w, np.median(w), rtol=1e-9)) > 0.99
    sig = w.sum()
    err = math.sqrt(res.n_events) * np.median(w)
    assert abs(sig - 0.08643) < 4 * err
    assert 0 < res.unweighting_efficiency < 1


def test_lhe_read_by_pylhe(dy_small, tmp_path: Path) -> None:  # noqa: ANN001
    pylhe = pytest.importorskip("pylhe")
    out = dy_small.write_lhe(tmp_path / "dy.lhe", overwrite=False)
    with pytest.raises(Exception, match="exists"):
        dy_small.write_lhe(out)
    lhe = pylhe.LHEFile.fromfile(str(out))
    assert lhe.init.initInfo.beamA == 2212
    events = list(lhe.events)
    assert len(events) == dy_small.n_events
    n = dy_small.n_events
    bw = dy_small.benchmark_weights  # weighted: event_norm = sum
    for i in (0, 17, n - 1):
        ev = events[i]
        comp_ids = [f"lhcgold_component_{k}" for k in range(dy_small.component_weights.shape[1])]
        assert list(ev.weights) == list(dy_small.benchmark_names) + comp_ids
        np.testing.assert_allclose([ev.weights[k] for k in dy_small.benchmark_names], bw[i], rtol=1e-9)
        np.testing.assert_allclose([ev.weights[k] for k in comp_ids], dy_small.component_weights[i], rtol=1e-9)
        assert ev.eventinfo.weight == pytest.approx(bw[i, 0], rel=1e-6)
        assert [int(p.id) for p in ev.particles] == dy_small.particles.pdg[i].tolist()
        np.testing.assert_allclose([p.px for p in ev.particles], dy_small.particles.momenta[i, :, 1], atol=1e-6)
    text = out.read_text()
    assert "<weightgroup name='mg_reweighting'" in text
    assert "sum\t= event_norm" in text


def test_lhe_read_by_lhcgold_reader(dy_small, tmp_path: Path) -> None:  # noqa: ANN001
    lhe = pytest.importorskip("lhcgold.io.lhe")
    out = dy_small.write_lhe(tmp_path / "dy.lhe.gz")
    header = lhe.read_lhe_header(out)
    n_b = len(dy_small.benchmark_names)
    assert tuple(header.weight_names[:n_b]) == dy_small.benchmark_names
    assert header.weight_names[n_b] == "lhcgold_component_0"
    chunk = lhe.read_lhe(out)
    np.testing.assert_allclose(chunk.weights[:, :n_b], dy_small.benchmark_weights, rtol=1e-9)
    np.testing.assert_allclose(chunk.weights[:, n_b:], dy_small.component_weights, rtol=1e-9, atol=1e-300)


@pytest.mark.slow
def test_lhe_showered_by_pythia_with_weights(dy_small, tmp_path: Path) -> None:  # noqa: ANN001
    pythia8mc = pytest.importorskip("pythia8mc")
    out = dy_small.write_lhe(tmp_path / "dy.lhe")
    py = pythia8mc.Pythia("", False)
    for s in (
        "Beams:frameType = 4",
        f"Beams:LHEF = {out}",
        "Next:numberCount = 0",
        "HadronLevel:all = on",
        "Print:quiet = on",
        "Random:setSeed = on",
        "Random:seed = 3",
    ):
        assert py.readString(s)
    assert py.init()
    names = None
    n_ok = 0
    for i in range(50):
        if not py.next():
            continue
        n_ok += 1
        info = py.infoPython()
        if names is None:
            names = [info.weightNameByIndex(k) for k in range(info.numberOfWeights())]
        vals = {info.weightNameByIndex(k): info.weightValueByIndex(k) for k in range(info.numberOfWeights())}
        for j, b in enumerate(dy_small.benchmark_names):
            key = next(k for k in vals if k.endswith(b))
            assert vals[key] == pytest.approx(dy_small.benchmark_weights[i, j], rel=1e-5)  # event_norm = sum
        # the event was showered and hadronised: many final-state particles
        assert sum(1 for k in range(py.event.size()) if py.event[k].isFinal()) > 4
    assert n_ok == 50
    assert names is not None and all(any(n.endswith(b) for n in names) for b in dy_small.benchmark_names)


def test_event_store(dy_small, tmp_path: Path) -> None:  # noqa: ANN001
    events = pytest.importorskip("lhcgold.io.events")
    from lhcgold.config import Setup
    from lhcgold.physics.morphing import Morpher

    card = dy_small.card
    basis = card.benchmark_values
    setup = Setup(card.parameters, card.benchmarks, dy_small.components, Morpher(dy_small.components, basis).matrix)
    path = dy_small.write_events(tmp_path / "dy.h5", setup=setup)
    ef = events.EventFile(path)
    assert ef.n_events == dy_small.n_events
    assert ef.has_components
    assert tuple(ef.observables) == dy_small.observable_names
    # the precise component cross sections (quadrature for DY) are stored beside the events
    np.testing.assert_allclose(ef.component_xsec(), dy_small.xsec_components, rtol=1e-10)
    np.testing.assert_allclose(ef.xsec_per_benchmark(), dy_small.benchmark_weights.sum(0), rtol=1e-10)
    chunk = ef.read()
    np.testing.assert_allclose(chunk.component_weights, dy_small.component_weights)
    np.testing.assert_allclose(chunk.observations, dy_small.observables)
    assert ef.attrs["card_hash"] == dy_small.card.card_hash


def test_wh_events(tmp_path: Path) -> None:
    card = load_card(ROOT / "cards" / "wh.yaml")
    res = generate(card, n_events=2000, rng=2)
    p = res.particles.momenta
    # W -> l nu, momentum conservation, the W record carries m_lnu
    np.testing.assert_allclose(p[:, 0] + p[:, 1], p[:, 2] + p[:, 3], atol=1e-6)
    np.testing.assert_allclose(p[:, 2], p[:, 4] + p[:, 5], atol=1e-6)
    charge = res.observables[:, 0]
    assert set(np.unique(charge)) == {-1.0, 1.0}
    lep = res.particles.pdg[:, 4]
    np.testing.assert_array_equal(np.sign(-lep), charge)
    np.testing.assert_array_equal(res.particles.pdg[:, 2], 24 * charge.astype(int))
    assert res.xsec_components[0] > 0
    out = res.write_lhe(tmp_path / "wh.lhe.gz")
    assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            "sqrt_s_gev: 13000",
            "sqrt_s_gev: -13000",
        ),
        ("mll_gev: [500, 3000]", "mll_gev: [3000, 500]"),
        ("name: drell_yan", "name: drell_yann"),
        ("{name: C_LR, range: [-0.1, 0.1]}", "{name: C_XY, range: [-0.1, 0.1]}"),
        ("ll: {C_LL: 0.1, C_LR: 0}", "ll: {C_LL: 0.5, C_LR: 0}"),
        ("{name: C_LL, range: [-0.1, 0.1]}", "{name: C_LL, max_power: 1, range: [-0.1, 0.1]}"),
        ("generate: {seed: 5,", "generate: {sed: 5,"),
    ],
)
def test_bad_cards(edit: tuple[str, str], match: str) -> None:
    text = DY.replace("mll_gev", "sqrt_s_gev: 13000, mll_gev")
    old, new = edit, match
    assert old in text
    with pytest.raises(ConfigError) as info:
        parse_card(load_card_text(text.replace(old, new)))
    msg = str(info.value)
    assert msg
    expected = {
        "-13000": "sqrt_s_gev",
        "[3000, 500]": "no phase space",
        "drell_yann": "process.name",
        "C_XY": "C_XY",
        "0.5": "outside",
        "max_power: 1": "max_power",
        "sed": "sed",
    }
    key = next(k for k in expected if k in new)
    assert expected[key] in msg, msg


def test_wh_cuts_without_phase_space() -> None:
    text = (ROOT / "cards" / "wh.yaml").read_text().replace("sqrt_s_gev: 13000", "sqrt_s_gev: 130")
    with pytest.raises(ConfigError, match="no phase space"):
        parse_card(load_card_text(text))


def test_example_cards_parse() -> None:
    for name in ("dy", "wh"):
        card = load_card(ROOT / "cards" / f"{name}.yaml")
        popts, gopts = parse_card(card)
        assert popts.name == ("drell_yan" if name == "dy" else "wh")
        assert gopts.n_events > 0


def test_cli(tmp_path: Path) -> None:
    from lhcgold.cli import main

    card = tmp_path / "dy.yaml"
    card.write_text(DY)
    out = tmp_path / "run"
    assert main(["-q", "generate", str(card), "-o", str(out), "-n", "300", "--seed", "2"]) == 0
    assert (out / "events.lhe.gz").is_file()
    assert (out / "events.h5").is_file()
    assert main(["-q", "generate", str(card), "-o", str(out), "-n", "300"]) == 1  # refuses to overwrite
    assert main(["-q", "generate", str(card), "-o", str(out), "-n", "300", "--overwrite", "--unweighted"]) == 0


def test_streaming_writer_equals_in_memory(dy_card, tmp_path: Path) -> None:  # noqa: ANN001
    """generate_to_files (chunked, memory flat) writes exactly what generate + write_* write."""
    events = pytest.importorskip("lhcgold.io.events")
    from lhcgold.generate.embedded import generate_to_files
    from lhcgold.io.lhe import read_lhe

    res = generate(dy_card, n_events=2500, rng=21)
    res.write_lhe(tmp_path / "a.lhe")
    res.write_events(tmp_path / "a.h5")
    summ = generate_to_files(dy_card, lhe_path=tmp_path / "b.lhe", events_path=tmp_path / "b.h5", n_events=2500, rng=21)
    assert summ.n_events == 2500
    assert (tmp_path / "a.lhe").read_text() == (tmp_path / "b.lhe").read_text()
    a, b = events.EventFile(tmp_path / "a.h5").read(), events.EventFile(tmp_path / "b.h5").read()
    np.testing.assert_array_equal(a.component_weights, b.component_weights)
    np.testing.assert_array_equal(a.weights, b.weights)
    n_b = res.benchmark_weights.shape[1]
    np.testing.assert_allclose(read_lhe(tmp_path / "b.lhe").weights[:, :n_b], res.benchmark_weights, rtol=1e-9)
    with pytest.raises(ConfigError, match="exists"):
        generate_to_files(dy_card, lhe_path=tmp_path / "b.lhe", n_events=10, rng=1)


def test_weighted_generation_writes_no_zero_weights(tmp_path: Path) -> None:
    """Trials whose weights all vanish (1 in ~5000 for WH) are not written: Pythia turned their zero
    XWGTUP into NaN weights. Sigma is unchanged: the files still sum to the same cross section."""
    from lhcgold.generate.embedded import generate_to_files
    from lhcgold.io.events import EventFile
    from lhcgold.io.lhe import read_lhe, read_lhe_header

    card = load_card(ROOT / "cards" / "wh.yaml")
    res = generate(card, n_events=5000, rng=1, unweighted=False)
    assert res.n_trials == 5000 and res.n_events < 5000  # this seed draws zero-weight points
    assert np.all(np.any(res.component_weights != 0, axis=1))
    summ = generate_to_files(
        card, lhe_path=tmp_path / "wh.lhe.gz", events_path=tmp_path / "wh.h5", n_events=5000, rng=1, unweighted=False
    )
    assert summ.n_events == res.n_events and summ.n_trials == 5000
    lhe = read_lhe(tmp_path / "wh.lhe.gz")
    assert len(lhe) == res.n_events and np.all(lhe.nominal != 0) and np.all(np.isfinite(lhe.weights))
    # the same sigma three ways: the <init> cross section, the LHE weights, the event store
    gb = card.benchmark_names.index("sm") if "sm" in card.benchmark_names else 0
    sigma = res.benchmark_weights[:, gb].sum()
    assert read_lhe_header(tmp_path / "wh.lhe.gz").total_xsec_pb == pytest.approx(sigma, rel=1e-6)
    assert lhe.nominal.sum() == pytest.approx(sigma, rel=1e-9)
    ef = EventFile(tmp_path / "wh.h5")
    assert ef.xsec_per_benchmark()[ef.setup.benchmark_names.index(card.benchmark_names[gb])] == pytest.approx(
        sigma, rel=1e-9
    )
    assert ef.attrs["sample_id"].startswith("lhcgold-gen:") and ef.attrs["n_generated"] == 5000
