"""Bad inputs for cards, HDF5 files, model directories and the CLI: one clear error, nothing lost.

Every case runs the real CLI (or the real reader) on a real bad input made here, then checks the
exit code, the one ``Error:`` line naming the problem, and that no file appeared, changed or was
left half-written. The concurrency cases race real processes on one output.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from lhcgold.config import load_card_text
from lhcgold.exceptions import ConfigError, EventFileError
from lhcgold.io.events import EventFile, EventWriter
from lhcgold.io.samples import TrainingSet, write_training_set
from lhcgold.setup import build_setup

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

REPO = Path(__file__).resolve().parents[2]

CARD = """\
lhcgold_card: 1
name: toy
parameters:
  - {name: a, max_power: 2, range: [-1, 1]}
benchmarks:
  sm: {a: 0.0}
  plus: {a: 1.0}
  minus: {a: -1.0}
"""


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def setup():
    return build_setup(load_card_text(CARD))


def _write_events(path: Path, setup, n: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    a = rng.uniform(0.5, 1.5, size=n)
    # weights for a = 0, +1, -1 of |1 + a x0|^2-like positive shapes
    w = np.stack([a, a * (1 + 0.3 * x[:, 0]) ** 2, a * (1 - 0.3 * x[:, 0]) ** 2], axis=1) * 1e-3
    with EventWriter(path, setup, ["x", "y"]) as wr:
        wr.append(x, w, sampling_benchmarks=0)
    return path


@pytest.fixture(scope="module")
def events_master(tmp_path_factory, setup) -> Path:
    return _write_events(tmp_path_factory.mktemp("ev") / "events.h5", setup)


@pytest.fixture
def events(tmp_path, events_master) -> Path:
    """A fresh, valid events file in the test's own directory."""
    return Path(shutil.copy(events_master, tmp_path / "events.h5"))


