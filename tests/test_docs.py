"""The documentation site builds with ``mkdocs build --strict`` (no warnings: broken links, bad
docstrings, missing pages all fail) and the tutorial notebooks execute from top to bottom."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "tutorials").glob("*.ipynb"))


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install 'lhcgold[docs]'")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


@pytest.mark.slow
def test_site_builds_strict_with_no_warnings(tmp_path: Path) -> None:
    _require("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "nbformat")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    # the API reference is rendered from the docstrings
    physics = (site / "api" / "physics" / "index.html").read_text()
    assert "lhcgold.physics.gold" in physics and "joint_score" in physics
    # the tutorial notebook became a page with its code and stored outputs, and is downloadable
    tutorial = (site / "tutorials" / "toy-gold" / "index.html").read_text()
    assert "sample_local" in tutorial and "correlation with the exact score" in tutorial
    assert (site / "tutorials" / "toy-gold.ipynb").is_file()
    # the hook's source is not published
    assert not (site / "hooks").exists()


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tutorial_notebook_executes(notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require("nbclient", "nbformat", "ipykernel", "torch")
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Error" not in text
    if notebook.stem == "toy-gold":
        # gold from the weights equals the toy's closed-form joint score; SALLY learns the true score
        assert float(re.search(r"max \|t_gold - t_exact\| = (\S+)", text).group(1)) < 1e-9
        corr = [float(c) for c in re.findall(r"correlation with the exact score (\S+)", text)]
        assert len(corr) == 2 and min(corr) > 0.9, corr
    assert not list(tmp_path.iterdir()), "the notebook must not leave files behind"


def test_tutorials_exist() -> None:
    assert NOTEBOOKS, "docs/tutorials/ holds no notebook"
