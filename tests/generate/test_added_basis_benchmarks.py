"""Benchmarks the setup adds to complete the morphing basis are morphed from the LHE's component weights.

A card with fewer benchmarks than morphing components gets ``morphing_basis_vector_k`` benchmarks
from the setup; the embedded LHE carries only the card's benchmarks and the component weights
``lhcgold_component_k``, so ``reconstruct`` morphs the missing ones. Reference: the same events
generated from a card that declares those benchmarks itself, so the generator writes their weights.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import yaml

from lhcgold.cli import main
from lhcgold.config import load_card
from lhcgold.setup import build_setup

CARD = """
lhcgold_card: 1
name: dy_few
parameters:
  - {name: C_LL, max_power: 2, range: [-0.1, 0.1]}
  - {name: C_LR, max_power: 2, range: [-0.1, 0.1]}
benchmarks:
  sm: {C_LL: 0.0, C_LR: 0.0}
  ll: {C_LL: 0.1, C_LR: 0.0}
morphing: {max_overall_power: 2, n_trials: 20, n_test_thetas: 20, seed: 3}
process: {name: drell_yan, mll_gev: [500, 3000]}
generate: {n_events: 400, seed: 5, unweighted: false, generation_benchmark: sm}
observables: {m: "(l[0] + l[1]).m"}
"""


def run_cli(args: list[str]) -> None:
    assert main(args) == 0, args


def _events(tmp: Path, card_path: Path, setup_path: Path) -> dict[str, np.ndarray]:
    out = tmp / card_path.stem
    run_cli(["generate", str(card_path), "-o", str(out)])
    ev = tmp / f"{card_path.stem}.h5"
    run_cli(
        [
            "reconstruct",
            str(out / "events.lhe.gz"),
            "--card",
            str(card_path),
            "--setup",
            str(setup_path),
            "--level",
            "parton",
            "--no-shuffle",
            "-o",
            str(ev),
        ]
    )
    with h5py.File(ev, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["benchmarks/names"][()]]
        weights = f["samples/weights"][()]
    return {n: weights[:, k] for k, n in enumerate(names)}


def test_added_basis_benchmarks_are_morphed_from_component_weights(tmp_path: Path) -> None:
    few = tmp_path / "few.yaml"
    few.write_text(CARD)
    setup = build_setup(load_card(few))
    added = [b for b in setup.benchmarks if b.name.startswith("morphing_basis_vector")]
    assert added, "the card has fewer benchmarks than components: the setup adds some"
    setup_path = tmp_path / "setup.h5"
    run_cli(["setup", str(few), "-o", str(setup_path)])
    # the same analysis with every basis benchmark declared in the card (same events: same seed and proposal)
    raw = yaml.safe_load(CARD)
    raw["benchmarks"].update({b.name: dict(b.values) for b in added})
    full = tmp_path / "full.yaml"
    full.write_text(yaml.safe_dump(raw))
    got = _events(tmp_path, few, setup_path)
    ref = _events(tmp_path, full, setup_path)
    assert len(got["sm"]) > 100
    for b in added:
        np.testing.assert_allclose(got[b.name], ref[b.name], rtol=1e-9, atol=0)
    np.testing.assert_allclose(got["ll"], ref["ll"], rtol=1e-12)
