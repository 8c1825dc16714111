"""Benchmark values from LHE headers in MG5's reweighting style (``set param_card BLOCK ID VALUE``),
for real MG5 files and for the embedded generator's files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lhcgold.config import Parameter, load_card_text
from lhcgold.generate.embedded import generate
from lhcgold.io.lhe import read_lhe, read_lhe_header
from lhcgold.io.lhe_weights import benchmark_points
from lhcgold.io.slha import parse_param_card

DATA = Path(__file__).parents[1] / "data" / "mg5" / "wgamma_ewdim6"
PARAMS = (
    Parameter("CWWWL2", lha_block="dim6", lha_id=1, range=(-20, 20)),
    Parameter("CWL2", lha_block="dim6", lha_id=2, range=(-20, 20)),
)


def _reweight_card_values() -> dict[str, dict[str, float]]:
    """The benchmarks as the MG5 reweight card that made the files states them (independent of the LHE)."""
    out: dict[str, dict[str, float]] = {}
    name = None
    for line in (DATA / "Cards" / "reweight_card.dat").read_text().splitlines():
        m = re.match(r"launch --rwgt_name=(\S+)", line)
        if m:
            name = m.group(1)
            out[name] = {}
        m = re.match(r"\s*set DIM6 (\d) (\S+)", line)
        if m and name:
            out[name][PARAMS[int(m.group(1)) - 1].name] = float(m.group(2))
    return out


@pytest.mark.parametrize("run", ["run_01_sm", "run_02_cwww_p10"])
def test_mg5_headers(run: str) -> None:
    header = read_lhe_header(DATA / f"{run}_unweighted_events.lhe.gz")
    pts = benchmark_points(header.header_text)
    assert set(pts.points) == set(header.weight_names)
    assert pts.values(PARAMS) == _reweight_card_values()
    # MG5 states only what changed: the generation point's own weight has no set line
    assert pts.base[("dim6", 1)] == (10.0 if run.endswith("p10") else 0.0)


EMBEDDED = """
lhcgold_card: 1
parameters:
  - {name: C_LL, range: [-0.1, 0.1]}
  - {name: C_LR, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0, C_LR: 0}
  ll: {C_LL: 0.1, C_LR: 0}
  lr: {C_LL: 0, C_LR: -0.1}
  b3: {C_LL: -0.1, C_LR: 0}
  b4: {C_LL: 0, C_LR: 0.1}
  b5: {C_LL: 0.05, C_LR: 0.0375}
morphing: {max_overall_power: 2}
process: {name: drell_yan, mll_gev: [500, 3000], scale_gev: 91.1876}
generate: {seed: 5, adapt: {iterations: 1, points: 2000}, generation_benchmark: ll}
"""


def test_embedded_header_is_mg5_style(tmp_path: Path) -> None:
    card = load_card_text(EMBEDDED)
    res = generate(card, n_events=200, rng=3)
    out = res.write_lhe(tmp_path / "dy.lhe")
    header = read_lhe_header(out)
    # every benchmark weight states the whole point as MG5 'set param_card' lines
    assert header.weight_info["b5"] == ("set param_card LHCGOLD 1 0.05 # C_LL\nset param_card LHCGOLD 2 0.0375 # C_LR")
    # the banner's param_card is the generation benchmark's (XWGTUP = the 'll' weight)
    i0 = header.header_text.index("<slha>")
    slha = parse_param_card(header.header_text[i0 + 6 : header.header_text.index("</slha>")])
    assert slha == {("lhcgold", 1): 0.1, ("lhcgold", 2): 0.0}
    chunk = read_lhe(out)
    np.testing.assert_allclose(chunk.nominal, chunk.weight("ll"), rtol=1e-6)
    values = benchmark_points(header.header_text).values(card.parameters)
    assert values == {b.name: dict(b.values) for b in card.benchmarks}
