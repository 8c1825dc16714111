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

__all__ = ["scale_variation_ratios"]

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
    from .processes import DrellYanProcess

    proc = result.process
    if not isinstance(proc, DrellYanProcess):
        raise ConfigError(f"scale variations are implemented for the Drell-Yan process, not {type(proc).__name__}")
    ks = [float(k) for k in factors]
    if not ks or any(not np.isfinite(k) or k <= 0 for k in ks):
        raise ConfigError(f"scale factors must be positive numbers, got {list(factors)}")
    mom = np.asarray(result.particles.momenta)
    half = 0.5 * proc.sqrt_s
    x1 = (mom[:, 0, 0] + mom[:, 0, 3]) / (2 * half)
    x2 = (mom[:, 1, 0] - mom[:, 1, 3]) / (2 * half)
    shat = x1 * x2 * proc.s
    chan = np.asarray(result.channel, dtype=np.intp)
    rows = np.arange(len(chan))
    mu2 = np.broadcast_to(np.asarray(proc._mu2(shat), dtype=np.float64), shat.shape)
    nominal = proc._lumis(x1, x2, mu2)[rows, chan]
    if np.any(nominal <= 0):
        raise ConfigError("some events have a vanishing parton luminosity at the nominal scale")
    out: dict[str, NDArray[np.float64]] = {}
    for k in ks:
        out[f"muf_{k:g}"] = proc._lumis(x1, x2, mu2 * k * k)[rows, chan] / nominal
        out[f"mur_{k:g}"] = np.ones(len(chan))  # |M|² is O(α_s⁰) at LO: μ_R changes nothing
    logger.info("scale variations for %d events: mu_F factors %s (mu_R variations are exactly 1 at LO)", len(chan), ks)
    return out
