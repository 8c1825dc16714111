r"""The embedded LO generator: Drell–Yan and W±H with exact EFT component weights.

Stable API (used by ``lhcgold generate`` and ``lhcgold run``)::

    from lhcgold.config import load_card
    from lhcgold.generate.embedded import generate, generate_to_files, build_process, TruthModel

    card = load_card("cards/wh.yaml")
    res = generate(card, n_events=100_000, rng=1, progress=False, unweighted=False)
    res.component_weights        # (N, C) pb, exact morphing components per event; Σ_events = σ_c
    res.benchmark_weights        # (N, B) pb at the card's benchmarks (MG5 <rwgt> content)
    res.weights(theta)           # (N,) or (T, N) pb at any θ
    res.xsec_components, res.xsec_components_err   # (C,) pb
    res.xsec(theta)              # σ(θ) pb
    res.observables, res.observable_names          # parton-level observables (N, O)
    res.observed, res.observed_names               # x for the truth (DY: m,y,cosθ*; WH: charge, p_ℓ, p_H)
    res.particles                                  # EventRecord: pdg, status, momenta, colours, ...
    res.write_lhe("events.lhe.gz", overwrite=False)          # MG5-style LHEF 3 with <rwgt>
    res.write_events("events.h5", setup=None, overwrite=False)  # event store, store_components=True

    # large samples, memory flat (weighted; LHE and/or event store, atomic):
    summary = generate_to_files(card, lhe_path="run/events.lhe.gz", events_path="run/events.h5",
                                n_events=10_000_000, rng=1, progress=True, overwrite=False)

    truth = TruthModel(build_process(card))        # exact observed-level likelihood
    truth.components(x)   # (N, C) m̄_c(x);  truth.sigma_c (C,)
    truth.log_likelihood(x, theta); truth.log_ratio(x, theta0, theta1); truth.score(x, theta)

Sampling: a θ-independent proposal (m_SM + Σ_i r_i² m_{θ_i²}, r_i = half-width of the card range,
times (ŝ/ŝ_min)^shat_bias) trains a VEGAS map over the unit hypercube of the process variables
(analytic Breit–Wigner and power-law maps underneath) and picks the latent channel (quark type or
charge, beam orientation) and flavour pair. Every event carries the exact components of its own
channel divided by the selection probability, so Σ_events m_c is an unbiased estimate of σ_c, and
r(x,z|θ0,θ1), t(x,z|θ) follow from :mod:`lhcgold.physics.gold` with no fit.

Unweighted mode: hit-or-miss at the generation benchmark against the maximum weight of a pilot
run; events above it keep a weight > 1 (unbiased). Weights always sum to the cross section.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._version import __version__
from ..config import AnalysisCard
from ..exceptions import ConfigError
from ..io.lhe_weights import NuisanceLayout
from ..io.lhe_writer import (
    LHEChunkData,
    LHEInit,
    _chunk_text,
    benchmark_descriptions,
    param_entries,
    slha_block,
    write_lhe,
    write_lhe_from_body,
)
from ..io.pdfgrid import load_pdf
from ..physics import truth as tr
from ..physics.ew import EWInputs
from ..physics.morphing import component_factors, find_components
from ..processes import EmbeddedProcess, EventRecord, get_process_class, process_names  # noqa: F401
from ..processes.base import Batch
from ..setup import build_setup
from .card import ProcessOptions, parse_card
from .sampling import Sampler
from .variations import check_scale_variations, scale_variation_ids, scale_variation_weights

__all__ = ["GenerationResult", "GenerationSummary", "TruthModel", "build_process", "generate", "generate_to_files"]

logger = logging.getLogger(__name__)
Array = NDArray[np.float64]


def _components(card: AnalysisCard) -> NDArray[np.int64]:
    if not card.parameters:
        return np.zeros((1, 0), np.int64)
    return find_components([p.max_power for p in card.parameters], card.morphing.max_overall_power)


def build_process(
    card: AnalysisCard, *, process_options: ProcessOptions | None = None, shat_bias: float | None = None
) -> EmbeddedProcess:
    """The embedded process of a card (validated; PDF loaded).

    Raises:
        ConfigError: invalid ``process``/``generate`` sections, parameters or benchmarks.
    """

    popts, gopts = parse_card(card)
    if process_options is not None:
        popts = process_options
    pdf = load_pdf(popts.pdf)
    ranges = np.array([max(abs(p.range[0]), abs(p.range[1])) for p in card.parameters])
    common: dict[str, Any] = dict(
        sqrt_s=popts.sqrt_s_gev,
        scale=popts.scale,
        ew=popts.ew,
        proposal_ranges=ranges,
        shat_bias=gopts.shat_bias if shat_bias is None else shat_bias,
        n_flavours=popts.n_flavours,
    )
    cls = get_process_class(popts.name)
    return cls(card.parameter_names, _components(card), pdf, lepton=popts.lepton, **popts.options, **common)


@dataclass(frozen=True, eq=False)
class GenerationResult:
    """Events of one embedded-generator run (all arrays in memory).

    Attributes:
        process: the process object (matrix elements, PDFs, truth).
        card: the analysis card.
        component_weights: (N, C) pb; Σ over events = the estimate of σ_c.
        xsec_components, xsec_components_err: (C,) pb (quadrature for DY, MC otherwise).
        observables, observable_names: parton-level observables.
        observed, observed_names: the truth's observed x.
        particles: the parton-level event record.
        channel: (N,) latent channel index.
        n_trials: phase-space points drawn (weights are normalised by it).
        unweighted: whether the events were unweighted at the generation benchmark.
        unweighting_efficiency: ⟨w⟩/w_max of the pilot run at the generation benchmark.
        generation_benchmark: index into the card's benchmarks.
        seed: the seed (None if an rng object was given).
        timing: seconds spent per stage.
    """

    process: EmbeddedProcess
    card: AnalysisCard
    component_weights: Array
    xsec_components: Array
    xsec_components_err: Array
    observables: Array
    observable_names: tuple[str, ...]
    observed: Array
    observed_names: tuple[str, ...]
    particles: EventRecord
    channel: NDArray[np.intp]
    n_trials: int
    unweighted: bool
    unweighting_efficiency: float
    generation_benchmark: int
    seed: int | None
    pdf_lhaid: int = 247000
    timing: dict[str, float] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return int(self.component_weights.shape[0])

    @property
    def components(self) -> NDArray[np.int64]:
        return self.process.components

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self.card.parameter_names

    @property
    def benchmark_names(self) -> tuple[str, ...]:
        return self.card.benchmark_names

    @property
    def benchmark_values(self) -> Array:
        return self.card.benchmark_values

    @property
    def benchmark_weights(self) -> Array:
        """(N, B) pb at the card's benchmarks."""
        f = component_factors(self.benchmark_values, self.components)  # (B, C)
        return self.component_weights @ f.T

    def weights(self, theta: ArrayLike) -> Array:
        """Event weights [pb] at θ (P,) -> (N,) or (T, P) -> (T, N)."""
        f = component_factors(np.asarray(theta, float), self.components)
        return f @ self.component_weights.T

    def xsec(self, theta: ArrayLike) -> Array | float:
        """σ(θ) [pb] from the component cross sections."""
        f = component_factors(np.asarray(theta, float), self.components)
        out = f @ self.xsec_components
        return float(out) if np.ndim(out) == 0 else out

    @property
    def sample_id(self) -> str:
        """Identity of the sample (same for shards that differ only in seed and size)."""
        names = self.benchmark_names
        return generation_sample_id(
            self.card,
            process=self.process.name,
            unweighted=self.unweighted,
            generation_benchmark=names[self.generation_benchmark] if names else None,
        )

    def write_lhe(
        self, path: str | Path, *, overwrite: bool = False, chunk_size: int = 20_000, scale_variations: bool = False
    ) -> Path:
        """Write an MG5-style LHE file (LHEF 3, ``<rwgt>`` per benchmark; gzip for ``.gz``).

        With ``scale_variations`` (Drell–Yan), the μR/μF × {0.5, 1, 2} weights are added as MG5's
        systematics module writes them (:func:`lhcgold.generate.variations.scale_variation_weights`).
        """

        if scale_variations:
            check_scale_variations(self.process)

        n = self.n_events
        # unweighted: event_norm = average (mean of XWGTUP = σ); weighted: event_norm = sum (the file
        # holds only the trials with a weight, so a mean over its events would be biased)
        per = n if self.unweighted else 1
        bw = self.benchmark_weights * per
        xw = bw[:, self.generation_benchmark] if self.benchmark_names else self.component_weights[:, 0] * per
        if self.unweighted:
            sig = float(xw.mean()) if n else 0.0
            err = float(xw.std() / np.sqrt(max(n, 1))) if n else 0.0
        else:  # per-trial weights are n_trials * xw, zero for the trials not written
            t = max(self.n_trials, 1)
            sig = float(xw.sum())
            err = float(np.sqrt(max(float((xw * xw).sum()) * t - sig**2, 0.0) / t))
        entries = param_entries(self.card.parameters)
        descs = benchmark_descriptions(entries, [b.values for b in self.card.benchmarks])
        gen_values = self.card.benchmarks[self.generation_benchmark].values if self.benchmark_names else {}
        provenance = (self.seed, self.card.card_hash, self.process.name, self.n_trials, self.unweighted, self.sample_id)
        extra = _lhe_header(provenance, self.parameter_names)
        init = LHEInit(
            beam_energy_gev=self.process.sqrt_s / 2,
            xsec_pb=sig,
            xsec_err_pb=err,
            xmax_pb=float(np.max(np.abs(xw))) if n else 0.0,
            n_events=n,
            weight_ids=tuple(self.benchmark_names) + _component_ids(self.components),
            weight_descriptions=tuple(descs) + _component_descriptions(self.components, self.parameter_names),
            pdf_lhaid=self.pdf_lhaid,
            extra_header=extra,
            event_norm="average" if self.unweighted else "sum",
            slha=slha_block(entries, gen_values),
            scale_weights=scale_variation_ids() if scale_variations else (),
        )
        p = self.particles
        ew: EWInputs = self.process.ew

        def chunks() -> Iterator[LHEChunkData]:
            for lo in range(0, n, chunk_size):
                hi = min(lo + chunk_size, n)
                yield LHEChunkData(
                    pdg=p.pdg[lo:hi],
                    status=p.status,
                    mothers=p.mothers,
                    colours=p.colours[lo:hi],
                    momenta=p.momenta[lo:hi],
                    masses=p.masses[lo:hi],
                    scale=p.scale[lo:hi],
                    xwgt=xw[lo:hi],
                    rwgt=np.concatenate(
                        [bw[lo:hi], self.component_weights[lo:hi] * per]
                        + (
                            [scale_variation_weights(self.process, p.momenta[lo:hi], self.channel[lo:hi], xw[lo:hi])]
                            if scale_variations
                            else []
                        ),
                        axis=1,
                    ),
                    alpha_qed=ew.alpha,
                    alpha_s=0.130,
                )

        logger.info("writing %d events to %s", n, path)
        return write_lhe(path, init, chunks(), overwrite=overwrite)

    def write_events(
        self,
        path: str | Path,
        *,
        setup: Any = None,
        overwrite: bool = False,
        chunk_size: int = 100_000,
        variations: Mapping[str, tuple[ArrayLike, ArrayLike | None]] | None = None,
    ) -> Path:
        """Write the event store (madminer layout + component weights) with parton-level observables.

        Args:
            setup: a :class:`lhcgold.config.Setup` (default: built from the card with
                :func:`lhcgold.setup.build_setup`, which needs the card's morphing section).
            variations: nuisance parameters to store, name -> (up, down) per-event weight ratios
                w(ν = ±1)/w(ν = 0) (down None: one-sided), e.g. ``{"mu_F": (r["muf_2.0"], r["muf_0.5"])}``
                from :func:`~lhcgold.generate.variations.scale_variation_ratios`. They are written as
                nuisance benchmarks varying the first benchmark (MadMiner's layout), as
                ``lhcgold reconstruct --systematics`` writes MG5's.
        """
        gen_name = self.benchmark_names[self.generation_benchmark] if self.benchmark_names else None
        setup, f, sb = _store_setup(self.card, setup, self.components, gen_name)
        provenance = (self.seed, self.card.card_hash, self.process.name, self.n_trials, self.unweighted, self.sample_id)
        layout, columns = _variation_layout(variations or {}, self.n_events)
        with _events_writer(path, setup, self.observable_names, provenance, overwrite=overwrite, nuisance=layout) as w:
            w.set_xsec_components(self.xsec_components, self.xsec_components_err)
            for lo in range(0, self.n_events, chunk_size):
                hi = min(lo + chunk_size, self.n_events)
                m = self.component_weights[lo:hi]
                wb = m @ f.T
                nuis = None if layout is None else wb[:, :1] * columns[lo:hi]
                w.append(self.observables[lo:hi], wb, sb, component_weights=m, nuisance_weights=nuis)
        return Path(path)