def _local_set(n: int = 400) -> TrainingSet:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 2))
    return TrainingSet(
        kind="local", x=x, t_xz=0.6 * x[:, :1], theta0=np.zeros((n, 1)), observables=("x", "y"), parameters=("a",)
    )


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A trained SALLY model and a two-member ensemble (tiny; trained for one epoch)."""
    pytest.importorskip("torch")
    from lhcgold.ml import SALLY, Ensemble, TrainConfig

    root = tmp_path_factory.mktemp("models")
    ts = _local_set()
    cfg = TrainConfig(n_epochs=1, batch_size=64, device="cpu", seed=1)
    est = SALLY(n_hidden=(4,))
    est.train(ts, config=cfg)
    est.save(root / "sally")
    ens = Ensemble([SALLY(n_hidden=(4,)), SALLY(n_hidden=(4,))])
    ens.train(ts, config=cfg, n_jobs=1)
    ens.save(root / "ensemble")
    write_training_set(root / "local.h5", ts)
    return {"sally": root / "sally", "ensemble": root / "ensemble", "sample": root / "local.h5"}


def _copy_model(models: dict[str, Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(models[name], tmp_path / name))


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _set_manifest(folder: Path, man: object) -> None:
    (folder / "manifest.json").write_text(json.dumps(man))


# ----------------------------------------------------------------------------- cards
_BASE = "lhcgold_card: 1\nparameters: [{name: a, range: [-1, 1]}]\n"
_HUGE = "1" + "0" * 400

CARD_CASES = {
    "malformed_yaml": ("lhcgold_card: 1\nparameters: [\n", r"malformed YAML at line \d+"),
    "not_a_mapping": ("- a\n- b\n", r"must be a YAML mapping"),
    "no_version": ("parameters: [{name: a}]\n", r"lhcgold_card"),
    "wrong_version": ("lhcgold_card: 7\nparameters: [{name: a}]\n", r"lhcgold_card"),
    "range_wrong_type": ("lhcgold_card: 1\nparameters: [{name: a, range: abc}]\n", r"parameters\[0\]\.range"),
    "unknown_top_key": (_BASE + "benchmark: {sm: {a: 0}}\n", r"unknown key 'benchmark'.*did you mean 'benchmarks'"),
    "unknown_parameter_key": ("lhcgold_card: 1\nparameters: [{name: a, rnge: [-1, 1]}]\n", r"unknown key 'rnge'"),
    "unknown_benchmark_parameter": (_BASE + "benchmarks: {sm: {b: 0}}\n", r"benchmarks\.sm\.b: unknown parameter 'b'"),
    "huge_int_range": (
        f"lhcgold_card: 1\nparameters: [{{name: a, range: [-1, {_HUGE}]}}]\n",
        r"parameters\[0\]\.range\[1\]: integer about 10\*\*400 is too large",
    ),
    "huge_int_benchmark": (_BASE + f"benchmarks: {{sm: {{a: {_HUGE}}}}}\n", r"benchmarks\.sm\.a: integer .* too large"),
    "huge_int_stage_section": (
        _BASE + f"generate: {{n_events: {_HUGE}}}\n",
        r"generate\.n_events: integer .* too large",
    ),
    "huge_int_lha_id": (f"lhcgold_card: 1\nparameters: [{{name: a, lha_id: {2**40}}}]\n", r"lha_id"),
    "huge_max_power": ("lhcgold_card: 1\nparameters: [{name: a, max_power: 1000}]\n", r"max_power.*maximum of 12"),
    "negative_max_power": ("lhcgold_card: 1\nparameters: [{name: a, max_power: -1}]\n", r"max_power"),
    "nan_in_range": (
        "lhcgold_card: 1\nparameters: [{name: a, range: [.nan, 1]}]\n",
        r"parameters\[0\]\.range\[0\]: value is NaN",
    ),
    "inf_in_range": ("lhcgold_card: 1\nparameters: [{name: a, range: [-.inf, 1]}]\n", r"range must be finite"),
    "reversed_range": ("lhcgold_card: 1\nparameters: [{name: a, range: [1, -1]}]\n", r"low < high"),
    "nan_benchmark": (_BASE + "benchmarks: {sm: {a: .nan}}\n", r"benchmarks\.sm\.a: value is NaN"),
    "benchmark_outside_range": (_BASE + "benchmarks: {sm: {a: 5}}\n", r"outside the range"),
    "duplicate_key": (_BASE + "benchmarks: {sm: {a: 0}}\nbenchmarks: {p: {a: 1}}\n", r"duplicate key 'benchmarks'"),
    "duplicate_parameter": ("lhcgold_card: 1\nparameters: [{name: a}, {name: a}]\n", r"duplicate parameter name"),
    "repeated_benchmark_point": (_BASE + "benchmarks: {sm: {a: 0}, zero: {a: 0.0}}\n", r"repeats the point"),
    "zero_card_scale": ("lhcgold_card: 1\nparameters: [{name: a, card_scale: 0}]\n", r"card_scale"),
    "empty_parameters": ("lhcgold_card: 1\nparameters: []\n", r"parameters"),
    "empty_benchmarks_no_optimise": (_BASE + "benchmarks: {}\nmorphing: {optimize: false}\n", r"benchmark|basis"),
    "huge_n_trials": (_BASE + "morphing: {n_trials: 100000000000}\n", r"morphing\.n_trials"),
    "empty_file": ("", r"must be a YAML mapping"),
}


@pytest.mark.parametrize("name", sorted(CARD_CASES))
def test_bad_card(name, tmp_path, run_cli):
    text, match = CARD_CASES[name]
    card = tmp_path / "card.yaml"
    card.write_text(text)
    before = snapshot(tmp_path)
    res = run_cli("setup", card, "-o", tmp_path / "setup.h5")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)


def test_card_not_utf8(tmp_path, run_cli):
    card = tmp_path / "card.yaml"
    card.write_bytes(b"lhcgold_card: 1\n\xff\xfe\x00garbage")
    before = snapshot(tmp_path)
    assert_clean_error(run_cli("setup", card, "-o", tmp_path / "s.h5"), r"cannot read analysis card", code=1)
    assert_no_leftovers(tmp_path, before)


# ----------------------------------------------------------------------------- observable expressions
HOSTILE_EXPRESSIONS = {
    "power_tower": ("9**9**9**9", r"exponent .* too large"),
    "power_of_power_exponent": ("x ** (2**2**2**2**2)", r"exponent .* too large"),
    "huge_exponent": ("x ** 100000", r"exponent .* too large"),
    "huge_int_literal": ("x + " + "9" * 500, r"constant of about 10\*\*(499|500) is too large"),
    "beyond_digit_limit": ("x + " + "9" * 5000, r"too long|digit|too large"),
    "overflowing_float": ("x * 1e999", r"constant inf is too large"),
    "constant_overflow": ("x + 10.0**300 * 10.0**300", r"overflows"),
    "deep_nesting": ("-" * 200 + "x", r"nested too deeply"),
    "deep_parentheses": ("(" * 300 + "x" + ")" * 300, r"nested too deeply|syntax error"),
    "huge_repetition": ("+".join(["x"] * 3000), r"too long|too large|nested too deeply"),
    "huge_index": ("l[10000000000]", r"index .* too large"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_EXPRESSIONS))
def test_hostile_expression_refused_at_compile_time(name):
    from lhcgold.observables.expr import compile_expression

    text, match = HOSTILE_EXPRESSIONS[name]
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=match):
        compile_expression(text, names={"x", "l"})
    assert time.perf_counter() - t0 < 2.0


def test_hostile_expression_in_card_is_a_clean_cli_error(tmp_path, run_cli, events):
    card = tmp_path / "card.yaml"
    card.write_text(CARD + "observables:\n  bad: 9**9**9**9\n")
    before = snapshot(tmp_path)
    res = run_cli("reconstruct", events, "--card", card, "-o", tmp_path / "out.h5")
    assert_clean_error(res, r"observables.*exponent .* too large", code=1)
    assert_no_leftovers(tmp_path, before)


def test_bounded_expressions_still_work():
    from lhcgold.observables.expr import compile_expression

    f = compile_expression("x**2 + 2**10 + 1e300 * 0 - 3", names={"x"})
    assert f({"x": np.array([2.0])}).tolist() == [4.0 + 1024.0 - 3.0]


# ----------------------------------------------------------------------------- HDF5 events files
def _corrupt_weights(value: float, row: int = 5, col: int = 1) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            f["samples/weights"][row, col] = value

    return edit


def _corrupt_observable(value: float, row: int = 3) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            f["samples/observations"][row, 1] = value

    return edit


def _random_bytes_in_chunk(path: Path) -> None:
    with h5py.File(path, "r") as f:
        info = f["samples/weights"].id.get_chunk_info(0)
    rng = np.random.default_rng(7)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset + 64)
        fh.write(rng.bytes(256))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _delete(dataset: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        with h5py.File(path, "r+") as f:
            del f[dataset]

    return edit


def _foreign(path: Path) -> None:
    path.unlink()
    with h5py.File(path, "w") as f:
        f["data"] = np.arange(10)


def _not_hdf5(path: Path) -> None:
    path.write_text("this is a text file, not HDF5\n" * 20)


def _bad_sampling_index(path: Path) -> None:
    with h5py.File(path, "r+") as f:
        f["samples/sampling_benchmarks"][9] = 17


EVENT_CASES = {
    "nan_weight": (_corrupt_weights(float("nan")), r"events\.h5: event 5 has a non-finite weight 'plus' \(nan\)"),
    "inf_weight": (_corrupt_weights(float("inf"), row=11, col=0), r"event 11 has a non-finite weight 'sm' \(inf\)"),
    "inf_observable": (_corrupt_observable(float("-inf")), r"event 3 has a non-finite observation 'y' \(-inf\)"),
    "random_bytes_in_chunk": (_random_bytes_in_chunk, r"events\.h5: cannot read events 0-.*(checksum|corrupt)"),
    "truncated": (_truncate, r"events\.h5.*(truncated|not a readable HDF5)"),
    "missing_weights_dataset": (_delete("samples/weights"), r"samples/ must hold observations, weights"),
    "missing_parameters": (_delete("parameters/names"), r"not a MadMiner/lhcgold file \(missing parameters/names"),
    "foreign_hdf5": (_foreign, r"not a MadMiner/lhcgold file"),
    "not_hdf5": (_not_hdf5, r"not a readable HDF5 file"),
    "sampling_index_out_of_range": (_bad_sampling_index, r"event 9 has sampling benchmark index 17"),
}


@pytest.mark.parametrize("name", sorted(EVENT_CASES))
def test_damaged_events_file(name, tmp_path, events, run_cli):
    edit, match = EVENT_CASES[name]
    edit(events)
    before = snapshot(tmp_path)
    res = run_cli("-q", "fisher", events, "-o", tmp_path / "info.json", "--theta", "sm", "--all-events")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)


def test_damaged_events_named_by_reader(events):
    _corrupt_weights(float("nan"), row=250)(events)
    ef = EventFile(events)
    assert ef.read(0, 200).weights.shape == (200, 3)  # the good part stays readable
    with pytest.raises(EventFileError, match=r"event 250 has a non-finite weight"):
        list(ef.iter_chunks(100))


def test_nan_observable_is_a_missing_object_not_damage(events):
    _corrupt_observable(float("nan"))(events)
    assert np.isnan(EventFile(events).read().observations[3, 1])


def test_writer_refuses_infinite_observable(tmp_path, setup):
    with pytest.raises(EventFileError, match=r"event 1 has an infinite observable"):
        with EventWriter(tmp_path / "e.h5", setup, ["x"]) as wr:
            wr.append(np.array([[0.0], [np.inf]]), np.ones((2, 3)))
    assert list(tmp_path.iterdir()) == []


def _train_args(sample: Path, out: Path, *extra: object) -> list[object]:
    return ["train", sample, "-o", out, "-m", "sally", "--hidden", "4", "--epochs", "1", "--device", "cpu", *extra]


def test_training_set_with_nan(tmp_path, run_cli):
    pytest.importorskip("torch")
    ts = _local_set()
    path = write_training_set(tmp_path / "local.h5", ts)
    with h5py.File(path, "r+") as f:
        f["samples/t_xz"][7, 0] = np.nan
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(path, tmp_path / "model"))
    assert_clean_error(res, r"local\.h5.*sample 7 has a non-finite t_xz", code=1)
    assert_no_leftovers(tmp_path, before)


def test_events_file_given_as_training_set(tmp_path, events, run_cli):
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(events, tmp_path / "model"))
    assert_clean_error(res, r"not an lhcgold training-set file", code=1)
    assert_no_leftovers(tmp_path, before)


# ----------------------------------------------------------------------------- model directories
def _drop_manifest(d: Path) -> None:
    (d / "manifest.json").unlink()


def _bad_json(d: Path) -> None:
    (d / "manifest.json").write_text("{not json")


def _list_manifest(d: Path) -> None:
    _set_manifest(d, [1, 2, 3])


def _missing_key(d: Path) -> None:
    man = _manifest(d)
    del man["n_hidden"]
    _set_manifest(d, man)


def _foreign_format(d: Path) -> None:
    _set_manifest(d, {**_manifest(d), "format": "someone-else"})


def _newer_format(d: Path) -> None:
    _set_manifest(d, {**_manifest(d), "format_version": 99})


def _unknown_class(d: Path) -> None:
    _set_manifest(d, {**_manifest(d), "class": "Oracle"})


def _wrong_shape(d: Path) -> None:
    _set_manifest(d, {**_manifest(d), "n_hidden": [7, 7]})


def _tamper_weights(d: Path) -> None:
    data = bytearray((d / "weights.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / "weights.pt").write_bytes(bytes(data))


def _drop_hash(d: Path) -> None:
    man = _manifest(d)
    del man["weights_sha256"]
    _set_manifest(d, man)


def _drop_weights(d: Path) -> None:
    (d / "weights.pt").unlink()


MODEL_CASES = {
    "missing_manifest": ("sally", _drop_manifest, r"is not a model directory \(no manifest\.json\)"),
    "manifest_not_json": ("sally", _bad_json, r"manifest\.json: invalid JSON"),
    "manifest_not_object": ("sally", _list_manifest, r"manifest\.json: not an lhcgold model manifest"),
    "manifest_missing_key": ("sally", _missing_key, r"malformed model manifest: missing key 'n_hidden'"),
    "foreign_manifest": ("sally", _foreign_format, r"not an lhcgold model manifest"),
    "newer_format": ("sally", _newer_format, r"model format 99 is newer"),
    "unknown_class": ("sally", _unknown_class, r"unknown estimator class 'Oracle'"),
    "weights_do_not_fit_manifest": ("sally", _wrong_shape, r"weights do not match the manifest"),
    "tampered_weights": ("sally", _tamper_weights, r"weights\.pt: content does not match the sha256"),
    "hash_removed": ("sally", _drop_hash, r"weights_sha256 is missing"),
    "missing_weights": ("sally", _drop_weights, r"weights\.pt is missing"),
    "ensemble_where_one_is_needed": ("ensemble", lambda d: None, r"is an ensemble of 2 score estimators.*member_0"),
}


@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_bad_model_directory(name, tmp_path, models, events, run_cli):
    which, edit, match = MODEL_CASES[name]
    model = _copy_model(models, which, tmp_path)
    edit(model)
    before = snapshot(tmp_path)
    res = run_cli("fisher", events, "-o", tmp_path / "info.json", "-m", "sally", "--model", model, "--theta", "sm")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)


def _member_escape(kind: str) -> Callable[[Path, Path], None]:
    def edit(model: Path, outside: Path) -> None:
        man = _manifest(model)
        if kind == "dotdot":
            man["members"][1] = "../outside"
        elif kind == "absolute":
            man["members"][1] = str(outside)
        elif kind == "symlink":
            shutil.rmtree(model / "member_1")
            (model / "member_1").symlink_to(outside, target_is_directory=True)
        elif kind == "self_loop":
            (model / "member_1").rename(model / "spare")
            (model / "member_1").symlink_to(".", target_is_directory=True)
        _set_manifest(model, man)

    return edit


@pytest.mark.parametrize(
    "kind, match",
    [
        ("dotdot", r"member path '\.\./outside' leaves the model directory"),
        ("absolute", r"member path '.*outside' leaves the model directory"),
        ("symlink", r"member 'member_1' points outside the model directory"),
        ("self_loop", r"member is itself an ensemble"),
    ],
)
def test_ensemble_member_path_escape(kind, match, tmp_path, models):
    from lhcgold.ml import load_model

    model = _copy_model(models, "ensemble", tmp_path)
    outside = Path(shutil.copytree(model / "member_0", tmp_path / "outside"))
    _member_escape(kind)(model, outside)
    with pytest.raises(EventFileError, match=match):
        load_model(model)


def test_model_manifest_carries_weights_hash(models):
    import hashlib

    man = _manifest(models["sally"])
    assert man["weights_sha256"] == hashlib.sha256((models["sally"] / "weights.pt").read_bytes()).hexdigest()
    assert man["format_version"] == 2


# ----------------------------------------------------------------------------- CLI outputs
def test_overwrite_refuses_a_users_directory(tmp_path, models, run_cli):
    """``--overwrite`` must never delete a directory lhcgold did not write."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("years of work")
    (out / "figures").mkdir()
    (out / "figures" / "plot.pdf").write_bytes(b"%PDF")
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(models["sample"], out, "--overwrite"))
    assert_clean_error(res, r"thesis' is not an lhcgold model directory.*refusing to replace it", code=1)
    assert_no_leftovers(tmp_path, before)


