"""``lhcgold fisher --norm-uncertainty/--profile-systematics``: the (θ, ν) information against closed forms.

The toy of ``quad_events``: dσ/dx = (1 + θx)² on Gauss-Legendre nodes, σ(θ) = 2 + 2θ²/3. The expected
numbers come from the file's benchmark weights (morphed here with a Vandermonde solve) and numpy,
never through :func:`lhcgold.infer.profiled_information`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold import infer
from lhcgold.cli import main

THETA, LUMI_IFB, DELTA = 0.3, 0.5, 0.05
L_PB = 1000.0 * LUMI_IFB


def _morphed(path: Path, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-event w_i(θ) and ∂_θ w_i(θ) from the file's weights at its three benchmarks θ_b ∈ {0, ½, −½}:
    w_i(θ) = c_i0 + c_i1 θ + c_i2 θ² through the three columns."""
    with h5py.File(path, "r") as f:
        w = f["samples/weights"][()][:, :3]
        th_b = f["benchmarks/values"][()][:3, 0]
    c = np.linalg.solve(np.vander(th_b, 3, increasing=True), w.T).T  # (N, 3)
    return c @ [1.0, theta, theta**2], c @ [0.0, 1.0, 2 * theta]


def _run(path: Path, out: Path, *args: str) -> dict:
    code = main(["-q", "fisher", str(path), "-o", str(out), "--theta", str(THETA), "-L", str(LUMI_IFB), *args])
    assert code == 0
    return json.loads(out.read_text())["data"]


def _profiled(full: np.ndarray) -> float:
    """I_θθ − I_θν I_νν⁻¹ I_νθ for one θ."""
    return float(full[0, 0] - full[0, 1:] @ np.linalg.solve(full[1:, 1:], full[1:, 0]))


@pytest.mark.parametrize("method", ["rate", "truth", "histogram"])
def test_normalisation_information_is_the_closed_form(quad_events, tmp_path: Path, capsys, method: str) -> None:
    """μ(θ, ν) = L σ(θ) (1+δ)^ν, unit constraint: I_θν = L σ' ln(1+δ), I_νν = L σ ln²(1+δ) + 1 for every
    method (a normalisation scales every bin and event alike); I_θθ = L σ'²/σ (rate), L·8/3 (truth:
    L ∫ (∂_θ w)²/w dx = L ∫ 4x² dx) or the plain histogram information."""
    path, _ = quad_events
    w, dw = _morphed(path, THETA)
    sigma, dsigma = w.sum(), dw.sum()
    np.testing.assert_allclose([sigma, dsigma], [2 + 2 * THETA**2 / 3, 4 * THETA / 3], rtol=1e-12)
    extra = ["--observable", "x", "--bins", "5"] if method == "histogram" else []
    plain = _run(path, tmp_path / "plain.json", "-m", method, "--all-events", *extra)
    d = _run(path, tmp_path / "f.json", "-m", method, "--all-events", *extra, "--norm-uncertainty", str(DELTA))
    kappa = np.log1p(DELTA)
    i_tt = {"rate": L_PB * dsigma**2 / sigma, "truth": L_PB * 8 / 3, "histogram": plain["matrix"][0][0]}[method]
    expect = np.array([[i_tt, L_PB * dsigma * kappa], [L_PB * dsigma * kappa, L_PB * sigma * kappa**2 + 1]])
    nd = d["details"]["nuisances"]
    assert nd["names"] == ["norm"] and nd["full_names"] == ["theta", "norm"] and nd["norm_uncertainty"] == DELTA
    np.testing.assert_allclose(nd["fisher_full"], expect, rtol=1e-9)
    prof = i_tt - expect[0, 1] ** 2 / expect[1, 1]
    assert prof < (1 - 1e-3) * i_tt  # the nuisance matters (by 2 % for truth, 10⁸ × rtol): not trivial
    np.testing.assert_allclose(nd["fisher_fixed"], [[i_tt]], rtol=1e-9)
    np.testing.assert_allclose(nd["fisher_profiled"], [[prof]], rtol=1e-9)
    np.testing.assert_allclose(nd["sigma_fixed"], [i_tt**-0.5], rtol=1e-9)
    np.testing.assert_allclose(nd["sigma_profiled"], [prof**-0.5], rtol=1e-9)
    np.testing.assert_allclose(nd["uncertainty_ratio"], [np.sqrt(i_tt / prof)], rtol=1e-9)
    np.testing.assert_allclose(nd["impacts"]["norm"], [np.sqrt(1 / prof - 1 / i_tt)], rtol=1e-7)
    # the main matrix is the method's own information (nuisances fixed), readable as before
    np.testing.assert_allclose(d["matrix"], plain["matrix"], rtol=1e-12)
    np.testing.assert_allclose(d["matrix"], [[i_tt]], rtol=1e-9)
    assert infer.FisherInformation.load(tmp_path / "f.json").details["nuisances"]["names"] == ["norm"]
    text = capsys.readouterr().out
    assert "nuisances profiled (1)" in text and f"{np.sqrt(i_tt / prof):.5g}" in text


