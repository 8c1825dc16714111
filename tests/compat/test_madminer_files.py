"""MadMiner files with nuisance benchmarks, systematics and nuisance parameters (written here with h5py
in MadMiner's layout, as madminer's writer lays them out) are read whole: the nuisance rows and their
weight columns are kept, and MadMiner.save writes them back."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.compat.madminer import FisherInformation, MadMiner, SampleAugmenter, sampling
from lhcgold.exceptions import ConfigError

PARAMS = ["a", "b"]
PHYS = {
    "sm": (0.0, 0.0),
    "p_a": (1.0, 0.0),
    "m_a": (-1.0, 0.0),
    "p_b": (0.0, 1.0),
    "m_b": (0.0, -1.0),
    "mix": (1.0, 1.0),
}
NUIS = ["scale_down", "scale_up"]  # MadMiner appends nuisance benchmarks sorted by name
COMPONENTS = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])


def _s(values: list[str]) -> np.ndarray:
    return np.array([v.encode("ascii") for v in values], dtype="S256")


def _madminer_file(path: Path, n: int = 2000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    bvals = np.array(list(PHYS.values()))
    a = np.array([[t[0] ** i * t[1] ** j for i, j in COMPONENTS] for t in bvals])
    x = rng.normal(size=(n, 2))
    # per-event weights that are exact quadratics in theta: w(θ) = Σ_c f_c(θ) m_c
    m = np.abs(rng.normal(1.0, 0.2, size=(n, 6))) * np.array([1.0, 0.1, 0.05, 0.2, 0.02, 0.1]) / n
    w_phys = m @ a.T
    w_nuis = np.stack([0.9 * w_phys[:, 0], 1.1 * w_phys[:, 0]], axis=1)
    with h5py.File(path, "w") as f:
        f["parameters/names"] = _s(PARAMS)
        f["parameters/lha_blocks"] = _s(["dim6", "dim6"])
        f["parameters/lha_ids"] = np.array([1, 2], dtype=np.int64)
        f["parameters/max_power"] = np.array([2, 2], dtype=np.int64)
        f["parameters/val_ranges"] = np.array([[-2.0, 2.0], [-2.0, 2.0]])
        f["parameters/transforms"] = _s(["theta", "theta"])
        f["benchmarks/names"] = _s(list(PHYS) + NUIS)
        f["benchmarks/values"] = np.vstack([bvals, np.zeros((2, 2))])
        f["benchmarks/is_nuisance"] = np.array([0] * 6 + [1, 1], dtype=np.int64)
        f["benchmarks/is_reference"] = np.array([1] + [0] * 7, dtype=np.int64)
        f["morphing/components"] = COMPONENTS.astype(np.int64)
        f["morphing/morphing_matrix"] = np.linalg.inv(a)
        f["systematics/names"] = _s(["scale"])
        f["systematics/types"] = _s(["scale"])
        f["systematics/values"] = _s(["0.5,2.0"])
        f["systematics/scales"] = _s(["mu"])
        f["nuisance_parameters/names"] = _s(["nu_scale"])
        f["nuisance_parameters/systematics"] = _s(["scale"])
        f["nuisance_parameters/benchmark_positive"] = _s(["scale_up"])
        f["nuisance_parameters/benchmark_negative"] = _s(["scale_down"])
        f["observables/names"] = _s(["x1", "x2"])
        f["observables/definitions"] = _s(["None", "None"])
        f["samples/observations"] = x
        f["samples/weights"] = np.hstack([w_phys, w_nuis])
        f["samples/sampling_benchmarks"] = np.zeros(n, dtype=np.int64)
        f["sample_summary/signal_events"] = np.array([n, 0, 0, 0, 0, 0], dtype=np.int64)
        f["sample_summary/background_events"] = np.int64(0)
    return {"x": x, "w_phys": w_phys, "w_nuis": w_nuis}


def test_nuisance_benchmarks_and_systematics_are_read(tmp_path: Path) -> None:
    path = tmp_path / "madminer_events.h5"
    truth = _madminer_file(path)
    sa = SampleAugmenter(path, rng=1)
    assert list(sa.benchmarks) == list(PHYS) + NUIS
    assert sa.benchmark_is_nuisance == [False] * 6 + [True, True]
    assert sa.n_benchmarks == 8 and sa.n_benchmarks_phys == 6
    assert sa.n_nuisance_parameters == 1
    nu = sa.nuisance_parameters["nu_scale"]
    assert (nu.systematic, nu.benchmark_pos, nu.benchmark_neg) == ("scale", "scale_up", "scale_down")
    assert sa.systematics["scale"].type == "scale" and sa.systematics["scale"].value == "0.5,2.0"
    w = sa.weights()
    np.testing.assert_array_equal(w[:, 6:], truth["w_nuis"])
    np.testing.assert_array_equal(w[:, :6], truth["w_phys"])
    # the physics part still works: cross sections at the benchmarks are the column sums
    _, xs, _ = sa.cross_sections(sampling.benchmarks(list(PHYS)))
    np.testing.assert_allclose(xs, truth["w_phys"].sum(axis=0), rtol=1e-10)
    x, theta, t_xz, _ = sa.sample_train_local(sampling.benchmark("sm"), 500)
    assert x.shape == (500, 2) and t_xz.shape == (500, 2)
    with pytest.raises(ConfigError, match="nuisance"):
        sa.sample_train_local(sampling.benchmark("sm"), 10, nu=sampling.iid_nuisance_parameters())


def test_madminer_load_save_keeps_nuisance_benchmarks_and_systematics(tmp_path: Path) -> None:
    src = tmp_path / "madminer_events.h5"
    _madminer_file(src)
    miner = MadMiner()
    miner.load(src)
    assert [b.name for b in miner.benchmarks.values() if b.is_nuisance] == NUIS
    assert list(miner.systematics) == ["scale"] and list(miner.nuisance_parameters) == ["nu_scale"]
    out = tmp_path / "setup.h5"
    miner.save(out)
    with h5py.File(src) as a, h5py.File(out) as b:
        for key in (
            "benchmarks/names",
            "benchmarks/is_nuisance",
            "benchmarks/is_reference",
            "systematics/names",
            "systematics/types",
            "systematics/values",
            "systematics/scales",
            "nuisance_parameters/names",
            "nuisance_parameters/systematics",
            "nuisance_parameters/benchmark_positive",
            "nuisance_parameters/benchmark_negative",
            "parameters/names",
            "morphing/components",
        ):
            np.testing.assert_array_equal(a[key][()], b[key][()], err_msg=key)
        np.testing.assert_allclose(a["benchmarks/values"][()], b["benchmarks/values"][()])
        np.testing.assert_allclose(a["morphing/morphing_matrix"][()], b["morphing/morphing_matrix"][()], rtol=1e-12)


def test_fisher_information_with_nuisance_parameters_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "madminer_events.h5"
    truth = _madminer_file(path)
    with pytest.raises(ConfigError, match="include_nuisance_parameters=False"):
        FisherInformation(path).rate_information([0.0, 0.0], luminosity=1000.0)
    info, cov = FisherInformation(path, include_nuisance_parameters=False).rate_information(
        [0.0, 0.0], luminosity=1000.0
    )
    # closed form: I = L ∇σ ∇σᵀ / σ with σ_c = Σ_i m_ic (components from the basis weights)
    a = np.array([[t[0] ** i * t[1] ** j for i, j in COMPONENTS] for t in PHYS.values()])
    sigma_c = np.linalg.solve(a, truth["w_phys"].sum(axis=0))
    grad = np.array([sigma_c[3], sigma_c[1]])
    np.testing.assert_allclose(info, 1000.0 * np.outer(grad, grad) / sigma_c[0], rtol=1e-9)
    assert cov is None