def test_overwrite_refuses_model_dir_with_foreign_files(tmp_path, models, run_cli):
    out = _copy_model(models, "sally", tmp_path)
    (out / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(models["sample"], out, "--overwrite"))
    assert_clean_error(res, r"holds files lhcgold did not write \(notes\.txt\)", code=1)
    assert_no_leftovers(tmp_path, before)


def test_overwrite_replaces_an_lhcgold_model(tmp_path, models, run_cli):
    out = _copy_model(models, "ensemble", tmp_path)
    res = run_cli("-q", *_train_args(models["sample"], out, "--overwrite"))
    assert res.code == 0, res.err
    assert _manifest(out)["class"] == "SALLY" and not (out / "member_0").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ensemble"]


def test_overwrite_fills_an_empty_directory(tmp_path, models, run_cli):
    out = tmp_path / "model"
    out.mkdir()
    res = run_cli("-q", *_train_args(models["sample"], out, "--overwrite"))
    assert res.code == 0, res.err
    assert _manifest(out)["class"] == "SALLY"


def test_write_model_dir_refuses_a_users_directory(tmp_path):
    pytest.importorskip("torch")
    from lhcgold.io.models import write_model_dir

    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(EventFileError, match="not an lhcgold model directory"):
        write_model_dir(out, {"class": "SALLY"}, {}, overwrite=True)
    assert (out / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def _unwritable_dir(tmp_path: Path) -> Path:
    if os.geteuid() == 0:  # root writes anywhere; /sys refuses everyone
        if not Path("/sys").is_dir():
            pytest.skip("no /sys on this system")
        return Path("/sys")
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o500)
    return d


