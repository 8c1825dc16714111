"""LHE reader: real MG5 files (weights against an independent text parse), other generators
(against pylhe), chunking, normalisation, and errors that name the file and the event."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from lhcgold.exceptions import EventFileError
from lhcgold.io.lhe import count_lhe_events, iter_lhe, read_lhe, read_lhe_header

DATA = Path(__file__).resolve().parents[1] / "data"
WA = DATA / "mg5" / "wgamma_ewdim6"
RUN1 = WA / "run_01_sm_unweighted_events.lhe.gz"
RUN2 = WA / "run_02_cwww_p10_unweighted_events.lhe.gz"
DY = DATA / "mg5" / "dy_sm" / "unweighted_events.lhe.gz"
BENCHMARKS = ("sm", "cwww_m10", "cwww_m5", "cwww_p5", "cwww_p10", "cw_m10", "cw_p10", "mix_p5_p5", "mix_m5_p10")


def _text_weights(path: Path) -> tuple[np.ndarray, np.ndarray, list[dict[str, float]]]:
    """Independent parse: XWGTUP, the first particle line and the <wgt> values of every event."""
    text = gzip.open(path, "rt").read()
    events = re.findall(r"<event>(.*?)</event>", text, re.S)
    xwgtup, first, weights = [], [], []
    for ev in events:
        lines = ev.strip().splitlines()
        xwgtup.append(float(lines[0].split()[2]))
        first.append([float(v) for v in lines[1].split()[6:10]])
        root = ET.fromstring("<e>" + ev[ev.index("<rwgt>") :] + "</e>")
        weights.append({w.get("id"): float(w.text) for w in root.iter("wgt")})
    return np.array(xwgtup), np.array(first), weights


@pytest.mark.parametrize("path", [RUN1, RUN2], ids=["run_01_sm", "run_02_cwww_p10"])
def test_mg5_benchmark_weights_equal_the_lhe_text(path: Path) -> None:
    header = read_lhe_header(path)
    assert header.weight_names == BENCHMARKS
    assert header.event_norm == "average" and header.nevents_card == 10000
    assert header.idwtup == -4 and header.beam_energy_gev == (6500.0, 6500.0)
    xw, _, wts = _text_weights(path)
    raw = read_lhe(path, normalise=False, chunk_size=700)
    assert len(raw) == len(xw) == 3000
    np.testing.assert_array_equal(raw.nominal, xw)
    expected = np.array([[w[name] for name in BENCHMARKS] for w in wts])
    np.testing.assert_array_equal(raw.weights, expected)  # exact: same decimal text, same float
    # average normalisation: divide by the events in the file, so the nominal weights sum to sigma
    norm = read_lhe(path, chunk_size=1000)
    np.testing.assert_allclose(norm.weights, expected / 3000, rtol=1e-15)
    np.testing.assert_allclose(norm.nominal.sum(), header.xsec_pb[0], rtol=1e-12)


def test_generation_benchmark_weight_equals_xwgtup() -> None:
    for path, name in ((RUN1, "sm"), (RUN2, "cwww_p10")):
        c = read_lhe(path)
        np.testing.assert_array_equal(c.weight(name), c.nominal)


def test_particles_match_the_text_and_conserve_momentum() -> None:
    _, first, _ = _text_weights(RUN1)
    full = read_lhe(RUN1, final_state_only=False, n_events=3000)
    p0 = full.particles[:, 0]
    np.testing.assert_array_equal(np.stack([p0.px, p0.py, p0.pz, p0.E], axis=1), first)
    fs = read_lhe(RUN1)
    assert set(np.unique(np.abs(np.concatenate(fs.particles.pid.to_list())))) == {11, 12, 22}
    # final state sums to the incoming partons: pT = 0
    px = np.array([sum(e) for e in fs.particles.px.to_list()])
    assert np.abs(px).max() < 1e-6
    # charges: e+ is +1
    e = fs.particles[fs.particles.pid == -11]
    assert np.all(np.concatenate(e.charge.to_list()) == 1.0)


def test_chunking_and_n_events_do_not_change_results() -> None:
    whole = read_lhe(RUN2)
    chunks = list(iter_lhe(RUN2, chunk_size=333))
    assert [c.first_event for c in chunks[:3]] == [0, 333, 666]
    np.testing.assert_array_equal(np.concatenate([c.weights for c in chunks]), whole.weights)
    part = read_lhe(RUN2, n_events=10, chunk_size=4)
    # the first 10 of 3000 events are reweighted by 3000/10 so that they keep sigma
    np.testing.assert_allclose(part.weights, whole.weights[:10] * 300, rtol=1e-13)
    np.testing.assert_allclose(
        read_lhe(RUN2, n_events=10, normalise=False).weights, read_lhe(RUN2, normalise=False).weights[:10], rtol=0
    )
    assert count_lhe_events(RUN2) == 3000


def test_dy_against_pylhe() -> None:
    pylhe = pytest.importorskip("pylhe")
    ours = read_lhe(DY, normalise=False, final_state_only=False)
    events = list(pylhe.LHEFile.fromfile(str(DY)).events)
    assert len(events) == len(ours) == 2000
    np.testing.assert_array_equal(ours.nominal, [ev.eventinfo.weight for ev in events])
    pz = np.array([[p.pz for p in ev.particles] for ev in events])
    np.testing.assert_array_equal(np.array(ours.particles.pz.to_list()), pz)


@pytest.mark.parametrize("name", sorted(p.name for p in (DATA / "lhe").glob("*.lhe.gz")))
def test_other_generators_against_pylhe(name: str) -> None:
    pylhe = pytest.importorskip("pylhe")
    path = DATA / "lhe" / name
    ours = read_lhe(path, normalise=False, final_state_only=False)
    events = list(pylhe.LHEFile.fromfile(str(path)).events)
    assert len(ours) == len(events)
    np.testing.assert_allclose(ours.nominal, [ev.eventinfo.weight for ev in events], rtol=1e-12)
    n_particles = [len(ev.particles) for ev in events]
    assert [len(x) for x in ours.particles.pid.to_list()] == n_particles
    if ours.weight_names and not ours.weight_names[0].startswith("weights_"):
        for k in (0, len(events) - 1):
            pw = events[k].weights
            for j, wid in enumerate(ours.weight_names[:5]):
                assert ours.weights[k, j] == pytest.approx(pw[wid], rel=1e-12)


# --------------------------------------------------------------------------------------------
# bad input


def _broken(tmp_path: Path, edit, name: str = "bad.lhe") -> Path:  # type: ignore[no-untyped-def]
    text = gzip.open(RUN1, "rt").read()
    out = tmp_path / name
    out.write_text(edit(text))
    return out


def _nth_event_span(text: str, n: int) -> tuple[int, int]:
    starts = [m.start() for m in re.finditer(r"<event>", text)]
    return starts[n - 1], text.index("</event>", starts[n - 1])


def _expect_error(path: Path, event: int | None, words: str) -> None:
    with pytest.raises(EventFileError) as err:
        for _ in iter_lhe(path, chunk_size=100):
            pass
    msg = str(err.value)
    assert path.name in msg
    if event is not None:
        assert f"event {event} " in msg
    assert re.search(words, msg), msg


def test_truncated_file_names_the_event(tmp_path: Path) -> None:
    def cut(text: str) -> str:
        a, _ = _nth_event_span(text, 1234)
        return text[: a + 300]

    _expect_error(_broken(tmp_path, cut), 1234, "truncated")


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    data = RUN1.read_bytes()
    bad = tmp_path / "cut.lhe.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(EventFileError, match="cut.lhe.gz"):
        for _ in iter_lhe(bad):
            pass


def test_missing_end_tag(tmp_path: Path) -> None:
    _expect_error(_broken(tmp_path, lambda t: t.replace("</LesHouchesEvents>", "")), None, "truncated after event 3000")


def test_malformed_xml_names_the_event(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 17)
        return text[:a] + text[a:b].replace("</rwgt>", "<rwgt>", 1) + text[b:]

    _expect_error(_broken(tmp_path, edit), 17, "malformed XML")


def test_broken_wgt_tag(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 42)
        return text[:a] + text[a:b].replace("</wgt>", "</wg>", 1) + text[b:]

    _expect_error(_broken(tmp_path, edit), 42, "malformed XML")


def test_missing_declared_weight(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 2500)
        block = re.sub(r"<wgt id='cw_p10'>[^<]*</wgt>\n", "", text[a:b])
        return text[:a] + block + text[b:]

    _expect_error(_broken(tmp_path, edit), 2500, "missing declared weight.*cw_p10")


def test_undeclared_weight(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 3)
        return text[:a] + text[a:b].replace("id='cw_p10'", "id='cw_p11'") + text[b:]

    _expect_error(_broken(tmp_path, edit), 3, "not declared")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_weights(tmp_path: Path, value: str) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 777)
        block = re.sub(r"(<wgt id='cwww_m5'>)[^<]*(</wgt>)", rf"\g<1> {value} \g<2>", text[a:b])
        return text[:a] + block + text[b:]

    _expect_error(_broken(tmp_path, edit), 777, "non-finite weight.*cwww_m5")


def test_non_finite_xwgtup(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 5)
        return text[:a] + text[a:b].replace("+4.0667570e-02", "nan", 1) + text[b:]

    _expect_error(_broken(tmp_path, edit), 5, "non-finite XWGTUP")


def test_bad_particle_line(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        a, b = _nth_event_span(text, 9)
        lines = text[a:b].split("\n")
        lines[3] = lines[3][:40]
        return text[:a] + "\n".join(lines) + text[b:]

    _expect_error(_broken(tmp_path, edit), 9, "particle")


def test_not_an_lhe_file(tmp_path: Path) -> None:
    p = tmp_path / "x.lhe"
    p.write_text("hello\n")
    with pytest.raises(EventFileError, match="x.lhe.*not an LHE file"):
        read_lhe_header(p)
    with pytest.raises(EventFileError, match="no such file"):
        read_lhe_header(tmp_path / "missing.lhe")


# ---------------------------------------------------------------- normalisation (MG5's event_norm)
DY_XSEC_PB = 1.19494  # the MG5 banner's <init> cross section of tests/data/mg5/dy_sm (event_norm = average)
DY_N = 2000


def _dy_variant(tmp_path: Path, name: str, edit) -> Path:  # type: ignore[no-untyped-def]
    text = gzip.open(DY, "rt").read()
    out = tmp_path / name
    out.write_text(edit(text))
    return out


def _sigma(path: Path, **kw) -> float:  # type: ignore[no-untyped-def]
    return float(sum(c.nominal.sum() for c in iter_lhe(path, **kw)))


def test_average_file_and_its_subsets_keep_the_banner_cross_section() -> None:
    assert _sigma(DY) == pytest.approx(DY_XSEC_PB, rel=1e-12)
    # the first 500 of 2000 events are reweighted by 2000/500: still sigma (was sigma/4)
    assert _sigma(DY, n_events=500) == pytest.approx(DY_XSEC_PB, rel=1e-12)


def test_file_without_run_card_is_normalised_from_init(tmp_path: Path) -> None:
    path = _dy_variant(tmp_path, "norc.lhe", lambda t: re.sub(r"<MGRunCard>.*?</MGRunCard>", "", t, flags=re.S))
    assert read_lhe_header(path).event_norm is None
    # every XWGTUP equals the <init> cross section: event_norm = average (was: weights x 2000)
    assert _sigma(path) == pytest.approx(DY_XSEC_PB, rel=1e-12)
    assert _sigma(path, n_events=100) == pytest.approx(DY_XSEC_PB, rel=1e-12)


def test_file_without_run_card_and_unfit_weights_is_refused(tmp_path: Path) -> None:
    def edit(t: str) -> str:
        t = re.sub(r"<MGRunCard>.*?</MGRunCard>", "", t, flags=re.S)
        return t.replace("+1.1949400e+00", "+3.0000000e+02")  # XWGTUP neither sigma nor sigma/N

    with pytest.raises(EventFileError, match="cannot tell how the weights are normalised"):
        _sigma(_dy_variant(tmp_path, "odd.lhe", edit))


@pytest.mark.parametrize(("norm", "factor"), [("sum", DY_N), ("bias", 1.0)])
def test_event_norm_sum_and_bias_follow_mg5(tmp_path: Path, norm: str, factor: float) -> None:
    path = _dy_variant(tmp_path, f"{norm}.lhe", lambda t: t.replace("average\t= event_norm", f"{norm}\t= event_norm"))
    assert read_lhe_header(path).event_norm == norm
    # sum: the file's weights already sum to sigma (so here, as written, to 2000 x 1.19494);
    # bias: the mean weight is sigma (MG5 divides the bias out of the event weights)
    assert _sigma(path) == pytest.approx(DY_XSEC_PB * factor, rel=1e-12)
    assert _sigma(path, n_events=400) == pytest.approx(DY_XSEC_PB * factor, rel=1e-12)


def test_event_norm_unity_is_refused(tmp_path: Path) -> None:
    path = _dy_variant(tmp_path, "unity.lhe", lambda t: t.replace("average\t= event_norm", "unity\t= event_norm"))
    with pytest.raises(EventFileError, match="event_norm = unity is not supported"):
        _sigma(path)


def test_extra_particle_line_is_an_error(tmp_path: Path) -> None:
    line = "       11  1    1    2    0    0 +1.0e+01 -1.0e+01 -1.0e+01 2.0e+01 0.0 0.0 1.0\n"
    path = _dy_variant(
        tmp_path,
        "extra.lhe",
        lambda t: t.replace("\n</event>", "\n" + line + "</event>", 3).replace(line + "</event>", "</event>", 2),
    )
    with pytest.raises(EventFileError, match=r"event 3 \(1-based\): NUP = 4 declares 4 particle lines, found 5"):
        _sigma(path)


def test_n_events_below_one_is_refused() -> None:
    from lhcgold.exceptions import ConfigError

    with pytest.raises(ConfigError, match="n_events must be >= 1"):
        _sigma(DY, n_events=0)
