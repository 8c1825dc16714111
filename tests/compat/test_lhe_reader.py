"""The LHE reader's smearing (against its closed-form resolutions, on real MG5 W γ events) and the
translation of MadMiner's Python expressions into lhcgold's expression language."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from lhcgold.compat.madminer._reader import translate_expression
from lhcgold.compat.madminer.lhe import Smearing, smear_events
from lhcgold.exceptions import ConfigError
from lhcgold.io.lhe import read_lhe
from lhcgold.observables.expr import compile_expression
from lhcgold.reconstruct import parton_level

RUN1 = Path(__file__).resolve().parents[1] / "data" / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"


@pytest.fixture(scope="module")
def events():  # type: ignore[no-untyped-def]
    return parton_level(read_lhe(RUN1))


def _flat(objs: ak.Array, field: str) -> np.ndarray:
    return ak.to_numpy(ak.flatten(objs[field]))


def test_energy_smearing_with_pt_from_the_mass_shell(events) -> None:  # type: ignore[no-untyped-def]
    s = Smearing(energy=(0.0, 0.1), pt=(None, None))
    out = smear_events(events, {-11: s, 11: s}, None, rng=np.random.default_rng(3))
    ratio = _flat(out.electrons, "pt") / _flat(events.electrons, "pt")  # one electron per event, massless
    assert len(ratio) == 3000
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.01)
    assert np.std(ratio) == pytest.approx(0.1, rel=0.05)  # sigma(E)/E = 0.1 and pT/E fixed at zero mass
    np.testing.assert_array_equal(_flat(out.electrons, "eta"), _flat(events.electrons, "eta"))
    np.testing.assert_array_equal(_flat(out.photons, "pt"), _flat(events.photons, "pt"))  # not in the table


def test_angles_and_absolute_resolutions(events) -> None:  # type: ignore[no-untyped-def]
    s = Smearing(energy=(None, None), pt=(5.0, 0.0), eta=(0.1, 0.0), phi=(0.05, 0.0))
    out = smear_events(events, {22: s}, None, rng=np.random.default_rng(4))
    assert np.std(_flat(out.photons, "pt") - _flat(events.photons, "pt")) == pytest.approx(5.0, rel=0.05)
    assert np.std(_flat(out.photons, "eta") - _flat(events.photons, "eta")) == pytest.approx(0.1, rel=0.05)
    dphi = np.angle(np.exp(1j * (_flat(out.photons, "phi") - _flat(events.photons, "phi"))))
    assert np.std(dphi) == pytest.approx(0.05, rel=0.05)


def test_met_is_the_recoil_of_the_visible_objects_plus_noise(events) -> None:  # type: ignore[no-untyped-def]
    # no resolution: MET = -(sum of visible pT) equals the neutrino pT (LO events: no initial-state pT)
    same = smear_events(events, {22: Smearing()}, None, rng=np.random.default_rng(5))
    np.testing.assert_allclose(ak.to_numpy(same.met.pt), ak.to_numpy(events.met.pt), rtol=1e-7, atol=1e-7)
    noisy = smear_events(events, {}, (10.0, 0.0), rng=np.random.default_rng(6))
    dx = ak.to_numpy(noisy.met.px) - ak.to_numpy(events.met.px)
    dy = ak.to_numpy(noisy.met.py) - ak.to_numpy(events.met.py)
    assert np.std(dx) == pytest.approx(10.0, rel=0.05) and np.std(dy) == pytest.approx(10.0, rel=0.05)


def test_both_energy_and_pt_from_the_others_is_an_error(events) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="cannot both be None"):
        smear_events(events, {22: Smearing(energy=(None, 0.0), pt=(None, 0.0))}, None, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("madminer", "lhcgold"),
    [
        (
            "j[0].deltaphi(j[1]) * (-1.0 + 2.0 * float(j[0].eta > j[1].eta))",
            "j[0].deltaphi(j[1]) * (-1.0 + 2.0 * (1.0 * (j[0].eta > j[1].eta)))",
        ),
        ("np.abs(l[0].eta) < 2.5", "abs(l[0].eta) < 2.5"),
        ("int(n(j) >= 2) + bool(met.pt > 10)", "1.0 * (n(j) >= 2) + (met.pt > 10)"),
        ("(a[0] + a[1]).m > 122.0", "(a[0] + a[1]).m > 122.0"),
    ],
)
def test_madminer_expressions_are_translated(madminer: str, lhcgold: str) -> None:
    out = translate_expression(madminer)
    assert out == lhcgold
    compile_expression(out, names={"j", "l", "a", "met", "n"})  # accepted by lhcgold's whitelist


def test_translated_sign_flip_evaluates_like_python(events) -> None:  # type: ignore[no-untyped-def]
    ns = events.namespace()
    expr = compile_expression(
        translate_expression("l[0].deltaphi(a[0]) * (-1.0 + 2.0 * float(l[0].eta > a[0].eta))"), names=set(ns)
    )
    got = np.asarray(expr(ns), dtype=float)
    lphi, aphi = _flat(events.electrons, "phi"), ak.to_numpy(events.photons.phi[:, 0])
    leta, aeta = _flat(events.electrons, "eta"), ak.to_numpy(events.photons.eta[:, 0])
    dphi = np.angle(np.exp(1j * (lphi - aphi)))
    np.testing.assert_allclose(got, dphi * np.where(leta > aeta, 1.0, -1.0), atol=1e-9)


def test_invalid_syntax_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid Python syntax"):
        translate_expression("j[0].pt >")