@pytest.mark.parametrize("verb", ["setup", "train", "fisher", "combine"])
def test_unwritable_output_directory(verb, tmp_path, models, events, run_cli):
    locked = _unwritable_dir(tmp_path)
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    out = locked / ("model" if verb == "train" else "out.h5")
    args = {
        "setup": ["setup", card, "-o", out],
        "train": _train_args(models["sample"], out),
        "fisher": ["fisher", events, "-o", locked / "info.json", "--theta", "sm"],
        "combine": ["combine", events, "-o", out],
    }[verb]
    before = snapshot(tmp_path)
    res = run_cli(*args)
    assert_clean_error(res, r"cannot write to directory '.*(locked|sys)': permission denied", code=1)
    assert_no_leftovers(tmp_path, before)


@pytest.mark.parametrize("case", ["parent_is_file", "output_is_directory", "model_output_is_file", "missing_input"])
def test_wrong_kind_of_path(case, tmp_path, models, events, run_cli):
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("user data")
    args, match, code = {
        "parent_is_file": (["setup", card, "-o", tmp_path / "afile" / "s.h5"], r"'.*afile' is not a directory", 1),
        "output_is_directory": (["combine", events, "-o", tmp_path / "adir"], r"is a directory; give a file name", 1),
        "model_output_is_file": (
            _train_args(models["sample"], tmp_path / "afile", "--overwrite"),
            r"afile' is a file, not a model directory",
            1,
        ),
        "missing_input": (["fisher", tmp_path / "nope.h5", "-o", tmp_path / "i.json"], r"does not exist", 2),
    }[case]
    before = snapshot(tmp_path)
    assert_clean_error(run_cli(*args), match, code=code)
    assert_no_leftovers(tmp_path, before)


