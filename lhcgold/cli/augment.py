"""``lhcgold augment``: draw a training or test sample with gold from an events file."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError
from ._common import check_output, output_option, overwrite_option, show_progress

_KINDS = ("plain", "local", "density", "ratio", "more-ratios", "test")


@click.command(name="augment")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option(help_="Output sample file (HDF5).")
@overwrite_option
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    default="ratio",
    show_default=True,
    help="Sample kind (MadMiner's sample_train_* functions).",
)
@click.option(
    "--theta",
    "theta",
    default=None,
    help="θ for plain/local/density/test, e.g. 'sm', 'point:0.1,-0.2', 'prior:gaussian,0,15'.",
)
@click.option("--theta0", default=None, help="Numerator θ of ratio samples, e.g. 'random:1000:gaussian,0,15'.")
@click.option("--theta1", default="sm", show_default=True, help="Denominator θ of ratio samples.")
@click.option("--additional", multiple=True, help="Extra θ specs for --kind more-ratios (repeatable).")
@click.option("-n", "--n-samples", type=int, required=True, help="Number of samples.")
@click.option(
    "--partition",
    type=click.Choice(["train", "validation", "test", "all"]),
    default=None,
    help="Partition of the events file (default: test for --kind test, else train).",
)
@click.option("--test-split", type=float, default=0.2, show_default=True)
@click.option("--validation-split", type=float, default=0.2, show_default=True)
@click.option(
    "--all-benchmarks",
    is_flag=True,
    default=False,
    help="Sample from all runs, not only the one generated closest to θ.",
)
@click.option("--seed", type=int, default=None, help="Random seed.")
@click.option(
    "--drop-negative-weights",
    is_flag=True,
    default=False,
    help="Drop events with a negative weight at the sampling θ (MadMiner's behaviour; biases the "
    "sample, with a warning). Default: refuse.",
)
@click.option(
    "--nuisances",
    is_flag=True,
    default=False,
    help="Also store each sample's nuisance ratios and joint nuisance score (EVENTS reconstructed with "
    "--systematics); train per-nuisance ratio factors on them with `lhcgold train -m nuisance`.",
)
@click.option(
    "--nuisance-score",
    is_flag=True,
    default=False,
    help="--kind local/density: append the nuisance score to the joint score (implies --nuisances), so that "
    "`lhcgold train -m sally` learns the score in (θ, ν) and `lhcgold fisher -m sally --profile-systematics` "
    "profiles it.",
)
@click.pass_context
def command(
    ctx: click.Context,
    events: Path,
    output: Path,
    overwrite: bool,
    kind: str,
    theta: str | None,
    theta0: str | None,
    theta1: str,
    additional: tuple[str, ...],
    n_samples: int,
    partition: str | None,
    test_split: float,
    validation_split: float,
    all_benchmarks: bool,
    seed: int | None,
    drop_negative_weights: bool,
    nuisances: bool,
    nuisance_score: bool,
) -> None:
    """Draw a sample with joint likelihood ratio and joint score from EVENTS."""
    from .. import augment as A

    check_output(output, overwrite)
    if nuisance_score and kind not in ("local", "density"):
        raise ConfigError(f"--nuisance-score needs --kind local or density, not {kind}")
    common = dict(
        n_samples=n_samples,
        test_split=test_split,
        validation_split=validation_split,
        sample_only_from_closest_benchmark=not all_benchmarks,
        rng=seed,
        progress=show_progress(ctx),
        negative_weights="drop" if drop_negative_weights else "error",
        nuisances=nuisances or nuisance_score,
    )
    if partition is not None:
        common["partition"] = partition
    if kind in ("ratio", "more-ratios"):
        if theta0 is None:
            raise ConfigError(f"--kind {kind} needs --theta0")
        if kind == "ratio":
            ts = A.sample_ratio(events, theta0=A.parse_spec(theta0), theta1=A.parse_spec(theta1), **common)
        else:
            ts = A.sample_more_ratios(
                events,
                theta0=A.parse_spec(theta0),
                theta1=A.parse_spec(theta1),
                additional_thetas=[A.parse_spec(s) for s in additional],
                **common,
            )
    else:
        if theta is None:
            raise ConfigError(f"--kind {kind} needs --theta")
        fn = {
            "plain": A.sample_plain,
            "local": A.sample_local,
            "density": A.sample_density,
            "test": A.sample_test,
        }[kind]
        ts = fn(events, theta=A.parse_spec(theta), **common)
        if nuisance_score:
            ts = ts.with_nuisance_score()
    A.write_training_set(output, ts, overwrite=overwrite)
    click.echo(
        f"wrote {len(ts)} {ts.kind} samples ({', '.join(sorted(ts.gold)) or 'no gold'}) to {output}",
        err=True,
    )
