r"""Draw training and test samples with gold from a weighted events file.

Sample kinds (MadMiner's ``SampleAugmenter``):

* :func:`sample_plain`: x and θ;
* :func:`sample_local` / :func:`sample_density`: x, θ and the joint score t(x,z|θ);
* :func:`sample_ratio`: half drawn at θ0 (y = 0), half at θ1 (y = 1), with the joint
  log ratio log r(x,z|θ0,θ1) and the joint score t(x,z|θ0);
* :func:`sample_more_ratios`: as ratio plus copies against additional θ, with the scores at
  both θ0 and θ1 (for doubly parameterised estimators);
* :func:`sample_test`: x and θ from the test partition.

**Algorithm.** Everything is in component space: the weight of event i at θ is
:math:`w_i(\theta) = \sum_c f_c(\theta)\, m_{ic}`. Drawing event i with probability
:math:`p_i(\theta) = \max(w_i, 0) / \sum_j \max(w_j, 0)` uses exact rejection sampling from the
envelope :math:`B_i(\theta) = \sum_c |f_c(\theta)|\,|m_{ic}| \ge w_i(\theta)`, which is a mixture
over components with θ-independent per-component event distributions :math:`|m_{ic}|`. All
parameter points and draws are processed together: a pass over the events file costs
:math:`O(N C)` whatever the number of θ (MadMiner: two or three passes of :math:`O(N)` per θ).
Proposals per draw adapt to the acceptance rate, so one or two passes usually suffice.

**Partitions.** ``train``, ``validation`` and ``test`` are contiguous, disjoint ranges of the
(shuffled) events file: train = [0, round(f_train N)), validation = [round(f_train N),
round((1 − f_test) N)), test = [round((1 − f_test) N), N). Cross sections in a partition are
rescaled by 1/fraction (MadMiner's convention, without its dropped boundary events).

**Closest benchmark.** With ``sample_only_from_closest_benchmark=True`` (the default, as in
MadMiner) the events drawn at θ, and the cross sections in its gold, come only from the run
generated at the benchmark closest to θ plus background (sampling id < 0). Otherwise all
events are used with MadMiner's run-share factors N_b/ΣN.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from .._version import __version__
from ..exceptions import ConfigError, EventFileError, MorphingError
from ..io.lhe_weights import ratio_coefficients
from ..io.samples import TrainingSet
from ..io.view import EventsView, Partition, as_view, partition_bounds
from ..physics.morphing import component_factor_gradients, component_factors
from .thetas import ThetaSpec, resolve

#: what to do with events whose weight is negative at a sampling θ (they cannot be drawn)
NegativeWeights = Literal["error", "drop"]

__all__ = [
    "ArrayEvents",
    "NegativeWeights",
    "Partition",
    "partition_bounds",
    "sample_density",
    "sample_local",
    "sample_more_ratios",
    "sample_plain",
    "sample_ratio",
    "sample_test",
]

logger = logging.getLogger(__name__)

_MAX_PASSES = 200
_MAX_EXACT_NEFF = 500_000_000  # (distinct θ) × events up to which n_eff is computed exactly
_BLOCK = 4_000_000  # elements per (θ block × events) product
_CACHE_BYTES = 256 * 2**20  # partitions up to this size are read from the file only once


# ---------------------------------------------------------------------------------------- sources
@dataclass
class _Chunk:
    observations: NDArray[np.float64]
    sampling_benchmarks: NDArray[np.int64]
    _m: NDArray[np.float64]
    nu: NDArray[np.float64] | None = None  # (n, 2K): nuisance ratios up, then down

    def components(self) -> NDArray[np.float64]:
        return self._m


@dataclass
class ArrayEvents:
    """In-memory weighted events in component space (tests, toys, small studies).

    Args:
        observations: (N, O).
        component_weights: per-event component weights m (N, C) [pb].
        components: morphing exponents (C, P).
        parameter_names: P names.
        observables: O names.
        ranges: (P, 2) parameter ranges, or None (no range check).
        benchmark_names: names of the named points (B,).
        benchmark_values: parameter values of the named points (B, P).
        sampling_benchmarks: (N,) run id per event (default 0 for all).
        nuisance_names: K nuisance parameter names.
        nuisance_up: (N, K) per-event weight ratios w(ν_k = +1)/w(ν = 0).
        nuisance_down: (N, K) per-event weight ratios w(ν_k = −1)/w(ν = 0).
    """

    observations: NDArray[np.float64]
    component_weights: NDArray[np.float64]
    components: NDArray[np.int64]
    parameter_names: Sequence[str]
    observables: Sequence[str] = ()
    ranges: NDArray[np.float64] | None = None
    benchmark_names: Sequence[str] = ()
    benchmark_values: NDArray[np.float64] | None = None
    sampling_benchmarks: NDArray[np.int64] | None = None
    nuisance_names: Sequence[str] = ()
    nuisance_up: NDArray[np.float64] | None = None
    nuisance_down: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        self.observations = np.asarray(self.observations, dtype=np.float64)
        self.component_weights = np.asarray(self.component_weights, dtype=np.float64)
        self.components = np.asarray(self.components, dtype=np.int64)
        n = len(self.observations)
        if self.component_weights.shape != (n, len(self.components)):
            raise EventFileError(
                f"component weights have shape {self.component_weights.shape}, expected ({n}, {len(self.components)})"
            )
        if self.sampling_benchmarks is None:
            self.sampling_benchmarks = np.zeros(n, dtype=np.int64)
        if self.benchmark_values is None:
            self.benchmark_values = np.zeros((0, len(self.parameter_names)))
        if not self.observables:
            self.observables = tuple(f"x{i}" for i in range(self.observations.shape[1]))
        k = len(self.nuisance_names)
        ratios = [self.nuisance_up, self.nuisance_down]
        if k and any(r is None or np.shape(r) != (n, k) for r in ratios):
            raise EventFileError(f"nuisance_up and nuisance_down must both have shape ({n}, {k})")
        if not k and any(r is not None for r in ratios):
            raise EventFileError("nuisance ratios need nuisance_names")
        self._nu = np.concatenate([np.asarray(r, dtype=np.float64) for r in ratios], axis=1) if k else None
        if self._nu is not None and not np.all(np.isfinite(self._nu) & (self._nu > 0)):
            raise EventFileError("nuisance ratios must be positive and finite")

    @property
    def n_events(self) -> int:
        return len(self.observations)

    def iter_chunks(
        self,
        chunk_size: int = 100_000,
        *,
        start: int = 0,
        stop: int | None = None,
        progress: bool = False,
    ) -> Any:
        stop = self.n_events if stop is None else min(stop, self.n_events)
        ids = self.sampling_benchmarks
        ids = cast(NDArray[np.int64], ids)
        for lo in range(start, stop, chunk_size):
            hi = min(lo + chunk_size, stop)
            nu = None if self._nu is None else self._nu[lo:hi]
            yield _Chunk(self.observations[lo:hi], ids[lo:hi], self.component_weights[lo:hi], nu)

    def sampling_factors(self, ids: NDArray[np.int64]) -> NDArray[np.float64]:
        all_ids = self.sampling_benchmarks
        all_ids = cast(NDArray[np.int64], all_ids)
        counts = np.bincount(all_ids[all_ids >= 0]) if np.any(all_ids >= 0) else np.zeros(1)
        if counts.sum() == 0 or np.count_nonzero(counts) <= 1:
            return np.ones(len(ids))
        share = counts / counts.sum()
        return np.where(ids >= 0, share[np.clip(ids, 0, len(share) - 1)], 1.0)

    @property
    def sampling_counts(self) -> NDArray[np.int64]:
        ids = self.sampling_benchmarks
        ids = cast(NDArray[np.int64], ids)
        n_b = len(self.benchmark_names)
        return np.bincount(ids[ids >= 0], minlength=n_b)[: max(n_b, 1)] if n_b else np.zeros(0, np.int64)


@dataclass(frozen=True)
class _Source:
    events: Any
    n_events: int
    observables: tuple[str, ...]
    parameter_names: tuple[str, ...]
    components: NDArray[np.int64]
    ranges: NDArray[np.float64] | None
    benchmark_names: tuple[str, ...]
    benchmark_values: NDArray[np.float64]
    label: str
    nuisance_names: tuple[str, ...] = ()


def _open(events: Any) -> _Source:
    if isinstance(events, ArrayEvents):
        return _Source(
            events,
            events.n_events,
            tuple(events.observables),
            tuple(events.parameter_names),
            events.components,
            None if events.ranges is None else np.asarray(events.ranges, float),
            tuple(events.benchmark_names),
            np.asarray(events.benchmark_values, float),
            "<arrays>",
            tuple(events.nuisance_names),
        )
    view = as_view(events)
    if not view.is_whole_file or view.weight_scale != 1.0:
        raise ConfigError(
            f"{view.path}: pass the whole events file and choose the events with partition=, "
            f"not a view of events {view.start}-{view.stop_index}"
        )
    setup = view.setup
    if not setup.has_morphing:
        raise MorphingError(f"{view.path}: the setup has no morphing; gold at arbitrary theta needs it")
    return _Source(
        view,
        int(view.n_events),
        tuple(view.observables),
        tuple(setup.parameter_names),
        np.asarray(setup.components, dtype=np.int64),
        np.asarray(setup.ranges, dtype=float),
        tuple(setup.benchmark_names),
        np.asarray(setup.benchmark_values, dtype=float),
        str(view.path),
        view.nuisance_names,
    )


def _iter_range(ev: Any, start: int, stop: int, chunk_size: int, progress: bool) -> Any:
    """Chunks of events [start, stop): through the events view for files, directly for arrays."""
    if isinstance(ev, EventsView):
        for ch in EventsView(ev, start, stop).iter_chunks(chunk_size=chunk_size, progress=progress):
            nu = None if ch.nuisance_up is None else np.concatenate([ch.nuisance_up, ch.nuisance_down], axis=1)
            yield _Chunk(ch.observations, ch.sampling_benchmarks, ch.component_weights, nu)
        return
    yield from ev.iter_chunks(chunk_size, start=start, stop=stop, progress=progress)


# ---------------------------------------------------------------------------------------- engine
@dataclass
class _Draws:
    x: NDArray[np.float64]  # (n, O)
    m: NDArray[np.float64]  # (n, C)  component weights × run factor × partition factor
    group: NDArray[np.int64]  # (n,) sigma group per draw
    set_index: NDArray[np.int64]  # (n,)
    sigma_c: NDArray[np.float64]  # (G, C)
    n_eff: NDArray[np.float64]  # (n,)
    nu: NDArray[np.float64] | None = None  # (n, 2K) nuisance ratios up, then down
    sigma_ca: NDArray[np.float64] | None = None  # (G, C, K) Σ_i m_ic a_ik: the rate's ν-derivative

    def nuisance_ratios(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        assert self.nu is not None
        k = self.nu.shape[1] // 2
        return self.nu[:, :k], self.nu[:, k:]


def _closest(src: _Source, thetas: NDArray[np.float64], counts_per_bench: NDArray[np.int64]) -> NDArray[np.int64]:
    bv = src.benchmark_values
    if len(bv) == 0 or not np.any(counts_per_bench > 0):
        return np.full(len(thetas), -1, dtype=np.int64)
    d = np.linalg.norm(thetas[:, None, :] - bv[None, :, :], axis=-1)
    nb = min(len(bv), len(counts_per_bench))
    d = d[:, :nb] + 1e9 * (counts_per_bench[:nb] == 0)[None, :]
    return np.argmin(d, axis=1).astype(np.int64)


@dataclass(frozen=True)
class _Groups:
    """Sets drawn from the same events: one group per closest run (its events plus background), or one for all."""

    events: Any
    closest: bool
    bench: NDArray[np.int64]  # (G,) run id of each group; -1: all events
    set_group: NDArray[np.int64]  # (S,) group of each set

    @property
    def n(self) -> int:
        return len(self.bench)

    def run_factor(self, ids: NDArray[np.int64]) -> NDArray[np.float64]:
        """MadMiner's run-share factors N_b/ΣN (1 when drawing from the closest run only)."""
        return np.ones(len(ids)) if self.closest else np.asarray(self.events.sampling_factors(ids), dtype=np.float64)

    def mask(self, ids: NDArray[np.int64], g: int) -> NDArray[np.bool_]:
        """Events of group g among events with run ids ``ids``."""
        if not self.closest:
            return np.ones(len(ids), dtype=bool)
        return (ids == self.bench[g]) | (ids < 0)


