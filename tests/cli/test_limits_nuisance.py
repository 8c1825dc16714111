"""``lhcgold limits --norm-uncertainty/--profile-systematics`` on embedded Drell-Yan: generate with scale
variations, reconstruct them as nuisance weights, profile them; the rate-only normalisation profile
against its closed form (Lambert W)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import wrightomega

from lhcgold.cli import main
from lhcgold.infer._data import components_of, factors
from lhcgold.io.view import as_view

CARD = """
lhcgold_card: 1
name: dy
parameters:
  - {name: C_LL, max_power: 2, range: [-0.1, 0.1]}
  - {name: C_LR, max_power: 2, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0.0, C_LR: 0.0}
  ll_p: {C_LL: 0.1, C_LR: 0.0}
  ll_m: {C_LL: -0.1, C_LR: 0.0}
  lr_p: {C_LL: 0.0, C_LR: 0.1}
  lr_m: {C_LL: 0.0, C_LR: -0.1}
  mix: {C_LL: 0.05, C_LR: 0.05}
morphing: {max_overall_power: 2}
process: {name: drell_yan, scale_gev: 91.1876, mll_gev: [500, 3000]}
generate: {seed: 3, adapt: {iterations: 0}, shat_bias: 0.5, events: false, scale_variations: true}
observables: {m_ll: "mass(l[0], l[1])"}
reconstruct: {level: parton, shuffle: false, systematics: [scale]}
"""
GRID = ["--grid", "C_LL=-0.1:0.1:41", "--grid", "C_LR=0", "-L", "100", "--all-events"]


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("dy")
    card = d / "dy.yaml"
    card.write_text(CARD)
    assert main(["generate", str(card), "-o", str(d / "gen"), "-n", "4000"]) == 0
    assert (
        main(
            [
                "reconstruct",
                str(d / "gen" / "events.lhe.gz"),
                "--card",
                str(card),
                "--sampled-from",
                "sm",
                "-o",
                str(d / "events.h5"),
            ]
        )
        == 0
    )
    return d / "events.h5"


def _nuisances(path: Path) -> dict:
    return json.loads(path.read_text())["data"]["details"]["nuisances"]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rate", "histogram"])
def test_profiled_interval_is_wider(events: Path, tmp_path: Path, method: str) -> None:
    out = tmp_path / "l.json"
    extra = ["--observable", "m_ll", "--bins", "5"] if method == "histogram" else []
    assert (
        main(
            [
                "limits",
                str(events),
                "-m",
                method,
                *extra,
                *GRID,
                "--norm-uncertainty",
                "0.05",
                "--profile-systematics",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    nd = _nuisances(out)
    assert nd["names"] == ["norm", "scale_nuisance_param_0"]
    fixed, prof = nd["intervals"]["0.68"]["C_LL"]["fixed"], nd["intervals"]["0.68"]["C_LL"]["profiled"]
    assert prof[0] <= fixed[0] and prof[1] >= fixed[1] and prof[1] - prof[0] > fixed[1] - fixed[0]
    assert np.all(np.asarray(nd["q_profiled"]) <= np.asarray(nd["q_fixed"]) + 1e-9)
    assert set(nd["impacts"]) == {"norm", "scale_nuisance_param_0"}
    assert all(v[0] > 0 for v in nd["impacts"].values())
    # the main result (nuisances fixed) is the one without the options
    plain = tmp_path / "p.json"
    assert main(["limits", str(events), "-m", method, *extra, *GRID, "-o", str(plain)]) == 0
    a, b = json.loads(out.read_text())["data"], json.loads(plain.read_text())["data"]
    np.testing.assert_allclose(a["log_likelihood"], b["log_likelihood"], rtol=1e-12)
    np.testing.assert_allclose(
        nd["q_fixed"], -2 * (np.asarray(b["log_likelihood"]) - max(b["log_likelihood"])), atol=1e-6
    )


def test_rate_normalisation_profile_is_the_closed_form(events: Path, tmp_path: Path) -> None:
    out = tmp_path / "l.json"
    assert main(["limits", str(events), "-m", "rate", *GRID, "--norm-uncertainty", "0.05", "-o", str(out)]) == 0
    nd = _nuisances(out)
    s = as_view(events)
    m = np.concatenate([p[1] for p in s.component_chunks()]).sum(axis=0)
    thetas = np.stack([np.linspace(-0.1, 0.1, 41), np.zeros(41)], axis=1)
    mu = 1000 * 100 * factors(thetas, components_of(s.setup)) @ m
    n = float(1000 * 100 * factors(np.zeros(2), components_of(s.setup)) @ m)
    k = np.log1p(0.05)  # stationarity nu = k (n - mu e^{k nu}): Wright omega
    u = k * k * n - np.real(wrightomega(np.log(k * k * mu) + k * k * n))
    ll = n * (np.log(mu) + u) - mu * np.exp(u) - 0.5 * (u / k) ** 2
    np.testing.assert_allclose(nd["q_profiled"], -2 * (ll - ll.max()), atol=1e-3)
    assert nd["intervals"]["0.68"]["C_LL"]["profiled"] != nd["intervals"]["0.68"]["C_LL"]["fixed"]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["-m", "rate", "--profile-systematics"], "stores no nuisance parameters"),
        (["-m", "rate", "--norm-uncertainty", "-0.1"], "must be a positive number"),
        (["-m", "rate", "--norm-uncertainty", "nan"], "must be a positive number"),
    ],
)
def test_bad_nuisance_options(tmp_path: Path, capsys, args, match) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.config import load_card_text
    from lhcgold.generate.embedded import generate

    card = load_card_text(CARD.replace("scale_variations: true", "scale_variations: false"))
    path = tmp_path / "plain.h5"
    generate(card, n_events=200, rng=1).write_events(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["limits", str(path), *args, *GRID, "-o", str(tmp_path / "l.json")])
    err = capsys.readouterr().err
    assert code in (1, 2) and "Traceback" not in err and match in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ------------------------------------------------------------------ estimators: SALLY ensemble band, ML profile
MODEL_GRID = ["--grid", "C_LL=-0.06:0.06:25", "--grid", "C_LR=0", "-L", "100"]


@pytest.fixture(scope="module")
def models(events: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("torch")
    d = tmp_path_factory.mktemp("models")
    aug = [
        (["--kind", "local", "--theta", "sm"], "local.h5"),
        (["--kind", "ratio", "--theta0", "random:100:flat,-0.1,0.1", "--theta1", "sm"], "ratio.h5"),
    ]
    for args, name in aug:
        assert main(["-q", "augment", str(events), *args, "-n", "2000", "--seed", "1", "-o", str(d / name)]) == 0
    common = ["--hidden", "16", "--epochs", "4", "--seed", "1", "--jobs", "1"]
    assert (
        main(["-q", "train", str(d / "local.h5"), "-m", "sally", *common, "--ensemble", "3", "-o", str(d / "sally")])
        == 0
    )
    assert main(["-q", "train", str(d / "ratio.h5"), "-m", "alices", *common, "-o", str(d / "alices")]) == 0
    return {"sally": d / "sally", "alices": d / "alices"}


def _data(path: Path) -> dict:
    return json.loads(path.read_text())["data"]


@pytest.mark.slow
def test_sally_ensemble_band_impacts_and_coverage(events: Path, models: dict, tmp_path: Path, capsys) -> None:
    """An ensemble directory as --model: every member's limits, their spread, nuisance impacts and the
    coverage, all in the result file's top level / details and on stdout; the band is drawn."""
    from scipy.stats import chi2

    from lhcgold import infer

    out, png = tmp_path / "l.json", tmp_path / "l.png"
    args = ["limits", str(events), "-m", "sally", "--model", str(models["sally"]), "--bins", "5", *MODEL_GRID]
    nuis = ["--norm-uncertainty", "0.05", "--profile-systematics", "--coverage", "100", "--seed", "3"]
    assert main([*args, *nuis, "-o", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    d = _data(out)
    # the band: each member's interval ends are those of `limits` run on that member alone
    band = d["details"]["ensemble"]
    assert band["n_members"] == 3 and len(band["member_p_values"]) == 3
    ends = []
    for i in range(3):
        one = tmp_path / f"m{i}.json"
        assert main([*args[:5], str(models["sally"] / f"member_{i}"), *args[6:], "-o", str(one)]) == 0
        r = infer.LimitResult.load(one)
        np.testing.assert_allclose(band["member_p_values"][i], r.p_values, rtol=1e-12)
        ends.append(infer.interpolated_interval(r.thetas[:, 0], r.q, chi2.ppf(0.68, 1)))
    iv = band["intervals"]["0.68"]["C_LL"]
    np.testing.assert_allclose(iv["members"], ends, rtol=1e-12)
    assert iv["lower_std"] == pytest.approx(np.std([e[0] for e in ends], ddof=1), rel=1e-12)
    assert iv["upper_mean"] == pytest.approx(np.mean([e[1] for e in ends]), rel=1e-12)
    assert "ensemble of 3" in text and "68% CL area" in text
    # coverage at the SM, top level: binomial error of the fraction over the toys
    cov = d["coverage"]
    assert cov["n_toys"] == 100 and cov["theta_true"] == [0.0, 0.0] and cov["likelihood"] == "sally"
    for kind in ("wilks", "neyman"):
        f = cov[kind]["coverage"]
        assert 0 < f < 1 and cov[kind]["error"] == pytest.approx(np.sqrt(f * (1 - f) / 100))
    assert "sally: coverage of 68% intervals at [0.0, 0.0] from 100 toys: Wilks" in text
    assert f"Neyman {cov['neyman']['coverage']:.3f} ± {cov['neyman']['error']:.3f}" in text
    # impacts, top level: both nuisances widen the interval; the table is printed
    imp = d["impacts"]
    assert imp["nuisances"] == ["norm", "scale_nuisance_param_0"] and imp["parameters"] == ["C_LL"]
    assert all(imp["scan"][n]["C_LL"] > 0 and imp["fisher"][n]["C_LL"] > 0 for n in imp["nuisances"])
    assert imp["half_width_profiled"]["C_LL"] > imp["half_width_fixed"]["C_LL"]
    assert "impacts on the 68% CL half-widths" in text and "scale_nuisance_param_0" in text
    # Markdown for a report
    md = "\n".join(infer.report_sections({"sally": infer.LimitResult.load(out)}))
    assert "Coverage at θ_true" in md and f"{cov['neyman']['coverage']:.3f}" in md
    assert "| scale_nuisance_param_0 |" in md and "ensemble band" in md
    assert png.stat().st_size > 0


@pytest.mark.slow
def test_ml_profiled_with_event_weight_factors(events: Path, models: dict, tmp_path: Path, capsys) -> None:
    out, plain = tmp_path / "l.json", tmp_path / "p.json"
    args = ["limits", str(events), "-m", "ml", "--model", str(models["alices"]), *MODEL_GRID]
    assert main([*args, "--norm-uncertainty", "0.05", "--profile-systematics", "-o", str(out)]) == 0
    assert main([*args, "-o", str(plain)]) == 0
    d, p = _data(out), _data(plain)
    nd = d["details"]["nuisances"]
    # ν = 0 is the plain ML scan; profiling only lowers q and widens the interval
    np.testing.assert_allclose(
        nd["q_fixed"], -2 * (np.asarray(p["log_likelihood"]) - max(p["log_likelihood"])), atol=1e-6
    )
    assert np.all(np.asarray(nd["q_profiled"]) <= np.asarray(nd["q_fixed"]) + 1e-9)
    iv = d["impacts"]["intervals"]["0.68"]["C_LL"]
    assert iv["profiled"][1] - iv["profiled"][0] > iv["fixed"][1] - iv["fixed"][0]
    assert d["impacts"]["scan"]["norm"]["C_LL"] > 0 and d["impacts"]["fisher"]["norm"]["C_LL"] > 0
    assert np.asarray(nd["fisher_profiled"])[0, 0] < np.asarray(nd["fisher_fixed"])[0, 0]


def test_coverage_of_the_profiled_intervals(events: Path, tmp_path: Path, capsys) -> None:
    """--coverage with the nuisance options: the profiled intervals' coverage is printed and stored under
    ``coverage["profiled"]``, and is what infer.coverage(..., nuisances=...) gives with the same seed."""
    from lhcgold import infer

    out = tmp_path / "l.json"
    hist = ["-m", "histogram", "--observable", "m_ll", "--bins", "5"]
    nuis = ["--norm-uncertainty", "0.05", "--profile-systematics", "--coverage", "100", "--seed", "3"]
    grid_args = ["--grid", "C_LL=-0.1:0.1:21", *GRID[2:]]
    assert main(["limits", str(events), *hist, *grid_args, *nuis, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    cov = _data(out)["coverage"]
    prof = cov["profiled"]
    assert prof["nuisances"] == ["norm", "scale_nuisance_param_0"] and prof["n_toys"] == 100
    assert "auxiliary measurements" in prof["method"] and "nuisances" not in cov  # the plain one is unprofiled
    like = infer.Histogram(["m_ll"], bins=5)
    nus = [infer.Normalisation("norm", 0.05), *infer.nuisances_from_file(events)]
    grid = infer.LimitGrid([(-0.1, 0.1), 0.0], (21, 2))
    direct = infer.coverage(
        like, events, grid=grid, luminosity_ifb=100, n_toys=100, n_toys_belt=1000, rng=3, nuisances=nus
    )
    for kind in ("wilks", "neyman"):
        assert prof[kind]["coverage"] == getattr(direct, kind)
        f = prof[kind]["coverage"]
        assert prof[kind]["error"] == pytest.approx(np.sqrt(f * (1 - f) / 100))
    assert prof["neyman"]["critical_value"] == direct.neyman_critical
    line = (
        "histogram(m_ll), profiled over 2 nuisances ['norm', 'scale_nuisance_param_0']: coverage of 68% intervals "
        f"at [0.0, 0.0] from 100 toys: Wilks {direct.wilks:.3f} ± {direct.wilks_error:.3f}"
    )
    assert line in text and "histogram(m_ll): coverage of 68% intervals" in text
    md = "\n".join(infer.report_sections({"histogram": infer.LimitResult.load(out)}))
    assert "| histogram, profiled (norm, scale_nuisance_param_0) |" in md
