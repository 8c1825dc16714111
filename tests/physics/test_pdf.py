"""PDF grid interpolation: closed-form grids and the NNPDF2.3 LO grid against Pythia 8's own PDF."""

from __future__ import annotations

import numpy as np
import pytest

from lhcgold.physics.pdf import PDFGrid


def _analytic(x: np.ndarray, q2: np.ndarray) -> np.ndarray:
    return np.sqrt(x) * (1 - x) ** 3 * (1 + 0.1 * np.log(q2))


def test_log_bicubic_reproduces_smooth_function() -> None:
    xs = np.concatenate([np.geomspace(1e-6, 0.1, 60, endpoint=False), np.linspace(0.1, 1, 40)])
    qs = np.geomspace(1.5, 1e4, 40)
    vals = _analytic(xs[:, None], qs[None, :] ** 2)[:, :, None]
    pdf = PDFGrid(xs, [(qs, vals)], (2,))
    rng = np.random.default_rng(0)
    x = 10 ** rng.uniform(-5, -0.3, 500)
    q2 = 10 ** rng.uniform(1, 7.5, 500)
    np.testing.assert_allclose(pdf.xfx(2, x, q2), _analytic(x, q2), rtol=2e-4)
    # fixed-scale fast path equals the general path
    np.testing.assert_allclose(pdf.xfx(2, x, 8315.18), pdf.xfx(2, x, np.full(500, 8315.18)), rtol=1e-13)


def test_subgrids_and_bad_input() -> None:
    xs = np.geomspace(1e-4, 1, 30)
    q1, q2 = np.geomspace(2, 10, 8), np.geomspace(10, 1e3, 10)
    v1 = _analytic(xs[:, None], q1[None, :] ** 2)[:, :, None]
    v2 = _analytic(xs[:, None], q2[None, :] ** 2)[:, :, None]
    pdf = PDFGrid(xs, [(q1, v1), (q2, v2)], (21,))
    x = np.array([0.01, 0.2])
    for q in (5.0, 50.0):
        np.testing.assert_allclose(pdf.xfx(0, x, np.full(2, q * q)), _analytic(x, q * q), rtol=2e-3)
    with pytest.raises(KeyError):
        pdf.xfx(5, x, 100.0)
    with pytest.raises(ValueError):
        PDFGrid(xs[::-1], [(q1, v1)], (21,))


def test_nnpdf23_lo_against_pythia() -> None:
    """Our reader of the grid Pythia ships agrees with pythia.getPDFPtr(2212).xf (PDF:pSet = 13)."""
    pythia8mc = pytest.importorskip("pythia8mc")
    from lhcgold.io.pdfgrid import DEFAULT_PDF, load_pdf

    pdf = load_pdf()
    assert pdf.name == DEFAULT_PDF.removesuffix(".dat")
    py = pythia8mc.Pythia("", False)
    assert py.readString("PDF:pSet = 13")  # NNPDF2.3 QCD+QED LO, alpha_s(mZ) = 0.130
    ref_pdf = py.getPDFPtr(2212)
    rng = np.random.default_rng(7)
    x = 10 ** rng.uniform(-4, np.log10(0.7), 300)
    q2 = 10 ** rng.uniform(1, 6, 300)
    ids = [1, 2, 3, 4, -1, -2, -3, 21]
    ours = pdf.xfx(ids, x, q2)
    ref = np.array([[ref_pdf.xf(i, xx, qq) for i in ids] for xx, qq in zip(x, q2, strict=True)])
    big = ref > 1e-3
    rel = np.abs(ours[big] / ref[big] - 1)
    assert np.median(rel) < 1e-4
    assert rel.max() < 5e-3
    # the fixed scale used by the cross-section tests
    xf = np.geomspace(1e-3, 0.5, 50)
    ours = pdf.xfx([2, -1], xf, 8315.18)
    ref = np.array([[ref_pdf.xf(i, xx, 8315.18) for i in (2, -1)] for xx in xf])
    np.testing.assert_allclose(ours, ref, rtol=3e-3)


def test_named_grid_files() -> None:
    """Another LHAPDF6 grid can be named (a file in Pythia's pdfdata, or a path); unknown names fail clearly."""
    pytest.importorskip("pythia8mc")
    from lhcgold.exceptions import ConfigError
    from lhcgold.io.pdfgrid import find_pdf_file, load_pdf

    nn31 = load_pdf("NNPDF31_lo_as_0130_0000.dat")
    nn23 = load_pdf(None)
    assert nn31.name.startswith("NNPDF31")
    x = np.array([0.01, 0.1])
    a, b = nn31.xfx(2, x, 1e4), nn23.xfx(2, x, 1e4)
    assert np.all(a > 0) and not np.allclose(a, b, rtol=1e-3)
    assert load_pdf(find_pdf_file("NNPDF31_lo_as_0130_0000.dat")) is nn31  # cached by resolved path
    with pytest.raises(ConfigError, match="not found"):
        find_pdf_file("no_such_pdf_0000.dat")
