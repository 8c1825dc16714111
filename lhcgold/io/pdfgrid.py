"""Reading LHAPDF6 grid files (``lhagrid1`` format) into :class:`lhcgold.physics.pdf.PDFGrid`.

The default grid is NNPDF2.3 QCD+QED LO (α_s = 0.130), the file
``NNPDF23_lo_as_0130_qed_0000.dat`` that ships in the ``pythia8mc`` wheel under
``share/Pythia8/pdfdata`` (MG5's ``nn23lo1``, Pythia's default proton PDF). Another file can
be named by path, or by a bare file name that is looked up in that folder.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import sys
import sysconfig
from pathlib import Path

import numpy as np

from ..exceptions import ConfigError, MissingDependencyError
from ..physics.pdf import PDFGrid

__all__ = ["DEFAULT_PDF", "find_pdf_file", "load_pdf", "pythia_pdfdata_dir", "read_lhagrid"]

logger = logging.getLogger(__name__)

#: File name of the default grid (NNPDF2.3 QCD+QED LO, α_s(m_Z) = 0.130).
DEFAULT_PDF = "NNPDF23_lo_as_0130_qed_0000.dat"


def pythia_pdfdata_dir() -> Path:
    """The ``share/Pythia8/pdfdata`` folder of the installed pythia8mc wheel.

    Raises:
        MissingDependencyError: pythia8mc is not installed or ships no PDF data.
    """
    candidates: list[Path] = []
    env = os.environ.get("PYTHIA8DATA")
    if env:
        candidates.append(Path(env).parent / "pdfdata")
    try:
        spec = importlib.util.find_spec("pythia8mc")
    except (ImportError, ValueError):  # pragma: no cover
        spec = None
    if spec is not None and spec.origin:
        site = Path(spec.origin).resolve().parent
        candidates.append(site / ".." / ".." / ".." / "share" / "Pythia8" / "pdfdata")
    candidates.append(Path(sysconfig.get_paths()["data"]) / "share" / "Pythia8" / "pdfdata")
    candidates.append(Path(sys.prefix) / "share" / "Pythia8" / "pdfdata")
    for c in candidates:
        if (c / DEFAULT_PDF).is_file():
            return c.resolve()
    raise MissingDependencyError("pythia8mc (for its PDF grid files)", "pythia")


def find_pdf_file(name: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a grid file: None -> the default grid; a path; or a file name in Pythia's pdfdata."""
    if name is None:
        return pythia_pdfdata_dir() / DEFAULT_PDF
    p = Path(name).expanduser()
    if p.is_file():
        return p
    if p.parent == Path("."):
        for cand in (p.name, p.name + "_0000.dat", p.name + ".dat"):
            q = pythia_pdfdata_dir() / cand
            if q.is_file():
                return q
    raise ConfigError(
        f"PDF grid file {str(name)!r} not found (give a path to an LHAPDF6 .dat file "
        f"or the name of a file in {pythia_pdfdata_dir()})"
    )


def read_lhagrid(path: str | os.PathLike[str]) -> PDFGrid:
    """Parse an LHAPDF6 ``lhagrid1`` member file.

    Raises:
        ConfigError: the file is not an LHAPDF6 grid.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read PDF grid: {exc}", source=str(p)) from exc
    blocks = text.split("---")
    header = blocks[0]
    if "lhagrid1" not in header and "Format" in header:
        raise ConfigError("PDF grid is not in LHAPDF6 'lhagrid1' format", source=str(p))
    xs_ref = None
    flavours = None
    subgrids = []
    for block in blocks[1:]:
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        if len(lines) < 4:
            continue
        try:
            xs = np.array(lines[0].split(), dtype=np.float64)
            qs = np.array(lines[1].split(), dtype=np.float64)
            fl = tuple(int(v) for v in lines[2].split())
            vals = np.array(" ".join(lines[3:]).split(), dtype=np.float64)
        except ValueError as exc:
            raise ConfigError(f"malformed LHAPDF6 grid block: {exc}", source=str(p)) from exc
        if vals.size != xs.size * qs.size * len(fl):
            raise ConfigError("LHAPDF6 grid block has the wrong number of values", source=str(p))
        if xs_ref is None:
            xs_ref, flavours = xs, fl
        elif not (np.array_equal(xs, xs_ref) and fl == flavours):
            raise ConfigError("subgrids with different x knots or flavours are not supported", source=str(p))
        subgrids.append((qs, vals.reshape(xs.size, qs.size, len(fl))))
    if xs_ref is None or flavours is None:
        raise ConfigError("no grid blocks found: not an LHAPDF6 grid file", source=str(p))
    logger.debug("read PDF grid %s: %d x knots, %d subgrids, flavours %s", p, xs_ref.size, len(subgrids), flavours)
    return PDFGrid(xs_ref, subgrids, flavours, name=p.stem)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str) -> PDFGrid:
    return read_lhagrid(path)


def load_pdf(name: str | os.PathLike[str] | None = None) -> PDFGrid:
    """Load (and cache) a PDF grid: see :func:`find_pdf_file` for ``name``."""
    return _load_cached(str(find_pdf_file(name).resolve()))
