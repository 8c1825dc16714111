r"""Toys of binned likelihoods with nuisance parameters, scored by the profile likelihood ratio.

The model is that of :func:`~lhcgold.infer.profile_limits` for ``RateOnly``, ``Histogram`` and
``ScoreHistogram``: Poisson counts per bin μ_k(θ, ν) = L Σ_{i∈k} w_i(θ) exp(Σ_j a_ij ν_j + b_ij ν_j²).
A toy at (θ_j, ν = 0) is the counts n_k ~ Pois(μ_k(θ_j, 0)) together with the auxiliary
measurements (global observables) of the nuisances, ν_aux ~ N(0, 1) each, so that

.. math::
    \log L(\theta, \nu) = \sum_k [n_k \log\mu_k(\theta,\nu) - \mu_k(\theta,\nu)] - \tfrac12|\nu - \nu_{\rm aux}|^2,
    \qquad q(\theta) = -2\,[\max_\nu \log L(\theta, \nu) - \max_{\theta', \nu} \log L(\theta', \nu)],

the maximum over θ' taken over the grid points. The ν-maximisation runs for all toys of a batch at
once (damped Newton with exact derivatives, backtracking on log L), grid point after grid point,
each starting from the previous point's ν̂. Normalisations (the same a for every event, b = 0)
factor out of the bin sums; every other nuisance costs a pass over the simulated events per
Newton step and toy batch.

:func:`~lhcgold.infer.coverage` with ``nuisances=`` uses this (:class:`ProfiledToys`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from ..exceptions import ConfigError
from ..io.view import DEFAULT_CHUNK_SIZE, EventsLike, as_view
from ._data import components_of, factors
from .grid import LimitGrid, grid_index
from .likelihood import RateOnly, _HistogramBase
from .limits import _lumi, _points
from .nuisance import Nuisance, _Binned, _binned

logger = logging.getLogger(__name__)

__all__ = ["ProfiledToys"]

_BATCH_ELEMENTS = 2_000_000  # toys × events (× local nuisances²) per Newton step: ≲ 16 MB per array
_MAX_NEWTON = 100
_CHEB_NODES = 96  # Chebyshev interpolation of the per-bin sums of one per-event nuisance
_CHEB_RANGE = 8.0  # on |ν| ≤ this (beyond: the exact sums)
_MAX_STEP = 2.0  # largest change of any ν in one Newton step (units of its constraint's σ)
_TOL = 1e-10  # Newton decrement ½ gᵀA⁻¹g below this (log-likelihood units): converged


class _Kernel:
    """μ_k(θ_t, ν) of many ν at once, with its first and second ν-derivatives.

    Events are sorted by bin so that bin sums are contiguous reductions. With one per-event
    nuisance (e.g. a scale variation) the per-bin, per-component sums S_kc(ν) = Σ_{i∈k} m_ic g_i(ν)
    are also interpolated in Chebyshev polynomials on |ν| ≤ :data:`_CHEB_RANGE` (checked at build
    time against the exact sums to 1e-12 relative; otherwise, and for ν outside, the exact sums).
    """

    def __init__(self, model: _Binned):
        order = np.argsort(model.bins, kind="stable")
        self.bins = model.bins[order]
        self.n_bins, self.lumi, self.k = model.n_bins, model.lumi, model.k
        self.glob, self.kappa = model.glob, model.kappa
        self.m = model.m[order]
        self.a, self.b = model.a_loc[order], model.b_loc[order]
        self.s_kc = model.s_kc
        self.filled = np.unique(self.bins)
        self.starts = np.searchsorted(self.bins, self.filled)
        self.n_loc = self.a.shape[1]
        self.cheb: list[NDArray[np.float64]] | None = self._chebyshev() if self.n_loc == 1 else None

    def _bin_sum(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Σ over the events of each bin, along axis 1 of x (B, N, ...) → (B, n_bins, ...)."""
        out = np.zeros((x.shape[0], self.n_bins, *x.shape[2:]))
        if len(self.filled):
            out[:, self.filled] = np.add.reduceat(x, self.starts, axis=1)
        return out

    def _sums(self, nu: NDArray[np.float64]) -> NDArray[np.float64]:
        """Exact S_kc(ν) (G, n_bins, C) of one local nuisance at the values ν (G,)."""
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(np.outer(nu, self.a[:, 0]) + np.outer(nu * nu, self.b[:, 0]))  # (G, N)
        return self._bin_sum(e[:, :, None] * self.m[None])

    def _chebyshev(self) -> list[NDArray[np.float64]] | None:
        """Chebyshev coefficients of S_kc and its first two derivatives (each (G, n_bins, C)), or None."""
        g = _CHEB_NODES
        j = np.arange(g)
        x = np.cos(np.pi * (j + 0.5) / g)
        if self.m.shape[0] * g * self.m.shape[1] > 50 * _BATCH_ELEMENTS:
            return None
        vals = self._sums(_CHEB_RANGE * x)
        basis = np.cos(np.pi * np.outer(j, j + 0.5) / g) * (2.0 / g)
        basis[0] *= 0.5
        c = np.tensordot(basis, vals, axes=(1, 0))  # (G, n_bins, C)
        probe = _CHEB_RANGE * np.linspace(-0.999, 0.999, 37)
        exact = self._sums(probe)
        approx = np.tensordot(_cheb_basis(probe / _CHEB_RANGE, g).T, c, axes=(1, 0))
        scale = np.abs(exact).max(axis=0, keepdims=True) + 1e-300
        if not (np.all(np.isfinite(c)) and np.max(np.abs(approx - exact) / scale) < 1e-12):
            logger.debug("Chebyshev interpolation of the nuisance sums not accurate enough: exact sums")
            return None
        d1 = np.polynomial.chebyshev.chebder(c, axis=0) / _CHEB_RANGE
        d2 = np.polynomial.chebyshev.chebder(d1, axis=0) / _CHEB_RANGE
        return [c, d1, d2]

    def _local(
        self, f: NDArray[np.float64], nl: NDArray[np.float64], order: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64] | None]:
        """Σ_{i∈k} w_i(θ) g_i(ν) (B, n_bins) and its derivatives in the local ν (B, n_bins, Kl[, Kl])."""
        if self.cheb is not None and np.all(np.abs(nl) <= _CHEB_RANGE):
            t = _cheb_basis(nl[:, 0] / _CHEB_RANGE, _CHEB_NODES)  # (G, B)
            out = [t[: len(c)].T @ (c @ f) for c in self.cheb[: order + 1]]  # (B, n_bins) each
            return (
                out[0],
                out[1][:, :, None] if order >= 1 else None,
                out[2][:, :, None, None] if order >= 2 else None,
            )
        with np.errstate(over="ignore", invalid="ignore"):
            w = (self.m @ f)[None, :] * np.exp(nl @ self.a.T + (nl * nl) @ self.b.T)  # (B, N)
        base = self._bin_sum(w)
        if order == 0:
            return base, None, None
        y = self.a[None] + 2.0 * self.b[None] * nl[:, None, :]  # (B, N, Kl)
        d1 = self._bin_sum(w[:, :, None] * y)
        if order == 1:
            return base, d1, None
        yy = y[:, :, :, None] * y[:, :, None, :] + 2.0 * np.einsum("nk,kl->nkl", self.b, np.eye(self.n_loc))
        return base, d1, self._bin_sum(w[:, :, None, None] * yy)

    def mu(self, f: NDArray[np.float64], nu: NDArray[np.float64], order: int = 0) -> tuple[Any, ...]:
        """μ (B, n_bins) at factors f (C,) and ν (B, K); order ≥ 1: ∂μ/∂ν (B, n_bins, K); 2: ∂²μ (B, n_bins, K, K)."""
        with np.errstate(over="ignore"):  # far-off trial steps: inf, rejected as log L = −inf
            g = np.exp(nu[:, self.glob] @ self.kappa)  # (B,)
        loc = ~self.glob
        if self.n_loc == 0:
            base, dl, dll = np.broadcast_to(self.s_kc @ f, (len(nu), self.n_bins)), None, None
        else:
            base, dl, dll = self._local(f, nu[:, loc], order)
        mu = self.lumi * g[:, None] * base
        if order == 0:
            return (mu,)
        kap = np.zeros(self.k)
        kap[self.glob] = self.kappa
        d1 = mu[:, :, None] * kap[None, None, :]
        d2 = d1[:, :, :, None] * kap[None, None, None, :]
        if dl is not None:
            sc = self.lumi * g[:, None, None]
            dl = sc * dl  # (B, n_bins, Kl)
            d1[:, :, loc] = dl
            d2[:, :, loc, :] = dl[:, :, :, None] * kap[None, None, None, :]
            d2[:, :, :, loc] = kap[None, None, :, None] * dl[:, :, None, :]
            if dll is not None:
                li = np.flatnonzero(loc)
                d2[:, :, li[:, None], li[None, :]] = sc[..., None] * dll
        return (mu, d1, d2) if order >= 2 else (mu, d1)