def test_output_directory_is_created_when_missing(tmp_path, run_cli):
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    res = run_cli("setup", card, "-o", tmp_path / "new" / "deeper" / "s.h5")
    assert res.code == 0 and (tmp_path / "new" / "deeper" / "s.h5").is_file()


BAD_TRAIN_OPTIONS = {
    "hidden_zero": (["--hidden", "0"], r"--hidden values must be >= 1"),
    "hidden_negative": (["--hidden", "8,-3"], r"--hidden values must be >= 1"),
    "hidden_not_int": (["--hidden", "8,x"], r"--hidden must be comma-separated integers"),
    "hidden_empty": (["--hidden", ","], r"--hidden needs at least one integer"),
    "hidden_absurd": (["--hidden", str(10**9)], r"hidden layer widths must be integers in \[1, 65536\]"),
    "epochs_zero": (["--epochs", "0"], r"--epochs must be >= 1"),
    "batch_zero": (["--batch-size", "0"], r"--batch-size must be >= 1"),
    "ensemble_zero": (["--ensemble", "0"], r"--ensemble must be >= 1"),
    "jobs_negative": (["--jobs", "-2"], r"--jobs must be >= 1"),
    "patience_zero": (["--patience", "0"], r"--patience must be >= 1"),
    "lr_zero": (["--lr", "0"], r"learning rates must be positive"),
    "lr_negative": (["--final-lr", "-1e-3"], r"learning rates must be positive"),
    "lr_nan": (["--lr", "nan"], r"initial_lr must be a finite number"),
    "alpha_inf": (["--alpha", "inf"], r"alpha must be a finite number"),
    "validation_split": (["--validation-split", "1.5"], r"validation_split must be in \[0, 1\)"),
    "features_negative": (["--features", "0,-1"], r"--features values must be >= 0"),
    "features_out_of_range": (["--features", "0,9"], r"features \[0, 9\] out of range"),
    "activation": (["--activation", "tanhh"], r"unknown activation 'tanhh'.*did you mean 'tanh'"),
    "device_unknown": (["--device", "gpu0"], r"unknown device 'gpu0'"),
    "device_bad_index": (["--device", "cuda:99"], r"cuda:99"),
    "epochs_not_int": (["--epochs", "many"], r"'many' is not a valid integer"),
}


