r"""Likelihood models for limits: rate only, histograms, SALLY score histograms, ratio models, truth.

Every model gives the *kinematic* log-likelihood per event, averaged with the data weights,

.. math:: \ell_{kin}(\theta) = \sum_i \hat w_i \log \hat p(x_i|\theta) \quad(\textstyle\sum_i \hat w_i = 1),

for all grid points at once (an array of shape (T,)); :func:`lhcgold.infer.expected_limits`
multiplies it by the number of observed events and adds the Poisson rate term. Constants
that do not depend on θ (bin volumes, the reference hypothesis of a ratio estimator) are
dropped: they cancel in the likelihood ratio.

The models only need small protocols from the estimators:

* ``ScoreHistogram(model)``: ``model.score(x) -> (N, P)``;
* ``NeuralRatio(model)``: ``model.log_ratio(x, thetas (T, P)) -> (T, N)`` (log r̂(x|θ) against a
  fixed reference);
* ``Truth(process)``: ``process.truth_components(x) -> (N, C)`` (per-event component
  densities, dσ_c/dx) and ``process.xsec_components() -> (C,)``, in the setup's component order;

and, optionally, ``observables`` (names of the columns the model expects): the events must
carry them, or the limits stop with a ConfigError.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ConfigError, LhcgoldError
from ..io.view import EventsView
from . import _binning
from ._data import column_indices, factors, model_columns
from .fastratio import fast_ratio_network

logger = logging.getLogger(__name__)

__all__ = ["Histogram", "LikelihoodModel", "NeuralRatio", "RateOnly", "ScoreHistogram", "Truth"]


# --------------------------------------------------------------------------------------------------
# Data seen by the likelihoods
# --------------------------------------------------------------------------------------------------
class _Data(Protocol):
    observables: tuple[str, ...]

    def chunks(self) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]: ...


@dataclass(eq=False)
class AsimovData:
    """Weighted events of a sample reweighted to θ_true; weights normalised to sum to one."""

    sample: EventsView
    f_true: NDArray[np.float64]
    sigma_true: float
    chunk_size: int
    progress: bool = False

    @property
    def observables(self) -> tuple[str, ...]:
        return self.sample.observables

    def chunks(self) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        for x, m in self.sample.component_chunks(chunk_size=self.chunk_size, progress=self.progress):
            yield x, (m @ self.f_true) / self.sigma_true


@dataclass(eq=False)
class ObservedData:
    """Observed events (optionally weighted), weights normalised to sum to one."""

    x: NDArray[np.float64]
    weights: NDArray[np.float64]
    observables: tuple[str, ...]
    chunk_size: int

    def chunks(self) -> Iterator[tuple[NDArray[np.float64], NDArray[np.float64]]]:
        for s in range(0, len(self.x), self.chunk_size):
            yield self.x[s : s + self.chunk_size], self.weights[s : s + self.chunk_size]


@dataclass(eq=False)
class Context:
    """What a likelihood model sees when :func:`~lhcgold.infer.expected_limits` evaluates it."""

    thetas: NDArray[np.float64]  # (T, P)
    components: NDArray[np.int64]  # (C, P)
    data: Any  # AsimovData | ObservedData
    simulation: EventsView  # weighted events for templates / cross sections
    chunk_size: int
    progress: bool = False


class LikelihoodModel(Protocol):
    """What :func:`~lhcgold.infer.expected_limits` needs from a likelihood model."""

    include_rate: bool

    @property
    def label(self) -> str: ...

    def kinematic_log_likelihood(self, ctx: Context) -> NDArray[np.float64]: ...


# --------------------------------------------------------------------------------------------------
# Rate only
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RateOnly:
    """Only the total number of events: log L = log Pois(n | L σ(θ))."""

    include_rate: bool = field(default=True, init=False)

    @property
    def label(self) -> str:
        return "rate"

    def kinematic_log_likelihood(self, ctx: Context) -> NDArray[np.float64]:
        return np.zeros(len(ctx.thetas))


# --------------------------------------------------------------------------------------------------
# Histograms
# --------------------------------------------------------------------------------------------------
EmptyBins = Literal["epsilon", "error"]


class _HistogramBase:
    """Shared machinery: binned templates morphed to every θ in one matrix product.

    The template bin contents are accumulated per morphing component, S_kc, so that
    σ_k(θ) = Σ_c f_c(θ) S_kc for all grid points at once; p_k(θ) = σ_k(θ) / Σ_k σ_k(θ).
    """

    bins: Any
    binning: Any
    templates: EventsView | None
    include_rate: bool
    empty_bins: EmptyBins
    epsilon: float
    madminer_compat: bool

    # subclasses: summary statistics of the events' observations
    def _prepare_summary(self, observables: Sequence[str]) -> None:
        raise NotImplementedError

    def _summary(self, x: NDArray[np.float64], cols: Any = "default") -> NDArray[np.float64]:
        """Summary statistics of the rows of x; ``cols`` = the column selection (default: the templates')."""
        raise NotImplementedError

    def _n_axes(self) -> int:
        raise NotImplementedError

    def kinematic_log_likelihood(self, ctx: Context) -> NDArray[np.float64]:
        log_p, fractions, _ = self.evaluate(ctx)
        nz = fractions != 0
        with np.errstate(invalid="ignore"):
            return log_p[:, nz] @ fractions[nz]

    def evaluate(self, ctx: Context) -> tuple[NDArray[np.float64], NDArray[np.float64], list[NDArray[np.float64]]]:
        """(log p_k(θ) (T, K), data fractions f_k (K,), edges) for the context's grid."""
        tpl = self.templates if self.templates is not None else ctx.simulation
        self._prepare_summary(ctx.data.observables)  # checks that the data carry what is needed
        data_cols = self._cols  # type: ignore[attr-defined]
        self._prepare_summary(tpl.observables)
        bins = _binning.normalize_bins(self.bins, self._n_axes())
        adaptive = any(isinstance(b, int) for b in bins)
        same = self.templates is None and isinstance(ctx.data, AsimovData) and ctx.data.sample is ctx.simulation

        # pass 1 (adaptive binning only): summary statistics and binning weights of the templates
        cached: list[NDArray[np.float64]] = []
        if adaptive:
            f_bin = self._binning_factors(ctx)
            ws = []
            for x, m in tpl.component_chunks(chunk_size=ctx.chunk_size, progress=ctx.progress):
                cached.append(self._summary(x))
                ws.append(m @ f_bin)
            if not cached:
                raise ConfigError("the template sample is empty")
            s_all, w_all = np.concatenate(cached), np.concatenate(ws)
            edge_fn = _binning.madminer_adaptive_edges if self.madminer_compat else _binning.adaptive_edges
            edges = [edge_fn(s_all[:, d], b, w_all) if isinstance(b, int) else b for d, b in enumerate(bins)]
            del s_all, w_all
        else:
            edges = list(bins)
        n_bins = _binning.n_bins_total(edges)

        # pass 2: per-component bin sums of the templates (and of the data if they are the same events)
        s_kc = None
        frac = np.zeros(n_bins)
        for i, (x, m) in enumerate(tpl.component_chunks(chunk_size=ctx.chunk_size)):
            s = cached[i] if cached else self._summary(x)
            idx = _binning.bin_indices(s, edges)
            keep = _binning.inside(s, edges) if self.madminer_compat else slice(None)
            part = np.stack(
                [np.bincount(idx[keep], weights=m[keep, c], minlength=n_bins) for c in range(m.shape[1])], axis=1
            )
            s_kc = part if s_kc is None else s_kc + part
            if same:
                frac += np.bincount(idx, weights=(m @ ctx.data.f_true) / ctx.data.sigma_true, minlength=n_bins)
        if s_kc is None:
            raise ConfigError("the template sample is empty")
        if not same:
            for x, w in ctx.data.chunks():
                s = self._summary(x, data_cols)
                frac += np.bincount(_binning.bin_indices(s, edges), weights=w, minlength=n_bins)

        sigma_k = factors(ctx.thetas, ctx.components) @ s_kc.T  # (T, K)
        total = sigma_k.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise LhcgoldError("the histogram templates have no positive cross section at some grid point")
        p = sigma_k / total
        bad = (p <= 0) & (frac != 0)[None, :]
        if np.any(bad) and self.empty_bins == "error":
            t, k = np.argwhere(bad)[0]
            raise LhcgoldError(
                f"histogram bin {k} holds data (fraction {frac[k]:.3g}) but its template is empty or negative "
                f"at theta={ctx.thetas[t].tolist()} ({int(bad.any(axis=0).sum())} such bins); use fewer bins, "
                f"more template events, or empty_bins='epsilon'"
            )
        if self.epsilon > 0:
            p = np.clip(p, 0.0, None) + self.epsilon
            p /= p.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_p = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), -np.inf)
        return log_p, frac, edges

    def _binning_factors(self, ctx: Context) -> NDArray[np.float64]:
        b = self.binning
        if isinstance(b, str) and b == "grid":
            return factors(ctx.thetas, ctx.components).mean(axis=0)
        th = np.asarray(b, dtype=np.float64)
        if th.shape != (ctx.components.shape[1],):
            raise ConfigError(
                f"binning must be 'grid' or a parameter point of shape ({ctx.components.shape[1]},), got {b!r}"
            )
        return factors(th, ctx.components)


