"""Broken madminer-trained model files (settings, weights, scaling): one clear lhcgold error, nothing written."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lhcgold.exceptions import ConfigError, EventFileError

from .conftest import assert_no_leftovers, snapshot

pytest.importorskip("torch")

DATA = Path(__file__).resolve().parents[1] / "data" / "madminer_models"


def _copy(tmp: Path, name: str = "alices") -> Path:
    for f in DATA.glob(f"{name}_*"):
        if not f.name.endswith("_expected.npz"):
            shutil.copy(f, tmp / f.name)
    return tmp / name


def _no_state_dict(tmp: Path) -> Path:
    base = _copy(tmp)
    Path(f"{base}_state_dict.pt").unlink()
    return base


def _truncated_state_dict(tmp: Path) -> Path:
    base = _copy(tmp)
    p = Path(f"{base}_state_dict.pt")
    p.write_bytes(p.read_bytes()[:200])
    return base


def _settings_not_json(tmp: Path) -> Path:
    base = _copy(tmp)
    Path(f"{base}_settings.json").write_text("{n_observables: 4")
    return base


def _settings_without_sizes(tmp: Path) -> Path:
    base = _copy(tmp)
    Path(f"{base}_settings.json").write_text('{"estimator_type": "parameterized_ratio"}')
    return base


def _more_layers_than_weights(tmp: Path) -> Path:
    base = _copy(tmp)
    p = Path(f"{base}_settings.json")
    p.write_text(p.read_text().replace('"n_hidden": [12, 8]', '"n_hidden": [12, 8, 8]'))
    return base


def _unknown_activation(tmp: Path) -> Path:
    base = _copy(tmp)
    p = Path(f"{base}_settings.json")
    p.write_text(p.read_text().replace('"tanh"', '"prelu"'))
    return base


def _scaling_not_npy(tmp: Path) -> Path:
    base = _copy(tmp)
    Path(f"{base}_theta_stds.npy").write_text("not a numpy file")
    return base


CASES: list[tuple[str, Callable[[Path], Path], type, str]] = [
    ("no_state_dict", _no_state_dict, EventFileError, "alices_state_dict.pt: cannot read madminer's weights"),
    ("truncated_state_dict", _truncated_state_dict, EventFileError, "cannot read madminer's weights"),
    ("settings_not_json", _settings_not_json, EventFileError, "cannot read madminer's model settings"),
    ("settings_without_sizes", _settings_without_sizes, EventFileError, "no n_observables, n_parameters, n_hidden"),
    ("more_layers_than_weights", _more_layers_than_weights, EventFileError, "no layers.3.weight"),
    ("unknown_activation", _unknown_activation, ConfigError, "activation 'prelu' is not supported"),
    ("scaling_not_npy", _scaling_not_npy, EventFileError, "cannot read madminer's scaling"),
]


@pytest.mark.parametrize(("name", "make", "error", "match"), CASES, ids=[c[0] for c in CASES])
def test_broken_madminer_model_is_one_clear_error(
    name: str, make: Callable[[Path], Path], error: type, match: str, tmp_path: Path
) -> None:
    from lhcgold.compat.madminer.ml import load_estimator

    base = make(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(error, match=match) as info:
        load_estimator(base)
    assert "Traceback" not in str(info.value)
    assert snapshot(tmp_path) == before
    assert_no_leftovers(tmp_path)
