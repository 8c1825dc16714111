r"""Choosing the histogram baseline fairly: every candidate histogram ranked by its Fisher information.

A histogram baseline built from CP-even observables only (p_T, masses, cos θ) is blind to a CP-odd
coupling at the SM: its information :math:`I_{a_3a_3}` vanishes, and any ML-versus-histogram
comparison then credits ML with information the histogram was never allowed to see. Including a
signed angle (e.g. φ* ∈ (−π, π], whose sine carries the a₃ interference) among the candidates lets the
choice by information pick it.

The information of a histogram estimated from a finite weighted sample is biased upwards by the
Monte-Carlo noise of the per-bin gradients: with :math:`g_i = \nabla w_i` the per-event weight
gradients, :math:`E[\hat I] \approx I + B` with the noise floor

.. math:: B = L \sum_k \frac{\sum_{i \in k} g_i g_i^T}{\sigma_k},

so a direction the histogram cannot see shows :math:`\hat I \approx B`, not zero.
:func:`histogram_noise_floor` computes B; :func:`choose_histogram` reports it for every candidate.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from . import _binning
from ._data import (
    column_indices,
    components_of,
    factor_gradients,
    factors,
    require_finite,
    resolve_theta,
)
from .fisher import FisherInformation, histogram_information

__all__ = ["HistogramCandidate", "HistogramChoice", "choose_histogram", "histogram_noise_floor"]


def histogram_noise_floor(
    events: EventsLike,
    observables: str | Sequence[str],
    *,
    edges: Sequence[ArrayLike],
    theta: ArrayLike | str | None = None,
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> NDArray[np.float64]:
    """Expected Monte-Carlo contribution B (P, P) to the histogram information estimated from ``events``.

    B = L Σ_k (Σ_{i∈k} ∇w_i ∇w_iᵀ) / σ_k over the bins with σ_k > 0 (the clamped outer bins included,
    as in :func:`~lhcgold.infer.histogram_information`). A parameter the histogram is blind to shows an
    estimated information of about B (a χ²-like spread with one degree of freedom per bin).

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView`.
        observables: one name or a sequence of names (one axis each).
        edges: the bin edges per axis (e.g. ``info.details["edges"]`` of the histogram information).
        theta: where the information is evaluated.
        luminosity_ifb: integrated luminosity [fb⁻¹].
        chunk_size: events per chunk.
    """
    if not (np.isfinite(luminosity_ifb) and luminosity_ifb > 0):
        raise ConfigError(f"luminosity_ifb must be positive, got {luminosity_ifb}")
    sample = as_view(events)
    names = (observables,) if isinstance(observables, str) else tuple(observables)
    cols = column_indices(names, sample.observables)
    if len(edges) != len(cols):
        raise ConfigError(f"{len(edges)} edge arrays for {len(cols)} histogram axes")
    edge_arrays = [np.asarray(e, dtype=np.float64) for e in edges]
    comps = components_of(sample.setup)
    th = resolve_theta(theta, sample.setup)
    f, df = factors(th, comps), factor_gradients(th, comps)
    n_bins, n_par = _binning.n_bins_total(edge_arrays), len(th)
    sigma = np.zeros(n_bins)
    moments = np.zeros((n_bins, n_par, n_par))
    pos = sample.start
    for x, m in sample.component_chunks(chunk_size=chunk_size):
        require_finite(x[:, cols], sample, pos, "observable")
        pos += len(x)
        idx = _binning.bin_indices(x[:, cols], edge_arrays)
        sigma += np.bincount(idx, weights=m @ f, minlength=n_bins)
        g = m @ df.T  # (n, P)
        for a in range(n_par):
            for b in range(a, n_par):
                moments[:, a, b] += np.bincount(idx, weights=g[:, a] * g[:, b], minlength=n_bins)
    moments = np.triu(moments) + np.transpose(np.triu(moments, 1), (0, 2, 1))
    ok = sigma > 0
    return float(luminosity_ifb) * 1000.0 * np.einsum("kab,k->ab", moments[ok], 1.0 / sigma[ok])


@dataclass(frozen=True)
class HistogramCandidate:
    """One candidate histogram with its information and Monte-Carlo noise floor.

    Attributes:
        observables: the histogram axes.
        information: its Fisher information (``details["edges"]`` holds the binning).
        noise_floor: B of :func:`histogram_noise_floor` at the same θ and luminosity.
    """

    observables: tuple[str, ...]
    information: FisherInformation
    noise_floor: NDArray[np.float64]

    @property
    def det(self) -> float:
        return float(np.linalg.det(self.information.matrix))

    @property
    def trace(self) -> float:
        return float(np.trace(self.information.matrix))

    def blind_to(self, *, factor: float = 3.0) -> tuple[str, ...]:
        """Parameters whose diagonal information is within ``factor`` × the noise floor (not measured)."""
        diag, floor = np.diag(self.information.matrix), np.diag(self.noise_floor)
        return tuple(n for n, d, b in zip(self.information.parameter_names, diag, floor) if d <= factor * b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "observables": list(self.observables),
            "det": self.det,
            "trace": self.trace,
            "information": self.information.matrix.tolist(),
            "noise_floor": self.noise_floor.tolist(),
            "blind_to": list(self.blind_to()),
        }


@dataclass(frozen=True)
class HistogramChoice:
    """The candidates ranked by the determinant of their information, then its trace (best first).

    Attributes:
        candidates: every candidate, best first.
        bins: the binning given to :func:`choose_histogram`.
    """

    candidates: tuple[HistogramCandidate, ...]
    bins: Any = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> HistogramCandidate:
        return self.candidates[0]

    @property
    def observables(self) -> list[str]:
        return list(self.best.observables)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``observables`` and ``bins`` of the best one, then all ``candidates``."""
        bins = self.bins.tolist() if isinstance(self.bins, np.ndarray) else self.bins
        return {"observables": self.observables, "bins": bins, "candidates": [c.to_dict() for c in self.candidates]}


def choose_histogram(
    events: EventsLike,
    candidates: Sequence[str],
    *,
    n_axes: int = 2,
    bins: _binning.BinsLike | None = None,
    theta: ArrayLike | str | None = "sm",
    luminosity_ifb: float = 300.0,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> HistogramChoice:
    """The ``n_axes``-D histogram of ``candidates`` observables with the most Fisher information.

    Every combination of ``n_axes`` candidates present in the events is scored by the determinant of
    its information at ``theta`` (then the trace, for ties such as a blind direction). Include a
    CP-odd observable (a signed angle such as ``phi_star``, or ``sin_phi_star``) among the candidates
    when a parameter is CP-odd: otherwise every candidate is blind to it.

    Args:
        events: events file path, ``EventFile`` or :class:`~lhcgold.io.view.EventsView` (use the training partition).
        candidates: observable names; names the events do not have are skipped.
        n_axes: histogram dimension.
        bins: as for :func:`~lhcgold.infer.histogram_information`.
        theta: where the information is evaluated (a benchmark name or θ; default the "sm" benchmark,
            else the origin).
        luminosity_ifb: integrated luminosity [fb⁻¹].
        chunk_size: events per chunk.

    Raises:
        ConfigError: fewer than ``n_axes`` candidates among the events' observables.
    """
    sample = as_view(events)
    if theta == "sm" and "sm" not in {b.name for b in sample.setup.benchmarks}:
        theta = None
    available = set(sample.observables)
    names = list(dict.fromkeys(n for n in candidates if n in available))
    if n_axes < 1 or len(names) < n_axes:
        raise ConfigError(
            f"need {n_axes} histogram candidates among the observables {sorted(available)}, got {list(candidates)}"
        )
    out = []
    for combo in itertools.combinations(names, n_axes):
        info = histogram_information(
            sample, list(combo), bins=bins, theta=theta, luminosity_ifb=luminosity_ifb, chunk_size=chunk_size
        )
        floor = histogram_noise_floor(
            sample,
            list(combo),
            edges=info.details["edges"],
            theta=theta,
            luminosity_ifb=luminosity_ifb,
            chunk_size=chunk_size,
        )
        out.append(HistogramCandidate(tuple(combo), info, floor))
    out.sort(key=lambda c: (c.det, c.trace), reverse=True)
    return HistogramChoice(tuple(out), bins=bins)
