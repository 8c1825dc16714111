"""Coverage and impacts at the top level of a saved LimitResult (JSON and HDF5), and their Markdown."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lhcgold import infer


@pytest.mark.parametrize("suffix", [".json", ".h5"])
def test_coverage_and_impacts_round_trip_and_markdown(quad_events, tmp_path, suffix):
    path, _ = quad_events
    grid = infer.LimitGrid([(-1.0, 1.0)], 41)
    kw = dict(grid=grid, luminosity_ifb=0.05)
    res = infer.expected_limits(infer.RateOnly(), path, **kw)
    cov = infer.coverage(infer.RateOnly(), path, theta_true=[0.0], n_toys=200, n_toys_belt=400, rng=1, **kw)
    nus = [infer.Normalisation("lumi", 0.1), infer.Normalisation("eff", 0.02)]
    prof = infer.profile_limits(infer.RateOnly(), path, nuisances=nus, impacts=True, **kw)
    info = infer.profiled_information(infer.RateOnly(), path, nuisances=nus, luminosity_ifb=0.05)
    res = dataclasses.replace(res, coverage=cov.to_dict(), impacts=infer.impacts_summary(prof, info))
    out = tmp_path / f"r{suffix}"
    res.save(out)
    back = infer.LimitResult.load(out)
    c = back.coverage
    assert c["n_toys"] == 200 and c["wilks"]["coverage"] == cov.wilks and c["neyman"]["n_toys_belt"] == 400
    f = cov.neyman
    assert c["neyman"]["error"] == pytest.approx(np.sqrt(f * (1 - f) / 200))
    imp = back.impacts
    assert imp["nuisances"] == ["lumi", "eff"] and imp["parameters"] == ["theta"]
    assert imp["scan"]["lumi"]["theta"] > 5 * imp["scan"]["eff"]["theta"] > 0  # the larger uncertainty matters more
    np.testing.assert_allclose(imp["fisher"]["lumi"]["theta"], info.impacts["lumi"][0])
    md = infer.report_sections({"rate": back}, heading_level=2)
    assert md[0] == "## Coverage at θ_true"
    row = next(line for line in md if line.startswith("| rate | [0.0]"))
    assert f"{cov.wilks:.3f} ± {cov.wilks_error:.3f}" in row and f"{cov.neyman:.3f} ± {cov.neyman_error:.3f}" in row
    assert "## Systematic uncertainties (profiled nuisance parameters)" in md
    assert any(line.startswith("| lumi | ") for line in md)
    assert infer.report_sections(infer.expected_limits(infer.RateOnly(), path, **kw)) == []
