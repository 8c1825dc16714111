r"""Loss functions, one per method ingredient (MadMiner's conventions, numerically stable).

Conventions: y = 0 for samples drawn at θ0 (numerator), y = 1 at θ1 (denominator); the
network outputs :math:`\ell = \log\hat r(x|\theta_0,\theta_1)`; the classifier output is
:math:`\hat s = 1/(1+\hat r) = \sigma(-\ell)`. Means are over the whole batch (masked entries
count as zeros in the denominator), and the score MSE averages over parameters too
(torch ``MSELoss``), as in MadMiner.

* CARL: :math:`\mathrm{BCE}(\hat s, y)`
* ROLR: :math:`\mathrm{mean}[(1-y)(1/\hat r - 1/r)^2] + \mathrm{mean}[y(\hat r - r)^2]`, with
  log r̂ clipped to ±10 and r to [e^{-10}, e^{10}]
* ALICE: :math:`\mathrm{BCE}(\hat s, s)`, soft target :math:`s = 1/(1 + r(x,z))`
* score term: :math:`\mathrm{mean}[(1-y)\,\|\hat t - t\|^2]` (ratio methods),
  :math:`\mathrm{mean}\|\hat t - t\|^2` (SALLY, SCANDAL)
* NLL: :math:`-\mathrm{mean}\log\hat p(x|\theta)`
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["alice_loss", "carl_loss", "nll_loss", "rolr_loss", "score_mse"]

_CLIP = 10.0


def carl_loss(log_r_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """BCE(ŝ, y) with ŝ = σ(−log r̂)."""
    return -(y * F.logsigmoid(-log_r_hat) + (1.0 - y) * F.logsigmoid(log_r_hat)).mean()


def alice_loss(log_r_hat: torch.Tensor, log_r_xz: torch.Tensor) -> torch.Tensor:
    """BCE(ŝ, s) with the soft target s = 1/(1 + r(x,z)) = σ(−log r)."""
    s = torch.sigmoid(-log_r_xz)
    return -(s * F.logsigmoid(-log_r_hat) + (1.0 - s) * F.logsigmoid(log_r_hat)).mean()


def rolr_loss(log_r_hat: torch.Tensor, y: torch.Tensor, log_r_xz: torch.Tensor) -> torch.Tensor:
    """Ratio regression: (1−y)(1/r̂ − 1/r)² + y(r̂ − r)², clipped as in MadMiner."""
    lr_hat = torch.clamp(log_r_hat, -_CLIP, _CLIP)
    lr = torch.clamp(log_r_xz, -_CLIP, _CLIP)
    r_hat, r = torch.exp(lr_hat), torch.exp(lr)
    return ((1.0 - y) * (1.0 / r_hat - 1.0 / r) ** 2).mean() + (y * (r_hat - r) ** 2).mean()


def score_mse(t_hat: torch.Tensor, t_xz: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over samples and parameters of weight·(t̂ − t)² (weight (n,) broadcast)."""
    sq = (t_hat - t_xz) ** 2
    if weight is not None:
        sq = sq * weight[:, None]
    return sq.mean()


def nll_loss(log_p_hat: torch.Tensor) -> torch.Tensor:
    """−mean log p̂."""
    return -log_p_hat.mean()
