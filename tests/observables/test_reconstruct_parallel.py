"""``reconstruct -j N``: one LHE file showered by real Pythia in N processes, each on a contiguous part
of its events, gives the same sigma and the same events as one process (checked against the LHE
file's own weights), with compatible distributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from lhcgold.config import load_card
from lhcgold.io.events import EventFile
from lhcgold.io.lhe import read_lhe
from lhcgold.reconstruct import analysis_from_card, reconstruct
from lhcgold.setup import build_setup
from lhcgold.shower import iter_shower, split_events

DATA = Path(__file__).resolve().parents[1] / "data"
RUN1 = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
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
N = 240


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    lines = [
        "lhcgold_card: 1",
        "name: wgamma",
        "parameters:",
        "  - {name: cwww, max_power: 2, range: [-10, 10]}",
        "  - {name: cw, max_power: 2, range: [-10, 10]}",
        "benchmarks:",
    ]
    lines += [f"  {k}: {{cwww: {a}, cw: {b}}}" for k, (a, b) in BENCH.items()]
    lines += [
        "morphing: {max_overall_power: 2}",
        "observables:",
        '  pt_a: {expression: "a[0].pt", default: 0.0}',
        '  etmiss: "met.pt"',
        "reconstruct: {level: detector, shuffle: false}",
        "shower: {mpi: false}",
    ]
    path = tmp_path_factory.mktemp("card") / "wgamma.yaml"
    path.write_text("\n".join(lines) + "\n")
    return load_card(path)


def test_split_events_contiguous_and_complete() -> None:
    parts = split_events(10, 3)
    assert [(p.start, p.count) for p in parts] == [(0, 3), (3, 4), (7, 3)]
    assert [(p.start, p.count) for p in split_events(2, 5)] == [(0, 1), (1, 1)]


def test_skip_events_starts_at_the_right_event() -> None:
    pytest.importorskip("pythia8mc")
    lhe = read_lhe(RUN1, n_events=12, normalise=False)
    col = lhe.weight_names.index("mix_m5_p10")
    chunk = next(iter_shower(RUN1, skip_events=7, n_events=5, mpi=False, hadronisation=False, seed=3))
    k = chunk.weight_names.index("mix_m5_p10")
    assert chunk.first_event == 7 and len(chunk) == 5
    # a part of 5 events sums to sigma on its own: raw weights / 5 (event_norm = average)
    np.testing.assert_allclose(chunk.weights[:, k], lhe.weights[7:12, col] / 5, rtol=1e-12)


@pytest.mark.slow
def test_two_processes_match_one(tmp_path: Path, card) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pythia8mc")
    setup = build_setup(card, rng=1)
    opts = analysis_from_card(card)
    opts["rng"] = 5
    one = reconstruct([RUN1], tmp_path / "j1.h5", setup=setup, n_events=N, **opts)
    two = reconstruct([RUN1], tmp_path / "j2.h5", setup=setup, n_events=N, n_workers=2, **opts)
    assert one.n_read == two.n_read == N and one.n_written == two.n_written == N
    np.testing.assert_allclose(two.xsec_pb, one.xsec_pb, rtol=1e-12, atol=0)
    # independent: the LHE weights of the first N events, averaged (event_norm = average)
    lhe = read_lhe(RUN1, n_events=N, normalise=False)
    names = setup.benchmark_names
    expected = np.array([lhe.weights[:, lhe.weight_names.index(b)].sum() / N for b in names])
    np.testing.assert_allclose(two.xsec_pb, expected, rtol=1e-12)
    # every LHE event is showered exactly once: the per-event weights are the LHE's, as a multiset
    ev1, ev2 = EventFile(tmp_path / "j1.h5").read(), EventFile(tmp_path / "j2.h5").read()
    b = names.index("mix_m5_p10")
    raw = np.sort(lhe.weights[:, lhe.weight_names.index("mix_m5_p10")] / N)
    np.testing.assert_allclose(np.sort(ev2.weights[:, b]), raw, rtol=1e-12)
    np.testing.assert_allclose(np.sort(ev1.weights[:, b]), raw, rtol=1e-12)
    # the parts had their own seeds (not a copy of the one-process showers) and agree in distribution
    assert not np.array_equal(ev1.observations, ev2.observations)
    for k in range(ev1.observations.shape[1]):
        assert stats.ks_2samp(ev1.observations[:, k], ev2.observations[:, k]).pvalue > 1e-3


@pytest.mark.slow
def test_two_processes_carry_the_nuisance_weights(tmp_path: Path) -> None:
    """With --systematics, the parts' scale/PDF weights are averaged like the benchmark weights."""
    pytest.importorskip("pythia8mc")
    from lhcgold.config import load_card_text
    from lhcgold.reconstruct import ReconstructionSample

    jj = DATA / "lhe" / "pylhe-testfile-madgraph5-3.5.8-pp_to_jj.lhe.gz"
    card = load_card_text(
        "lhcgold_card: 1\nname: jj\nparameters: [{name: a, max_power: 1, range: [-1, 1]}]\n"
        "benchmarks: {sm: {a: 0}, p: {a: 1}}\n"
        'observables: {pt_j: {expression: "j[0].pt", default: 0.0}}\n'
        "reconstruct: {level: detector, shuffle: false, systematics: [scale, pdf]}\n"
        "shower: {mpi: false, hadronisation: false}\n"
    )
    sample = ReconstructionSample(jj, sampled_from="sm", weight_map={"p": "40"})
    setup = build_setup(card)
    opts = analysis_from_card(card)
    files = []
    for j in (1, 2):
        reconstruct([sample], tmp_path / f"j{j}.h5", setup=setup, n_workers=j, **opts)
        files.append(EventFile(tmp_path / f"j{j}.h5"))
    a, b = (f.read() for f in files)
    assert len(a.weights) == len(b.weights) == 100
    assert files[1].nuisance.nuisance_parameters == files[0].nuisance.nuisance_parameters
    np.testing.assert_allclose(b.nuisance_weights.sum(axis=0), a.nuisance_weights.sum(axis=0), rtol=1e-12)
    lhe = read_lhe(jj, normalise=False)
    up = lhe.weights[:, lhe.weight_names.index("40")]
    # the events (in file order, no shuffle): the scale-up weight of each is the LHE's, normalised by N
    assert np.allclose(np.sort(b.weights[:, 1]), np.sort(up / 100), rtol=1e-9)