def _check_hist_options(obj: Any) -> None:
    if obj.empty_bins not in ("epsilon", "error"):
        raise ConfigError(f"empty_bins must be 'epsilon' or 'error', got {obj.empty_bins!r}")
    if not (obj.epsilon >= 0 and np.isfinite(obj.epsilon)):
        raise ConfigError(f"epsilon must be >= 0, got {obj.epsilon}")
    if obj.empty_bins == "error" and obj.epsilon > 0:
        object.__setattr__(obj, "epsilon", 0.0)


@dataclass(frozen=True, eq=False)
class Histogram(_HistogramBase):
    """Histogram of observables (any number of axes), morphed to every θ.

    Args:
        observables: names of the observables (one axis each).
        bins: an int for every axis, or one int / edge array per axis. Ints give adaptive
            bins with equal cross section under the ``binning`` weights; the outer bins
            always extend to ±∞ (no event is lost). Default: 25 (1-D), 8 × 8 (2-D), 5 per axis.
        binning: "grid" (weights averaged over the grid points, MadMiner's default) or a θ.
        templates: events that fill the templates (default: the events passed to the limits).
        include_rate: add the Poisson rate term.
        empty_bins: "epsilon": every normalised bin probability gets ``epsilon`` added (then
            renormalised), so a data event in a bin whose template is empty costs log ε instead
            of excluding θ outright (MadMiner's convention, ε = 1e-12); "error": raise instead.
        epsilon: see ``empty_bins``.
        madminer_compat: reproduce MadMiner 0.9.6 exactly: adaptive edges from the 0.1 %–99.9 %
            quantiles, template events outside the outer edges dropped (while data are clamped
            into the outer bins).
    """

    observables: tuple[str, ...]
    bins: Any = None
    binning: Any = "grid"
    templates: EventsView | None = None
    include_rate: bool = True
    empty_bins: EmptyBins = "epsilon"
    epsilon: float = 1e-12
    madminer_compat: bool = False

    def __post_init__(self) -> None:
        obs = (self.observables,) if isinstance(self.observables, str) else tuple(self.observables)
        if not obs:
            raise ConfigError("Histogram needs at least one observable")
        object.__setattr__(self, "observables", obs)
        _binning.normalize_bins(self.bins, len(obs))  # validate early
        _check_hist_options(self)

    @property
    def label(self) -> str:
        return f"histogram({', '.join(self.observables)})"

    def _n_axes(self) -> int:
        return len(self.observables)

    def _prepare_summary(self, observables: Sequence[str]) -> None:
        object.__setattr__(self, "_cols", column_indices(self.observables, observables))

    def _summary(self, x: NDArray[np.float64], cols: Any = "default") -> NDArray[np.float64]:
        c = self._cols if isinstance(cols, str) else cols  # type: ignore[attr-defined]
        return x[:, c]  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class ScoreHistogram(_HistogramBase):
    """SALLY: a histogram of the estimated score t̂(x), morphed to every θ.

    Args:
        score_model: object with ``score(x) -> (N, P)`` (and optionally ``observables``).
        components: which score components to histogram (default: all).
        bins: as in :class:`Histogram`.
        binning: as in :class:`Histogram`.
        templates: as in :class:`Histogram`.
        include_rate: as in :class:`Histogram`.
        empty_bins: as in :class:`Histogram`.
        epsilon: as in :class:`Histogram`.
        madminer_compat: as in :class:`Histogram`.
    """

    score_model: Any
    components: tuple[int, ...] | None = None
    bins: Any = None
    binning: Any = "grid"
    templates: EventsView | None = None
    include_rate: bool = True
    empty_bins: EmptyBins = "epsilon"
    epsilon: float = 1e-12
    madminer_compat: bool = False

    def __post_init__(self) -> None:
        if not callable(getattr(self.score_model, "score", None)):
            raise ConfigError("ScoreHistogram needs a model with a score(x) method")
        if self.components is not None:
            object.__setattr__(self, "components", tuple(int(c) for c in self.components))
        _check_hist_options(self)

    @property
    def label(self) -> str:
        return "sally"

    def _n_axes(self) -> int:
        if self.components is not None:
            return len(self.components)
        n = getattr(self, "_n_score", None)
        if n is None:
            raise ConfigError("the number of score components is unknown before the first evaluation")
        return int(n)

    def _prepare_summary(self, observables: Sequence[str]) -> None:
        object.__setattr__(self, "_cols", model_columns(self.score_model, observables))
        if self.components is None and getattr(self, "_n_score", None) is None:
            n_obs = len(self._cols) if self._cols is not None else len(observables)  # type: ignore[attr-defined]
            t = np.asarray(self.score_model.score(np.zeros((1, n_obs))))
            object.__setattr__(self, "_n_score", t.shape[1])

    def _summary(self, x: NDArray[np.float64], cols: Any = "default") -> NDArray[np.float64]:
        cols = self._cols if isinstance(cols, str) else cols  # type: ignore[attr-defined]
        t = np.asarray(self.score_model.score(x if cols is None else x[:, cols]), dtype=np.float64)
        return t if self.components is None else t[:, list(self.components)]


