"""``lhcgold limits --coverage``: toys at the Asimov point; bad input stops cleanly with no output."""

from __future__ import annotations

import pytest

from .conftest import assert_clean_error, assert_no_leftovers, snapshot
from .test_infer import _write


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("cov") / "events.h5", 3000)


def test_coverage_is_reported(events, tmp_path, run_cli):
    out = tmp_path / "lim.json"
    r = run_cli(
        "limits",
        events,
        "-o",
        out,
        "-m",
        "rate",
        "--grid",
        "ca=-1:1:21",
        "--grid",
        "cb=0",
        "-L",
        "0.05",
        "--coverage",
        "200",
        "--seed",
        "3",
    )
    assert r.code == 0, r.err
    assert "coverage of 68% intervals at [0.0, 0.0] from 200 toys" in r.out
    assert "best fit on θ_true in" in r.out and "too coarse" not in r.err
    assert out.exists()


def test_coarse_grid_coverage_is_flagged(events, tmp_path, run_cli):
    """A 3 × 3 grid: the toys' best grid point is nearly always θ_true; coverage is that atom, and said so."""
    from lhcgold.infer import LimitResult

    out = tmp_path / "lim.json"
    r = run_cli(
        "limits", events, "-o", out, "-m", "rate", "--grid", "ca=-1:1:3", "--grid", "cb=-1:1:3", "-L", "2",
        "--coverage", "100", "--seed", "3",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "Warning: the grid is too coarse for toy intervals" in r.err
    cov = LimitResult.load(str(out)).coverage
    assert cov["neyman"]["grid_limited"] is True and cov["neyman"]["critical_value"] == 0.0
    assert cov["neyman"]["coverage"] == cov["best_fit_at_truth"] >= 0.68


@pytest.mark.parametrize(
    "args,match,code",
    [
        (["--coverage", "5"], "5 is not in the range", 2),
        (["--coverage", "50", "--coverage-cl", "1.5"], "1.5 is not in the range", 2),
        (["--coverage", "50", "--asimov", "0.05,0"], "not a grid point", 1),
        (["--coverage", "50", "--profile", "cb", "--grid", "cb=-1:1:5"], "does not support --profile", 1),
    ],
)
def test_bad_coverage_options(events, tmp_path, run_cli, args, match, code):
    before = snapshot(tmp_path)
    base = ["limits", events, "-o", tmp_path / "lim.json", "-m", "rate", "--grid", "ca=-1:1:21", "-L", "0.05"]
    if "--profile" not in args:
        base += ["--grid", "cb=0"]
    r = run_cli(*base, *args)
    assert_clean_error(r, match, code=code)
    assert_no_leftovers(tmp_path, before)
    assert not (tmp_path / "lim.json").exists()


def test_profiled_coverage_of_ml_is_refused(events, tmp_path, run_cli):
    """--coverage with nuisances measures the profiled intervals' coverage: binned methods only (said before
    any model is loaded or anything written)."""
    model = tmp_path / "model"
    model.mkdir()
    before = snapshot(tmp_path)
    r = run_cli(
        "limits", events, "-o", tmp_path / "lim.json", "-m", "ml", "--model", model, "--grid", "ca=-1:1:21",
        "--grid", "cb=0", "--norm-uncertainty", "0.05", "--coverage", "50",
    )  # fmt: skip
    assert_clean_error(r, r"ml \(unbinned\) is not supported yet", code=1)
    assert_no_leftovers(tmp_path, before)