def _variation_layout(
    variations: Mapping[str, tuple[ArrayLike, ArrayLike | None]], n: int
) -> tuple[NuisanceLayout | None, NDArray[np.float64]]:
    """MadMiner's nuisance layout for named per-event ratio pairs, and the ratio columns in its benchmark order."""
    if not variations:
        return None, np.zeros((n, 0))
    rows, cols = [], {}
    for name, (up, down) in variations.items():
        pos, neg = f"{name}_up", f"{name}_down"
        cols[pos] = np.asarray(up, dtype=np.float64).reshape(-1)
        if down is not None:
            cols[neg] = np.asarray(down, dtype=np.float64).reshape(-1)
        rows.append((name, name, pos, neg if down is not None else "None"))
    bad = [k for k, v in cols.items() if v.shape != (n,) or not np.all(np.isfinite(v) & (v > 0))]
    if bad:
        raise ConfigError(f"variation ratios {bad} must be {n} positive finite numbers (one per event)")
    layout = NuisanceLayout(
        systematics=tuple((name, "weights", "", "None") for name in variations),
        nuisance_parameters=tuple(rows),
        benchmark_ids={k: k for k in cols},
    )
    return layout, np.stack([cols[b] for b in layout.benchmark_names], axis=1)


def _store_setup(
    card: AnalysisCard, setup: Any, components: NDArray[np.int64], generation_benchmark: str | None
) -> tuple[Any, Array, int]:
    """The event store's setup (default ``build_setup(card)``) for events generated with ``components``, its
    benchmark factors, and the index of the benchmark ``generation_benchmark`` in it (0 where it has none).

    Raises:
        ConfigError: the setup's morphing components differ from the generator's.
    """
    if setup is None:
        setup = build_setup(card)
    if setup.components is None or not np.array_equal(np.asarray(setup.components), components):
        raise ConfigError("the setup's morphing components differ from the generator's")
    f = component_factors(setup.benchmark_values, components)
    sb = setup.benchmark_names.index(generation_benchmark) if generation_benchmark in setup.benchmark_names else 0
    return setup, f, sb


