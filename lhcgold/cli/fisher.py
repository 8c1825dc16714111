"""``lhcgold fisher EVENTS -o fisher.json``: Fisher information of an analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ..exceptions import ConfigError
from ._common import check_output, overwrite_option, show_progress

METHODS = ("truth", "rate", "histogram", "sally", "ml")


def parse_theta(value: str | None, setup: Any) -> Any:
    """A benchmark name, or comma-separated values (one per parameter), or None."""
    if value is None:
        return None
    if value in setup.benchmark_names:
        return value
    try:
        th = np.array([float(v) for v in value.split(",")])
    except ValueError:
        raise ConfigError(f"theta {value!r} is neither a benchmark name {setup.benchmark_names} nor numbers") from None
    if th.shape != (setup.n_parameters,):
        raise ConfigError(f"theta needs {setup.n_parameters} values ({', '.join(setup.parameter_names)}), got {value!r}")
    return th


def parse_bins(bins: tuple[int, ...]) -> Any:
    if not bins:
        return None
    return bins[0] if len(bins) == 1 else list(bins)


def load_model(path: Path) -> Any:
    """One estimator from a model directory (an ensemble is refused with a hint)."""
    from ..ml import load_estimator

    return load_estimator(path)


@click.command("fisher")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Result file (.json or .h5).")
@click.option("-m", "--method", type=click.Choice(METHODS), default="truth", show_default=True)
@click.option("--theta", default=None, help="Benchmark name or comma-separated values (default: origin).")
@click.option("-L", "--luminosity-ifb", type=float, default=300.0, show_default=True, help="Luminosity [fb^-1].")
@click.option("--observable", "observables", multiple=True, help="Histogram axis (repeat for 2-D).")
@click.option("--bins", type=int, multiple=True, help="Bins per axis (one value for all axes).")
@click.option("--model", type=click.Path(exists=True, path_type=Path), default=None,
              help="Model directory (sally: a score estimator; ml: a ratio estimator).")
@click.option("--profile", "keep", multiple=True, help="Profile onto these parameters (others profiled out).")
@click.option("--chunk-size", type=int, default=100_000, show_default=True)
@overwrite_option
@click.pass_context
def command(ctx: click.Context, events: Path, output: Path, method: str, theta: str | None, luminosity_ifb: float,
            observables: tuple[str, ...], bins: tuple[int, ...], model: Path | None, keep: tuple[str, ...],
            chunk_size: int, overwrite: bool) -> None:
    """Fisher information of EVENTS at THETA (truth, rate, histogram, sally or ml)."""
    from .. import infer
    from ..io.events import EventFile

    check_output(output, overwrite)
    ef = EventFile(events)
    th = parse_theta(theta, ef.setup)
    progress = show_progress(ctx)
    kw: dict[str, Any] = dict(theta=th, luminosity_ifb=luminosity_ifb)
    if method in ("sally", "ml") and model is None:
        raise ConfigError(f"--method {method} needs --model")
    if method == "histogram" and not observables:
        raise ConfigError("--method histogram needs at least one --observable")
    if method == "truth":
        info = infer.truth_information(ef, chunk_size=chunk_size, progress=progress, **kw)
    elif method == "rate":
        info = infer.rate_information(ef, chunk_size=chunk_size, **kw)
    elif method == "histogram":
        info = infer.histogram_information(ef, list(observables), bins=parse_bins(bins), chunk_size=chunk_size,
                                           progress=progress, **kw)
    elif method == "sally":
        info = infer.sally_information(ef, load_model(model), chunk_size=chunk_size, progress=progress, **kw)
    else:
        info = infer.ml_information(ef, load_model(model), progress=progress, **kw)
    if keep:
        info = info.profile(list(keep))
    info.save(output, overwrite=overwrite)
    names = info.parameter_names
    click.echo(f"{output}: {info.method} Fisher information at theta={info.theta.tolist()}, "
               f"L={luminosity_ifb:g}/fb")
    width = max(len(n) for n in names)
    for n, row in zip(names, info.matrix):
        click.echo(f"  {n:>{width}s}  " + "  ".join(f"{v:12.5g}" for v in row))
