"""Delphes reader on a real Delphes 3 file (skim): objects and weights against direct uproot
reads and against the LHE file the events came from; errors for foreign files."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot

from lhcgold.exceptions import EventFileError
from lhcgold.io.delphes import delphes_n_events, iter_delphes, read_delphes
from lhcgold.io.lhe import read_lhe

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT_FILE = DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"
LHE = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"


@pytest.fixture(scope="module")
def tree() -> dict[str, ak.Array]:
    with uproot.open(ROOT_FILE) as f:
        t = f["Delphes"]
        return {k: t[k].array() for k in t.keys() if "_size" not in k}


def test_objects_match_direct_uproot_read(tree: dict[str, ak.Array]) -> None:
    ev = read_delphes(ROOT_FILE, chunk_size=64)
    assert len(ev) == delphes_n_events(ROOT_FILE) == 200
    for coll, key in ((ev.electrons, "Electron"), (ev.muons, "Muon"), (ev.photons, "Photon"), (ev.jets, "Jet")):
        assert ak.to_list(ak.num(coll)) == ak.to_list(ak.num(tree[f"{key}.PT"]))
        # sorted by pT: compare as sorted lists per event
        for attr, leaf in (("pt", "PT"), ("eta", "Eta"), ("phi", "Phi")):
            ours = ak.sort(getattr(coll, attr), axis=1)
            ref = ak.sort(ak.values_astype(tree[f"{key}.{leaf}"], np.float64), axis=1)
            assert ak.all(ak.flatten(ours) == ak.flatten(ref))
    np.testing.assert_array_equal(ev.met.pt, ak.to_numpy(ak.firsts(tree["MissingET.MET"])).astype(np.float64))
    np.testing.assert_allclose(ev.met.phi, ak.to_numpy(ak.firsts(tree["MissingET.Phi"])), rtol=1e-6)
    assert ak.sum(ev.jets.btag) == ak.sum(tree["Jet.BTag"])
    # the W gamma events: one photon in most events, photons above the 100 GeV generator cut
    assert np.mean(ak.num(ev.photons) >= 1) > 0.8
    assert np.median(ak.to_numpy(ak.flatten(ev.photons.pt[:, :1]))) > 100


def test_weights_match_branch_and_lhe(tree: dict[str, ak.Array]) -> None:
    raw = read_delphes(ROOT_FILE, normalise=False)
    assert raw.weight_names == tuple(f"weight_{k}" for k in range(10))
    np.testing.assert_array_equal(raw.weights, ak.to_numpy(tree["Weight.Weight"]).astype(np.float64))
    named = read_delphes(ROOT_FILE, lhe=LHE, normalise=False)
    assert named.weight_names[0] == "nominal" and named.weight_names[1:] == read_lhe(LHE, n_events=1).weight_names
    # the same 200 events, independent source: the LHE <rwgt> weights (float32 in Delphes)
    lhe = read_lhe(LHE, n_events=200, normalise=False)
    np.testing.assert_allclose(named.weights[:, 1:], lhe.weights, rtol=1e-6)
    np.testing.assert_allclose(named.weights[:, 0], lhe.nominal, rtol=1e-6)
    # normalised with the LHE's event_norm = average: divided by the LHE's number of events
    norm = read_delphes(ROOT_FILE, lhe=LHE)
    np.testing.assert_allclose(norm.weights, named.weights / 3000, rtol=1e-12)
    explicit = read_delphes(ROOT_FILE, weight_names=[f"w{k}" for k in range(10)], normalise=True)
    np.testing.assert_allclose(explicit.weights, raw.weights / 200, rtol=1e-12)


def test_chunks_are_bounded() -> None:
    sizes = [len(c) for c in iter_delphes(ROOT_FILE, chunk_size=30)]
    assert max(sizes) <= 30 and sum(sizes) == 200
    assert sum(len(c) for c in iter_delphes(ROOT_FILE, n_events=50)) == 50


def test_root_file_without_delphes_tree(tmp_path: Path) -> None:
    bad = tmp_path / "other.root"
    with uproot.recreate(bad) as f:
        f["Events"] = {"x": np.arange(3.0)}
    with pytest.raises(EventFileError, match=r"other\.root.*no 'Delphes' tree.*Events"):
        read_delphes(bad)


def test_tree_lacking_branches(tmp_path: Path) -> None:
    bad = tmp_path / "thin.root"
    with uproot.recreate(bad) as f:
        f["Delphes"] = {"x": np.arange(3.0)}
    with pytest.raises(EventFileError, match=r"thin\.root.*lacks branches.*Electron\.PT"):
        read_delphes(bad)


def test_not_a_root_file(tmp_path: Path) -> None:
    bad = tmp_path / "fake.root"
    bad.write_bytes(b"not root at all")
    with pytest.raises(EventFileError, match="fake.root"):
        read_delphes(bad)
    with pytest.raises(EventFileError, match="no such file"):
        read_delphes(tmp_path / "missing.root")


def test_non_finite_weight_names_the_entry(tmp_path: Path, tree: dict[str, ak.Array]) -> None:
    w = ak.to_numpy(tree["Weight.Weight"]).copy()
    w[123, 4] = np.nan
    data = {k.split(".")[0]: None for k in tree}
    arrays = {}
    for branch in data:
        leaves = {k.split(".", 1)[1]: tree[k] for k in tree if k.split(".")[0] == branch}
        arrays[branch] = ak.zip(leaves)
    arrays["Weight"] = ak.zip({"Weight": ak.Array(w.tolist())})
    bad = tmp_path / "nan.root"
    with uproot.recreate(bad) as f:
        f.mktree(
            "Delphes",
            {k: v.type for k, v in arrays.items()},
            field_name=lambda o, i: f"{o}.{i}",
            counter_name=lambda c: f"{c}_size",
        )
        f["Delphes"].extend(arrays)
    with pytest.raises(EventFileError, match=r"nan\.root.*entry 123 .*non-finite"):
        read_delphes(bad, chunk_size=50)
