"""``lhcgold fisher EVENTS -o fisher.json``: Fisher information of an analysis."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
from numpy.typing import NDArray

from ..config import ParameterPoint
from ..exceptions import ConfigError
from ..io.view import open_events
from ._common import (
    check_nuisance_options,
    check_output,
    make_nuisances,
    nuisance_options,
    overwrite_option,
    show_progress,
)

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
@nuisance_options(
    methods="truth, rate, histogram and ml",
    ml_note=" (ml: per-event weight factors on the ratio estimator, information by finite differences)",
)
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
    norm_uncertainty: float | None,
    profile_systematics: bool,
    nuisance_model: Path | None,
) -> None:
    """Fisher information of EVENTS at THETA (truth, rate, histogram, sally or ml).

    Uses the test partition of EVENTS (its last --test-split, as augment and `lhcgold run`), never
    the events an estimator was trained on, unless --all-events is given. With --norm-uncertainty
    or --profile-systematics the information with the nuisance parameters fixed and profiled, the
    ratio of the 1σ uncertainties and each nuisance's impact are added (details.nuisances).
    """
    check_output(output, overwrite)
    profiling = check_nuisance_options(
        norm_uncertainty,
        profile_systematics,
        method=method,
        nuisance_model=nuisance_model,
        unsupported={"sally": "--nuisance-model: SALLY profiles its own ν score"} if nuisance_model else None,
    )
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
    nuisances = make_nuisances(events, ef, norm_uncertainty, profile_systematics, nuisance_model) if profiling else []
    progress = show_progress(ctx)
    estimator = load_model_on(model, method, device) if model is not None else None
    opts: dict[str, Any] = dict(theta=th, luminosity_ifb=luminosity_ifb, chunk_size=chunk_size)
    info = _information(method, ef, estimator, observables, bins, progress=progress, **opts)
    if keep:
        info = info.profile(list(keep))
    if nuisances:
        ni = _profiled_information(method, ef, estimator, observables, bins, nuisances, progress=progress, **opts)
        record = nuisance_record(ni, info.parameter_names, norm_uncertainty=norm_uncertainty)
        info = dataclasses.replace(info, details={**info.details, "nuisances": record})
    info.save(output, overwrite=overwrite)
    names = info.parameter_names
    part = "all events" if all_events else f"test partition, {ef.n_events} events"
    click.echo(
        f"{output}: {info.method} Fisher information at theta={info.theta.tolist()}, L={luminosity_ifb:g}/fb ({part})"
    )
    width = max(len(n) for n in names)
    for n, row in zip(names, info.matrix):
        click.echo(f"  {n:>{width}s}  " + "  ".join(f"{v:12.5g}" for v in row))
    if nuisances:
        for line in nuisance_table(info.details["nuisances"]):
            click.echo(line)


def _information(
    method: str,
    ef: Any,
    estimator: Any,
    observables: tuple[str, ...],
    bins: tuple[int, ...],
    *,
    progress: bool,
    **kw: Any,
) -> Any:
    """The Fisher information of ``method`` (nuisances fixed), a :class:`lhcgold.infer.FisherInformation`."""
    from .. import infer

    if method == "truth":
        return infer.truth_information(ef, progress=progress, **kw)
    if method == "rate":
        return infer.rate_information(ef, **kw)
    if method == "histogram":
        return infer.histogram_information(ef, list(observables), bins=parse_bins(bins), progress=progress, **kw)
    if method == "sally":
        return infer.sally_information(ef, estimator, progress=progress, **kw)
    kw.pop("chunk_size")
    return infer.ml_information(ef, estimator, progress=progress, **kw)


def _profiled_information(
    method: str,
    ef: Any,
    estimator: Any,
    observables: tuple[str, ...],
    bins: tuple[int, ...],
    nuisances: list[Any],
    *,
    progress: bool,
    **kw: Any,
) -> Any:
    """The (θ, ν) information of ``method``'s model, profiled (:class:`lhcgold.infer.NuisanceInformation`):
    truth per event (:func:`lhcgold.infer.truth_profiled_information`); rate and histogram from their
    bins, ml from the per-event factor model (:func:`lhcgold.infer.profiled_information`)."""
    from .. import infer

    if method == "truth":
        return infer.truth_profiled_information(ef, nuisances=nuisances, progress=progress, **kw)
    if method == "sally":  # the nuisance components of its own score (trained with with_nuisance_score)
        norms = [n for n in nuisances if isinstance(n, infer.Normalisation)]
        return infer.sally_profiled_information(
            ef, estimator, normalisations=norms, systematics=len(norms) < len(nuisances), **kw
        )
    if method == "rate":
        like: Any = infer.RateOnly()
    elif method == "histogram":
        like = infer.Histogram(list(observables), bins=parse_bins(bins))
    elif method == "ml":
        like = infer.NeuralRatio(estimator)
    else:
        raise ConfigError(f"--method {method} cannot profile nuisance parameters")
    return infer.profiled_information(like, ef, nuisances=nuisances, **kw)


def _sigmas(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """1σ uncertainty √((I⁻¹)_aa) of every parameter (the others profiled); inf where I has no
    information on a parameter once the others are profiled."""
    from ..infer import profile_information

    out = np.full(len(matrix), np.inf)
    for a in range(len(matrix)):
        s = float(profile_information(matrix, [a])[0, 0])
        if s > 1e-12 * abs(float(matrix[a, a])) and s > 0:
            out[a] = 1.0 / np.sqrt(s)
    return out


def nuisance_record(ni: Any, names: Sequence[str], *, norm_uncertainty: float | None) -> dict[str, Any]:
    """``details["nuisances"]`` of a Fisher result: on the parameters ``names`` (the others profiled),
    the information with the nuisances fixed and profiled, the 1σ uncertainties √((I⁻¹)_aa) of both,
    their ratio (profiled / fixed), and each nuisance's impact; the whole (θ, ν) information."""
    from ..infer import profile_information
    from ..infer._data import parameter_indices

    idx = parameter_indices(list(names), ni.parameter_names)
    fixed, prof = profile_information(ni.fixed, idx), profile_information(ni.profiled, idx)
    s_fixed, s_prof = _sigmas(fixed), _sigmas(prof)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = s_prof / s_fixed
    return {
        "names": list(ni.nuisance_names),
        "norm_uncertainty": norm_uncertainty,
        "parameter_names": list(names),
        "fisher_fixed": fixed.tolist(),
        "fisher_profiled": prof.tolist(),
        "sigma_fixed": s_fixed.tolist(),
        "sigma_profiled": s_prof.tolist(),
        "uncertainty_ratio": ratio.tolist(),
        # an impact means nothing where the profiled information leaves a parameter unconstrained
        "impacts": {
            n: np.where(np.isfinite(s_prof), np.asarray(v)[idx], np.nan).tolist() for n, v in ni.impacts.items()
        },
        "fisher_full": np.asarray(ni.full).tolist(),
        "full_names": [*ni.parameter_names, *ni.nuisance_names],
    }


