"""Bad inputs of ``lhcgold run``: every one a single clear error, nothing written, nothing lost.

The run directories here are real ones as far as the resume check goes: ``run.json`` is written
by the same code a run starts with (before any stage runs), so no case needs the hour-long job.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lhcgold.config import load_card
from lhcgold.run import RUN_MARKER, RunConfig, prepare_output

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

CARD = Path(__file__).parents[2] / "cards" / "wh.yaml"


@pytest.fixture
def run_dir(tmp_path):
    """An output directory of a started run of cards/wh.yaml with the card's own settings."""
    card = load_card(CARD)
    out = tmp_path / "wh-run"
    prepare_output(out, card, RunConfig.from_card(card), resume=False)
    (out / "events.h5").write_bytes(b"stand-in for a finished stage's output")
    return out


def _other_card(tmp_path: Path) -> Path:
    path = tmp_path / "wh2.yaml"
    path.write_text(CARD.read_text().replace("luminosity_ifb: 300", "luminosity_ifb: 100"))
    return path


def _corrupt_marker(out: Path, text: str | None) -> None:
    marker = out / RUN_MARKER
    marker.unlink()
    if text is None:
        marker.mkdir()
    else:
        marker.write_text(text)


CASES = {
    "resume with a changed card": (lambda tp, out: [_other_card(tp), "-o", out, "--resume"], "different card", 1),
    "resume with changed settings": (
        lambda tp, out: [CARD, "-o", out, "--resume", "--seed", "7"],
        r"settings differ .*seed: 1 -> 7",
        1,
    ),
    "resume with a changed luminosity": (
        lambda tp, out: [CARD, "-o", out, "--resume", "-L", "30"],
        r"settings differ .*luminosity_ifb",
        1,
    ),
    "non-empty directory without --resume": (lambda tp, out: [CARD, "-o", out], "not empty.*--resume", 1),
    "resume with a corrupt run.json": (
        lambda tp, out: (_corrupt_marker(out, "{not json"), [CARD, "-o", out, "--resume"])[1],
        "unreadable",
        1,
    ),
    "resume with a run.json of another kind": (
        lambda tp, out: (_corrupt_marker(out, json.dumps({"kind": "lhcgold-train"})), [CARD, "-o", out, "--resume"])[1],
        "does not describe an lhcgold run",
        1,
    ),
    "resume with run.json a directory": (
        lambda tp, out: (_corrupt_marker(out, None), [CARD, "-o", out, "--resume"])[1],
        "unreadable",
        1,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_resume_refuses_a_mismatched_directory(case, run_cli, run_dir, tmp_path):
    make_args, match, code = CASES[case]
    args = make_args(tmp_path, run_dir)
    before = snapshot(tmp_path)
    result = run_cli("run", *args)
    assert_clean_error(result, match, code=code)
    assert_no_leftovers(tmp_path, before)


def test_resume_into_a_directory_that_is_not_a_run(run_cli, tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("irreplaceable")
    before = snapshot(tmp_path)
    result = run_cli("run", CARD, "-o", out, "--resume")
    assert_clean_error(result, "not an lhcgold run directory", code=1)
    assert_no_leftovers(tmp_path, before)
    assert sorted(p.name for p in out.iterdir()) == ["chapter1.tex"]  # no stage directories created


@pytest.mark.parametrize("resume", [False, True])
def test_output_path_that_is_a_file(run_cli, tmp_path, resume):
    target = tmp_path / "results.txt"
    target.write_text("a user's file")
    before = snapshot(tmp_path)
    result = run_cli("run", CARD, "-o", target, *(["--resume"] if resume else []))
    assert_clean_error(result, "is a file", code=2)
    assert_no_leftovers(tmp_path, before)


def test_output_below_a_file(run_cli, tmp_path):
    (tmp_path / "notes").write_text("a user's file")
    before = snapshot(tmp_path)
    result = run_cli("run", CARD, "-o", tmp_path / "notes" / "run")
    assert_clean_error(result, "cannot write to the output directory", code=1)
    assert_no_leftovers(tmp_path, before)


@pytest.mark.parametrize(
    "args, match",
    [
        (["-L", "-5"], "luminosity"),
        (["-L", "0"], "luminosity"),
        (["--n-events", "10"], "n-events"),
        (["--grid-resolution", "2"], "grid-resolution"),
    ],
    ids=["negative luminosity", "zero luminosity", "too few events", "grid too coarse"],
)
def test_bad_options_are_usage_errors(run_cli, tmp_path, args, match):
    before = snapshot(tmp_path)
    result = run_cli("run", CARD, "-o", tmp_path / "out", *args)
    assert_clean_error(result, match, code=2)
    assert_no_leftovers(tmp_path, before)
    assert not (tmp_path / "out").exists()


def test_nan_luminosity(run_cli, tmp_path):
    before = snapshot(tmp_path)
    result = run_cli("run", CARD, "-o", tmp_path / "out", "-L", "nan")
    assert_clean_error(result, "luminosity_ifb must be a positive finite number", code=1)
    assert_no_leftovers(tmp_path, before)
    assert not (tmp_path / "out").exists()


def test_missing_card(run_cli, tmp_path):
    result = run_cli("run", tmp_path / "nope.yaml", "-o", tmp_path / "out")
    assert_clean_error(result, "does not exist", code=2)
    assert not (tmp_path / "out").exists()


WRONG_SECTION = {
    "epochs in run:": ("run:\n  epochs: 3\n", "run.epochs: moved to train.epochs"),
    "luminosity in run:": ("run:\n  luminosity_ifb: 30\n", "run.luminosity_ifb: moved to infer.luminosity_ifb"),
    "n_train in run:": ("run:\n  n_train: 3000\n", "run.n_train: moved to augment.n_train"),
    "old histogram_candidates": (
        "run:\n  histogram_candidates: [pt_h, mt_wh]\n",
        "run.histogram_candidates: moved to infer.histogram_observables",
    ),
    "luminosity in train:": ("train:\n  luminosity_ifb: 30\n", "train.luminosity_ifb: moved to infer.luminosity_ifb"),
    "epochs in infer:": ("infer:\n  epochs: 3\n", "infer.epochs: moved to train.epochs"),
    "n_events in augment:": ("augment:\n  n_events: 3000\n", "augment.n_events: moved to run.n_events"),
    "misspelt infer key": ("infer:\n  scan_resolutoin: 9\n", "did you mean 'scan_resolution'"),
    "train key out of range": ("train:\n  batch_size: 0\n", "train.batch_size"),
    "test split of everything": ("augment:\n  test_split: 0.9\n", "augment.test_split"),
    "unknown activation": ("train:\n  activation: swish\n", "train.activation"),
}


@pytest.mark.parametrize("case", list(WRONG_SECTION))
def test_main_job_keys_in_the_wrong_section_say_where_they_belong(case, run_cli, tmp_path):
    """The main job's settings live in run:, augment:, train: and infer:; a key in the wrong one says where it moved."""
    text, match = WRONG_SECTION[case]
    card = tmp_path / "wh.yaml"
    body = CARD.read_text()
    body = body[: body.index("run:")]  # the card without its main-job sections
    card.write_text(body + text)
    before = snapshot(tmp_path)
    result = run_cli("run", card, "-o", tmp_path / "out")
    assert_clean_error(result, match, code=1)
    assert_no_leftovers(tmp_path, before)
    assert not (tmp_path / "out").exists()
