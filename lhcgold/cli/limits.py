"""``lhcgold limits EVENTS -o limits.json``: Asimov expected limits on a parameter grid."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..exceptions import ConfigError, unknown_name_error
from ..io.atomic import atomic_path
from ..plot import plot_contours, plot_ensemble_band, plot_pvalue_map, plot_q_1d
from ..plot._mpl import pyplot
from ._common import (
    check_nuisance_options,
    check_output,
    make_nuisances,
    nuisance_options,
    overwrite_option,
    show_progress,
)
from .fisher import (
    add_options,
    check_device,
    device_option,
    inference_events,
    load_model_on,
    parse_bins,
    parse_theta,
    partition_options,
)

METHODS = ("rate", "histogram", "sally", "ml")


def parse_grid(specs: tuple[str, ...], setup: Any, resolution: int) -> Any:
    """``NAME=LO:HI[:N]`` (scanned) or ``NAME=VALUE`` (fixed); unnamed parameters span their range."""
    from ..infer import LimitGrid

    entries: dict[str, Any] = {}
    for spec in specs:
        if "=" not in spec:
            raise ConfigError(f"--grid {spec!r}: expected NAME=LO:HI[:N] or NAME=VALUE")
        name, val = spec.split("=", 1)
        if name not in setup.parameter_names:
            raise unknown_name_error("parameter", name, setup.parameter_names)
        parts = val.split(":")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise ConfigError(f"--grid {spec!r}: not numbers") from None
        if not all(np.isfinite(nums)):
            raise ConfigError(f"--grid {spec!r}: values must be finite numbers")
        if name in entries:
            raise ConfigError(f"--grid {spec!r}: parameter {name!r} given twice")
        if len(nums) == 1:
            entries[name] = (nums[0], 1)
        elif len(nums) in (2, 3):
            n = nums[2] if len(nums) == 3 else resolution
            if n != int(n) or n < 2:
                raise ConfigError(
                    f"--grid {spec!r}: a scanned parameter needs an integer number of points >= 2, got {n:g}"
                )
            if not nums[1] > nums[0]:
                raise ConfigError(f"--grid {spec!r}: empty range, the upper end must exceed the lower end")
            entries[name] = ((nums[0], nums[1]), int(n))
        else:
            raise ConfigError(f"--grid {spec!r}: expected NAME=LO:HI[:N] or NAME=VALUE")
    ranges, res = [], []
    for p in setup.parameters:
        r, n = entries.get(p.name, (tuple(p.range), resolution))
        ranges.append(r)
        res.append(n if np.ndim(r) else 2)
    return LimitGrid(ranges, tuple(res))


@click.command("limits")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Result file (.json or .h5)."
)
@click.option("-m", "--method", type=click.Choice(METHODS), default="histogram", show_default=True)
@click.option("--observable", "observables", multiple=True, help="Histogram axis (repeat for 2-D).")
@click.option("--bins", type=int, multiple=True, help="Bins per axis (one value for all axes).")
@click.option(
    "--model",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Model directory (sally: a score estimator; ml: a ratio or density estimator).",
)
@click.option(
    "--grid",
    "grid_specs",
    multiple=True,
    help="NAME=LO:HI[:N] or NAME=VALUE (fixed); default: every parameter over its range.",
)
@click.option(
    "--resolution", type=click.IntRange(min=2), default=25, show_default=True, help="Points per scanned parameter."
)
@click.option(
    "--asimov",
    default=None,
    help="Asimov θ: benchmark name, NAME=VALUE,... or one value per parameter (default: origin).",
)
@click.option("-L", "--luminosity-ifb", type=float, default=300.0, show_default=True, help="Luminosity [fb^-1].")
@click.option("--profile", multiple=True, help="Parameters to profile on the grid.")
@click.option("--allow-outside", is_flag=True, help="Accept grid points outside the parameter ranges.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the p-value map with 68/95% CL contours (needs lhcgold[plot]).",
)
@click.option("--chunk-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option(
    "--coverage",
    type=click.IntRange(min=10),
    default=None,
    help="Also measure the coverage of Wilks and Neyman intervals at the Asimov point from N toys "
    "(conservative, with a warning, where the grid is too coarse for the interval). With "
    "--norm-uncertainty/--profile-systematics, also that of the profiled intervals (binned toys with "
    "auxiliary measurements; rate, histogram and sally).",
)
@click.option(
    "--coverage-cl",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.68,
    show_default=True,
    help="Confidence level of the --coverage intervals.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the --coverage toys.")
@device_option
@nuisance_options(methods="every method", ml_note=" (ml: per-event weight factors on the ratio estimator)")
@add_options(partition_options)
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    events: Path,
    output: Path,
    method: str,
    observables: tuple[str, ...],
    bins: tuple[int, ...],
    model: Path | None,
    grid_specs: tuple[str, ...],
    resolution: int,
    asimov: str | None,
    luminosity_ifb: float,
    profile: tuple[str, ...],
    allow_outside: bool,
    plot_path: Path | None,
    chunk_size: int,
    coverage: int | None,
    coverage_cl: float,
    seed: int,
    device: str | None,
    test_split: float,
    all_events: bool,
    overwrite: bool,
    norm_uncertainty: float | None = None,
    profile_systematics: bool = False,
    nuisance_model: Path | None = None,
) -> None:
    """Expected limits from Asimov data of EVENTS (rate, histogram, sally or ml likelihood).

    Uses the test partition of EVENTS (its last --test-split, as augment and `lhcgold run`), never
    the events an estimator was trained on, unless --all-events is given. With an ensemble
    directory as --model, the limits of the ensemble's mean and of every member are computed and
    the members' spread is reported (finite-training-sample band).
    """
    from .. import infer

    check_output(output, overwrite)
    with_nuisances = check_nuisance_options(
        norm_uncertainty, profile_systematics, method=method, nuisance_model=nuisance_model
    )
    if coverage is not None and with_nuisances and method == "ml":
        raise ConfigError(
            "--coverage with --norm-uncertainty/--profile-systematics measures the coverage of the profiled "
            "intervals, implemented for --method rate, histogram and sally (binned); ml (unbinned) is not "
            "supported yet: drop --coverage, or the nuisance options"
        )
    if plot_path is not None:
        check_output(plot_path, overwrite)
    if not (np.isfinite(luminosity_ifb) and luminosity_ifb > 0):
        raise ConfigError(f"--luminosity-ifb must be positive, got {luminosity_ifb:g}")
    if method in ("sally", "ml") and model is None:
        raise ConfigError(f"--method {method} needs --model")
    if model is not None and method not in ("sally", "ml"):
        raise ConfigError(f"--model is used by --method sally or ml, not {method}")
    check_device(device, model)
    ef = inference_events(events, all_events=all_events, test_split=test_split, uses_model=model is not None)
    setup = ef.setup
    make, estimator = _likelihood_factory(method, observables, bins, model, device)
    like = make(estimator if not _is_ensemble_model(estimator) else infer.EnsembleMean(estimator))
    grid = parse_grid(grid_specs, setup, resolution)
    _check_inputs(ef, like, observables, chunk_size)
    if coverage is not None and profile:
        raise ConfigError("--coverage does not support --profile (toys scan the full grid)")
    asimov_theta = parse_theta(asimov, setup)
    kw = dict(
        grid=grid,
        luminosity_ifb=luminosity_ifb,
        asimov_theta=asimov_theta,
        profile=list(profile),
        allow_outside=allow_outside,
        chunk_size=chunk_size,
        progress=show_progress(ctx),
    )
    if _is_ensemble_model(estimator):
        res = infer.ensemble_limits(make, estimator, ef, **kw).mean
    else:
        res = infer.expected_limits(like, ef, **kw)
    impacts = None
    if with_nuisances:
        res.details["nuisances"], impacts = nuisance_details(
            like,
            ef,
            events=events,
            method=method,
            grid=grid,
            luminosity_ifb=luminosity_ifb,
            asimov_theta=asimov_theta,
            norm_uncertainty=norm_uncertainty,
            profile_systematics=profile_systematics,
            nuisance_model=nuisance_model,
            allow_outside=allow_outside,
            chunk_size=chunk_size,
        )
    cov = prof_cov = None
    if coverage is not None:  # before anything is written: a bad --asimov/--grid pair stops cleanly
        toys = dict(
            grid=grid,
            theta_true=asimov_theta,
            luminosity_ifb=luminosity_ifb,
            cl=coverage_cl,
            n_toys=coverage,
            n_toys_belt=max(1000, coverage),
            allow_outside=allow_outside,
            chunk_size=chunk_size,
            rng=seed,
        )
        cov = infer.coverage(like, ef, **toys)
        if with_nuisances:  # the profiled intervals: binned toys with auxiliary measurements
            nus = make_nuisances(events, ef, norm_uncertainty, profile_systematics, nuisance_model)
            prof_cov = infer.coverage(like, ef, nuisances=nus, **toys)
    cov_dict = None if cov is None else cov.to_dict()
    if cov_dict is not None and prof_cov is not None:
        cov_dict["profiled"] = prof_cov.to_dict()
    res = dataclasses.replace(res, coverage=cov_dict, impacts=impacts)
    res.save(output, overwrite=overwrite)
    _echo_summary(res, output, cov, prof_cov)
    if plot_path is not None:
        _plot(res, plot_path, overwrite)


def _is_ensemble_model(obj: Any) -> bool:
    return obj is not None and isinstance(getattr(obj, "members", None), list)


def _likelihood_factory(
    method: str, observables: tuple[str, ...], bins: tuple[int, ...], model: Path | None, device: str | None
) -> tuple[Any, Any]:
    """(model -> likelihood, the loaded estimator or ensemble or None)."""
    from .. import infer

    if method == "rate":
        return (lambda _m: infer.RateOnly()), None
    if method == "histogram":
        if not observables:
            raise ConfigError("--method histogram needs at least one --observable")
        return (lambda _m: infer.Histogram(list(observables), bins=parse_bins(bins))), None
    assert model is not None
    if method == "sally":
        b = parse_bins(bins)
        return (lambda m: infer.ScoreHistogram(m, bins=b)), _load_estimator_or_ensemble(model, method, device)
    return infer.NeuralRatio, _load_estimator_or_ensemble(model, method, device)


def _load_estimator_or_ensemble(path: Path, method: str, device: str | None) -> Any:
    """One estimator (:func:`load_model_on`) or, for an ensemble directory, the ensemble (members on ``device``)."""
    try:
        is_ens = json.loads((path / "manifest.json").read_text()).get("class") == "Ensemble"
    except (OSError, ValueError, AttributeError):
        is_ens = False
    if not is_ens:
        fams = ("ratio", "likelihood") if method == "ml" else None
        return load_model_on(path, method, device, families=fams)
    from ..ml import load_model as load_any

    ens = load_any(path)
    want = "score" if method == "sally" else "ratio"
    if ens.family != want:
        raise ConfigError(f"--model {path} is an ensemble of {ens.family} estimators; --method {method} needs {want}")
    if device is not None:
        for m in ens.members:
            m.to(device)
    return ens


def _echo_summary(res: Any, output: Path, cov: Any = None, prof_cov: Any = None) -> None:
    """The result's headline, closure warning, ensemble band, nuisance impacts and coverage on stdout."""
    from .. import infer

    click.echo(
        f"{output}: {res.method}, {len(res.thetas)} points, best fit "
        f"{dict(zip(res.parameter_names, np.round(res.best_fit, 6).tolist()))}, "
        f"{int(np.sum(res.p_values > 0.05))} points with p > 0.05"
    )
    closure = res.details.get("closure")
    if closure is not None and not closure["passed"]:
        click.echo(f"Warning: {infer.closure_check(res).message()}", err=True)
    band = res.details.get("ensemble")
    if band is not None:
        for cl in ("0.68", "0.95"):
            for name, v in band["intervals"][cl].items():
                mm = v["mean_model"]
                click.echo(
                    f"{float(cl):.0%} CL on {name}, ensemble of {band['n_members']}: mean model "
                    f"[{mm[0]:.6g}, {mm[1]:.6g}]; members [{v['lower_mean']:.6g} ± {v['lower_std']:.2g}, "
                    f"{v['upper_mean']:.6g} ± {v['upper_std']:.2g}]"
                )
        area = (band.get("area") or {}).get("0.68")
        if area:
            click.echo(
                f"68% CL area: mean model {area['mean_model']:.4g}; members {area['mean']:.4g} ± {area['std']:.2g}"
            )
    if res.impacts is not None:
        for line in _impacts_table(res.impacts):
            click.echo(line)
    if cov is not None:
        c = res.coverage
        click.echo(cov.summary())
        click.echo(f"  (an exact method scatters by ± {c['nominal_error']:.3f}; {c['method']})")
        if cov.grid_limited:
            click.echo(f"Warning: {cov.grid_warning()}", err=True)
    if prof_cov is not None:
        click.echo(prof_cov.summary())
        click.echo(f"  (profiled intervals; {res.coverage['profiled']['method']})")
        if prof_cov.grid_limited:
            click.echo(f"Warning (profiled): {prof_cov.grid_warning()}", err=True)


