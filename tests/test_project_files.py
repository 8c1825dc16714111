"""Project files agree with each other: CITATION.cff (CFF 1.2 fields, the method papers), the licence
named in setup.cfg, LICENSE and CITATION.cff, and the GPL programs only in optional extras."""

from __future__ import annotations

import configparser
from pathlib import Path

import yaml

import lhcgold

ROOT = Path(__file__).resolve().parents[1]
GPL_PACKAGES = ("fastjet", "pythia8mc")


def _setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _requirements(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("%")]


def test_citation_cff_cites_the_method_papers_and_matches_the_package() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["version"] == lhcgold.__version__
    assert cff["license"] == _setup_cfg()["metadata"]["license"] == "BSD-3-Clause"
    works = [cff["preferred-citation"], *cff["references"]]
    dois = {w["doi"] for w in works}
    assert dois == {
        "10.1073/pnas.1915980117",
        "10.1103/PhysRevLett.121.111801",
        "10.1103/PhysRevD.98.052004",
        "10.1007/s41781-020-0035-2",
    }
    arxiv = {i["value"] for w in works for i in w["identifiers"]}
    assert arxiv == {"arXiv:1805.12244", "arXiv:1805.00013", "arXiv:1805.00020", "arXiv:1907.10621"}


def test_license_file_is_bsd3() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder" in text


def test_gpl_programs_are_optional_extras_only() -> None:
    cfg = _setup_cfg()
    core = " ".join(_requirements(cfg["options"]["install_requires"]))
    for pkg in GPL_PACKAGES:
        assert pkg not in core, f"{pkg} (GPL) must not be a core dependency of a BSD-3 package"
    extras = cfg["options.extras_require"]
    assert any(r.startswith("fastjet") for r in _requirements(extras["detector"]))
    assert any(r.startswith("pythia8mc") for r in _requirements(extras["pythia"]))
    for extra in ("test", "all"):
        assert "%(detector)s" in extras[extra] and "%(pythia)s" in extras[extra]
