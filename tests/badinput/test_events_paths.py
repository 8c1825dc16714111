"""Bad inputs on the event paths (LHE, Delphes, showered files; reconstruct, shower, combine, generate):
each is one clear ``Error:`` line with exit 1 (2 for usage), and nothing is left behind or changed."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot

DATA = Path(__file__).resolve().parents[1] / "data"
RUN1 = DATA / "mg5" / "wgamma_ewdim6" / "run_01_sm_unweighted_events.lhe.gz"
ROOT_FILE = DATA / "delphes" / "wa_sm_200_delphes_CMS_skim.root"
ROOT = Path(__file__).resolve().parents[2]

BENCH = {
    "sm": (0, 0),
    "cwww_m10": (-10, 0),
    "cwww_m5": (-5, 0),
    "cwww_p5": (5, 0),
    "cwww_p10": (10, 0),
    "cw_m10": (0, -10),
    "cw_p10": (0, 10),
    "mix_p5_p5": (5, 5),
    "mix_m5_p10": (-5, 10),
}


def _card(cut: str = "pt_a > 20") -> str:
    lines = [
        "lhcgold_card: 1",
        "name: wgamma",
        "parameters:",
        "  - {name: cwww, max_power: 2, range: [-10, 10]}",
        "  - {name: cw, max_power: 2, range: [-10, 10]}",
        "benchmarks:",
    ]
    lines += [f"  {k}: {{cwww: {a}, cw: {b}}}" for k, (a, b) in BENCH.items()]
    lines += [
        "morphing: {max_overall_power: 2}",
        "observables:",
        '  pt_a: "a[0].pt"',
        "cuts:",
        f'  - "{cut}"',
        "reconstruct: {level: parton, shuffle: false}",
    ]
    return "\n".join(lines) + "\n"


def _lhe_text() -> str:
    """The first 20 events of a real MG5 file (header, <init>, <rwgt> weights)."""
    text = gzip.open(RUN1, "rt").read()
    cut = 0
    for _ in range(20):
        cut = text.index("</event>", cut) + len("</event>")
    return text[:cut] + "\n</LesHouchesEvents>\n"


def _first_event_edit(text: str, edit) -> str:  # type: ignore[no-untyped-def]
    i = text.index("<event>")
    j = text.index("</event>", i)
    return text[:i] + edit(text[i:j]) + text[j:]


def _particle_lines(ev: str) -> list[str]:
    body = ev.split("<")[1].split("\n")  # "<event>\n head \n particles ... " up to the next tag
    return [ln for ln in body[2:] if ln.strip()]


def _drop_particle(ev: str) -> str:
    return ev.replace(_particle_lines(ev)[-1] + "\n", "", 1)


def _add_particle(ev: str) -> str:
    last = _particle_lines(ev)[-1]
    return ev.replace(last + "\n", last + "\n" + last + "\n", 1)


def _nonnumeric(ev: str) -> str:
    last = _particle_lines(ev)[-1]
    return ev.replace(last, last.replace("0", "x", 1), 1)


def _bad_weight(ev: str) -> str:
    return ev.replace("<wgt id='sm'>", "<wgt id='sm'>abc", 1).replace('<wgt id="sm">', '<wgt id="sm">abc', 1)


# name -> (function turning the real LHE text into the bad bytes, expected message)
LHE_CASES = {
    "truncated": (lambda t: t[: len(t) // 2].encode(), r"truncated"),
    "nup_too_large": (lambda t: _first_event_edit(t, _drop_particle).encode(), r"NUP = \d+ declares"),
    "extra_particle_line": (lambda t: _first_event_edit(t, _add_particle).encode(), r"NUP = \d+ declares"),
    "non_numeric_particle": (lambda t: _first_event_edit(t, _nonnumeric).encode(), r"non-numeric"),
    "missing_init": (
        lambda t: t.replace("<init>", "<xnit>").replace("</init>", "</xnit>").encode(),
        r"no complete <init> block",
    ),
    "gzip_garbage": (lambda t: b"\x1f\x8b\x08\x00" + os.urandom(4000), r"corrupt|truncated"),
    "truncated_gzip": (lambda t: gzip.compress(t.encode())[:3000], r"truncated or corrupt"),
    "empty": (lambda t: b"", r"empty file"),
    "not_lhe": (lambda t: b"hello, world\n" * 10, r"not an LHE file"),
    "weight_not_a_number": (lambda t: _first_event_edit(t, _bad_weight).encode(), r"not a number"),
    "nan_weight": (
        lambda t: _first_event_edit(t, lambda ev: ev.replace("<wgt id='sm'>", "<wgt id='sm'> nan ", 1)).encode(),
        r"not a number|non-finite",
    ),
    "event_norm_unity": (
        lambda t: (
            t.replace("average\t= event_norm", "unity\t= event_norm")
            .replace("average = event_norm", "unity = event_norm")
            .encode()
        ),
        r"event_norm = unity is not supported",
    ),
    "no_run_card_odd_weights": (
        lambda t: _strip_run_card(t).replace("+4.0667570e-02", "+9.9e+03").encode(),
        r"cannot tell how the weights are normalised",
    ),
    "header_line_non_numeric": (
        lambda t: _first_event_edit(t, lambda ev: ev.replace("<event>\n", "<event>\n x ", 1)).encode(),
        r"malformed event header|non-numeric",
    ),
    "unclosed_event": (lambda t: t.replace("</event>", "", 1).encode(), r"not closed|malformed"),
}


def _strip_run_card(t: str) -> str:
    import re

    return re.sub(r"<MGRunCard>.*?</MGRunCard>", "", t, flags=re.S)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "card.yaml").write_text(_card())
    return tmp_path


def _no_temp_dirs(directory: Path) -> None:
    left = [str(p) for p in directory.rglob(".lhcgold-*")] + [str(p) for p in directory.rglob(".*.tmp")]
    assert not left, f"temporaries left: {left}"


@pytest.mark.parametrize("case", sorted(LHE_CASES))
def test_malformed_lhe_reconstruct(case: str, workdir: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    make, match = LHE_CASES[case]
    bad = workdir / "bad.lhe"
    bad.write_bytes(make(_lhe_text()))
    before = snapshot(workdir)
    res = run_cli("reconstruct", bad, "--card", workdir / "card.yaml", "-o", workdir / "out.h5")
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(workdir, before)
    _no_temp_dirs(workdir)


def test_good_lhe_text_is_accepted(workdir: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The corpus edits a file that reconstructs fine (so every failure above is the edit's)."""
    good = workdir / "good.lhe"
    good.write_text(_lhe_text())
    res = run_cli("reconstruct", good, "--card", workdir / "card.yaml", "-o", workdir / "out.h5")
    assert res.code == 0, res.err