def _make_groups(src: _Source, thetas: NDArray[np.float64], closest: bool) -> _Groups:
    ev = src.events
    counts_per_bench = (
        np.asarray(ev.sampling_counts, dtype=np.int64) if hasattr(ev, "sampling_counts") else np.zeros(0, np.int64)
    )
    if closest and len(counts_per_bench) and np.any(counts_per_bench > 0):
        group_bench = _closest(src, thetas, counts_per_bench)
    else:
        closest = False
        group_bench = np.full(len(thetas), -1, dtype=np.int64)
    groups, set_group = np.unique(group_bench, return_inverse=True)
    return _Groups(ev, closest, groups, set_group.astype(np.int64))


class _ChunkReader:
    """Chunks of events [start, stop): small partitions are read once and kept (bounded memory),
    large ones are streamed on each pass."""

    def __init__(
        self, src: _Source, start: int, stop: int, *, chunk_size: int, progress: bool, nuisances: bool
    ) -> None:
        self._ev = src.events
        self._start, self._stop = start, stop
        self._chunk_size, self._progress, self._nuisances = chunk_size, progress, nuisances
        self._cache_ok = (stop - start) * (len(src.observables) + len(src.components) + 1) * 8 <= _CACHE_BYTES
        self._cache: list[_Chunk] = []

    def chunks(self, first: bool = False) -> Any:
        if self._cache and not first:
            yield from self._cache
            return
        for ch in _iter_range(self._ev, self._start, self._stop, self._chunk_size, self._progress and first):
            nu = ch.nu if self._nuisances else None
            c = _Chunk(ch.observations, np.asarray(ch.sampling_benchmarks, dtype=np.int64), ch.components(), nu)
            if self._cache_ok:
                self._cache.append(c)
            yield c


