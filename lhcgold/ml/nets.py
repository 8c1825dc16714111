"""Network architectures. Input standardisation lives in buffers, so it is saved with the weights.

All networks take raw (unscaled) x and θ and scale inside, so gradients with respect to θ
(estimated scores) come out in physical units.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "DoubleRatioNet",
    "FlowNet",
    "MLP",
    "MorphingRatioNet",
    "RatioNet",
    "ScoreNet",
]

ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "lrelu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "softplus": nn.Softplus,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


class MLP(nn.Module):
    """Linear → activation → … → Linear (dropout after each activation when > 0)."""

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_out: int,
        activation: str = "tanh",
        dropout: float = 0.0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        last = n_in
        for h in hidden:
            layers += [nn.Linear(last, int(h)), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            last = int(h)
        layers.append(nn.Linear(last, n_out))
        self.layers = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.layers(h)


class _Scaled(nn.Module):
    def __init__(self, n_obs: int, n_par: int):
        super().__init__()
        self.register_buffer("x_mean", torch.zeros(n_obs, dtype=torch.float64))
        self.register_buffer("x_std", torch.ones(n_obs, dtype=torch.float64))
        self.register_buffer("theta_mean", torch.zeros(n_par, dtype=torch.float64))
        self.register_buffer("theta_std", torch.ones(n_par, dtype=torch.float64))

    def sx(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.x_mean.to(x.dtype)) / self.x_std.to(x.dtype)

    def sth(self, th: torch.Tensor) -> torch.Tensor:
        return (th - self.theta_mean.to(th.dtype)) / self.theta_std.to(th.dtype)


class RatioNet(_Scaled):
    """log r̂(x|θ) = MLP(θ, x) (single parameterised: denominator fixed)."""

    def __init__(self, n_obs: int, n_par: int, hidden: Sequence[int], activation: str, dropout: float = 0.0):
        super().__init__(n_obs, n_par)
        self.mlp = MLP(n_obs + n_par, hidden, 1, activation, dropout)

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([self.sth(theta), self.sx(x)], dim=1))[:, 0]


class DoubleRatioNet(_Scaled):
    """log r̂(x|θ0,θ1) = f(θ0, θ1, x) − f(θ1, θ0, x) (antisymmetric by construction)."""

    def __init__(self, n_obs: int, n_par: int, hidden: Sequence[int], activation: str, dropout: float = 0.0):
        super().__init__(n_obs, n_par)
        self.mlp = MLP(n_obs + 2 * n_par, hidden, 1, activation, dropout)

    def forward(self, x: torch.Tensor, theta0: torch.Tensor, theta1: torch.Tensor) -> torch.Tensor:
        sx, s0, s1 = self.sx(x), self.sth(theta0), self.sth(theta1)
        return (self.mlp(torch.cat([s0, s1, sx], 1)) - self.mlp(torch.cat([s1, s0, sx], 1)))[:, 0]


class ScoreNet(_Scaled):
    """t̂(x) = MLP(x) × t_scale (the target's standard deviation, a buffer)."""

    def __init__(self, n_obs: int, n_par: int, hidden: Sequence[int], activation: str, dropout: float = 0.0):
        super().__init__(n_obs, n_par)
        self.register_buffer("t_scale", torch.ones(n_par, dtype=torch.float64))
        self.mlp = MLP(n_obs, hidden, n_par, activation, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.sx(x)) * self.t_scale.to(x.dtype)


class MorphingRatioNet(_Scaled):
    """Morphing-aware ratio (MadMiner's DenseMorphingAwareRatioModel, component basis).

    r̂(x|θ) = Σ_b W_b(θ) ρ_b(x) / Σ_b W_b(θ) e^{s_b}, with ρ_b = exp(clamp(g_b(x), ±5)) ≈
    dσ(x|θ_b)/dσ(x|θ_ref), learnable log cross-section ratios s_b, and morphing weights
    W(θ) = f(θ) · M from the setup's components and morphing matrix (buffers).
    """

    def __init__(
        self,
        n_obs: int,
        n_par: int,
        hidden: Sequence[int],
        activation: str,
        components: torch.Tensor,
        morphing_matrix: torch.Tensor,
        dropout: float = 0.0,
        clamp: float = 5.0,
        reference_index: int = -1,
    ):
        super().__init__(n_obs, n_par)
        self.register_buffer("components", components.to(torch.float64))
        self.register_buffer("morphing_matrix", morphing_matrix.to(torch.float64))
        n_b = morphing_matrix.shape[1]
        free = torch.ones(n_b, dtype=torch.float64)
        if reference_index >= 0:
            free[reference_index] = 0.0  # the reference benchmark: rho = 1, sigma ratio = 1 exactly
        self.register_buffer("free", free)
        self.mlp = MLP(n_obs, hidden, n_b, activation, dropout)
        self.log_xsec_ratios = nn.Parameter(torch.zeros(n_b))
        self.clamp = clamp

    def morphing_weights(self, theta: torch.Tensor) -> torch.Tensor:
        comps = self.components.to(theta.dtype)
        f = torch.prod(theta[:, None, :] ** comps[None], dim=-1)  # (n, C)
        return f @ self.morphing_matrix.to(theta.dtype)

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        w = self.morphing_weights(theta)
        free = self.free.to(w.dtype)
        rho = torch.exp(torch.clamp(self.mlp(self.sx(x)), -self.clamp, self.clamp).to(w.dtype) * free)
        sig = torch.exp(torch.clamp(self.log_xsec_ratios, -self.clamp, self.clamp).to(w.dtype) * free)
        num = torch.clamp((w * rho).sum(1), min=1e-12)
        den = torch.clamp(w @ sig, min=1e-12)
        return (torch.log(num) - torch.log(den)).to(x.dtype)


class FlowNet(_Scaled):
    """Conditional normalising flow p̂(x|θ) (zuko neural spline flow on standardised x and θ).

    The log density includes the Jacobian of the standardisation, so it is a density in the
    physical x (MadMiner's MAF omitted it).
    """

    def __init__(self, n_obs: int, n_par: int, hidden: Sequence[int], transforms: int = 3, bins: int = 8):
        super().__init__(n_obs, n_par)
        import zuko

        self.flow = zuko.flows.NSF(
            features=n_obs,
            context=n_par,
            transforms=transforms,
            bins=bins,
            hidden_features=tuple(int(h) for h in hidden),
        )

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        sx = self.sx(x)
        log_p = self.flow(self.sth(theta)).log_prob(sx)
        return log_p - torch.log(self.x_std.to(x.dtype)).sum()