def _impacts_table(imp: dict[str, Any]) -> list[str]:
    pars = imp["parameters"]
    cl = f"{imp['cl']:g}"
    lines = []
    for p in pars:
        iv = imp["intervals"][cl][p]
        lines.append(
            f"{float(cl):.0%} CL on {p}: [{iv['fixed'][0]:.6g}, {iv['fixed'][1]:.6g}] with the nuisances fixed, "
            f"[{iv['profiled'][0]:.6g}, {iv['profiled'][1]:.6g}] profiled ({len(imp['nuisances'])} nuisances)"
        )
    width = max(len("nuisance"), *(len(n) for n in imp["nuisances"]))
    cols = [f"{p} (scan)" for p in pars] + ([f"{p} (Fisher 1σ)" for p in pars] if imp.get("fisher") else [])
    lines.append(f"impacts on the {float(cl):.0%} CL half-widths (scan: the scan's χ² threshold):")
    lines.append("  " + "nuisance".ljust(width) + "".join(f"  {c:>16}" for c in cols))
    for n in imp["nuisances"]:
        vals = [imp["scan"][n][p] for p in pars] + ([imp["fisher"][n][p] for p in pars] if imp.get("fisher") else [])
        lines.append("  " + n.ljust(width) + "".join(f"  {v:>16.4g}" for v in vals))
    lines.append(
        "  "
        + "(total)".ljust(width)
        + "".join(f"  {imp['half_width_profiled'][p]:>16.4g}" for p in pars)
        + "  profiled"
    )
    return lines


