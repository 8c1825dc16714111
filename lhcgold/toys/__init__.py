"""Simulators with exact likelihoods, for testing losses, estimators and limits.

:class:`GaussianMixtureToy`: a latent-class Gaussian mixture whose class fractions are
quadratic in θ; p(x|θ), the joint ratio and the joint score are closed form.
"""

from __future__ import annotations

from .mixture import GaussianMixtureToy, toy_setup, write_toy_events

__all__ = ["GaussianMixtureToy", "toy_setup", "write_toy_events"]
