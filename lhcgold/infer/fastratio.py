r"""Fast evaluation of a parameterised ratio network on a whole grid: log r̂(x_n|θ_t) for all (t, n).

A :class:`~lhcgold.ml.ParameterizedRatioEstimator` computes log r̂(x|θ) = MLP(cat(s(θ), s(x))),
with s the input standardisation. Evaluated naively on T grid points × N events it concatenates
and pushes T·N rows through the whole network. Two exact rewrites make it several times cheaper:

* the first layer is split into its θ and x parts, W₁ cat(θ, x) = W_θ θ + W_x x: the x part is
  computed once per event, the θ part once per grid point, and they are broadcast-added;
* for tanh networks, tanh(z) = 2 sigmoid(2z) − 1 is folded into the weights (first layer
  W' = 2W, b' = 2b; hidden W' = 4W, b' = 2(b − W·1); output W' = 2W, b' = b − W·1), so every
  activation is an in-place sigmoid (several times faster than tanh in torch on CPU).

Rows are processed in cache-sized blocks with one torch thread by default (on few shared
cores, OpenMP synchronisation across small blocks costs more than it gains). The network's own
precision (float32 unless it was converted) is kept.

:class:`~lhcgold.infer.NeuralRatio` uses this automatically for lhcgold ratio estimators
(``fast=True``); any other model goes through its own ``log_ratio``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray

logger = logging.getLogger(__name__)

__all__ = ["FastRatioNetwork", "fast_ratio_network"]


def fast_ratio_network(model: Any, **kwargs: Any) -> FastRatioNetwork | None:
    """A :class:`FastRatioNetwork` for ``model``, or None when the model is not a plain lhcgold ratio
    network (another class, a morphing-aware or doubly parameterised net, an untrained model)."""
    net = getattr(model, "net", None)
    if net is None or type(net).__name__ != "RatioNet" or getattr(model, "family", None) != "ratio":
        return None
    try:
        return FastRatioNetwork(model, **kwargs)
    except (ValueError, TypeError) as exc:  # an architecture the rewrite does not cover
        logger.debug("fast ratio path not available: %s", exc)
        return None


class FastRatioNetwork:
    """log r̂(x|θ) of an lhcgold ratio estimator (single parameterised ``RatioNet``) for every θ and x.

    Args:
        model: a trained :class:`~lhcgold.ml.ParameterizedRatioEstimator` (CARL, ROLR, ALICE, ALICES,
            RASCAL, CASCAL).
        block_rows: rows (θ, x pairs) per block.
        num_threads: torch threads during evaluation (None: keep torch's setting).

    Raises:
        ValueError: the network is not Linear → activation → … → Linear.
    """

    def __init__(self, model: Any, *, block_rows: int = 8192, num_threads: int | None = 1):
        import torch
        from torch import nn

        net = model.net
        layers = [m for m in net.mlp.layers if not isinstance(m, nn.Dropout)]
        linears = [m for m in layers if isinstance(m, nn.Linear)]
        acts = [m for m in layers if not isinstance(m, nn.Linear)]
        if len(linears) != len(acts) + 1 or any(isinstance(a, nn.Linear) for a in layers[1::2]):
            raise ValueError("expected Linear → activation → … → Linear")
        self.model = model
        self.n_par = int(model.n_parameters)
        dev = next(net.parameters()).device
        self.dtype = next(net.parameters()).dtype
        self.device = dev
        self.tanh = all(isinstance(a, nn.Tanh) for a in acts)
        self.acts = acts
        w = [lin.weight.detach().double() for lin in linears]
        b = [lin.bias.detach().double() for lin in linears]
        # the inputs are standardised in float64 before the cast (as precise as the network's own path)
        self.scaling = [
            net.x_mean.double().cpu().numpy(),
            net.x_std.double().cpu().numpy(),
            net.theta_mean.double().cpu().numpy(),
            net.theta_std.double().cpu().numpy(),
        ]
        w0t, w0x, b0 = w[0][:, : self.n_par], w[0][:, self.n_par :], b[0]
        if self.tanh:
            w0t, w0x, b0 = 2 * w0t, 2 * w0x, 2 * b0
            hidden = [(4 * wi, 2 * (bi - wi.sum(1))) for wi, bi in zip(w[1:-1], b[1:-1])]
            out = (2 * w[-1], b[-1] - w[-1].sum(1))
        else:
            hidden = list(zip(w[1:-1], b[1:-1]))
            out = (w[-1], b[-1])

        def cast(t: Any) -> Any:
            return t.to(device=dev, dtype=self.dtype).contiguous()

        self.w0_theta, self.w0_x, self.b0 = cast(w0t), cast(w0x), cast(b0)
        self.hidden = [(cast(wi), cast(bi)) for wi, bi in hidden]
        self.out = (cast(out[0]), cast(out[1]))
        self.block_rows = int(block_rows)
        self.num_threads = num_threads
        self.torch = torch

    @property
    def observables(self) -> tuple[str, ...]:
        return tuple(self.model.observables)

    def log_ratio(self, x: Any, thetas: Any) -> NDArray[np.float64]:
        """log r̂(x_n|θ_t) against the training reference: (T, N) float64."""
        torch = self.torch
        xx = self.model._x(x)
        th, _ = self.model._theta(thetas, "theta")
        n_threads = torch.get_num_threads()
        if self.num_threads and self.device.type == "cpu":
            torch.set_num_threads(self.num_threads)
        try:
            return self._evaluate(xx, th)
        finally:
            torch.set_num_threads(n_threads)

    def _activation(self, h: Any, i: int) -> Any:
        return h.sigmoid_() if self.tanh else self.acts[i](h)

    def _evaluate(self, x: NDArray[np.float64], th: NDArray[np.float64]) -> NDArray[np.float64]:
        torch = self.torch
        lin = torch.nn.functional.linear
        with torch.inference_mode():
            x_mean, x_std, t_mean, t_std = self.scaling
            xs = torch.as_tensor((x - x_mean) / x_std, dtype=self.dtype, device=self.device)
            ts = torch.as_tensor((th - t_mean) / t_std, dtype=self.dtype, device=self.device)
            hx = lin(xs, self.w0_x, self.b0)  # (N, H)
            ht = lin(ts, self.w0_theta)  # (T, H)
            out = torch.empty((len(th), len(x)), dtype=self.dtype, device=self.device)
            n_t = max(1, self.block_rows // max(len(x), 1))
            n_x = max(1, min(len(x), self.block_rows))
            for t0 in range(0, len(th), n_t):
                for x0 in range(0, len(x), n_x):
                    h = self._activation(ht[t0 : t0 + n_t, None, :] + hx[None, x0 : x0 + n_x, :], 0)
                    for i, (w, b) in enumerate(self.hidden, start=1):
                        h = self._activation(lin(h, w, b), i)
                    out[t0 : t0 + n_t, x0 : x0 + n_x] = lin(h, *self.out)[..., 0]
            return out.double().cpu().numpy()  # type: ignore[no-any-return]