# --------------------------------------------------------------------------------------------------
# Parameterised ratio estimators
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NeuralRatio:
    r"""A parameterised likelihood-ratio estimator: log p̂(x|θ) = log r̂(x|θ) + const.

    A ratio estimator r̂(x|θ) ≈ p(x|θ)/p(x|θ_ref) defines the density p̂(x|θ) = r̂(x|θ) p(x|θ_ref),
    which integrates to N(θ) = E_ref[r̂(x|θ)], not to one, unless the network is perfect. With
    n_obs events a θ-dependent offset log N(θ) of only 10⁻⁴ moves the log-likelihood by
    n_obs·10⁻⁴, i.e. by a full standard deviation at n_obs ~ 10⁴: the best fit and the intervals
    of an unnormalised estimator drift away from θ_true. With ``normalize`` (default) the
    estimator is calibrated with the two identities every true ratio obeys,

    .. math:: \log \tilde r(x|\theta) = \log \hat r(x|\theta) - \log \hat r(x|\theta_{ref})
              - \log E_{ref}[\hat r(x|\theta) / \hat r(x|\theta_{ref})],

    i.e. r̃(x|θ_ref) = 1 and E_ref[r̃(x|θ)] = 1, with E_ref estimated on the weighted simulation
    (the events passed to the limits) reweighted to θ_ref. E_ref[r̂] − 1 before the calibration is
    kept (:meth:`normalization`) and recorded in the limit result as a diagnostic.

    Args:
        ratio_model: object with ``log_ratio(x, thetas (T, P)) -> (T, N)`` (log r̂ against a fixed
            reference), or a density estimator with ``log_likelihood(x, thetas) -> (T, N)``.
        include_rate: add the Poisson rate term.
        theta_batch: grid points per model call.
        max_elements: bound on (grid points × events) per model call (memory: the model's output
            and its activations scale with it); events are sub-chunked accordingly.
        normalize: calibrate as above (needs the reference: ``reference`` or the model's
            ``theta_ref``; without one the ratio is used as it is, with a warning). False
            reproduces MadMiner.
        reference: θ_ref of the ratio (default: ``ratio_model.theta_ref``).
        fast: evaluate lhcgold ratio networks with :class:`~lhcgold.infer.fastratio.FastRatioNetwork`
            (the same numbers, several times faster); other models use their own ``log_ratio``.

    Events whose estimated log ratio is not finite at some grid point are dropped from the sum
    at every grid point (MadMiner's convention); their number is logged.
    """

    ratio_model: Any
    include_rate: bool = True
    theta_batch: int = 1000
    max_elements: int = 4_000_000
    normalize: bool = True
    reference: Any = None
    fast: bool = True

    def __post_init__(self) -> None:
        if not (
            callable(getattr(self.ratio_model, "log_ratio", None))
            or callable(getattr(self.ratio_model, "log_likelihood", None))
        ):
            raise ConfigError(
                "NeuralRatio needs a model with a log_ratio(x, thetas) or log_likelihood(x, thetas) method"
            )
        object.__setattr__(self, "_normalization", None)

    @property
    def is_density(self) -> bool:
        return callable(getattr(self.ratio_model, "log_likelihood", None))

    def _evaluator(self) -> Any:
        if self.is_density:
            return self.ratio_model.log_likelihood
        if self.fast:
            net = fast_ratio_network(self.ratio_model)
            if net is not None:
                return net.log_ratio
        return self.ratio_model.log_ratio

    def _evaluate(self, x: NDArray[np.float64], thetas: NDArray[np.float64]) -> NDArray[np.float64]:
        fn = getattr(self, "_fn", None) or self._evaluator()
        return np.asarray(fn(x, thetas))

    def reference_point(self, n_parameters: int) -> NDArray[np.float64] | None:
        """θ_ref used for the calibration (None: none known, or a density estimator)."""
        if self.is_density:
            return None
        ref = self.reference if self.reference is not None else getattr(self.ratio_model, "theta_ref", None)
        if ref is None:
            return None
        ref = np.asarray(ref, dtype=np.float64).reshape(-1)
        if ref.shape != (n_parameters,):
            raise ConfigError(f"the ratio reference has {ref.size} components, the setup has {n_parameters} parameters")
        return ref

    def normalization(self) -> dict[str, Any] | None:
        """E_ref[r̂(x|θ)] per grid point of the last evaluation (before calibration), or None."""
        return self._normalization  # type: ignore[attr-defined,no-any-return]

    @property
    def label(self) -> str:
        return "ml"

    def _log_ratios(
        self, x: NDArray[np.float64], ctx: Context, ref: NDArray[np.float64] | None, tb: int
    ) -> NDArray[np.float64]:
        n_t = len(ctx.thetas)
        lr = np.concatenate([self._evaluate(x, ctx.thetas[s : s + tb]) for s in range(0, n_t, tb)])
        if lr.shape != (n_t, len(x)):
            raise ConfigError(f"log_ratio returned shape {lr.shape}, expected {(n_t, len(x))}")
        lr = lr.astype(np.float64)
        if ref is not None:
            lr = lr - self._evaluate(x, ref[None]).astype(np.float64).reshape(1, len(x))
        return lr

    def kinematic_log_likelihood(self, ctx: Context) -> NDArray[np.float64]:
        cols = model_columns(self.ratio_model, ctx.data.observables)
        object.__setattr__(self, "_fn", self._evaluator())
        ref = self.reference_point(ctx.components.shape[1]) if self.normalize else None
        if self.normalize and ref is None and not self.is_density:
            logger.warning(
                "NeuralRatio: the reference of the ratio is unknown (no theta_ref): the estimated ratio is "
                "used unnormalised; pass reference= to calibrate it"
            )
        f_ref = None if ref is None else factors(ref, ctx.components)
        # Asimov data at θ_ref on the simulation itself: the normalisation comes from the same pass
        same = (
            ref is not None
            and isinstance(ctx.data, AsimovData)
            and ctx.data.sample is ctx.simulation
            and np.allclose(ctx.data.f_true, f_ref, rtol=1e-12, atol=0)
        )
        out = np.zeros(len(ctx.thetas))
        norm = np.zeros(len(ctx.thetas))
        n_bad, w_sum, ref_sum = 0, 0.0, 0.0
        tb = max(1, min(self.theta_batch, len(ctx.thetas)))
        step = max(1, self.max_elements // tb)
        for x_chunk, w_chunk in ctx.data.chunks():
            for s0 in range(0, len(x_chunk), step):
                x, w = x_chunk[s0 : s0 + step], w_chunk[s0 : s0 + step]
                lr = self._log_ratios(x if cols is None else x[:, cols], ctx, ref, tb)
                ok = np.all(np.isfinite(lr), axis=0)
                if not np.all(ok):
                    n_bad += int(np.count_nonzero(~ok))
                    lr, w = lr[:, ok], w[ok]
                out += lr @ w
                w_sum += float(np.sum(w))
                if same:
                    norm += np.exp(lr) @ w
                    ref_sum += float(np.sum(w))
        if n_bad:
            logger.warning("NeuralRatio: %d events with non-finite log r dropped", n_bad)
        if ref is None:
            object.__setattr__(self, "_normalization", None)
            return out
        if not same:
            norm, ref_sum = self._reference_expectation(ctx, ref, f_ref, cols, tb)  # type: ignore[arg-type]
        expect = norm / ref_sum
        if np.any(expect <= 0) or not np.all(np.isfinite(expect)):
            raise LhcgoldError(
                "the ratio estimator's normalisation E_ref[r] is not positive and finite at some grid point"
            )
        object.__setattr__(self, "_normalization", {"reference": ref.tolist(), "expectation": expect})
        return out - w_sum * np.log(expect)  # type: ignore[no-any-return]

    def _reference_expectation(
        self, ctx: Context, ref: NDArray[np.float64], f_ref: NDArray[np.float64], cols: Any, tb: int
    ) -> tuple[NDArray[np.float64], float]:
        """Σ_i w_i(θ_ref) r̂(x_i|θ) over the simulation, and Σ_i w_i(θ_ref)."""
        norm = np.zeros(len(ctx.thetas))
        total = 0.0
        step = max(1, self.max_elements // tb)
        for x_chunk, m_chunk in ctx.simulation.component_chunks(chunk_size=ctx.chunk_size):
            for s0 in range(0, len(x_chunk), step):
                x = x_chunk[s0 : s0 + step]
                w = m_chunk[s0 : s0 + step] @ f_ref
                lr = self._log_ratios(x if cols is None else x[:, cols], ctx, ref, tb)
                ok = np.all(np.isfinite(lr), axis=0)
                norm += np.exp(lr[:, ok]) @ w[ok]
                total += float(np.sum(w[ok]))
        if total <= 0:
            raise LhcgoldError("the simulation has no positive cross section at the ratio's reference point")
        return norm, total


# --------------------------------------------------------------------------------------------------
# Truth
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Truth:
    """The exact likelihood of an embedded process: p(x|θ) = Σ_c f_c(θ) p_c(x) / Σ_c f_c(θ) σ_c.

    Args:
        process: object with ``truth_components(x) -> (N, C)`` (dσ_c/dx of the observed x) and
            ``xsec_components() -> (C,)`` or ``-> (σ_c, δσ_c)``, in the setup's component order
            (e.g. :class:`lhcgold.processes.wh.WHProcess`); or a
            :class:`lhcgold.generate.embedded.TruthModel` (``components(x)``, ``sigma_c``).
        observables: the event columns ``truth_components`` expects, in order (default: the
            process's ``observed_names``, else its ``observables``; None of them: all columns).
        xsec_components: σ_c [pb] normalising the truth density (default: the process's own,
            computed once and cached).
        include_rate: add the Poisson rate term (with the *events'* σ(θ), as every method).
    """

    process: Any
    observables: tuple[str, ...] | None = None
    xsec_components: Any = None
    include_rate: bool = True

    def __post_init__(self) -> None:
        if not (
            callable(getattr(self.process, "truth_components", None))
            or callable(getattr(self.process, "components", None))
        ):
            raise ConfigError("Truth needs a process with a truth_components(x) method (or a TruthModel)")
        if (
            self.xsec_components is None
            and getattr(self.process, "sigma_c", None) is None
            and not callable(getattr(self.process, "xsec_components", None))
        ):
            raise ConfigError("Truth needs xsec_components, or a process with an xsec_components() method")
        if self.observables is None:
            names = getattr(self.process, "observed_names", None) or getattr(self.process, "observables", None)
            if names:
                object.__setattr__(self, "observables", tuple(names))

    @property
    def label(self) -> str:
        return "truth"

    def sigma_components(self) -> NDArray[np.float64]:
        """σ_c of the truth normalisation (cached)."""
        cached = getattr(self, "_sigma_c", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if self.xsec_components is not None:
            val = self.xsec_components
        elif getattr(self.process, "sigma_c", None) is not None:
            val = self.process.sigma_c
        else:
            val = self.process.xsec_components()
        if isinstance(val, tuple):  # (σ_c, δσ_c)
            val = val[0]
        sig = np.asarray(val, dtype=np.float64)
        object.__setattr__(self, "_sigma_c", sig)
        return sig

    def kinematic_log_likelihood(self, ctx: Context) -> NDArray[np.float64]:
        cols = None if not self.observables else column_indices(self.observables, ctx.data.observables)
        f = factors(ctx.thetas, ctx.components)  # (T, C)
        sigma_c = self.sigma_components()
        if sigma_c.shape != (ctx.components.shape[0],):
            raise ConfigError(
                f"xsec_components has shape {sigma_c.shape}, the setup has {ctx.components.shape[0]} components"
            )
        sigma = f @ sigma_c
        # On Asimov data at θ_true the density ratio ρ(x) = p(x|θ)/p(x|θ_true) has E_true[ρ] = 1 exactly.
        # Its Monte-Carlo mean over the same weighted events is not 1, and that linear MC noise moves the
        # best fit off θ_true by up to ~1σ when the weighted sample is small against L·σ. So on Asimov data
        # p(x|θ) is normalised by that MC mean (self-normalised importance sampling, as NeuralRatio calibrates
        # r̂): log L = Σ w log p(x|θ) − W log(Σ w ρ / W), which is largest at θ_true exactly (Jensen).
        f_true = getattr(ctx.data, "f_true", None)
        out = np.zeros(len(ctx.thetas))
        rho_sum = np.zeros(len(ctx.thetas))
        w_sum = 0.0
        for x, w in ctx.data.chunks():
            fn = getattr(self.process, "truth_components", None)
            fn = fn if callable(fn) else self.process.components
            pc = np.asarray(fn(x if cols is None else x[:, cols]), dtype=np.float64)
            if pc.shape != (len(x), ctx.components.shape[0]):
                raise ConfigError(
                    f"truth_components returned shape {pc.shape}, expected {(len(x), ctx.components.shape[0])}"
                )
            dens = f @ pc.T  # (T, n)
            with np.errstate(divide="ignore", invalid="ignore"):
                logd = np.where(dens > 0, np.log(np.where(dens > 0, dens, 1.0)), -np.inf)
            keep = w != 0
            out += logd[:, keep] @ w[keep]
            w_sum += float(np.sum(w))
            if f_true is not None:
                d_true = pc @ np.asarray(f_true, dtype=np.float64)  # (n,)
                ok = keep & (d_true > 0)
                rho_sum += (dens[:, ok] / d_true[ok]) @ w[ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            if f_true is None:
                return out - w_sum * np.log(sigma)
            sigma_true = float(np.asarray(f_true, dtype=np.float64) @ sigma_c)
            # Σ w log(dens_θ/σ_θ) − W log(Σ w (dens_θ/σ_θ)/(dens_true/σ_true) / W): σ_θ cancels
            return out - w_sum * np.log(sigma_true) - w_sum * np.log(rho_sum / w_sum)