@pytest.mark.parametrize("name", sorted(BAD_TRAIN_OPTIONS))
def test_bad_train_option(name, tmp_path, models, run_cli):
    extra, match = BAD_TRAIN_OPTIONS[name]
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(models["sample"], tmp_path / "model"), *extra)
    assert_clean_error(res, match)
    assert_no_leftovers(tmp_path, before)


def test_device_cuda_without_cuda(tmp_path, models, run_cli):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    before = snapshot(tmp_path)
    res = run_cli(*_train_args(models["sample"], tmp_path / "model"), "--device", "cuda")
    assert_clean_error(res, r"device 'cuda' requested but CUDA is not available", code=1)
    assert_no_leftovers(tmp_path, before)


def test_unexpected_exception_is_one_line(monkeypatch, tmp_path, run_cli):
    """The last line of defence: an unforeseen bug still gives one line, not a traceback."""
    import lhcgold.cli.setup as setup_cli

    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero somewhere deep")

    monkeypatch.setattr(setup_cli, "build_setup", boom, raising=False)
    monkeypatch.setattr("lhcgold.setup.build_setup", boom)
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    res = run_cli("setup", card, "-o", tmp_path / "s.h5")
    assert_clean_error(res, r"unexpected ZeroDivisionError: division by zero.*run with -v", code=1)
    assert res.err.count("\n") == 1


