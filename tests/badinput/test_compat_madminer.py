"""Bad input to lhcgold.compat.madminer: one clear lhcgold error naming the problem, nothing left behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lhcgold.compat.madminer import MadMiner
from lhcgold.compat.madminer.lhe import LHEReader
from lhcgold.compat.madminer.ml import load_estimator
from lhcgold.exceptions import ConfigError, LhcgoldError

from .conftest import assert_no_leftovers

RUN1 = Path(__file__).resolve().parents[1] / "data" / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"


def _setup(tmp: Path) -> Path:
    miner = MadMiner()
    miner.add_parameter("dim6", 1, "cwww", parameter_range=(-10.0, 10.0))
    miner.add_benchmark({"cwww": 0.0}, "sm")
    miner.add_benchmark({"cwww": 10.0}, "cwww_p10")
    miner.add_benchmark({"cwww": -10.0}, "cwww_m10")
    miner.set_morphing(max_overall_power=2)
    path = tmp / "setup.h5"
    miner.save(path)
    return path


def _unknown_parameter(tmp: Path) -> None:
    miner = MadMiner()
    miner.add_parameter("dim6", 1, "cwww")
    miner.add_benchmark({"cwwww": 1.0}, "bad")


def _nonlinear_transform(tmp: Path) -> None:
    MadMiner().add_parameter("dim6", 1, "cwww", param_card_transform="theta**2")


def _run_madgraph(tmp: Path) -> None:
    MadMiner().run(sample_benchmark="sm", mg_directory="/nowhere")


def _missing_lhe(tmp: Path) -> None:
    LHEReader(_setup(tmp)).add_sample(tmp / "missing.lhe.gz", sampled_from_benchmark="sm")


def _bad_expression(tmp: Path) -> None:
    LHEReader(_setup(tmp)).add_observable("pt", "a[0].pt >")


def _save_before_analysis(tmp: Path) -> None:
    LHEReader(_setup(tmp)).save(tmp / "events.h5")


def _unknown_benchmark_weight(tmp: Path) -> None:
    miner = MadMiner()
    miner.add_parameter("dim6", 1, "cwww", parameter_range=(-10.0, 10.0))
    for name, v in (("sm", 0.0), ("cwww_p10", 10.0), ("not_in_the_lhe", -3.0)):
        miner.add_benchmark({"cwww": v}, name)
    miner.set_morphing(max_overall_power=2)
    miner.save(tmp / "setup.h5")
    reader = LHEReader(tmp / "setup.h5")
    reader.add_sample(RUN1, sampled_from_benchmark="sm")
    reader.add_observable("pt_a", "a[0].pt")
    reader.analyse_samples()


def _madminer_trained_model(tmp: Path) -> None:
    (tmp / "models").mkdir()
    (tmp / "models" / "nde_settings.json").write_text(
        '{"estimator_type": "likelihood", "n_observables": 2, "n_parameters": 1, "n_hidden": [10]}'
    )
    load_estimator(tmp / "models" / "nde")


def _no_morphing_grid(tmp: Path) -> None:
    miner = MadMiner()
    miner.add_parameter("dim6", 1, "cwww")
    miner.set_morphing(n_bases=2)


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("unknown_parameter", _unknown_parameter, r"unknown parameters \['cwwww'\]"),
    ("nonlinear_transform", _nonlinear_transform, "only linear transforms"),
    ("run_madgraph", _run_madgraph, "lhcgold generate"),
    ("missing_lhe", _missing_lhe, "missing.lhe.gz.*no such file"),
    ("bad_expression", _bad_expression, "not valid Python syntax"),
    ("save_before_analysis", _save_before_analysis, "run the analysis first"),
    ("unknown_benchmark_weight", _unknown_benchmark_weight, "no weight for benchmark 'not_in_the_lhe'"),
    ("madminer_likelihood_model", _madminer_trained_model, "madminer 'likelihood' model"),
    ("n_bases", _no_morphing_grid, "n_bases=1"),
]


@pytest.mark.parametrize(("name", "call", "match"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_error(name: str, call: Callable[[Path], None], match: str, tmp_path: Path) -> None:
    with pytest.raises(LhcgoldError, match=match) as info:
        call(tmp_path)
    assert isinstance(info.value, (ConfigError, LhcgoldError)) and "Traceback" not in str(info.value)
    assert_no_leftovers(tmp_path)
