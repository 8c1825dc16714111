"""``lhcgold train``: train an estimator (or an ensemble) on a sample file."""

from __future__ import annotations

from pathlib import Path

import click

from ..exceptions import ConfigError
from ..ml.methods import METHODS
from ._common import check_output, output_option, overwrite_option, show_progress


def _ints(text: str, option: str, *, minimum: int) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{option} must be comma-separated integers, got {text!r}") from None
    if not values:
        raise ConfigError(f"{option} needs at least one integer, got {text!r}")
    if min(values) < minimum:
        raise ConfigError(f"{option} values must be >= {minimum}, got {text!r}")
    return values


def _check_counts(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {value}")


@click.command(name="train")
@click.argument("sample", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option(help_="Output model directory.")
@overwrite_option
@click.option("-m", "--method", type=click.Choice(sorted(METHODS)), required=True, help="Inference method.")
@click.option(
    "--morphing-aware",
    "morphing_setup",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Setup (or events) file: train a morphing-aware ratio estimator on its morphing basis.",
)
@click.option("--hidden", default="100", show_default=True, help="Hidden layer widths, e.g. 60,60.")
@click.option("--activation", default="tanh", show_default=True)
@click.option("--features", default=None, help="Observable indices to use, e.g. 0,2,3 (default all).")
@click.option("--epochs", type=int, default=50, show_default=True)
@click.option("--batch-size", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Initial learning rate.")
@click.option("--final-lr", type=float, default=1e-4, show_default=True)
@click.option("--alpha", type=float, default=1.0, show_default=True, help="Weight of the score term.")
@click.option("--validation-split", type=float, default=0.25, show_default=True)
@click.option("--patience", type=int, default=None, help="Early-stopping patience in epochs (default: none).")
@click.option("--ensemble", type=int, default=1, show_default=True, help="Number of estimators.")
@click.option("--jobs", type=int, default=None, help="Parallel processes for ensembles (default: cores).")
@click.option("--device", default="auto", show_default=True)
@click.option("--seed", type=int, default=None)
@click.pass_context
def command(
    ctx: click.Context,
    sample: Path,
    output: Path,
    overwrite: bool,
    method: str,
    morphing_setup: Path | None,
    hidden: str,
    activation: str,
    features: str | None,
    epochs: int,
    batch_size: int,
    lr: float,
    final_lr: float,
    alpha: float,
    validation_split: float,
    patience: int | None,
    ensemble: int,
    jobs: int | None,
    device: str,
    seed: int | None,
) -> None:
    """Train METHOD on SAMPLE (written by `lhcgold augment`) and save a model directory."""
    from ..io.samples import read_training_set
    from ..ml import Ensemble, MorphingAwareRatioEstimator, TrainConfig, estimator_class

    _check_counts(epochs=epochs, batch_size=batch_size, ensemble=ensemble, jobs=jobs, patience=patience)
    kw = dict(
        n_hidden=_ints(hidden, "--hidden", minimum=1),
        activation=activation,
        features=None if features is None else _ints(features, "--features", minimum=0),
    )
    check_output(output, overwrite, kind="model")
    cfg = TrainConfig(
        n_epochs=epochs,
        batch_size=batch_size,
        initial_lr=lr,
        final_lr=final_lr,
        alpha=alpha,
        validation_split=validation_split,
        patience=patience,
        device=device,
        seed=seed,
    )
    ts = read_training_set(sample)

    def make():  # type: ignore[no-untyped-def]
        if morphing_setup is not None:
            from ..io.setupfile import read_setup

            return MorphingAwareRatioEstimator.from_setup(read_setup(morphing_setup), method, **kw)
        return estimator_class(method)(**kw)

    if ensemble > 1:
        ens = Ensemble([make() for _ in range(ensemble)])
        ens.train(ts, config=cfg, n_jobs=jobs, progress=show_progress(ctx))
        ens.save(output, overwrite=overwrite)
        losses = [
            h.val_loss[h.best_epoch] if h.val_loss else h.train_loss[-1]
            for h in (m.history for m in ens.members)
            if h is not None
        ]
        click.echo(
            f"trained {ensemble} x {method} (best losses {', '.join(f'{v:.4g}' for v in losses)}); saved to {output}",
            err=True,
        )
    else:
        est = make()
        h = est.train(ts, config=cfg, progress=show_progress(ctx))
        est.save(output, overwrite=overwrite)
        best = h.val_loss[h.best_epoch] if h.val_loss else h.train_loss[-1]
        click.echo(
            f"trained {method} in {h.wall_s:.1f} s (best epoch {h.best_epoch + 1}, loss {best:.4g}); saved to {output}",
            err=True,
        )
