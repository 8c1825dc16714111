"""The command line: conventions (--help, --version, exit codes, --output) and the setup verbs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lhcgold import __version__
from lhcgold.cli import main
from lhcgold.io.setupfile import read_setup

CARD = """
lhcgold_card: 1
name: demo
parameters:
  - {name: cWL2, max_power: 2, range: [-20, 20]}
  - {name: cWtilde, max_power: 2, range: [-20, 20]}
benchmarks: {sm: {cWL2: 0, cWtilde: 0}}
morphing: {max_overall_power: 2, seed: 1}
"""


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("setup", "inspect", "generate", "reconstruct", "augment", "train", "limits", "run"):
        assert verb in out


def test_help_does_not_import_torch_or_matplotlib():
    code = (
        "import sys; from lhcgold.cli import main; main(['--help']); "
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_setup_then_inspect(tmp_path, capsys):
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    out = tmp_path / "setup.h5"
    assert main(["setup", str(card), "-o", str(out)]) == 0
    assert read_setup(out).n_benchmarks == 6
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "condition number" in text and "morphing_basis_vector_5" in text
    # refuses to overwrite, exit code 1 and a clear message
    assert main(["setup", str(card), "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["setup", str(card), "-o", str(out), "--overwrite"]) == 0


@pytest.mark.parametrize("args, code", [(["setup"], 2), (["nosuchverb"], 2)])
def test_usage_errors_exit_2(args, code):
    assert main(args) == code


def test_bad_card_exits_1(tmp_path, capsys):
    card = tmp_path / "card.yaml"
    card.write_text(CARD.replace("cWtilde: 0}", "cWtlde: 0}"))
    assert main(["setup", str(card), "-o", str(tmp_path / "s.h5")]) == 1
    assert "did you mean 'cWtilde'" in capsys.readouterr().err
    assert not (tmp_path / "s.h5").exists()