def _cheb_basis(x: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """T_j(x) for j < n (n, len(x)), |x| ≤ 1."""
    t = np.empty((n, len(x)))
    t[0] = 1.0
    if n > 1:
        t[1] = x
    for j in range(2, n):
        t[j] = 2.0 * x * t[j - 1] - t[j - 2]
    return t


def _log_l(mu: NDArray[np.float64], n: NDArray[np.float64], dnu: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_k n_k log μ_k − μ_k − ½|ν − ν_aux|² per toy; −inf where a bin with data has μ ≤ 0."""
    ok = mu > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ok, n * np.log(np.where(ok, mu, 1.0)), 0.0) - mu
        ll = terms.sum(axis=1) - 0.5 * np.sum(dnu * dnu, axis=1)
    return np.where(np.any(~ok & (n > 0), axis=1) | ~np.isfinite(ll), -np.inf, ll)


@dataclass(eq=False)
class ProfiledToys:
    """Toys of a binned model with nuisances, and their profiled log-likelihoods on the grid.

    Attributes:
        thetas: grid points (T, P).
        f: morphing factors of the grid points (T, C).
        model: the binned model (events' bins, component weights, nuisance coefficients).
        dof: scanned parameters (Wilks).
        label: the likelihood model's label.
        nuisance_names: K names.
    """

    thetas: NDArray[np.float64]
    f: NDArray[np.float64]
    model: _Binned
    dof: int
    label: str
    nuisance_names: tuple[str, ...]

    def __post_init__(self) -> None:
        self._kernel = _Kernel(self.model)

    @classmethod
    def build(
        cls,
        likelihood: Any,
        events: EventsLike,
        *,
        nuisances: Sequence[Nuisance],
        grid: LimitGrid | ArrayLike,
        luminosity_ifb: float,
        allow_outside: bool = False,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> ProfiledToys:
        """The binned model of :func:`~lhcgold.infer.profile_limits` on the grid.

        Raises:
            ConfigError: an unbinned model (NeuralRatio, Truth): profiled toys are not supported yet.
        """
        if not isinstance(likelihood, (RateOnly, _HistogramBase)):
            raise ConfigError(
                "coverage with profiled nuisances is implemented for the binned models (RateOnly, Histogram, "
                f"ScoreHistogram); {type(likelihood).__name__} (unbinned) is not supported yet"
            )
        sample = as_view(events)
        setup = sample.setup
        comps = components_of(setup)
        points, grid_obj = _points(grid, setup, allow_outside)
        model = _binned(likelihood, sample, points, comps, nuisances, _lumi(luminosity_ifb), chunk_size)
        dof = len(grid_obj.scanned) if grid_obj is not None else setup.n_parameters
        label = str(getattr(likelihood, "label", type(likelihood).__name__))
        return cls(points, factors(points, comps), model, dof, label, tuple(nu.name for nu in nuisances))

    def index_of(self, theta: NDArray[np.float64]) -> int:
        """Index of the grid point equal to ``theta`` (ConfigError if it is not on the grid)."""
        return grid_index(self.thetas, theta)

    @property
    def k(self) -> int:
        return self.model.k

    def expected(self, j: int) -> NDArray[np.float64]:
        """Expected counts per bin at (θ_j, ν = 0) (n_bins,)."""
        return self._kernel.mu(self.f[j], np.zeros((1, self.k)))[0][0]  # type: ignore[no-any-return]

    def draw(self, j: int, n_toys: int, gen: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``n_toys`` toys at (θ_j, ν = 0): counts (n_toys, n_bins) and auxiliary measurements (n_toys, K)."""
        mu = self.expected(j)
        if np.any(mu < 0):
            raise ConfigError(f"negative expected counts at theta {self.thetas[j].tolist()}; toys need μ_k ≥ 0")
        n = gen.poisson(mu, size=(n_toys, len(mu))).astype(np.float64)
        return n, gen.standard_normal((n_toys, self.k))

    def log_likelihoods(self, counts: ArrayLike, nu_aux: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """max_ν log L(θ_t, ν) of every toy at every grid point (n_toys, T), and ν̂ (n_toys, T, K).

        Args:
            counts: observed counts per bin (n_toys, n_bins).
            nu_aux: auxiliary measurements of the nuisances (n_toys, K).
        """
        n = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        aux = np.asarray(nu_aux, dtype=np.float64).reshape(len(n), self.k)
        if n.shape[1] != self.model.n_bins:
            raise ConfigError(f"counts have {n.shape[1]} bins, the model has {self.model.n_bins}")
        per_toy = self.model.bins.size * max(1, self._kernel.n_loc) ** 2 if self._kernel.n_loc else self.model.n_bins
        batch = max(1, min(len(n), _BATCH_ELEMENTS // max(per_toy, 1)))
        ll = np.empty((len(n), len(self.thetas)))
        nu_hat = np.zeros((len(n), len(self.thetas), self.k))
        for s in range(0, len(n), batch):
            sl = slice(s, s + batch)
            start = aux[sl].copy()
            for t in range(len(self.thetas)):  # warm start from the previous grid point
                ll[sl, t], nu_hat[sl, t] = self._profile(t, n[sl], aux[sl], start)
                start = np.where(np.isfinite(ll[sl, t])[:, None], nu_hat[sl, t], aux[sl])
        return ll, nu_hat

    def q(self, j: int, counts: ArrayLike, nu_aux: ArrayLike) -> NDArray[np.float64]:
        """Profile likelihood ratio q(θ_j) of the given toys (n_toys,)."""
        ll = self.log_likelihoods(counts, nu_aux)[0]
        return -2.0 * (ll[:, j] - ll.max(axis=1))  # type: ignore[no-any-return]

    def q_at(self, j: int, n_toys: int, gen: np.random.Generator) -> NDArray[np.float64]:
        """q(θ_j) of ``n_toys`` toys drawn at (θ_j, ν = 0) (n_toys,)."""
        return self.q(j, *self.draw(j, n_toys, gen))

    def _profile(
        self, t: int, n: NDArray[np.float64], aux: NDArray[np.float64], start: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """max_ν log L(θ_t, ν) for a batch of toys: damped Newton, backtracking; scipy for the stragglers."""
        f, ker = self.f[t], self._kernel
        nu = start.copy()
        if self.k == 0:
            return _log_l(ker.mu(f, nu)[0], n, nu - aux), nu
        ll = _log_l(ker.mu(f, nu)[0], n, nu - aux)
        bad = ~np.isfinite(ll)
        if np.any(bad):  # restart those from the constraint's centre, then from 0
            for alt in (aux, np.zeros_like(aux)):
                nu[bad] = alt[bad]
                ll[bad] = _log_l(ker.mu(f, nu[bad])[0], n[bad], nu[bad] - aux[bad])
                bad = ~np.isfinite(ll)
        active = np.isfinite(ll)
        for _ in range(_MAX_NEWTON):
            if not np.any(active):
                break
            idx = np.flatnonzero(active)
            step, decrement = self._newton_step(f, nu[idx], n[idx], aux[idx])
            done = decrement < _TOL
            active[idx[done]] = False
            idx, step = idx[~done], step[~done]
            alpha = np.ones(len(idx))
            for _ls in range(30):
                trial = nu[idx] + alpha[:, None] * step
                ll_t = _log_l(ker.mu(f, trial)[0], n[idx], trial - aux[idx])
                ok = ll_t >= ll[idx]
                nu[idx[ok]], ll[idx[ok]] = trial[ok], ll_t[ok]
                if np.all(ok):
                    break
                alpha[~ok] *= 0.5
                idx, step, alpha = idx[~ok], step[~ok], alpha[~ok]
            else:
                active[idx] = False  # no ascent along the step: at the maximum to machine precision
        if np.any(active):
            logger.debug("%d toys did not converge in %d Newton steps: scipy", int(active.sum()), _MAX_NEWTON)
            for i in np.flatnonzero(active):
                ll[i], nu[i] = self._scipy(f, nu[i], n[i], aux[i])
        return ll, nu

    def _newton_step(
        self, f: NDArray[np.float64], nu: NDArray[np.float64], n: NDArray[np.float64], aux: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Newton ascent steps (B, K) and their decrements ½ gᵀA⁻¹g (B,); A = −Hessian, or the
        (positive definite) expected information Σ_k ∂μ∂μᵀ/μ + 1 where −Hessian is not."""
        mu, d1, d2 = self._kernel.mu(f, nu, order=2)
        ok = mu > 0
        r = np.where(ok, n / np.where(ok, mu, 1.0), 0.0)  # n/μ
        grad = np.einsum("bk,bkj->bj", r - 1.0, d1) - (nu - aux)
        eye = np.eye(self.k)[None]
        a = (
            np.einsum("bk,bkj,bkl->bjl", np.where(ok, r / np.where(ok, mu, 1.0), 0.0), d1, d1)
            - np.einsum("bk,bkjl->bjl", r - 1.0, d2)
            + eye
        )
        a = 0.5 * (a + np.swapaxes(a, 1, 2))
        fisher = np.einsum("bk,bkj,bkl->bjl", np.where(ok, 1.0 / np.where(ok, mu, 1.0), 0.0), d1, d1) + eye
        lam = np.linalg.eigvalsh(a)
        use = np.where((lam[:, :1] > 1e-10 * np.abs(lam).max(axis=1, keepdims=True)) & np.isfinite(lam[:, :1]))[0]
        mat = fisher.copy()
        mat[use] = a[use]
        step = np.linalg.solve(mat, grad[..., None])[..., 0]
        decrement = 0.5 * np.einsum("bj,bj->b", grad, step)
        big = np.abs(step).max(axis=1, keepdims=True)
        return step * np.minimum(1.0, _MAX_STEP / np.maximum(big, 1e-300)), decrement

    def _scipy(
        self, f: NDArray[np.float64], start: NDArray[np.float64], n: NDArray[np.float64], aux: NDArray[np.float64]
    ) -> tuple[float, NDArray[np.float64]]:
        def neg(v: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            mu, d1 = self._kernel.mu(f, v[None], order=1)
            ll = float(_log_l(mu, n[None], (v - aux)[None])[0])
            if not np.isfinite(ll):
                return 1e300, np.zeros_like(v)
            ok = mu[0] > 0
            g = (np.where(ok, n / np.where(ok, mu[0], 1.0), 0.0) - 1.0) @ d1[0] - (v - aux)
            return -ll, -g

        res = minimize(neg, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-10, "ftol": 1e-15})
        return -float(res.fun), np.asarray(res.x, dtype=np.float64)