# ----------------------------------------------------------------------------- concurrency
_RACE_ATOMIC = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path

    def slow(fn):  # widen the window between "does the target exist?" and publishing (a busy disk)
        def run(*args, **kwargs):
            time.sleep(0.3)
            return fn(*args, **kwargs)
        return run

    os.replace, os.rename, os.link = slow(os.replace), slow(os.rename), slow(os.link)
    from lhcgold.io.atomic import atomic_path
    from lhcgold.exceptions import EventFileError
    target, me, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(me * 1000)
            (go.parent / f"ready-{me}").touch()
            while not go.exists():
                time.sleep(0.005)
    except EventFileError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
""")


def _finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def test_two_processes_race_for_one_file(tmp_path):
    """Both writers are past the exists-check when they publish: exactly one may win.

    Publishing is slowed down in both processes so that both have checked before either
    publishes; a check-then-rename lets both "succeed" (the first output silently lost).
    """
    target, go = tmp_path / "out" / "result.json", tmp_path / "go"
    (tmp_path / "out").mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE_ATOMIC, str(target), me, str(go)], env=env, stderr=subprocess.PIPE, text=True
        )
        for me in "AB"
    ]
    deadline = time.time() + 60
    while not all((tmp_path / f"ready-{me}").exists() for me in "AB"):
        assert time.time() < deadline, "writers did not start"
        time.sleep(0.01)
    go.touch()
    results = [_finish(p, 60) for p in procs]
    codes = sorted(c for c, _ in results)
    assert codes == [0, 1], results
    loser = next(err for c, err in results if c == 1)
    assert "appeared while writing" in loser and "Traceback" not in loser
    assert target.read_text() in ("A" * 1000, "B" * 1000)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["result.json"]


def test_two_cli_processes_write_one_model(tmp_path, models):
    """Two real ``lhcgold train`` processes, one output: one model, one clear refusal."""
    out = tmp_path / "model"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "lhcgold.cli", "-q", *map(str, _train_args(models["sample"], out))]
    procs = [subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [_finish(p, 120) for p in procs]
    assert sorted(c for c, _ in results) == [0, 1], results
    loser = next(err for c, err in results if c == 1)
    assert loser.startswith("Error:") and "Traceback" not in loser
    assert re_exists(loser)
    from lhcgold.ml import load_model

    assert load_model(out).n_hidden == (4,)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def re_exists(message: str) -> bool:
    return "exists" in message or "appeared while writing" in message


def test_two_cli_processes_write_one_events_file(tmp_path, events):
    out = tmp_path / "combined.h5"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "lhcgold.cli", "-q", "combine", str(events), str(events), "--samples", "-o", str(out)]
    procs = [
        subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) for _ in range(2)
    ]
    results = [_finish(p, 120) for p in procs]
    assert sorted(c for c, _ in results) == [0, 1], results
    loser = next(err for c, err in results if c == 1)
    assert loser.startswith("Error:") and re_exists(loser) and "Traceback" not in loser
    assert EventFile(out).n_events == 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["combined.h5", "events.h5"]


def test_no_nan_fisher_matrix_from_nan_weights(events):
    """The library path too: the Fisher information is refused, never NaN."""
    from lhcgold import infer

    _corrupt_weights(float("nan"), row=42, col=2)(events)
    with pytest.raises(EventFileError, match=r"event 42 has a non-finite weight 'minus'"):
        infer.truth_information(EventFile(events), theta=np.zeros(1), luminosity_ifb=300.0)


def test_finite_constants_are_floats():
    from lhcgold.observables.expr import compile_expression

    f = compile_expression("x * 3 // 2", names={"x"})
    out = f({"x": np.array([3.0])})
    assert math.isclose(float(out[0]), 4.0)


# ----------------------------------------------------------------------------- malformed shower files
def _shower_file(path: Path, case: str) -> None:
    from lhcgold.shower import FORMAT

    with h5py.File(path, "w") as f:
        f.attrs["lhcgold_format"] = FORMAT
        f.attrs["weight_names"] = "not json" if case == "bad_weight_names" else json.dumps(["sm", "plus", "minus"])
        f.attrs["n_events"] = 3
        if case == "chunk_without_particles":
            f["chunks/000000/weights"] = np.ones((3, 3))


@pytest.mark.parametrize(
    "case, match",
    [
        ("no_chunks", r"malformed showered-events file .*chunks"),
        ("bad_weight_names", r"malformed showered-events file"),
        ("chunk_without_particles", r"damaged showered-events chunk '000000' \(events from 0\)"),
    ],
)
def test_malformed_shower_file(case, match, tmp_path, run_cli):
    shower = tmp_path / "run.shower.h5"
    _shower_file(shower, case)
    card = tmp_path / "card.yaml"
    card.write_text(CARD + "observables:\n  x: l[0].pt\n")
    before = snapshot(tmp_path)
    res = run_cli("-q", "reconstruct", shower, "--card", card, "-o", tmp_path / "events.h5")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(tmp_path, before)
