"""MadMiner's plot functions that lhcgold provides (matplotlib, the ``plot`` extra); the others raise
an error that points at :mod:`lhcgold.plot`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...exceptions import ConfigError
from ...infer import fisher_ellipse
from ...plot._mpl import pyplot

__all__ = ["plot_2d_morphing_basis", "plot_distributions", "plot_fisher_information_contours_2d", "plot_histograms"]


def plot_2d_morphing_basis(
    morpher: Any,
    xlabel: str = r"$\theta_0$",
    ylabel: str = r"$\theta_1$",
    xrange: Sequence[float] = (-1.0, 1.0),
    yrange: Sequence[float] = (-1.0, 1.0),
    crange: Sequence[float] = (1.0, 100.0),
    resolution: int = 100,
) -> Any:
    """The basis points and the squared morphing weights Σ_b w_b(θ)² over a 2-D parameter plane."""

    plt = pyplot()
    xs, ys = np.linspace(*xrange, resolution), np.linspace(*yrange, resolution)
    gx, gy = np.meshgrid(xs, ys)
    w = morpher.weights(np.stack([gx.ravel(), gy.ravel()], axis=1))
    s = (w**2).sum(axis=-1).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    from matplotlib.colors import LogNorm

    pcm = ax.pcolormesh(xs, ys, np.clip(s, *crange), norm=LogNorm(*crange), cmap="viridis_r", shading="auto")
    fig.colorbar(pcm, ax=ax, label=r"$\sum_b w_b(\theta)^2$")
    ax.scatter(morpher.basis[:, 0], morpher.basis[:, 1], s=50, c="black", marker="s", label="basis")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(*xrange)
    ax.set_ylim(*yrange)
    return fig


def plot_fisher_information_contours_2d(
    fisher_information_matrices: Sequence[Any],
    fisher_information_covariances: Sequence[Any] | None = None,
    reference_thetas: Sequence[Any] | None = None,
    contour_distance: float = 1.0,
    xlabel: str = r"$\theta_0$",
    ylabel: str = r"$\theta_1$",
    xrange: Sequence[float] = (-1.0, 1.0),
    yrange: Sequence[float] = (-1.0, 1.0),
    labels: Sequence[str] | None = None,
    inline_labels: Sequence[str] | None = None,
    resolution: int = 500,
    colors: Sequence[str] | None = None,
    linestyles: Sequence[str] | None = None,
    linewidths: float | Sequence[float] = 1.5,
    alphas: float = 1.0,
    alphas_uncertainties: float = 0.25,
    sigma_uncertainties: float = 1,
    ax: Any = None,
) -> Any:
    """Contours Δθᵀ I Δθ = d² of 2 × 2 information matrices (covariance bands are not drawn)."""

    plt = pyplot()
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    names = labels or inline_labels or [None] * len(fisher_information_matrices)
    for k, info in enumerate(fisher_information_matrices):
        center = (0.0, 0.0) if reference_thetas is None else reference_thetas[k]
        pts = fisher_ellipse(np.asarray(info)[:2, :2], center, distance=contour_distance)
        ax.plot(
            pts[:, 0],
            pts[:, 1],
            color=None if colors is None else colors[k],
            ls=None if linestyles is None else linestyles[k],
            label=names[k],
        )
    ax.set_xlim(*xrange)
    ax.set_ylim(*yrange)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if any(names):
        ax.legend()
    return fig if fig is not None else ax.figure


def plot_distributions(*args: Any, **kwargs: Any) -> Any:
    """Not provided: use :func:`lhcgold.plot.distributions.plot_distributions`."""
    raise ConfigError(
        "plot_distributions is not provided by lhcgold.compat.madminer: use lhcgold.plot "
        "(lhcgold.plot.distributions.plot_distributions)"
    )


def plot_histograms(*args: Any, **kwargs: Any) -> Any:
    """Not provided: the limits do not return their histograms (see the migration guide)."""
    raise ConfigError(
        "plot_histograms is not provided by lhcgold.compat.madminer: the limits do not return "
        "their histograms; use lhcgold.plot"
    )