def nuisance_details(
    like: Any,
    sample: Any,
    *,
    events: Path,
    method: str,
    grid: Any,
    luminosity_ifb: float,
    asimov_theta: Any,
    norm_uncertainty: float | None,
    profile_systematics: bool,
    allow_outside: bool,
    chunk_size: int,
    nuisance_model: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Limits with the nuisances profiled and fixed, and their impacts: (the result's ``details["nuisances"]``,
    its ``impacts`` record (:func:`lhcgold.infer.impacts_summary`)).

    Rate, histogram and sally profile their bins' Poisson counts; ml profiles per-event weight factors
    on the ratio estimator (:func:`lhcgold.infer.profile_limits`); Fisher impacts from
    :func:`lhcgold.infer.profiled_information` of the same model.

    Raises:
        ConfigError: a bad uncertainty, or no stored nuisances.
    """
    from .. import infer

    check_nuisance_options(norm_uncertainty, profile_systematics, method=method, nuisance_model=nuisance_model)
    nuisances = make_nuisances(events, sample, norm_uncertainty, profile_systematics, nuisance_model)
    prof = infer.profile_limits(
        like,
        sample,
        nuisances=nuisances,
        grid=grid,
        luminosity_ifb=luminosity_ifb,
        asimov_theta=asimov_theta,
        impacts=True,
        allow_outside=allow_outside,
        chunk_size=chunk_size,
    )
    info = infer.profiled_information(
        like,
        sample,
        nuisances=nuisances,
        theta=prof.asimov_theta,
        luminosity_ifb=luminosity_ifb,
        grid=grid,
        chunk_size=chunk_size,
    )
    names = sample.setup.parameter_names
    intervals = {
        f"{cl:g}": {
            names[a]: {
                "fixed": list(prof.interval(cl, profiled=False, axis=a)),
                "profiled": list(prof.interval(cl, profiled=True, axis=a)),
            }
            for a in grid.scanned
        }
        for cl in (0.68, 0.95)
    }
    details = {
        "names": list(prof.nuisance_names),
        "norm_uncertainty": norm_uncertainty,
        "intervals": intervals,
        "q_fixed": prof.q_fixed.tolist(),
        "q_profiled": prof.q_profiled.tolist(),
        "nu_hat": prof.nu_hat.tolist(),
        "impacts": {k: v.tolist() for k, v in info.impacts.items()},
        "fisher_fixed": info.fixed.tolist(),
        "fisher_profiled": info.profiled.tolist(),
    }
    return details, infer.impacts_summary(prof, info)


def _check_inputs(sample: Any, like: Any, observables: tuple[str, ...], chunk_size: int) -> None:
    """NaN/inf weights or used observables are an error naming file and event (never a NaN result)."""
    from ..infer._data import column_indices, model_columns

    model = getattr(like, "score_model", None) or getattr(like, "ratio_model", None)
    if model is not None:
        cols = model_columns(model, sample.observables)
    elif observables:
        cols = column_indices(observables, sample.observables)
    else:
        cols = []
    sample.check_finite(cols, chunk_size=chunk_size)


def _plot(res: Any, path: Path, overwrite: bool) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    try:
        if len(res.parameter_names) == 2:
            plot_pvalue_map(res, ax=ax)
            plot_contours(
                {res.method: res},
                ax=ax,
                colors=["white"],
                truth=res.asimov_theta if res.asimov_theta is not None and len(res.asimov_theta) == 2 else None,
            )
        elif len(res.parameter_names) == 1:
            plot_q_1d({res.method: res}, ax=ax)
        else:
            raise ConfigError("--plot draws 1-D or 2-D scans only")
        if "ensemble" in res.details:  # the members' contours / curves: the finite-training-sample band
            two_d = len(res.parameter_names) == 2
            plot_ensemble_band(res, ax=ax, color="white" if two_d else None, envelope=not two_d)
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(fig)