def _events_writer(
    path: str | Path, setup: Any, observable_names: Any, provenance: tuple, *, overwrite: bool, nuisance: Any = None
) -> Any:
    """The event store's writer (madminer layout, component weights) with the generation's provenance
    (seed, card hash, process, n_trials, unweighted, sample_id) in its attributes."""
    from ..io.events import EventWriter

    seed, card_hash, process, n_trials, unweighted, sample_id = provenance
    attrs = {
        "seed": -1 if seed is None else int(seed),
        "card_hash": card_hash,
        "process": process,
        "generator": f"lhcgold {__version__} embedded",
        "n_trials": int(n_trials),
        "unweighted": bool(unweighted),
        "sample_id": sample_id,
        "n_generated": int(n_trials),
    }
    return EventWriter(
        path,
        setup,
        list(observable_names),
        overwrite=overwrite,
        store_components=True,
        attrs=attrs,
        negative_weights="keep",
        nuisance=nuisance,
    )


def _lhe_header(provenance: tuple, parameter_names: Any) -> str:
    """The ``<lhcgold>`` block of the LHE header; ``provenance`` as for :func:`_events_writer`."""
    seed, card_hash, process, n_trials, unweighted, sample_id = provenance
    return (
        f"<lhcgold>\nprocess = {process}\ncard_hash = {card_hash}\nseed = {seed}\n"
        f"n_trials = {n_trials}\nunweighted = {unweighted}\nparameters = {' '.join(parameter_names)}\n"
        f"sample_id = {sample_id}\n</lhcgold>"
    )


