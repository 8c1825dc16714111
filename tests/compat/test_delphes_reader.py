"""DelphesReader on a real Delphes 3 ROOT file (W γ, CMS card): observables, cuts and benchmark weights
against a direct uproot read of the same file."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import uproot

from lhcgold.compat.madminer import DelphesReader, MadMiner
from lhcgold.io.events import EventFile
from lhcgold.io.lhe import read_lhe

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT_FILE = DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"
RUN1 = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
BENCH = {
    "sm": (0, 0),
    "cwww_m10": (-10, 0),
    "cwww_p10": (10, 0),
    "cw_m10": (0, -10),
    "cw_p10": (0, 10),
    "mix_p5_p5": (5, 5),
}


def test_delphes_reader_matches_uproot(tmp_path: Path) -> None:
    miner = MadMiner()
    miner.add_parameter("dim6", 1, "cwww", morphing_max_power=2, parameter_range=(-10.0, 10.0))
    miner.add_parameter("dim6", 2, "cw", morphing_max_power=2, parameter_range=(-10.0, 10.0))
    for name, (a, b) in BENCH.items():
        miner.add_benchmark({"cwww": a, "cw": b}, name)
    miner.set_morphing(max_overall_power=2)
    miner.save(tmp_path / "setup.h5")
    reader = DelphesReader(tmp_path / "setup.h5")
    reader.add_sample(hepmc_filename=None, sampled_from_benchmark="sm", delphes_filename=ROOT_FILE, lhe_filename=RUN1)
    reader.add_observable("pt_a", "a[0].pt", required=True)
    reader.add_observable("met", "met.pt", required=True)  # a name that is also an object collection
    reader.add_cut("pt_a > 120.0")
    reader.analyse_delphes_samples()
    reader.save(tmp_path / "delphes_data.h5", shuffle=False)

    with uproot.open(ROOT_FILE) as f:
        pt = f["Delphes"]["Photon.PT"].array()
        met = ak.to_numpy(f["Delphes"]["MissingET.MET"].array()[:, 0])
        w = ak.to_numpy(f["Delphes"]["Weight.Weight"].array()).astype(np.float64)
    lead = ak.to_numpy(ak.fill_none(ak.max(pt, axis=1), 0.0))
    keep = lead > 120.0
    ef = EventFile(tmp_path / "delphes_data.h5")
    chunk = ef.read()
    assert ef.observables == ("pt_a", "met") and ef.n_events == keep.sum()
    np.testing.assert_allclose(chunk.observations[:, 0], lead[keep], rtol=1e-6)
    np.testing.assert_allclose(chunk.observations[:, 1], met[keep], rtol=1e-6)
    names = read_lhe(RUN1, n_events=1).weight_names  # Weight.Weight = (nominal, then the <initrwgt> order)
    cols = [1 + names.index(b) for b in BENCH]
    np.testing.assert_allclose(chunk.weights, w[keep][:, cols] / 3000, rtol=1e-12)
