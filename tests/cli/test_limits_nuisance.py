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
        (["-m", "ml", "--model", ".", "--norm-uncertainty", "0.05"], "rate or histogram"),
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