def _rng(rng: np.random.Generator | int | None) -> tuple[np.random.Generator, int | None]:
    if isinstance(rng, np.random.Generator):
        return rng, None
    return np.random.default_rng(rng), rng


@dataclass
class _Chunk:
    m: Array  # raw component weights per trial (not yet divided by the number of trials)
    rec: EventRecord
    obs: Array
    xobs: Array
    ch: NDArray[np.intp]


class _Run:
    """Shared set-up and event loop of :func:`generate` and :func:`generate_to_files`."""

    def __init__(
        self,
        card: AnalysisCard,
        *,
        n_events: int | None,
        rng: np.random.Generator | int | None,
        unweighted: bool | None,
        process: EmbeddedProcess | None,
    ):
        self.card = card
        self.popts, self.gopts = parse_card(card)
        t0 = time.perf_counter()
        self.proc = process if process is not None else build_process(card)
        self.n_req = self.gopts.n_events if n_events is None else int(n_events)
        self.unw = self.gopts.unweighted if unweighted is None else bool(unweighted)
        self.gen, self.seed = _rng(self.gopts.seed if rng is None else rng)
        names = card.benchmark_names
        self.gb = (
            names.index(self.gopts.generation_benchmark)
            if self.gopts.generation_benchmark
            else (names.index("sm") if "sm" in names else 0)
        )
        theta_gen = card.benchmark_values[self.gb] if names else np.zeros(len(card.parameters))
        self.f_gen = component_factors(theta_gen, self.proc.components)
        self.timing: dict[str, float] = {"setup": time.perf_counter() - t0}
        t1 = time.perf_counter()
        self.sampler = Sampler.adapted(
            self.proc,
            n_iterations=self.gopts.adapt_iterations,
            n_points=self.gopts.adapt_points,
            n_bins=self.gopts.adapt_bins,
            rng=self.gen,
        )
        self.timing["adapt"] = time.perf_counter() - t1
        self.wmax = 0.0
        self.eff = float("nan")
        if self.unw:
            _, _, mp = self.sampler.draw(max(self.gopts.adapt_points, 50_000), self.gen)
            wp = mp @ self.f_gen
            self.wmax = float(wp.max())
            self.eff = float(wp.mean() / self.wmax) if self.wmax > 0 else 0.0
            logger.info("unweighting efficiency at %s: %.4f", names[self.gb] if names else "theta=0", self.eff)
        self.n_trials = 0
        self.sum_m = np.zeros(self.proc.n_components)
        self.sum_m2 = np.zeros(self.proc.n_components)

    def chunks(self, *, progress: bool = False) -> Iterator[_Chunk]:
        """Events in chunks. Weighted: n_events trials, each with a non-zero weight an event (points
        whose weights all vanish add nothing to any sum, so dropping them keeps sigma exact with the
        1/n_trials normalisation; Pythia would turn their zero weights into NaN); unweighted:
        hit-or-miss at the generation benchmark until n_events are accepted."""
        n_have = 0
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.n_req, unit="ev", desc=f"generate {self.proc.name}")
        t2 = time.perf_counter()
        gen = self.gen
        try:
            while (n_have if self.unw else self.n_trials) < self.n_req:
                k = self.gopts.batch_size if self.unw else min(self.gopts.batch_size, self.n_req - self.n_trials)
                b, ch, m = self.sampler.draw(k, gen)
                used = k
                if self.unw:
                    w = m @ self.f_gen
                    keep = (gen.random(k) * self.wmax < w) & (w > 0)
                    if keep.sum() > self.n_req - n_have:
                        idx = np.flatnonzero(keep)
                        keep[idx[self.n_req - n_have :]] = False
                        used = int(idx[self.n_req - n_have - 1]) + 1  # trials up to the last kept event
                    # the trial-level estimator: accepted events carry max(w, w_max)/w times their m
                    scale = np.where(keep, np.maximum(w, self.wmax) / np.where(w > 0, w, 1.0), 0.0)
                    m = m * scale[:, None]
                    m_used = m[:used]
                    idx = np.flatnonzero(keep)
                else:
                    m_used = m
                    idx = _nonzero_points(m)
                self.n_trials += used
                self.sum_m += m_used.sum(axis=0)
                self.sum_m2 += (m_used * m_used).sum(axis=0)
                if idx.size:
                    sub = _subset(b, idx)
                    rec, obs, xobs = self.proc.realise(sub, ch[idx], gen)
                    n_have += idx.size
                    if bar is not None:
                        bar.update(idx.size)
                    yield _Chunk(m[idx], rec, obs, xobs, ch[idx])
                if self.unw and self.n_trials > 1000 * max(self.n_req, 1) and n_have == 0:
                    raise RuntimeError("unweighting accepts no events")
        finally:
            if bar is not None:
                bar.close()
            self.timing["events"] = self.timing.get("events", 0.0) + time.perf_counter() - t2

    def xsec(self) -> tuple[Array, Array]:
        """(σ_c, δσ_c): the process's quadrature if it has one, else an MC run (``xsec_points``) or the sample's."""
        t3 = time.perf_counter()
        n = max(self.n_trials, 1)
        sig = self.sum_m / n
        err = np.sqrt(np.maximum(self.sum_m2 / n - sig**2, 0.0) / n)
        if self.proc.quadrature_xsec:
            out = self.proc.xsec_components_with_errors()
        elif self.gopts.xsec_points > 0:
            out = self.proc.xsec_components_with_errors(n_points=self.gopts.xsec_points, rng=self.gen)
        else:
            out = sig, err
        self.timing["xsec"] = time.perf_counter() - t3
        names = self.card.benchmark_names
        logger.info(
            "%s: %d points; sigma(%s) = %.6g pb",
            self.proc.name,
            self.n_trials,
            names[self.gb] if names else "SM",
            float(self.f_gen @ out[0]),
        )
        return np.asarray(out[0], float), np.asarray(out[1], float)


