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
