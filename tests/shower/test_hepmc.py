"""HepMC from the Pythia stage, read back by pyhepmc with every weight intact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pythia8mc")
hep = pytest.importorskip("pyhepmc")

from lhcgold.exceptions import EventFileError  # noqa: E402
from lhcgold.io.lhe import read_lhe  # noqa: E402
from lhcgold.shower.hepmc import shower_to_hepmc  # noqa: E402

LHE = Path(__file__).parents[1] / "data" / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
N = 40


@pytest.mark.parametrize("fmt", ["HepMC3", "HepMC2"])
def test_hepmc_round_trip_keeps_weights(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"wa.{fmt.lower()}"
    res = shower_to_hepmc(LHE, out, fmt=fmt, seed=11, n_events=N, mpi=False)  # type: ignore[arg-type]
    assert res.n_events == N and res.weight_names[0] == "nominal"
    assert res.weight_names[1:] == (
        "sm",
        "cwww_m10",
        "cwww_m5",
        "cwww_p5",
        "cwww_p10",
        "cw_m10",
        "cw_p10",
        "mix_p5_p5",
        "mix_m5_p10",
    )
    lhe = read_lhe(LHE, n_events=N, normalise=False)  # raw XWGTUP and <rwgt> values
    events = []
    with hep.open(str(out)) as f:
        for ev in f:
            events.append(ev)
    assert len(events) == N
    for i, ev in enumerate(events):
        if fmt == "HepMC3":
            assert list(ev.run_info.weight_names) == list(res.weight_names)
        w = np.asarray(ev.weights)
        # the LHE weights, untouched by the shower: benchmark ratios per event equal the LHE's
        np.testing.assert_allclose(w[1:] / w[0], lhe.weights[i] / lhe.nominal[i], rtol=1e-9)
        assert w[0] == pytest.approx(lhe.nominal[i], rel=1e-6)
        # beams in, final state out: four-momentum is conserved (beam remnants included)
        final = [p for p in ev.particles if p.status == 1]
        tot = np.sum([[p.momentum.px, p.momentum.py, p.momentum.pz, p.momentum.e] for p in final], axis=0)
        np.testing.assert_allclose(tot, [0, 0, 0, 13000.0], atol=1e-3 * 13000)
        assert sum(1 for p in ev.particles if p.status == 4 and p.pid == 2212) == 2
    assert res.weight_sums_pb[0] == pytest.approx(lhe.nominal.sum(), rel=1e-6)
    assert lhe.nominal[0] == pytest.approx(0.04066757)  # MG5's sigma: event_norm = average


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "x.hepmc"
    out.write_text("keep me")
    with pytest.raises(EventFileError, match="refusing to overwrite"):
        shower_to_hepmc(LHE, out, seed=1, n_events=2, mpi=False)
    assert out.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.hepmc"]


def test_cli_writes_hepmc(tmp_path: Path) -> None:
    from lhcgold.cli import main

    out = tmp_path / "wa.hepmc"
    assert (
        main(
            [
                "-q",
                "shower",
                str(LHE),
                "-o",
                str(out),
                "--format",
                "hepmc3",
                "--n-events",
                "5",
                "--no-mpi",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    with hep.open(str(out)) as f:
        events = list(f)
    assert len(events) == 5 and len(events[0].weights) == 10


# ---------------------------------------------------------------------------------------------
# the whole event record (history=True)

WBJ = Path(__file__).parents[1] / "data" / "lhe" / "pylhe-testfile-madgraph-2.0.0-wbj.lhe.gz"  # p p > w+ b j


def _p4(p) -> np.ndarray:
    return np.array([p.momentum.px, p.momentum.py, p.momentum.pz, p.momentum.e])


def _is_b_hadron(pid: int) -> bool:
    from lhcgold.shower.hepmc import is_hadron

    a = abs(pid)
    return bool(is_hadron(np.array([pid]))[0]) and (((a // 100) % 10 == 5) or ((a // 1000) % 10 == 5))


def test_status_and_mothers_are_pythias_own() -> None:
    """The vectorised status map and mother lists equal Pythia's Particle::statusHepMC() and
    Particle::motherList() on real showered events (MPI, hadronisation and decays on).
    Primary hadrons (83, 84) are either final (1) or decayed (2)."""
    import pythia8mc

    from lhcgold.shower.hepmc import hepmc_status, mother_list

    py = pythia8mc.Pythia("", False)
    for s in ("Beams:frameType = 4", f"Beams:LHEF = {WBJ}", "Print:quiet = on", "Random:setSeed = on"):
        assert py.readString(s)
    assert py.init()
    seen: set[int] = set()
    for _ in range(3):
        assert py.next()
        ev = py.event
        n = ev.size()
        cols = [(ev[i].id(), ev[i].status(), ev[i].mother1(), ev[i].mother2(), ev[i].daughter1()) for i in range(n)]
        pid, status, m1, m2, d1 = (np.array(c) for c in zip(*cols))
        ours = hepmc_status(pid, status, d1)
        for i in range(1, n):
            assert ours[i] == ev[i].statusHepMC(), (i, pid[i], status[i])
            assert mother_list(int(status[i]), int(m1[i]), int(m2[i])) == list(ev[i].motherList()), i
        seen |= set(ours.tolist())
    assert {1, 2, 4, 21, 23, 31, 44, 51, 62, 63, 71} <= seen, sorted(seen)


@pytest.fixture(scope="module")
def wbj_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    d = tmp_path_factory.mktemp("hist")
    full = shower_to_hepmc(WBJ, d / "full.hepmc", history=True, seed=7, n_events=12)
    plain = shower_to_hepmc(WBJ, d / "plain.hepmc", seed=7, n_events=12)
    assert full.weight_names == plain.weight_names and full.n_events == plain.n_events == 12
    return d / "full.hepmc", d / "plain.hepmc", full


def test_history_round_trip_keeps_weights_and_final_state(wbj_files) -> None:
    full, plain, res = wbj_files
    with hep.open(str(full)) as f:
        events = list(f)
    with hep.open(str(plain)) as f:
        flat = list(f)
    lhe = read_lhe(WBJ, n_events=12, normalise=False)
    assert len(events) == 12
    for i, (ev, ref) in enumerate(zip(events, flat)):
        assert list(ev.run_info.weight_names) == list(res.weight_names) and len(res.weight_names) == 10
        assert list(ev.weights) == list(ref.weights)  # every named weight, untouched
        w = np.asarray(ev.weights)
        np.testing.assert_allclose(w[1:] / w[0], lhe.weights[i] / lhe.nominal[i], rtol=1e-9)
        # the stable particles are those of the beams + final-state writer, momentum for momentum
        mine = sorted((p.pid, *_p4(p)) for p in ev.particles if p.status == 1)
        theirs = sorted((p.pid, *_p4(p)) for p in ref.particles if p.status == 1)
        assert len(mine) == len(theirs)
        np.testing.assert_allclose(np.array(mine), np.array(theirs), rtol=1e-12, atol=1e-9)
        # the two protons are the only particles without a production vertex
        beams = [p for p in ev.particles if p.production_vertex is None or p.production_vertex.id == 0]
        assert sorted((p.pid, p.status) for p in beams) == [(2212, 4), (2212, 4)]
        assert len(ev.particles) > 5 * len(mine) // 2  # partons, strings, decayed hadrons too
        # the final state carries the beams' four-momentum
        total = sum(_p4(p) for p in ev.particles if p.status == 1)
        np.testing.assert_allclose(total, sum(_p4(p) for p in beams), rtol=0, atol=1e-6 * 13000)


def test_history_vertices_conserve_momentum_where_pythia_does(wbj_files) -> None:
    """Decays, string fragmentation into several hadrons and the hard process conserve four-momentum
    at their vertex to 1e-6. (Shower vertices do not, by construction: a parton that takes recoil is
    written as a new copy with one mother, as in Pythia's own HepMC output.)"""
    full, _, _ = wbj_files
    checked = {"decay": 0, "strings": 0, "hard": 0}
    with hep.open(str(full)) as f:
        for ev in f:
            for v in ev.vertices:
                ins = [p.status for p in v.particles_in]
                if ins == [2]:
                    kind = "decay"
                elif all(71 <= s <= 79 for s in ins) and len(v.particles_out) > 1:
                    kind = "strings"
                elif ins == [21, 21]:
                    kind = "hard"
                else:
                    continue
                p_in = sum(_p4(p) for p in v.particles_in)
                p_out = sum(_p4(p) for p in v.particles_out)
                assert np.max(np.abs(p_in - p_out)) <= 1e-6 * p_in[3], (kind, v.id, p_in, p_out)
                checked[kind] += 1
    assert checked["hard"] == 12 and checked["decay"] > 100 and checked["strings"] >= 12


def test_b_hadrons_descend_from_the_hard_b_quark(wbj_files) -> None:
    """The history lets truth matching work: the hard process's b quark has a B hadron among its
    descendants, and every B hadron has a b quark among its ancestors."""
    full, _, _ = wbj_files

    def relatives(p, up: bool):
        seen, todo = {}, [p]
        while todo:
            q = todo.pop()
            v = q.production_vertex if up else q.end_vertex
            for r in () if v is None else (v.particles_in if up else v.particles_out):
                if r.id not in seen:
                    seen[r.id] = r
                    todo.append(r)
        return list(seen.values())

    n_b = 0
    with hep.open(str(full)) as f:
        for ev in f:
            hard_b = [p for p in ev.particles if abs(p.pid) == 5 and p.status == 23]
            b_hadrons = [p for p in ev.particles if _is_b_hadron(p.pid)]
            for b in hard_b:
                assert any(_is_b_hadron(r.pid) for r in relatives(b, up=False))
                n_b += 1
            for h in b_hadrons:
                assert any(abs(r.pid) == 5 for r in relatives(h, up=True)), h.pid
            if hard_b:
                assert any(h.status == 2 for h in b_hadrons)  # and the B hadron decayed
    assert n_b >= 10


def test_history_hepmc2_and_cli(tmp_path: Path) -> None:
    from lhcgold.cli import main

    out = tmp_path / "wbj.hepmc2"
    assert (
        main(
            ["-q", "shower", str(WBJ), "-o", str(out), "--format", "hepmc2", "--hepmc-history"]
            + ["--n-events", "3", "--seed", "7"]
        )
        == 0
    )
    ref = shower_to_hepmc(WBJ, tmp_path / "wbj.hepmc3", history=True, seed=7, n_events=3)
    with hep.open(str(out)) as f2, hep.open(str(ref.path)) as f3:
        for e2, e3 in zip(f2, f3, strict=True):
            assert len(e2.particles) == len(e3.particles) and len(e2.vertices) == len(e3.vertices)
            assert list(e2.weights) == list(e3.weights)
    # the card's shower section switches it on too
    card = tmp_path / "card.yaml"
    card.write_text(
        "lhcgold_card: 1\nparameters:\n  - {name: a, range: [-1, 1]}\nbenchmarks: {sm: {a: 0}}\n"
        "shower: {hepmc_history: true, mpi: false}\n"
    )
    out3 = tmp_path / "card.hepmc"
    argv = ["-q", "shower", str(WBJ), "-o", str(out3), "--format", "hepmc3", "--card", str(card), "--n-events", "2"]
    assert main(argv) == 0
    with hep.open(str(out3)) as f:
        assert all(len([p for p in ev.particles if p.status == 2]) > 0 for ev in f)
