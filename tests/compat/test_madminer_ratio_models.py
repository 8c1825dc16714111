"""Ratio models trained and saved by madminer 0.9.6 itself are read and evaluated as madminer evaluates them.

tests/data/madminer_models/ holds models that madminer 0.9.6's own estimators trained and saved
(``<name>_settings.json``, ``_state_dict.pt``, ``_x_means/_x_stds.npy``, ``_theta_means/_theta_stds.npy``)
with madminer's own evaluations on fixed inputs (``<name>_expected.npz``); make_reference.py beside them
made them. madminer evaluates in float32, hence the tolerances.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from lhcgold.compat.madminer.fisherinformation import FisherInformation  # noqa: E402
from lhcgold.compat.madminer.limits import AsymptoticLimits  # noqa: E402
from lhcgold.compat.madminer.ml import ParameterizedRatioEstimator, ScoreEstimator, load_estimator  # noqa: E402
from lhcgold.exceptions import ConfigError  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "madminer_models"
TOL = {"rtol": 1e-4, "atol": 2e-5}


@pytest.mark.parametrize("name", ["alices", "carl_dropout_features"])
def test_madminer_ratio_model_matches_madminers_evaluation(name: str) -> None:
    exp = np.load(DATA / f"{name}_expected.npz")
    model = load_estimator(DATA / name)
    assert model.family == "ratio" and model.theta_ref is None
    np.testing.assert_allclose(model.log_ratio(exp["x"], exp["thetas"]), exp["log_r"], **TOL)
    np.testing.assert_allclose(model.log_ratio(exp["x"], exp["thetas"][1]), exp["log_r"][1], **TOL)
    np.testing.assert_allclose(model.score(exp["x"], exp["t_theta"]), exp["t_hat"], **TOL)
    # per-event and against another θ as the denominator
    per_event = model.log_ratio_per_event(exp["x"], exp["thetas"][2], exp["thetas"][1])
    np.testing.assert_allclose(per_event, exp["log_r"][2] - exp["log_r"][1], **TOL)

    # through MadMiner's API: ParameterizedRatioEstimator.load, evaluate_log_likelihood_ratio, evaluate_score
    est = ParameterizedRatioEstimator()
    est.load(DATA / name)
    log_r, t = est.evaluate_log_likelihood_ratio(exp["x"], exp["thetas"], evaluate_score=True)
    assert log_r.shape == (3, 40) and t.shape == (3, 40, 2)
    np.testing.assert_allclose(log_r, exp["log_r"], **TOL)
    np.testing.assert_allclose(t[1], exp["t_hat"], **TOL)
    np.testing.assert_allclose(est.evaluate_score(exp["x"], exp["t_theta"])[0], exp["t_hat"], **TOL)


def test_madminer_score_is_the_gradient_of_its_log_ratio() -> None:
    """t̂ = ∇_θ log r̂ (autograd through madminer's θ scaling) against central differences."""
    exp = np.load(DATA / "alices_expected.npz")
    model = load_estimator(DATA / "alices")
    th, h = np.array([0.2, -0.4]), 1e-5
    fd = np.stack(
        [(model.log_ratio(exp["x"], th + h * e) - model.log_ratio(exp["x"], th - h * e)) / (2 * h) for e in np.eye(2)],
        axis=1,
    )
    np.testing.assert_allclose(model.score(exp["x"], th), fd, rtol=1e-6, atol=1e-8)


def test_madminer_double_ratio_model_matches_madminer() -> None:
    exp = np.load(DATA / "carl2_expected.npz")
    model = load_estimator(DATA / "carl2")
    assert model.family == "double_ratio"
    np.testing.assert_allclose(model.log_ratio(exp["x"], exp["theta0"], exp["theta1"]), exp["log_r"], **TOL)
    # madminer evaluates these on raw θ although it trained them on standardised θ; the trained scale differs
    model.theta_scaling = True
    assert not np.allclose(model.log_ratio(exp["x"], exp["theta0"], exp["theta1"]), exp["log_r"], **TOL)
    # antisymmetric by construction
    np.testing.assert_allclose(
        model.log_ratio(exp["x"], exp["theta1"], exp["theta0"]),
        -model.log_ratio(exp["x"], exp["theta0"], exp["theta1"]),
    )


def test_madminer_sally_model_matches_madminer() -> None:
    exp = np.load(DATA / "sally_expected.npz")
    est = ScoreEstimator()
    est.load(DATA / "sally")
    np.testing.assert_allclose(est.evaluate_score(exp["x"]), exp["t_hat"], **TOL)


@pytest.fixture
def events_4obs(tmp_path: Path) -> Path:
    """A 2-parameter events file with 4 observables (the madminer models' inputs)."""
    from lhcgold.config import Benchmark, Parameter, Setup
    from lhcgold.io.events import EventWriter
    from lhcgold.physics.morphing import Morpher, component_factors

    rng = np.random.default_rng(4)
    n = 2000
    x = rng.normal(size=(n, 4)) * [1.0, 2.0, 0.5, 3.0] + [0.0, 1.0, -2.0, 5.0]
    a = np.stack([0.15 * x[:, 0], -0.1 * x[:, 2]], axis=1)
    comps = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 0]])
    m = np.stack([np.ones(n), 2 * a[:, 1], a[:, 1] ** 2, 2 * a[:, 0], 2 * a[:, 0] * a[:, 1], a[:, 0] ** 2], axis=1) / (
        10.0 * n
    )
    basis = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1]], dtype=float)
    names = ("c1", "c2")
    setup = Setup(
        parameters=tuple(Parameter(name=nm, range=(-1.0, 1.0)) for nm in names),
        benchmarks=tuple(Benchmark(name=f"b{j}", values=dict(zip(names, map(float, t)))) for j, t in enumerate(basis)),
        components=comps,
        morphing_matrix=Morpher(comps, basis).matrix,
    )
    path = tmp_path / "events.h5"
    with EventWriter(path, setup, ["x0", "x1", "x2", "x3"], store_components=True, negative_weights="keep") as wr:
        wr.append(x, m @ component_factors(basis, comps).T, component_weights=m)
    return path