def nuisance_table(rec: dict[str, Any]) -> list[str]:
    """The 1σ uncertainties with the nuisances fixed and profiled, their ratio, and the impacts."""
    pars, nuis = rec["parameter_names"], rec["names"]
    width = max(len("nuisance"), len("parameter"), *(len(n) for n in [*pars, *nuis]))
    lines = [f"nuisances profiled ({len(nuis)}): 1σ uncertainties √((I⁻¹)_aa)"]
    lines.append("  " + "parameter".ljust(width) + "".join(f"  {c:>12}" for c in ("fixed", "profiled", "ratio")))
    for i, p in enumerate(pars):
        vals = (rec["sigma_fixed"][i], rec["sigma_profiled"][i], rec["uncertainty_ratio"][i])
        lines.append("  " + p.ljust(width) + "".join(f"  {v:>12.5g}" for v in vals))
    if not np.all(np.isfinite(rec["sigma_profiled"])):
        lines.append("  (inf: no information on the parameter once the others are profiled; fix them with --profile)")
    lines.append("impacts on the 1σ uncertainties (√(σ²_profiled − σ²_profiled without it)):")
    lines.append("  " + "nuisance".ljust(width) + "".join(f"  {p:>12}" for p in pars))
    for n in nuis:
        lines.append("  " + n.ljust(width) + "".join(f"  {v:>12.4g}" for v in rec["impacts"][n]))
    return lines