def _root_without_delphes_tree(path: Path) -> None:
    import uproot

    with uproot.recreate(path) as f:
        f["Other"] = {"x": np.arange(5.0)}


def _root_missing_branches(path: Path) -> None:
    import uproot

    with uproot.recreate(path) as f:
        f["Delphes"] = {"x": np.arange(5.0)}


DELPHES_CASES = {
    "no_delphes_tree": (_root_without_delphes_tree, r"no 'Delphes' tree"),
    "missing_branches": (_root_missing_branches, r"lacks branches"),
    "not_root": (lambda p: p.write_text("not a root file\n"), r"not a ROOT file"),
    "truncated_root": (
        lambda p: p.write_bytes(ROOT_FILE.read_bytes()[: ROOT_FILE.stat().st_size // 3]),
        r"not a readable ROOT file|cannot read",
    ),
}


@pytest.mark.parametrize("case", sorted(DELPHES_CASES))
def test_bad_delphes_file(case: str, workdir: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    make, match = DELPHES_CASES[case]
    bad = workdir / "bad.root"
    make(bad)
    before = snapshot(workdir)
    res = run_cli(
        "reconstruct",
        bad,
        "--card",
        workdir / "card.yaml",
        "-o",
        workdir / "out.h5",
        "--level",
        "detector",
        "--lhe",
        RUN1,
    )
    assert_clean_error(res, match, code=1)
    assert_no_leftovers(workdir, before)
    _no_temp_dirs(workdir)


def _events(path: Path, n: int = 50, observables: tuple[str, ...] = ("pt_a",), attrs=None) -> None:  # type: ignore[no-untyped-def]
    from lhcgold.config import load_card_text
    from lhcgold.io.events import EventWriter
    from lhcgold.setup import build_setup

    setup = build_setup(load_card_text(_card()), rng=1)
    rng = np.random.default_rng(len(str(path)))
    with EventWriter(path, setup, list(observables), attrs=attrs) as w:
        w.append(rng.normal(size=(n, len(observables))), rng.uniform(0.5, 1, size=(n, setup.n_benchmarks)), 0)


def _setup_events(d: Path) -> None:
    _events(d / "a.h5")
    _events(d / "b.h5")
    _events(d / "c.h5", observables=("pt_a", "other"))
    (d / "text.h5").write_text("not hdf5")


# name -> (argv after the verb, with {d} for the directory; message; exit code)
CLI_CASES = {
    "combine_bucket_size_0": (
        ["combine", "{d}/a.h5", "{d}/b.h5", "-o", "{d}/o.h5", "--bucket-size", "0", "--samples"],
        r"bucket-size",
        2,
    ),
    "combine_no_sample_id": (["combine", "{d}/a.h5", "{d}/b.h5", "-o", "{d}/o.h5"], r"--shards.*--samples", 1),
    "combine_other_observables": (
        ["combine", "{d}/a.h5", "{d}/c.h5", "-o", "{d}/o.h5", "--samples"],
        r"different observables",
        1,
    ),
    "combine_output_exists": (["combine", "{d}/a.h5", "-o", "{d}/b.h5"], r"exists", 1),
    "combine_not_hdf5": (["combine", "{d}/a.h5", "{d}/text.h5", "-o", "{d}/o.h5", "--samples"], r"text.h5", 1),
    "combine_k_factor_count": (
        [
            "combine",
            "{d}/a.h5",
            "{d}/b.h5",
            "-o",
            "{d}/o.h5",
            "--samples",
            "--k-factor",
            "1",
            "--k-factor",
            "2",
            "--k-factor",
            "3",
        ],
        r"3 k-factors for 2 inputs",
        1,
    ),
    "combine_missing_input": (["combine", "{d}/nope.h5", "-o", "{d}/o.h5"], r"does not exist", 2),
    "reconstruct_n_events_0": (
        ["reconstruct", str(RUN1), "--card", "{d}/card.yaml", "-o", "{d}/o.h5", "--n-events", "0"],
        r"n-events",
        2,
    ),
    "reconstruct_n_events_negative": (
        ["reconstruct", str(RUN1), "--card", "{d}/card.yaml", "-o", "{d}/o.h5", "--n-events", "-3"],
        r"n-events",
        2,
    ),
    "reconstruct_nothing_passes": (
        ["reconstruct", str(RUN1), "--card", "{d}/cut.yaml", "-o", "{d}/o.h5"],
        r"passes the cuts",
        1,
    ),
    "reconstruct_unknown_benchmark": (
        ["reconstruct", str(RUN1), "--card", "{d}/card.yaml", "-o", "{d}/o.h5", "--sampled-from", "smm"],
        r"unknown benchmark 'smm'",
        1,
    ),
    "reconstruct_delphes_at_parton_level": (
        ["reconstruct", str(ROOT_FILE), "--card", "{d}/card.yaml", "-o", "{d}/o.h5"],
        r"parton level is not available",
        1,
    ),
    "reconstruct_output_exists": (
        ["reconstruct", str(RUN1), "--card", "{d}/card.yaml", "-o", "{d}/a.h5"],
        r"exists",
        1,
    ),
    "reconstruct_hdf5_not_showered": (
        ["reconstruct", "{d}/a.h5", "--card", "{d}/card.yaml", "-o", "{d}/o.h5", "--level", "detector"],
        r"not a showered-events file",
        1,
    ),
    "reconstruct_shards_ambiguous": (
        [
            "reconstruct",
            str(ROOT_FILE),
            str(ROOT_FILE),
            "--card",
            "{d}/card.yaml",
            "-o",
            "{d}/o.h5",
            "--level",
            "detector",
            "--background",
        ],
        r"--shards.*--samples",
        1,
    ),
    "shower_n_events_0": (["shower", str(RUN1), "-o", "{d}/o.h5", "--n-events", "0"], r"n-events", 2),
    "shower_not_lhe": (["shower", "{d}/text.h5", "-o", "{d}/o.h5"], r"not an LHE file", 1),
    "shower_several_inputs_to_a_file": (["shower", str(RUN1), str(RUN1), "-o", "{d}/a.h5"], r"must be a directory", 1),
    "generate_n_0": (["generate", str(ROOT / "cards" / "dy.yaml"), "-o", "{d}/gen", "-n", "0"], r"n-events", 2),
    "generate_missing_card": (["generate", "{d}/nope.yaml", "-o", "{d}/gen"], r"does not exist", 2),
    "generate_card_without_process": (["generate", "{d}/card.yaml", "-o", "{d}/gen", "-n", "10"], r"process", 1),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_misuse(case: str, workdir: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    argv, match, code = CLI_CASES[case]
    _setup_events(workdir)
    (workdir / "cut.yaml").write_text(_card("pt_a > 1e9"))
    before = snapshot(workdir)
    res = run_cli(*[a.replace("{d}", str(workdir)) for a in argv])
    assert_clean_error(res, match, code=code)
    assert_no_leftovers(workdir, before)
    _no_temp_dirs(workdir)


# ------------------------------------------------------------------------------ interrupts
def _wait_for(pred, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_combine_leaves_no_temporaries(tmp_path: Path, sig: int) -> None:
    """A real `lhcgold combine` process, interrupted while its bucket files exist: it exits with one
    Error line, removes its temporary directory and half-written output, and leaves the inputs as they were."""
    for name in ("a.h5", "b.h5"):
        _events(tmp_path / name, n=400_000, attrs={"sample_id": "S", "n_generated": 400_000})
    before = snapshot(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lhcgold.cli",
            "-q",
            "combine",
            str(tmp_path / "a.h5"),
            str(tmp_path / "b.h5"),
            "-o",
            str(tmp_path / "out.h5"),
            "--bucket-size",
            "500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        started = _wait_for(
            lambda: (
                any(p.is_dir() for p in tmp_path.glob(".lhcgold-shuffle-*"))
                and any(tmp_path.glob(".lhcgold-shuffle-*/bucket_*"))
            ),
            60,
        )
        assert started, "combine did not start writing its buckets"
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), text
    assert "Traceback" not in text and "Error:" in text and "temporary files removed" in text
    assert not (tmp_path / "out.h5").exists()
    assert_no_leftovers(tmp_path, before)
    _no_temp_dirs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "b.h5"]