def test_madminer_ratio_model_in_fisher_information_and_limits(events_4obs: Path, tmp_path: Path) -> None:
    """``model_file=`` a madminer-trained ALICES model: the information is L Σ w t̂t̂ᵀ + the rate term
    with t̂ from the model's score; the ml limits run on it."""
    th = np.array([0.1, -0.2])
    info, cov = FisherInformation(events_4obs).full_information(
        th, model_file=DATA / "alices", luminosity=1000.0, test_split=None
    )
    assert cov is None
    model = load_estimator(DATA / "alices")
    from lhcgold.io.events import EventFile

    ch = EventFile(events_4obs).read()
    from lhcgold.physics.morphing import component_factor_gradients, component_factors

    comps = np.asarray(ch.setup.components)
    w = ch.components() @ component_factors(th, comps)
    dsig = ch.components().sum(axis=0) @ component_factor_gradients(th, comps).T
    t = model.score(ch.observations, th)
    expected = 1000.0 * (np.einsum("n,ni,nj->ij", w, t, t) + np.outer(dsig, dsig) / w.sum())
    np.testing.assert_allclose(info, expected, rtol=1e-4)

    grid, p, i_ml, *_ = AsymptoticLimits(events_4obs).expected_limits(
        mode="ml",
        theta_true=[0.0, 0.0],
        grid_ranges=[(-1.0, 1.0), (-1.0, 1.0)],
        grid_resolutions=[3, 3],
        model_file=DATA / "alices",
        luminosity=1000.0,
        test_split=None,
    )
    assert grid.shape == (9, 2) and p.shape == (9,) and np.all((p >= 0) & (p <= 1)) and 0 <= i_ml < 9


def test_madminer_ratio_model_wrong_width_is_a_clear_error(tmp_path: Path) -> None:
    for f in DATA.glob("alices_*"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "alices_settings.json").write_text(
        (tmp_path / "alices_settings.json").read_text().replace('"n_observables": 4', '"n_observables": 5')
    )
    with pytest.raises(ConfigError, match="takes 6 inputs"):
        load_estimator(tmp_path / "alices")
    model = load_estimator(DATA / "alices")
    with pytest.raises(ConfigError, match="x has 3 columns"):
        model.log_ratio(np.zeros((2, 3)), [0.0, 0.0])
    with pytest.raises(ConfigError, match="2 parameters"):
        model.log_ratio(np.zeros((2, 4)), [0.0, 0.0, 0.0])


def test_madminer_ensemble_folder_is_read(tmp_path: Path) -> None:
    """A folder as madminer's ``Ensemble.save`` writes it (``ensemble.json``, ``estimator_<i>_*``)."""
    import json

    from lhcgold.compat.madminer.ml import Ensemble

    folder = tmp_path / "ensemble"
    folder.mkdir()
    (folder / "ensemble.json").write_text(json.dumps({"estimator_type": "parameterized_ratio", "n_estimators": 2}))
    for i, name in enumerate(("alices", "carl_dropout_features")):
        for f in DATA.glob(f"{name}_*"):
            if not f.name.endswith("_expected.npz"):
                shutil.copy(f, folder / f.name.replace(name, f"estimator_{i}", 1))
    exp = [np.load(DATA / f"{n}_expected.npz") for n in ("alices", "carl_dropout_features")]
    ens = Ensemble()
    ens.load(folder)
    assert ens.n_estimators == 2
    mean, cov = ens.evaluate_log_likelihood_ratio(x=exp[0]["x"], theta=exp[0]["thetas"], calculate_covariance=False)
    np.testing.assert_allclose(mean, 0.5 * (exp[0]["log_r"] + exp[1]["log_r"]), **TOL)
    (folder / "estimator_1_settings.json").unlink()
    from lhcgold.exceptions import EventFileError

    with pytest.raises(EventFileError, match="member 1 of 2 is missing"):
        load_estimator(folder)