def generate(
    card: AnalysisCard,
    *,
    n_events: int | None = None,
    rng: np.random.Generator | int | None = None,
    progress: bool = False,
    unweighted: bool | None = None,
    process: EmbeddedProcess | None = None,
) -> GenerationResult:
    """Generate parton-level events with exact component weights (all in memory, ~0.5 kB per event).

    Args:
        card: analysis card with ``process:`` (and optionally ``generate:``) sections.
        n_events: number of events (default: ``generate.n_events``).
        rng: seed or Generator (default: ``generate.seed``).
        progress: show a tqdm progress bar on stderr.
        unweighted: unweight at the generation benchmark (default: ``generate.unweighted``).
        process: use this process object instead of building one from the card.

    Raises:
        ConfigError: invalid card.
    """
    run = _Run(card, n_events=n_events, rng=rng, unweighted=unweighted, process=process)
    chunks = list(run.chunks(progress=progress))
    proc = run.proc
    n_trials = max(run.n_trials, 1)
    mw = np.concatenate([c.m for c in chunks]) / n_trials if chunks else np.zeros((0, proc.n_components))
    rec = _concat_records([c.rec for c in chunks]) if chunks else None
    obs = np.concatenate([c.obs for c in chunks]) if chunks else np.zeros((0, len(proc.observable_names)))
    xobs = np.concatenate([c.xobs for c in chunks]) if chunks else np.zeros((0, len(proc.observed_names)))
    chan = np.concatenate([c.ch for c in chunks]) if chunks else np.zeros(0, np.intp)
    sig, err = run.xsec()
    return GenerationResult(
        process=proc,
        card=card,
        component_weights=mw,
        xsec_components=sig,
        xsec_components_err=err,
        observables=obs,
        observable_names=proc.observable_names,
        observed=xobs,
        observed_names=proc.observed_names,
        particles=rec,  # type: ignore[arg-type]
        channel=chan,
        n_trials=run.n_trials,
        unweighted=run.unw,
        unweighting_efficiency=run.eff,
        generation_benchmark=run.gb,
        seed=run.seed,
        pdf_lhaid=run.popts.pdf_lhaid,
        timing=run.timing,
    )


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_to_files` wrote."""

    n_events: int
    n_trials: int
    xsec_components: Array
    xsec_components_err: Array
    lhe_path: Path | None
    events_path: Path | None
    timing: dict[str, float] = field(default_factory=dict)


def generate_to_files(
    card: AnalysisCard,
    *,
    lhe_path: str | Path | None = None,
    events_path: str | Path | None = None,
    setup: Any = None,
    n_events: int | None = None,
    rng: np.random.Generator | int | None = None,
    progress: bool = False,
    unweighted: bool | None = None,
    overwrite: bool = False,
    scale_variations: bool | None = None,
) -> GenerationSummary:
    """Generate and write LHE and/or event-store files chunk by chunk (memory flat in the number of events).

    Weighted events stream directly (the normalisation 1/n_events is known in advance; the LHE
    ``<init>`` cross section is filled in at the end). Unweighted runs are normalised by the number
    of trials, known only at the end, so they are generated in memory (:func:`generate`) and then
    written. Outputs are written atomically.

    Args:
        lhe_path: MG5-style LHE output (``.gz``: gzipped), or None.
        events_path: event store output (store_components=True), or None.
        setup: :class:`lhcgold.config.Setup` for the event store (default: ``build_setup(card)``).
        scale_variations: add μR/μF variation weights to the LHE (MG5 systematics style; Drell–Yan;
            default: ``generate.scale_variations``).
    """

    if lhe_path is None and events_path is None:
        raise ConfigError("nothing to write: give lhe_path and/or events_path")
    for pth in (lhe_path, events_path):
        if pth is not None and Path(pth).exists() and not overwrite:
            raise ConfigError(f"output {str(pth)!r} exists; pass overwrite=True to replace it")
    popts, gopts = parse_card(card)
    unw = gopts.unweighted if unweighted is None else bool(unweighted)
    sv = gopts.scale_variations if scale_variations is None else bool(scale_variations)
    if sv and not get_process_class(popts.name).supports_scale_variations:
        raise ConfigError(
            f"the {popts.name!r} process has no scale-variation weights (processes with them: "
            + ", ".join(n for n in process_names() if get_process_class(n).supports_scale_variations)
            + ")",
            path="generate.scale_variations",
        )
    out = _Outputs(
        None if lhe_path is None else Path(lhe_path),
        None if events_path is None else Path(events_path),
        overwrite,
        sv,
    )
    if unw:
        return _unweighted_to_files(card, out, setup=setup, n_events=n_events, rng=rng, progress=progress)
    return _stream_weighted(card, out, setup=setup, n_events=n_events, rng=rng, progress=progress)


@dataclass(frozen=True)
class _Outputs:
    """What :func:`generate_to_files` writes."""

    lhe_path: Path | None
    events_path: Path | None
    overwrite: bool
    scale_variations: bool


def _unweighted_to_files(
    card: AnalysisCard,
    out: _Outputs,
    *,
    setup: Any,
    n_events: int | None,
    rng: np.random.Generator | int | None,
    progress: bool,
) -> GenerationSummary:
    """Unweighted: generate in memory (the normalisation needs the number of trials), then write."""
    res = generate(card, n_events=n_events, rng=rng, progress=progress, unweighted=True)
    if out.lhe_path is not None:
        res.write_lhe(out.lhe_path, overwrite=out.overwrite, scale_variations=out.scale_variations)
    if out.events_path is not None:
        res.write_events(out.events_path, setup=setup, overwrite=out.overwrite)
    return GenerationSummary(
        res.n_events,
        res.n_trials,
        res.xsec_components,
        res.xsec_components_err,
        out.lhe_path,
        out.events_path,
        res.timing,
    )


def _stream_weighted(
    card: AnalysisCard,
    out: _Outputs,
    *,
    setup: Any,
    n_events: int | None,
    rng: np.random.Generator | int | None,
    progress: bool,
) -> GenerationSummary:
    """Weighted: stream the chunks of a run to the event store and/or an LHE body, then write the LHE header."""
    run = _Run(card, n_events=n_events, rng=rng, unweighted=False, process=None)
    n = run.n_req
    sample_id = generation_sample_id(
        card,
        process=run.proc.name,
        unweighted=False,
        generation_benchmark=card.benchmark_names[run.gb] if card.benchmarks else None,
    )
    provenance = (run.seed, card.card_hash, run.proc.name, n, False, sample_id)
    with contextlib.ExitStack() as stack:
        store = (
            None
            if out.events_path is None
            else _EventStoreStream.open(stack, run, out.events_path, setup, provenance, out.overwrite)
        )
        body = None if out.lhe_path is None else _LHEBodyStream.open(stack, run, out.lhe_path, out.scale_variations)
        n_written = 0
        for c in run.chunks(progress=progress):
            n_written += len(c.m)
            m = c.m / n
            if store is not None:
                store.append(c, m)
            if body is not None:
                body.append(c, m)
        sig, err = run.xsec()
        if store is not None:
            store.writer.set_xsec_components(sig, err)
        if body is not None:
            body.finish(n_written=n_written, provenance=provenance, overwrite=out.overwrite)
    return GenerationSummary(n_written, n, sig, err, out.lhe_path, out.events_path, run.timing)


@dataclass
class _EventStoreStream:
    """An open event store (store_components=True) receiving the chunks of a weighted run."""

    writer: Any
    f_set: Array  # (B, C) component factors at the setup's benchmarks
    sampling_benchmark: int

    @classmethod
    def open(
        cls, stack: contextlib.ExitStack, run: _Run, path: Path, setup: Any, provenance: tuple, overwrite: bool
    ) -> _EventStoreStream:
        card, proc = run.card, run.proc
        gname = card.benchmark_names[run.gb] if card.benchmarks else None
        setup, f_set, sb = _store_setup(card, setup, proc.components, gname)
        writer = stack.enter_context(
            _events_writer(path, setup, proc.observable_names, provenance, overwrite=overwrite)
        )
        return cls(writer, f_set, sb)

    def append(self, c: _Chunk, m: Array) -> None:
        self.writer.append(c.obs, m @ self.f_set.T, self.sampling_benchmark, component_weights=m)


@dataclass
class _LHEBodyStream:
    """The ``<event>`` body of a weighted run's LHE file, in a temporary file next to the output,
    with the sums its ``<init>`` cross section needs."""

    path: Path  # the LHE output
    file: Any
    run: _Run
    fb: Array | None  # (B, C) component factors at the card's benchmarks
    scale_variations: bool
    xw_sum: float = 0.0
    xw_sq: float = 0.0
    xw_max: float = 0.0

    @classmethod
    def open(cls, stack: contextlib.ExitStack, run: _Run, lhe_path: Path, sv: bool) -> _LHEBodyStream:
        card = run.card
        fb = component_factors(card.benchmark_values, run.proc.components) if card.benchmarks else None
        tmpdir = lhe_path.parent
        tmpdir.mkdir(parents=True, exist_ok=True)
        body_file = stack.enter_context(
            tempfile.NamedTemporaryFile("w", dir=tmpdir, prefix=".lhebody.", suffix=".tmp", delete=True)
        )
        return cls(lhe_path, body_file, run, fb, sv)

    def append(self, c: _Chunk, m: Array) -> None:
        # event_norm = sum: the weights of the file sum to sigma (points without weight are not
        # written, so the file holds fewer events than trials and a mean would be biased)
        proc, fb, sv = self.run.proc, self.fb, self.scale_variations
        bw = (m @ fb.T) if fb is not None else m[:, :1]
        xw = bw[:, self.run.gb] if fb is not None else bw[:, 0]
        self.xw_sum += float(xw.sum())
        self.xw_sq += float((xw * xw).sum())
        self.xw_max = max(self.xw_max, float(np.max(np.abs(xw))) if xw.size else 0.0)
        r = c.rec
        rwgt = [bw, m] + ([scale_variation_weights(proc, r.momenta, c.ch, xw)] if sv else [])
        data = LHEChunkData(
            pdg=r.pdg,
            status=r.status,
            mothers=r.mothers,
            colours=r.colours,
            momenta=r.momenta,
            masses=r.masses,
            scale=r.scale,
            xwgt=xw,
            rwgt=np.concatenate(rwgt, axis=1),
            alpha_qed=proc.ew.alpha,
            alpha_s=0.130,
        )
        ids = (
            tuple(self.run.card.benchmark_names)
            + _component_ids(proc.components)
            + (tuple(s[0] for s in scale_variation_ids()) if sv else ())
        )
        self.file.write(_chunk_text(data, ids, 1))

    def finish(self, *, n_written: int, provenance: tuple, overwrite: bool) -> None:
        """Write the LHE file: header with the ``<init>`` cross section, then the body."""
        run, card, proc, n = self.run, self.run.card, self.run.proc, self.run.n_req
        self.file.flush()
        # per-trial weights are n * xw (the zero-weight trials add 0): sigma = sum, its error
        xerr = float(np.sqrt(max(self.xw_sq * n - self.xw_sum**2, 0.0) / max(n, 1)))
        entries = param_entries(card.parameters)
        descs = benchmark_descriptions(entries, [b.values for b in card.benchmarks])
        extra = _lhe_header(provenance, card.parameter_names)
        init = LHEInit(
            beam_energy_gev=proc.sqrt_s / 2,
            xsec_pb=self.xw_sum,
            xsec_err_pb=xerr,
            xmax_pb=self.xw_max,
            n_events=n_written,
            event_norm="sum",
            weight_ids=tuple(card.benchmark_names) + _component_ids(proc.components),
            weight_descriptions=descs + _component_descriptions(proc.components, card.parameter_names),
            pdf_lhaid=run.popts.pdf_lhaid,
            extra_header=extra,
            slha=slha_block(entries, card.benchmarks[run.gb].values if card.benchmarks else {}),
            scale_weights=scale_variation_ids() if self.scale_variations else (),
        )
        write_lhe_from_body(self.path, init, Path(self.file.name), overwrite=overwrite)


def generation_sample_id(
    card: AnalysisCard, *, process: str, unweighted: bool, generation_benchmark: str | None
) -> str:
    """A hash naming the sample a generation run belongs to: the card without ``generate.seed`` and
    ``generate.n_events``, the process, the weighting and the generation benchmark. Shards (same
    card, other seeds or sizes) share it; :func:`lhcgold.io.combine.combine_and_shuffle` averages them."""

    raw = {k: v for k, v in dict(card.raw).items() if k not in ("name", "description")}
    gen = {k: v for k, v in dict(raw.get("generate") or {}).items() if k not in ("seed", "n_events")}
    raw["generate"] = gen
    blob = json.dumps(
        {"card": raw, "process": process, "unweighted": bool(unweighted), "generation_benchmark": generation_benchmark},
        sort_keys=True,
        default=str,
    )
    return "lhcgold-gen:" + hashlib.sha256(blob.encode()).hexdigest()[:32]


def _nonzero_points(m: Array) -> NDArray[np.intp]:
    """Indices of the trials with a non-zero weight at some component (so at some benchmark)."""
    return np.flatnonzero(np.any(m != 0.0, axis=1))


def _component_ids(components: NDArray[np.int64]) -> tuple[str, ...]:
    """LHE weight ids of the exact morphing components (read back by :mod:`lhcgold.reconstruct`)."""
    return tuple(f"lhcgold_component_{k}" for k in range(len(components)))


def _component_descriptions(components: NDArray[np.int64], names: Any) -> tuple[str, ...]:
    return tuple(
        "lhcgold morphing component " + " ".join(f"{p}^{int(e)}" for p, e in zip(names, row)) for row in components
    )


def _subset(b: Any, idx: NDArray[np.intp]) -> Any:

    return Batch(b.u[idx], b.comps[idx], b.proposal[idx], {k: v[idx] for k, v in b.kin.items()})


def _concat_records(recs: list[EventRecord]) -> EventRecord:
    r0 = recs[0]
    return EventRecord(
        pdg=np.concatenate([r.pdg for r in recs]),
        momenta=np.concatenate([r.momenta for r in recs]),
        masses=np.concatenate([r.masses for r in recs]),
        status=r0.status,
        mothers=r0.mothers,
        colours=np.concatenate([r.colours for r in recs]),
        scale=np.concatenate([r.scale for r in recs]),
    )


class TruthModel:
    """Exact observed-level likelihood of an embedded process (``Truth(process)`` for inference).

    Args:
        process: the process (e.g. ``build_process(card)``).
        sigma_c: component cross sections [pb]; default: the process's own (quadrature for DY,
            a large MC run for WH: pass precise values when you have them).
    """

    def __init__(
        self, process: EmbeddedProcess, sigma_c: ArrayLike | None = None, *, rng: np.random.Generator | int | None = 0
    ):
        self.process = process
        if sigma_c is None:
            sigma_c = process.xsec_components(rng=rng)
        self.sigma_c = np.asarray(sigma_c, float)
        self.components_exponents = process.components

    @property
    def observed_names(self) -> tuple[str, ...]:
        return self.process.observed_names

    def components(self, x: ArrayLike) -> Array:
        """m̄_c(x) (N, C)."""
        return self.process.truth_components(x)

    def log_likelihood(self, x: ArrayLike, theta: ArrayLike, *, mbar: ArrayLike | None = None) -> Array:
        mb = self.components(x) if mbar is None else mbar
        return tr.log_likelihood(mb, self.sigma_c, self.components_exponents, theta)

    def log_ratio(self, x: ArrayLike, theta0: ArrayLike, theta1: ArrayLike, *, mbar: ArrayLike | None = None) -> Array:
        mb = self.components(x) if mbar is None else mbar
        return tr.log_ratio(mb, self.sigma_c, self.components_exponents, theta0, theta1)

    def score(self, x: ArrayLike, theta: ArrayLike, *, mbar: ArrayLike | None = None) -> Array:
        mb = self.components(x) if mbar is None else mbar
        return tr.score(mb, self.sigma_c, self.components_exponents, theta)
