r"""Scale-variation weights of embedded-generator events (nuisance weights for the limits).

At leading order both embedded processes (Drell–Yan q q̄ → γ*/Z → ℓℓ and q q̄' → W* → WH) are
purely electroweak: α_s does not appear in |M|², so a renormalisation-scale (μ_R) variation
changes no weight (its ratio is exactly 1). The factorisation scale μ_F enters only through the
parton densities, so the weight of an event at μ_F = k μ_0 is its nominal weight times the ratio
of the parton luminosities of its channel,

.. math::
    \frac{w(k\mu_0)}{w(\mu_0)} = \frac{\sum_{q \in \rm channel} f_q(x_1, k\mu_0)\, f_{\bar q}(x_2, k\mu_0)}
                                       {\sum_{q \in \rm channel} f_q(x_1, \mu_0)\, f_{\bar q}(x_2, \mu_0)},

exact per event (the matrix element cancels; the channel's flavour sum is what the event weight
carries). x1, x2 are read from the incoming partons of the event record.

PDF variations are not available for embedded events: the parton-density grids shipped with
``pythia8mc`` (``share/Pythia8/pdfdata``) are central members only (``*_0000.dat``, ``*.00.dat``; no
LHAPDF ``.info`` files, no error members), so there is no member set to reweight to, and
``lhcgold reconstruct --systematics pdf`` stops with "no PDF members among the file's weights". PDF
nuisances come from MG5 files generated with ``use_syst = True``.

Example:
    >>> from lhcgold.config import load_card                                       # doctest: +SKIP
    >>> res = generate(load_card("cards/dy.yaml"), n_events=10_000, rng=1)         # doctest: +SKIP
    >>> ratios = scale_variation_ratios(res, factors=(0.5, 2.0))                   # doctest: +SKIP
    >>> sorted(ratios)                                                             # doctest: +SKIP
    ['muf_0.5', 'muf_2.0', 'mur_0.5', 'mur_2.0']
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ConfigError

__all__ = ["SCALE_GRID", "muf_ratios", "scale_variation_ids", "scale_variation_ratios", "scale_variation_weights"]

#: (μR, μF) factors of MG5's systematics module: the 3 × 3 grid, central point included
SCALE_GRID: tuple[tuple[float, float], ...] = tuple((r, f) for r in (0.5, 1.0, 2.0) for f in (0.5, 1.0, 2.0))

logger = logging.getLogger(__name__)


def scale_variation_ratios(result: Any, *, factors: Sequence[float] = (0.5, 2.0)) -> dict[str, NDArray[np.float64]]:
    """Per-event weight ratios w(varied)/w(nominal) for μ_F and μ_R scaled by each factor.

    Args:
        result: a :class:`~lhcgold.generate.embedded.GenerationResult` of the Drell–Yan process.
        factors: scale factors k (μ → k μ_0), e.g. (0.5, 2.0).

    Returns:
        ``{"muf_<k>": (N,), "mur_<k>": (N,)}``; the μ_R ratios are exactly 1 (no α_s at LO).

    Raises:
        ConfigError: a process other than Drell–Yan, or a non-positive factor.
    """
    muf = muf_ratios(result.process, result.particles.momenta, result.channel, factors)
    ks = _check_factors(factors)
    out: dict[str, NDArray[np.float64]] = {}
    for k in ks:
        out[f"muf_{k:g}"] = muf[k]
        out[f"mur_{k:g}"] = np.ones(len(muf[k]))  # |M|² is O(α_s⁰) at LO: μ_R changes nothing
    chan = result.channel
    logger.info("scale variations for %d events: mu_F factors %s (mu_R variations are exactly 1 at LO)", len(chan), ks)
    return out


def _check_factors(factors: Sequence[float]) -> list[float]:
    ks = [float(k) for k in factors]
    if not ks or any(not np.isfinite(k) or k <= 0 for k in ks):
        raise ConfigError(f"scale factors must be positive numbers, got {list(factors)}")
    return ks


def muf_ratios(process: Any, momenta: Any, channel: Any, factors: Sequence[float]) -> dict[float, NDArray[np.float64]]:
    """w(μF = k μ0)/w(μ0) per event for each factor k (the ratio of the channel's parton luminosities).

    Args:
        process: the Drell–Yan process.
        momenta: (N, n, 4) event record momenta (incoming partons first).
        channel: (N,) the flavour channel of each event.
        factors: the factors k.

    Raises:
        ConfigError: a process other than Drell–Yan, a non-positive factor, or a vanishing nominal luminosity.
    """
    check_scale_variations(process)
    ks = _check_factors(factors)
    mom = np.asarray(momenta)
    half = 0.5 * process.sqrt_s
    x1 = (mom[:, 0, 0] + mom[:, 0, 3]) / (2 * half)
    x2 = (mom[:, 1, 0] - mom[:, 1, 3]) / (2 * half)
    shat = x1 * x2 * process.s
    chan = np.asarray(channel, dtype=np.intp)
    rows = np.arange(len(chan))
    mu2 = np.broadcast_to(np.asarray(process._mu2(shat), dtype=np.float64), shat.shape)
    nominal = process._lumis(x1, x2, mu2)[rows, chan]
    if np.any(nominal <= 0):
        raise ConfigError("some events have a vanishing parton luminosity at the nominal scale")
    return {k: process._lumis(x1, x2, mu2 * k * k)[rows, chan] / nominal for k in ks}


def check_scale_variations(process: Any) -> None:
    """Raise ConfigError unless the process has scale-variation weights (``supports_scale_variations``)."""
    if not getattr(process, "supports_scale_variations", False):
        raise ConfigError(
            f"the {getattr(process, 'name', type(process).__name__)!r} process has no scale-variation weights",
            path="generate.scale_variations",
        )


def scale_variation_ids() -> tuple[tuple[str, float, float], ...]:
    """(weight id, μR factor, μF factor) of the :data:`SCALE_GRID` weights the LHE writer declares."""
    return tuple((f"scale_mur{r:g}_muf{f:g}", r, f) for r, f in SCALE_GRID)


def scale_variation_weights(
    process: Any, momenta: Any, channel: Any, nominal: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(N, 9) weights at the :data:`SCALE_GRID` points: the nominal weight times the μF luminosity
    ratio (μR leaves LO Drell–Yan unchanged), in :func:`scale_variation_ids` order."""
    muf = muf_ratios(process, momenta, channel, (0.5, 2.0))
    muf[1.0] = np.ones(len(nominal))
    nom = np.asarray(nominal, dtype=np.float64)
    return np.stack([nom * muf[f] for _, f in SCALE_GRID], axis=1)