def _with_stored_nuisances(src: Path, dst: Path, helpers) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``src`` with the two MadMiner-layout nuisances of ``helpers.append_madminer_nuisances``.
    Returns their per-event coefficients a_i (MadMiner's nuisance morphing): ½ ln(r₊/r₋) and ln r₊."""
    shutil.copy(src, dst)
    down = helpers.append_madminer_nuisances(dst)
    return 0.5 * np.log(1.1 / down), np.full(len(down), np.log(1.05))


@pytest.mark.parametrize("method", ["rate", "truth"])
def test_stored_systematics_on_the_test_partition(quad_events, tmp_path: Path, method: str, helpers) -> None:
    """--profile-systematics on the default test partition (the last 20 % of the events, weights × 5):
    rate I = d dᵀ/μ with d = (L σ', L Σ w a_1, L Σ w a_2); truth I = L Σ_i d_i d_iᵀ / w_i with
    d_i = (∂w_i, w_i a_i1, w_i a_i2); plus the unit constraints."""
    src, _ = quad_events
    path = tmp_path / "syst.h5"
    a = np.stack(_with_stored_nuisances(src, path, helpers), axis=1)  # (N, 2)
    w, dw = _morphed(path, THETA)
    test = slice(int(0.8 * len(w)), len(w))
    w, dw, a = 5.0 * w[test], 5.0 * dw[test], a[test]
    d = np.concatenate([dw[:, None], w[:, None] * a], axis=1)  # (n, 3)
    if method == "rate":
        full = L_PB * np.outer(d.sum(0), d.sum(0)) / w.sum()
    else:
        full = L_PB * (d / w[:, None]).T @ d
    full[1:, 1:] += np.eye(2)
    nd = _run(path, tmp_path / "f.json", "-m", method, "--profile-systematics")["details"]["nuisances"]
    assert nd["names"] == ["mu_nuisance_param_0", "pdf_nuisance_param_0"] and nd["norm_uncertainty"] is None
    np.testing.assert_allclose(nd["fisher_full"], full, rtol=1e-9)
    np.testing.assert_allclose(nd["fisher_profiled"], [[_profiled(full)]], rtol=1e-9)
    assert _profiled(full) < 0.9 * full[0, 0]
    sig = _profiled(full) ** -0.5
    for j, name in enumerate(nd["names"]):  # impact: σ² with all profiled minus σ² with the other one alone
        other = [0, 2 - j]
        np.testing.assert_allclose(
            nd["impacts"][name], [np.sqrt(sig**2 - 1 / _profiled(full[np.ix_(other, other)]))], rtol=1e-7
        )


def _bad(path: Path, tmp_path: Path, capsys, args: list[str], match: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["fisher", str(path), "-o", str(tmp_path / "f.json"), "--all-events", *args])
    err = capsys.readouterr().err
    assert code in (1, 2) and "Traceback" not in err and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["-m", "rate", "--profile-systematics"], "stores no nuisance parameters (reconstruct with --systematics)"),
        (["-m", "truth", "--norm-uncertainty", "-0.1"], "--norm-uncertainty must be a positive number"),
        (["-m", "rate", "--norm-uncertainty", "nan"], "--norm-uncertainty must be a positive number"),
        (["-m", "rate", "--norm-uncertainty", "inf"], "--norm-uncertainty must be a positive number"),
    ],
)
def test_bad_nuisance_options(quad_events, tmp_path: Path, capsys, args: list[str], match: str) -> None:
    path, _ = quad_events
    _bad(path, tmp_path, capsys, args, match)


def test_ml_normalisation_blocks_are_the_closed_form(quad_events, tmp_path: Path) -> None:
    """--method ml (per-event factors on a ratio estimator, information by finite differences): for a
    normalisation the ν rows do not depend on the estimator, I_θν = L σ' ln(1+δ), I_νν = L σ ln²(1+δ) + 1;
    profiling lowers I_θθ exactly by I_θν²/I_νν."""
    pytest.importorskip("torch")
    path, _ = quad_events
    ratio, model = tmp_path / "ratio.h5", tmp_path / "alices"
    aug = ["augment", str(path), "--kind", "ratio", "--theta0", "random:20:flat,-1,1", "--theta1", "b0"]
    assert main(["-q", *aug, "-n", "1000", "--seed", "1", "-o", str(ratio)]) == 0
    train = ["train", str(ratio), "-m", "alices", "--hidden", "8", "--epochs", "2", "--seed", "1", "--jobs", "1"]
    assert main(["-q", *train, "-o", str(model)]) == 0
    w, dw = _morphed(path, THETA)
    args = ["-m", "ml", "--model", str(model), "--all-events", "--norm-uncertainty", str(DELTA)]
    nd = _run(path, tmp_path / "f.json", *args)["details"]["nuisances"]
    kappa = np.log1p(DELTA)
    full = np.asarray(nd["fisher_full"])
    np.testing.assert_allclose(full[0, 1], L_PB * dw.sum() * kappa, rtol=1e-6)
    np.testing.assert_allclose(full[1, 1], L_PB * w.sum() * kappa**2 + 1, rtol=1e-6)
    np.testing.assert_allclose(nd["fisher_profiled"], [[full[0, 0] - full[0, 1] ** 2 / full[1, 1]]], rtol=1e-9)