@dataclass
class _ExactNeff:
    """Largest event weight at each distinct (θ, group) sampling point, accumulated in the first pass:
    n_eff exactly, when affordable (points × events below _MAX_EXACT_NEFF)."""

    enabled: bool
    set_uniq: NDArray[np.intp]  # (S,) distinct point of each set
    f_uniq: NDArray[np.float64]  # (U, C) component factors
    uniq_group: NDArray[np.int64]  # (U,)
    max_w: NDArray[np.float64]  # (U,)

    @classmethod
    def build(
        cls, thetas: NDArray[np.float64], groups: _Groups, comps: NDArray[np.int64], n_events: int, requested: bool
    ) -> _ExactNeff:
        uniq, set_uniq = np.unique(
            np.concatenate([thetas, groups.set_group[:, None]], axis=1), axis=0, return_inverse=True
        )
        enabled = requested and len(uniq) * n_events <= _MAX_EXACT_NEFF
        return cls(
            enabled,
            np.asarray(set_uniq).reshape(-1),
            component_factors(uniq[:, :-1], comps),
            uniq[:, -1].astype(np.int64),
            np.zeros(len(uniq)),
        )

    def update(self, m: NDArray[np.float64], ids: NDArray[np.int64], groups: _Groups) -> None:
        mf = m * groups.run_factor(ids)[:, None]
        for g in range(groups.n):
            rows = np.flatnonzero(self.uniq_group == g)
            mg = mf[groups.mask(ids, g)]
            if len(rows) == 0 or len(mg) == 0:
                continue
            step = max(1, _BLOCK // max(len(mg), 1))
            for lo in range(0, len(rows), step):
                r = rows[lo : lo + step]
                self.max_w[r] = np.maximum(self.max_w[r], (self.f_uniq[r] @ mg.T).max(axis=1))

    def max_p(self, corr: float, sig_set: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.maximum(self.max_w[self.set_uniq], 0.0) * corr / sig_set


@dataclass
class _RunSums:
    """Pass-1 sums per run id (-1: background) over the partition, in order of first appearance."""

    m: dict[int, NDArray[np.float64]]  # Σ_i m_ic
    abs_m: dict[int, NDArray[np.float64]]  # Σ_i |m_ic|
    m_a: dict[int, NDArray[np.float64]]  # Σ_i m_ic a_ik (nuisances only)

    def add(self, m: NDArray[np.float64], ids: NDArray[np.int64], a_nu: NDArray[np.float64] | None) -> None:
        for i in np.unique(ids):
            sel = ids == i
            key = int(i) if i >= 0 else -1
            self.m[key] = self.m.get(key, 0.0) + m[sel].sum(axis=0)
            self.abs_m[key] = self.abs_m.get(key, 0.0) + np.abs(m[sel]).sum(axis=0)
            if a_nu is not None:
                self.m_a[key] = self.m_a.get(key, 0.0) + m[sel].T @ a_nu[sel]


def _first_pass(
    src: _Source, reader: _ChunkReader, groups: _Groups, neff: _ExactNeff, start: int, stop: int, partition: Partition
) -> _RunSums:
    """Per-run sums of m, |m| (and m a) in the partition, and the largest weights for an exact n_eff."""
    sums = _RunSums({}, {}, {})
    for ch in reader.chunks(first=True):
        m = ch.components()
        ids = np.asarray(ch.sampling_benchmarks, dtype=np.int64)
        if not np.all(np.isfinite(m)):
            raise EventFileError(f"{src.label}: non-finite weights among events {start}-{stop}")
        sums.add(m, ids, _linear_coefficients(ch.nu) if ch.nu is not None else None)
        if neff.enabled:
            neff.update(m, ids, groups)
    if not sums.m:
        raise EventFileError(f"{src.label}: no events in partition {partition!r}")
    return sums


def _group_sums(
    sums: _RunSums, groups: _Groups, corr: float, n_c: int, n_k: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per group: cross sections σ_c (G, C), envelope masses Σ|m| (G, C) and Σ m a (G, C, K), rescaled by corr."""
    sigma_c = np.zeros((groups.n, n_c))
    env_c = np.zeros((groups.n, n_c))
    sigma_ca = np.zeros((groups.n, n_c, n_k))
    for g in range(groups.n):
        for k in sums.m:
            if groups.closest and not (k < 0 or k == groups.bench[g]):
                continue
            fac = 1.0 if groups.closest or k < 0 else float(groups.run_factor(np.array([k]))[0])
            sigma_c[g] += fac * sums.m[k]
            env_c[g] += fac * sums.abs_m[k]
            if n_k:
                sigma_ca[g] += fac * sums.m_a[k]
    sigma_c *= corr
    env_c *= corr
    sigma_ca *= corr
    return sigma_c, env_c, sigma_ca


@dataclass
class _SetRates:
    """Per sampling set s: component factors, cross section, envelope mixture and acceptance estimate."""

    f: NDArray[np.float64]  # (S, C)
    sigma: NDArray[np.float64]  # (S,) pb
    cdf_mix: NDArray[np.float64]  # (S, C) cumulative envelope mass per component
    accept_rate: NDArray[np.float64]  # (S,) updated after each proposal pass


def _set_rates(
    src: _Source,
    thetas: NDArray[np.float64],
    sigma_c: NDArray[np.float64],
    env_c: NDArray[np.float64],
    set_group: NDArray[np.int64],
    partition: Partition,
) -> _SetRates:
    f_set = component_factors(thetas, src.components)  # (S, C)
    sig_set = np.einsum("sc,sc->s", f_set, sigma_c[set_group])
    if np.any(sig_set <= 0) or not np.all(np.isfinite(sig_set)):
        bad = int(np.flatnonzero(~(sig_set > 0))[0])
        raise EventFileError(
            f"{src.label}: cross section at theta={thetas[bad].tolist()} is "
            f"{sig_set[bad]:.4g} pb in partition {partition!r}: nothing to sample"
        )
    env_mix = np.abs(f_set) * env_c[set_group]  # (S, C) envelope mass per component
    env_tot = env_mix.sum(axis=1)
    accept_rate = np.clip(sig_set / env_tot, 1e-6, 1.0)
    if np.any(accept_rate < 1e-3):
        logger.warning(
            "sampling efficiency below 1e-3 at some theta (large cancellations between "
            "morphing components); sampling will be slow"
        )
    return _SetRates(f_set, sig_set, np.cumsum(env_mix / env_tot[:, None], axis=1), accept_rate)


@dataclass
class _Proposals:
    """Proposed (draw, component, position) triples of one pass; a draw's proposals are contiguous."""

    draw: NDArray[np.int64]  # (n,) sorted
    set: NDArray[np.int64]  # (n,)
    group: NDArray[np.int64]  # (n,)
    comp: NDArray[np.int64]  # (n,) envelope component
    u: NDArray[np.float64]  # (n,) position in that component's |m| mass
    v: NDArray[np.float64]  # (n,) uniform for the acceptance test


def _propose(
    pending: NDArray[np.int64],
    n_pass: int,
    draw_set: NDArray[np.int64],
    groups: _Groups,
    rates: _SetRates,
    env_c: NDArray[np.float64],
    corr: float,
    rng: np.random.Generator,
) -> _Proposals:
    """k proposals per pending draw so that a draw fails a whole pass with probability ~2 %."""
    acc_p = rates.accept_rate[draw_set[pending]]
    with np.errstate(divide="ignore"):
        k = np.ceil(np.log(0.02) / np.log1p(-np.minimum(acc_p, 1.0 - 1e-12)))
    k = np.clip(k, 1, 64).astype(np.int64) + (1 if n_pass else 0)
    p_draw = np.repeat(pending, k)
    p_set = draw_set[p_draw]
    p_group = groups.set_group[p_set]
    uc = rng.random(len(p_draw))
    p_comp = np.minimum((uc[:, None] > rates.cdf_mix[p_set]).sum(axis=1), env_c.shape[1] - 1)
    p_u = rng.random(len(p_draw)) * env_c[p_group, p_comp] / corr
    p_v = rng.random(len(p_draw))
    return _Proposals(p_draw, p_set, p_group, p_comp, p_u, p_v)


@dataclass
class _Found:
    """The events at the proposals' positions."""

    x: NDArray[np.float64]  # (n, O)
    m: NDArray[np.float64]  # (n, C) component weights × run factor
    nu: NDArray[np.float64]  # (n, 2K)
    found: NDArray[np.bool_]  # (n,)


def _locate(props: _Proposals, reader: _ChunkReader, groups: _Groups, n_obs: int, n_c: int, n_k: int) -> _Found:
    """One pass over the events: find each proposal's event by its position in the cumulative |m| mass."""
    n = len(props.draw)
    key = props.group * n_c + props.comp
    order = np.lexsort((props.u, key))
    u_s = props.u[order]
    bounds = np.searchsorted(key[order], np.arange(groups.n * n_c + 1))
    out = _Found(np.empty((n, n_obs)), np.zeros((n, n_c)), np.ones((n, 2 * n_k)), np.zeros(n, dtype=bool))
    offsets = np.zeros(groups.n * n_c)
    for ch in reader.chunks():
        m = ch.components()
        ids = np.asarray(ch.sampling_benchmarks, dtype=np.int64)
        fac = groups.run_factor(ids)
        am = np.abs(m) * fac[:, None]
        for g in range(groups.n):
            mask = groups.mask(ids, g)
            for c in range(n_c):
                kk = g * n_c + c
                lo_i, hi_i = bounds[kk], bounds[kk + 1]
                if lo_i == hi_i:
                    continue
                cum = np.cumsum(np.where(mask, am[:, c], 0.0)) + offsets[kk]
                if len(cum) == 0:
                    continue
                a = lo_i + np.searchsorted(u_s[lo_i:hi_i], offsets[kk], side="left")
                b = lo_i + np.searchsorted(u_s[lo_i:hi_i], cum[-1], side="left")
                offsets[kk] = cum[-1]
                if b <= a:
                    continue
                pos = np.minimum(np.searchsorted(cum, u_s[a:b], side="right"), len(cum) - 1)
                idx = order[a:b]
                out.x[idx] = ch.observations[pos]
                out.m[idx] = m[pos] * fac[pos, None]
                if n_k:
                    out.nu[idx] = ch.nu[pos]  # type: ignore[index]
                out.found[idx] = True
    return out


@dataclass
class _Accepted:
    """Accepted draws so far, with the n_eff bound and the negative-weight bookkeeping."""

    draw_set: NDArray[np.int64]  # (n,) set of each draw
    done: NDArray[np.bool_]
    x: NDArray[np.float64]
    m: NDArray[np.float64]
    nu: NDArray[np.float64]
    max_p: NDArray[np.float64]  # (S,) from accepted and proposed events: a lower bound on max p_i
    n_negative: int = 0
    n_proposed: int = 0

    @classmethod
    def empty(cls, counts: NDArray[np.int64], n_obs: int, n_c: int, n_k: int) -> _Accepted:
        n_total = int(counts.sum())
        return cls(
            np.repeat(np.arange(len(counts)), counts),
            np.zeros(n_total, dtype=bool),
            np.empty((n_total, n_obs)),
            np.empty((n_total, n_c)),
            np.ones((n_total, 2 * n_k)),
            np.zeros(len(counts)),
        )


def _accept(
    st: _Accepted,
    props: _Proposals,
    ev: _Found,
    rates: _SetRates,
    *,
    src: _Source,
    corr: float,
    negative_weights: NegativeWeights,
    exact_neff: bool,
) -> None:
    """Accept where v * B_i < max(w_i, 0); keep each pending draw's first accepted proposal."""
    f_p = rates.f[props.set]
    w_p = np.einsum("nc,nc->n", f_p, ev.m)
    b_p = np.einsum("nc,nc->n", np.abs(f_p), np.abs(ev.m))
    acc = ev.found & (props.v * b_p < np.maximum(w_p, 0.0))
    st.n_negative += _check_negative(src, ev.found & (w_p < 0), f_p, negative_weights)
    st.n_proposed += int(ev.found.sum())
    if not exact_neff:  # estimate from the proposed events (an upper bound on n_eff)
        # props.set is sorted (draws are grouped by set): a segmented max instead of ufunc.at
        pp = np.where(ev.found, np.maximum(w_p, 0.0), 0.0) * corr / rates.sigma[props.set]
        seg_sets, seg_start = np.unique(props.set, return_index=True)
        st.max_p[seg_sets] = np.maximum(st.max_p[seg_sets], np.maximum.reduceat(pp, seg_start))
    # first accepted proposal per draw (proposals of a draw are contiguous)
    acc_idx = np.flatnonzero(acc)
    first_draw, first_pos = np.unique(props.draw[acc_idx], return_index=True)  # props.draw is sorted
    chosen = acc_idx[first_pos]
    st.x[first_draw] = ev.x[chosen]
    st.m[first_draw] = ev.m[chosen]
    st.nu[first_draw] = ev.nu[chosen]
    st.done[first_draw] = True
    # update acceptance estimates from this pass
    n_sets = len(rates.accept_rate)
    n_prop = np.bincount(props.set, minlength=n_sets)
    n_acc = np.bincount(props.set[acc], minlength=n_sets)
    seen = n_prop > 20
    rates.accept_rate[seen] = np.clip(np.maximum(n_acc[seen], 1) / n_prop[seen], 1e-6, 1.0)


def _proposal_passes(
    src: _Source,
    reader: _ChunkReader,
    groups: _Groups,
    rates: _SetRates,
    env_c: NDArray[np.float64],
    counts: NDArray[np.int64],
    *,
    corr: float,
    n_k: int,
    rng: np.random.Generator,
    negative_weights: NegativeWeights,
    exact_neff: bool,
) -> _Accepted:
    """Propose, locate and accept until every draw has an event (at most _MAX_PASSES passes)."""
    n_obs, n_c = len(src.observables), len(src.components)
    st = _Accepted.empty(counts, n_obs, n_c, n_k)
    for n_pass in range(_MAX_PASSES):
        pending = np.flatnonzero(~st.done)
        if len(pending) == 0:
            break
        props = _propose(pending, n_pass, st.draw_set, groups, rates, env_c, corr, rng)
        found = _locate(props, reader, groups, n_obs, n_c, n_k)
        _accept(st, props, found, rates, src=src, corr=corr, negative_weights=negative_weights, exact_neff=exact_neff)
    else:
        raise EventFileError(
            f"{src.label}: sampling did not converge after {_MAX_PASSES} passes "
            f"({int((~st.done).sum())} draws left; weights mostly negative?)"
        )
    if st.n_negative:
        logger.warning(
            "%s: %d of %d proposed events have a negative weight at their sampling theta; "
            "they were dropped (drawn from max(w, 0)), which biases the sample",
            src.label,
            st.n_negative,
            st.n_proposed,
        )
    return st


def _draw(
    src: _Source,
    sampling_thetas: NDArray[np.float64],
    counts: NDArray[np.int64],
    *,
    partition: Partition,
    test_split: float,
    validation_split: float,
    closest: bool,
    rng: np.random.Generator,
    chunk_size: int,
    progress: bool,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> _Draws:
    """Draw counts[s] events at sampling_thetas[s] for every set s, all sets at once.

    With ``nuisances``, each draw also carries its event's nuisance ratios, and the per-component
    sums Σ_i m_ic a_ik (the ν-derivative of the rate) are accumulated in the first pass.
    """
    if nuisances and not src.nuisance_names:
        raise ConfigError(
            f"{src.label} stores no nuisance weights: reconstruct with --systematics (or pass "
            "nuisance ratios to ArrayEvents) to draw samples with nuisances"
        )
    start, stop, corr = partition_bounds(
        src.n_events, partition, test_split=test_split, validation_split=validation_split
    )
    groups = _make_groups(src, sampling_thetas, closest)
    neff = _ExactNeff.build(sampling_thetas, groups, src.components, stop - start, exact_n_effective)
    reader = _ChunkReader(src, start, stop, chunk_size=chunk_size, progress=progress, nuisances=nuisances)
    sums = _first_pass(src, reader, groups, neff, start, stop, partition)
    n_k = len(src.nuisance_names) if nuisances else 0
    sigma_c, env_c, sigma_ca = _group_sums(sums, groups, corr, len(src.components), n_k)
    rates = _set_rates(src, sampling_thetas, sigma_c, env_c, groups.set_group, partition)
    run_ids = sorted(k for k in sums.m if k >= 0)
    logger.debug("runs %s, groups %s, min acceptance %.3g", run_ids, groups.bench.tolist(), rates.accept_rate.min())
    st = _proposal_passes(
        src,
        reader,
        groups,
        rates,
        env_c,
        counts,
        corr=corr,
        n_k=n_k,
        rng=rng,
        negative_weights=negative_weights,
        exact_neff=neff.enabled,
    )
    max_p = neff.max_p(corr, rates.sigma) if neff.enabled else st.max_p
    n_eff = 1.0 / np.maximum(max_p, 1e-300)
    return _Draws(
        st.x,
        st.m * corr,
        groups.set_group[st.draw_set],
        st.draw_set,
        sigma_c,
        n_eff[st.draw_set],
        st.nu if n_k else None,
        sigma_ca if n_k else None,
    )


def _linear_coefficients(nu: NDArray[np.float64]) -> NDArray[np.float64]:
    """a_ik = ∂ log g_i/∂ν_k at ν = 0 from the (n, 2K) ratios [up, down] (MadMiner's morphing)."""
    k = nu.shape[1] // 2
    return ratio_coefficients(nu[:, :k], nu[:, k:])[0]


def _check_negative(src: Any, neg: NDArray[np.bool_], f_p: NDArray[np.float64], mode: str) -> int:
    """Count proposed events with w(θ) < 0; refuse them unless ``mode == "drop"``."""
    n = int(neg.sum())
    if n and mode != "drop":
        theta_note = ""
        try:
            theta_note = f" (first at component factors {np.round(f_p[np.argmax(neg)], 6).tolist()})"
        except (IndexError, ValueError):
            pass
        raise EventFileError(
            f"{src.label}: events with a negative weight at the sampling theta{theta_note}: they cannot be "
            "drawn (a probability is never negative), and leaving them out biases the sample and its "
            "cross section. Refusing; pass negative_weights='drop' (CLI: --drop-negative-weights) to "
            "drop them as MadMiner does, with a warning"
        )
    return n


# ---------------------------------------------------------------------------------------- gold
def _gold(
    d: _Draws,
    comps: NDArray[np.int64],
    theta: NDArray[np.float64],
    *,
    score: bool,
    index: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """log p(x,z|θ) up to a θ-independent constant, and the joint score, per draw.

    ``theta`` is one point per draw (n, P), or per set (S, P) with ``index`` (n,) mapping draws
    to sets (the factors are then computed once per set).
    """
    f = component_factors(theta, comps)  # (n or S, C)
    if index is not None:
        f = f[index]
    sig = d.sigma_c[d.group]  # (n, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.einsum("nc,nc->n", f, d.m)
        s = np.einsum("nc,nc->n", f, sig)
        logp = np.log(w) - np.log(s)
        t = None
        if score:
            gf = component_factor_gradients(theta, comps)  # (n or S, P, C)
            if index is not None:
                gf = gf[index]
            t = np.einsum("npc,nc->np", gf, d.m) / w[:, None] - np.einsum("npc,nc->np", gf, sig) / s[:, None]
    return logp, t


def _nuisance_gold(
    d: _Draws, comps: NDArray[np.int64], theta: NDArray[np.float64], index: NDArray[np.int64] | None
) -> dict[str, NDArray[np.float64]]:
    """Per draw: the nuisance ratios and the joint nuisance score at (θ, ν = 0),

    t_k(x,z|θ) = ∂/∂ν_k log[w(z|θ) g(z|ν) / σ(θ,ν)] = a_k(z) − Σ_c f_c(θ) Σ_i m_ic a_ik / σ(θ),
    the second term from the same (closest-benchmark) events that normalise the joint score.
    """
    if d.nu is None or d.sigma_ca is None:
        return {}
    f = component_factors(theta, comps)
    if index is not None:
        f = f[index]
    up, down = d.nuisance_ratios()
    rate = np.zeros(up.shape)
    for g in np.unique(d.group):
        rows = d.group == g
        rate[rows] = (f[rows] @ d.sigma_ca[g]) / (f[rows] @ d.sigma_c[g])[:, None]
    return {"nu_up": up, "nu_down": down, "t_xz_nu": _linear_coefficients(d.nu) - rate}


# ---------------------------------------------------------------------------------------- public
def _common_meta(src: _Source, kind: str, partition: str, closest: bool, seed_info: Any) -> dict[str, Any]:
    return {
        "source": src.label,
        "kind": kind,
        "partition": partition,
        "sample_only_from_closest_benchmark": closest,
        "rng": seed_info,
        "lhcgold_version": __version__,
    }


def _rng(rng: np.random.Generator | int | None) -> tuple[np.random.Generator, Any]:
    return np.random.default_rng(rng), (rng if isinstance(rng, int) else None)


def _resolve(
    spec: ThetaSpec, src: _Source, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    th, cnt, _ = resolve(
        spec,
        n_samples=n,
        parameter_names=src.parameter_names,
        benchmark_names=src.benchmark_names,
        benchmark_values=src.benchmark_values,
        ranges=src.ranges,
        rng=rng,
    )
    return th, cnt


def _check_n(n_samples: int) -> None:
    if int(n_samples) < 1:
        raise ConfigError(f"n_samples must be at least 1, got {n_samples} (empty sample)")


def _single(
    events: Any,
    theta: ThetaSpec,
    n_samples: int,
    *,
    kind: str,
    score: bool,
    partition: Partition,
    test_split: float,
    validation_split: float,
    closest: bool,
    rng: Any,
    chunk_size: int,
    progress: bool,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    _check_n(n_samples)
    src = _open(events)
    gen, seed = _rng(rng)
    thetas, counts = _resolve(theta, src, n_samples, gen)
    d = _draw(
        src,
        thetas,
        counts,
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=closest,
        rng=gen,
        chunk_size=chunk_size,
        progress=progress,
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )
    th = thetas[d.set_index]
    t = _gold(d, src.components, thetas, score=True, index=d.set_index)[1] if score else None
    nu = _nuisance_gold(d, src.components, thetas, d.set_index)
    perm = gen.permutation(len(th))
    return TrainingSet(
        kind=kind,
        x=d.x[perm],
        theta0=th[perm],
        t_xz=None if t is None else t[perm],
        n_effective=d.n_eff[perm],
        observables=src.observables,
        parameters=src.parameter_names,
        nuisances=src.nuisance_names if nu else (),
        metadata=_common_meta(src, kind, partition, closest, seed),
        **{k: v[perm] for k, v in nu.items()},
    )


def sample_plain(
    events: Any,
    *,
    theta: ThetaSpec,
    n_samples: int,
    partition: Partition = "train",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Draw x at the points of ``theta`` (no gold).

    Args:
        events: an events file path, an :class:`~lhcgold.io.events.EventFile` or
            :class:`ArrayEvents`.
        theta: θ specification (:mod:`lhcgold.augment.thetas`).
        n_samples: total number of samples.
        partition: which partition of the events file to draw from.
        test_split: fraction of the events in the test partition.
        validation_split: fraction of the events in the validation partition.
        sample_only_from_closest_benchmark: see the module docstring.
        rng: random generator or seed.
        chunk_size: events per chunk when streaming the file.
        progress: show a progress bar for the first pass.
        exact_n_effective: compute n_effective = 1/max_i p_i(θ) exactly (MadMiner's diagnostic;
            one (distinct θ) × events product, skipped beyond 5·10⁸). By default it is estimated
            from the proposed events, which makes it an upper bound.
        negative_weights: events with a negative weight at a sampling θ cannot be drawn (a
            probability is never negative), so a sample without them is biased: ``"error"``
            (default) refuses with a clear message; ``"drop"`` draws from max(w, 0) with a warning
            (MadMiner's behaviour). The same option exists on every ``sample_*`` function.
        nuisances: also carry, per drawn event, the nuisance parameters' joint ratios
            ``nu_up``/``nu_down`` and the joint nuisance score ``t_xz_nu`` at θ0 (files reconstructed
            with ``--systematics``; ConfigError otherwise). The same option exists on every
            ``sample_*`` function.
    """
    return _single(
        events,
        theta,
        n_samples,
        kind="plain",
        score=False,
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def sample_local(
    events: Any,
    *,
    theta: ThetaSpec,
    n_samples: int,
    partition: Partition = "train",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Draw x at ``theta`` with the joint score t(x,z|θ) (SALLY, SALLINO).

    Arguments as :func:`sample_plain`.
    """
    return _single(
        events,
        theta,
        n_samples,
        kind="local",
        score=True,
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def sample_density(
    events: Any,
    *,
    theta: ThetaSpec,
    n_samples: int,
    partition: Partition = "train",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Draw x at the points of ``theta`` with t(x,z|θ) (NDE, SCANDAL).

    Arguments as :func:`sample_plain`.
    """
    return _single(
        events,
        theta,
        n_samples,
        kind="density",
        score=True,
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def sample_test(
    events: Any,
    *,
    theta: ThetaSpec,
    n_samples: int,
    partition: Partition = "test",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Draw x at ``theta`` from the test partition. Arguments as :func:`sample_plain`."""
    return _single(
        events,
        theta,
        n_samples,
        kind="test",
        score=False,
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def _pairs(
    src: _Source, theta0: ThetaSpec, theta1: ThetaSpec, n_half: int, gen: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Sets (θ0, θ1) zipped cyclically, with the number of draws per set."""
    th0, _ = _resolve(theta0, src, n_half, gen)
    th1, _ = _resolve(theta1, src, n_half, gen)
    n_sets = max(len(th0), len(th1))
    i = np.arange(n_sets)
    base, extra = divmod(n_half, n_sets)
    counts = np.full(n_sets, base, dtype=np.int64)
    counts[:extra] += 1
    return th0[i % len(th0)], th1[i % len(th1)], counts


def sample_ratio(
    events: Any,
    *,
    theta0: ThetaSpec,
    theta1: ThetaSpec,
    n_samples: int,
    partition: Partition = "train",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Ratio sample: half at θ0 (y = 0), half at θ1 (y = 1), with log r(x,z|θ0,θ1) and t(x,z|θ0).

    The θ0 and θ1 points are zipped cyclically into sets (as MadMiner does); random points are
    drawn afresh for the second half. Arguments as :func:`sample_plain`.
    """
    return _ratio_like(
        events,
        theta0=theta0,
        theta1=theta1,
        n_samples=n_samples,
        additional=(),
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        kind="ratio",
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def sample_more_ratios(
    events: Any,
    *,
    theta0: ThetaSpec,
    theta1: ThetaSpec,
    n_samples: int,
    additional_thetas: Sequence[ThetaSpec] = (),
    partition: Partition = "train",
    test_split: float = 0.2,
    validation_split: float = 0.2,
    sample_only_from_closest_benchmark: bool = True,
    rng: np.random.Generator | int | None = None,
    chunk_size: int = 100_000,
    progress: bool = False,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    """Ratio sample for doubly parameterised estimators, with t(x,z|θ0) and t(x,z|θ1).

    Each event drawn at θ0 is also paired with every additional θ as a new denominator, and
    each event drawn at θ1 with every additional θ as a new numerator (MadMiner's
    ``sample_train_more_ratios`` oversampling); the total is n_samples × (1 + len(additional)).
    """
    return _ratio_like(
        events,
        theta0=theta0,
        theta1=theta1,
        n_samples=n_samples,
        additional=tuple(additional_thetas),
        partition=partition,
        test_split=test_split,
        validation_split=validation_split,
        closest=sample_only_from_closest_benchmark,
        rng=rng,
        chunk_size=chunk_size,
        progress=progress,
        kind="more_ratios",
        exact_n_effective=exact_n_effective,
        negative_weights=negative_weights,
        nuisances=nuisances,
    )


def _ratio_like(
    events: Any,
    *,
    theta0: ThetaSpec,
    theta1: ThetaSpec,
    n_samples: int,
    additional: tuple[ThetaSpec, ...],
    partition: Partition,
    test_split: float,
    validation_split: float,
    closest: bool,
    rng: Any,
    chunk_size: int,
    progress: bool,
    kind: str,
    exact_n_effective: bool = False,
    negative_weights: NegativeWeights = "error",
    nuisances: bool = False,
) -> TrainingSet:
    _check_n(n_samples)
    if n_samples < 2:
        raise ConfigError("a ratio sample needs n_samples >= 2 (half at theta0, half at theta1)")
    src = _open(events)
    gen, seed = _rng(rng)
    halves = []
    for y, n_half in ((0, n_samples // 2), (1, n_samples - n_samples // 2)):
        th0_s, th1_s, counts = _pairs(src, theta0, theta1, n_half, gen)
        sampling = th0_s if y == 0 else th1_s
        d = _draw(
            src,
            sampling,
            counts,
            partition=partition,
            test_split=test_split,
            validation_split=validation_split,
            closest=closest,
            rng=gen,
            chunk_size=chunk_size,
            progress=progress,
            exact_n_effective=exact_n_effective,
            negative_weights=negative_weights,
            nuisances=nuisances,
        )
        # (points, index) pairs: set-level points with the draw -> set map, or per-draw points
        rows0: list[tuple[NDArray[np.float64], NDArray[np.int64] | None]] = [(th0_s, d.set_index)]
        rows1: list[tuple[NDArray[np.float64], NDArray[np.int64] | None]] = [(th1_s, d.set_index)]
        for spec in additional:
            pts, _ = _resolve(spec, src, len(d.x), gen)
            extra = (pts, np.arange(len(d.x)) % len(pts))
            if y == 0:
                rows0.append(rows0[0])
                rows1.append(extra)
            else:
                rows0.append(extra)
                rows1.append(rows1[0])
        for (p0, i0), (p1, i1) in zip(rows0, rows1, strict=True):
            t0, t1 = p0[i0], p1[i1]
            lp0, s0 = _gold(d, src.components, p0, score=True, index=i0)
            lp1, s1 = _gold(d, src.components, p1, score=kind == "more_ratios", index=i1)
            halves.append(
                dict(
                    x=d.x,
                    theta0=t0,
                    theta1=t1,
                    y=np.full(len(d.x), float(y)),
                    log_r_xz=lp0 - lp1,
                    t_xz=s0,
                    t_xz1=s1,
                    n_effective=d.n_eff,
                    **_nuisance_gold(d, src.components, p0, i0),
                )
            )
    cat = {k: (None if halves[0][k] is None else np.concatenate([h[k] for h in halves])) for k in halves[0]}
    perm = gen.permutation(len(cat["x"]))
    cat = {k: (None if v is None else v[perm]) for k, v in cat.items()}
    bad = ~np.isfinite(cat["log_r_xz"])
    if np.any(bad):
        logger.warning(
            "%d samples with non-finite joint ratio (zero or negative weight at theta0/theta1) were dropped",
            int(bad.sum()),
        )
        cat = {k: (None if v is None else v[~bad]) for k, v in cat.items()}
    return TrainingSet(
        kind=kind,
        observables=src.observables,
        parameters=src.parameter_names,
        nuisances=src.nuisance_names if "nu_up" in cat else (),
        metadata=_common_meta(src, kind, partition, closest, seed),
        **cat,
    )
