"""``lhcgold fisher EVENTS -o fisher.json``: Fisher information of an analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ..config import ParameterPoint
from ..exceptions import ConfigError
from ..io.view import open_events
from ._common import check_output, overwrite_option, show_progress

METHODS = ("truth", "rate", "histogram", "sally", "ml")


def parse_theta(value: str | None, setup: Any) -> ParameterPoint | None:
    """``--theta``/``--asimov``: a benchmark name, ``NAME=VALUE,...`` or one value per parameter; None
    stays None (the origin). Unknown names are errors with near-miss suggestions."""
    if value is None:
        return None
    return setup.point(value)  # type: ignore[no-any-return]


def parse_bins(bins: tuple[int, ...]) -> Any:
    bad = [b for b in bins if b < 1]
    if bad:
        raise ConfigError(f"--bins must be positive, got {bad[0]}")
    if not bins:
        return None
    return bins[0] if len(bins) == 1 else list(bins)


#: Estimator families each method accepts (``family`` of :mod:`lhcgold.ml` estimators).
MODEL_FAMILIES = {"sally": ("score",), "ml": ("ratio",)}


def load_model(path: Path, method: str | None = None, *, families: tuple[str, ...] | None = None) -> Any:
    """Load one estimator (an ensemble is refused with a hint); with ``method``, refuse a model of the
    wrong kind (a clear ConfigError)."""
    from ..ml import load_estimator

    model = load_estimator(path)
    allowed = families if families is not None else MODEL_FAMILIES.get(method or "")
    if allowed:
        family = getattr(model, "family", None)
        if family not in allowed:
            kind = f"a {family} estimator ({type(model).__name__})" if family else f"a {type(model).__name__}"
            raise ConfigError(f"--model {path} is {kind}; --method {method} needs a {' or '.join(allowed)} estimator")
    return model


def device_option(fn: Any) -> Any:
    """``--device``: where a torch estimator (--model) is evaluated."""
    return click.option(
        "--device",
        default=None,
        metavar="DEVICE",
        help="Evaluate the --model estimator on this torch device: cpu (default), cuda, cuda:N or "
        "auto (cuda when available).",
    )(fn)


def check_device(device: str | None, model: Path | None) -> None:
    """Refuse ``--device`` without a torch estimator, or a device this machine lacks (before any work)."""
    if device is None:
        return
    if model is None:
        raise ConfigError(
            f"--device {device} is used by the estimator of --method sally or ml (--model); "
            "the other methods do not use torch"
        )
    from ..ml.trainer import resolve_device

    resolve_device(device)


def load_model_on(
    path: Path, method: str | None, device: str | None, *, families: tuple[str, ...] | None = None
) -> Any:
    """:func:`load_model`, moved to ``device`` (:meth:`lhcgold.ml.Estimator.to`) when one is given."""
    model = load_model(path, method, families=families)
    if device is not None:
        model.to(device)
    return model


partition_options = [
    click.option(
        "--test-split",
        type=click.FloatRange(0.0, 1.0, max_open=True),
        default=0.2,
        show_default=True,
        help="Fraction of EVENTS at its end held out from training (as `augment --test-split`): the events used here.",
    ),
    click.option(
        "--all-events",
        is_flag=True,
        default=False,
        help="Use every event of EVENTS instead of its test partition, including events an estimator "
        "may have been trained on (biased; warns when --model is given).",
    ),
]


def add_options(options: list[Any]) -> Any:
    def deco(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return deco


def inference_events(events: Path, *, all_events: bool, test_split: float, uses_model: bool) -> Any:
    """The events inference uses: the test partition of EVENTS (as ``lhcgold run`` and MadMiner), or
    with ``--all-events`` the whole file (a loud warning when an estimator is involved)."""

    ef = open_events(events)
    if all_events:
        if uses_model:
            click.echo(
                f"Warning: --all-events uses all {ef.n_events} events of {events}, including the training "
                "partition the estimator learnt from: its information and limits are biased "
                "(optimistic). Drop --all-events to use the test partition.",
                err=True,
            )
        return ef
    if test_split <= 0:
        raise ConfigError(
            f"--test-split {test_split:g} leaves {events} no test partition; inference must not use "
            "training events (pass --all-events to use every event anyway)"
        )
    return ef.partition("test", test_split=test_split, validation_split=0.0)


@click.command("fisher")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Result file (.json or .h5)."
)
@click.option("-m", "--method", type=click.Choice(METHODS), default="truth", show_default=True)
@click.option(
    "--theta",
    default=None,
    help="Benchmark name, NAME=VALUE,... (parameters left out are 0) or one value per parameter (default: origin).",
)
@click.option("-L", "--luminosity-ifb", type=float, default=300.0, show_default=True, help="Luminosity [fb^-1].")
@click.option("--observable", "observables", multiple=True, help="Histogram axis (repeat for 2-D).")
@click.option("--bins", type=int, multiple=True, help="Bins per axis (one value for all axes).")
@click.option(
    "--model",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Model directory (sally: a score estimator; ml: a ratio estimator).",
)
@click.option("--profile", "keep", multiple=True, help="Profile onto these parameters (others profiled out).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@device_option
@add_options(partition_options)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    events: Path,
    output: Path,
    method: str,
    theta: str | None,
    luminosity_ifb: float,
    observables: tuple[str, ...],
    bins: tuple[int, ...],
    model: Path | None,
    keep: tuple[str, ...],
    chunk_size: int,
    device: str | None,
    test_split: float,
    all_events: bool,
    overwrite: bool,
) -> None:
    """Fisher information of EVENTS at THETA (truth, rate, histogram, sally or ml).

    Uses the test partition of EVENTS (its last --test-split, as augment and `lhcgold run`), never
    the events an estimator was trained on, unless --all-events is given.
    """
    from .. import infer

    check_output(output, overwrite)
    if not (np.isfinite(luminosity_ifb) and luminosity_ifb > 0):
        raise ConfigError(f"--luminosity-ifb must be positive, got {luminosity_ifb:g}")
    if method in ("sally", "ml") and model is None:
        raise ConfigError(f"--method {method} needs --model")
    if method == "histogram" and not observables:
        raise ConfigError("--method histogram needs at least one --observable")
    if model is not None and method not in ("sally", "ml"):
        raise ConfigError(f"--model is used by --method sally or ml, not {method}")
    check_device(device, model)
    ef = inference_events(events, all_events=all_events, test_split=test_split, uses_model=model is not None)
    th = parse_theta(theta, ef.setup)
    progress = show_progress(ctx)
    kw: dict[str, Any] = dict(theta=th, luminosity_ifb=luminosity_ifb)
    if method == "truth":
        info = infer.truth_information(ef, chunk_size=chunk_size, progress=progress, **kw)
    elif method == "rate":
        info = infer.rate_information(ef, chunk_size=chunk_size, **kw)
    elif method == "histogram":
        info = infer.histogram_information(
            ef, list(observables), bins=parse_bins(bins), chunk_size=chunk_size, progress=progress, **kw
        )
    elif method == "sally":
        info = infer.sally_information(
            ef, load_model_on(model, method, device), chunk_size=chunk_size, progress=progress, **kw
        )
    else:
        info = infer.ml_information(ef, load_model_on(model, method, device), progress=progress, **kw)
    if keep:
        info = info.profile(list(keep))
    info.save(output, overwrite=overwrite)
    names = info.parameter_names
    part = "all events" if all_events else f"test partition, {ef.n_events} events"
    click.echo(
        f"{output}: {info.method} Fisher information at theta={info.theta.tolist()}, L={luminosity_ifb:g}/fb ({part})"
    )
    width = max(len(n) for n in names)
    for n, row in zip(names, info.matrix):
        click.echo(f"  {n:>{width}s}  " + "  ".join(f"{v:12.5g}" for v in row))
