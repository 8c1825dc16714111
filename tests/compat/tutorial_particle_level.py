# ruff: noqa: I001, UP032  (kept as a madminer user writes it)
# A madminer 0.9.6 script in the style of madminer's particle-physics tutorial (notebooks 1, 2a, 3a,
# 3b, 4a, 4b), trimmed to toy size and written for the real MG5_aMC W gamma (EWdim6) runs in
# tests/data/mg5. Only the import lines differ from the madminer version: each `madminer` became
# `lhcgold.compat.madminer`. Run it in an empty working directory; argv[1] is the folder of the
# two LHE files.
import logging
import sys

import numpy as np
from particle import Particle

from lhcgold.compat.madminer import MadMiner  # from madminer import MadMiner
from lhcgold.compat.madminer import sampling  # from madminer import sampling
from lhcgold.compat.madminer.fisherinformation import FisherInformation  # from madminer.fisherinformation import ...
from lhcgold.compat.madminer.lhe import LHEReader  # from madminer.lhe import LHEReader
from lhcgold.compat.madminer.limits import AsymptoticLimits  # from madminer.limits import AsymptoticLimits
from lhcgold.compat.madminer.ml import ParameterizedRatioEstimator, ScoreEstimator  # from madminer.ml import ...
from lhcgold.compat.madminer.sampling import SampleAugmenter, combine_and_shuffle  # from madminer.sampling ...

logging.basicConfig(
    format="%(asctime)-5.5s %(name)-20.20s %(levelname)-7.7s %(message)s", datefmt="%H:%M", level=logging.INFO
)
lhe_dir = sys.argv[1]

# 1: setup
miner = MadMiner()
miner.add_parameter(
    lha_block="dim6",
    lha_id=1,
    parameter_name="cwww",
    morphing_max_power=2,
    param_card_transform="1.0*theta",
    parameter_range=(-10.0, 10.0),
)
miner.add_parameter(
    lha_block="dim6",
    lha_id=2,
    parameter_name="cw",
    morphing_max_power=2,
    param_card_transform="1.0*theta",
    parameter_range=(-10.0, 10.0),
)
miner.add_benchmark({"cwww": 0.0, "cw": 0.0}, "sm")
miner.add_benchmark({"cwww": -10.0, "cw": 0.0}, "cwww_m10")
miner.add_benchmark({"cwww": 10.0, "cw": 0.0}, "cwww_p10")
miner.add_benchmark({"cwww": 0.0, "cw": -10.0}, "cw_m10")
miner.add_benchmark({"cwww": 0.0, "cw": 10.0}, "cw_p10")
miner.add_benchmark({"cwww": 5.0, "cw": 5.0}, "mix_p5_p5")
miner.set_morphing(include_existing_benchmarks=True, max_overall_power=2)
miner.save("data/setup.h5")

# 2a: parton-level analysis
lhe = LHEReader("data/setup.h5")
lhe.add_sample(
    lhe_filename=f"{lhe_dir}/run_01_sm_unweighted_events.lhe.gz",
    sampled_from_benchmark="sm",
    is_background=False,
    k_factor=1.0,
)
lhe.add_sample(
    lhe_filename=f"{lhe_dir}/run_02_cwww_p10_unweighted_events.lhe.gz",
    sampled_from_benchmark="cwww_p10",
    is_background=False,
    k_factor=1.0,
)
leptons = [int(p.pdgid) for p in Particle.findall(lambda p: abs(int(p.pdgid)) in (11, 13))]
lhe.set_smearing(
    pdgids=leptons,
    energy_resolution_abs=0.0,
    energy_resolution_rel=0.05,
    pt_resolution_abs=None,
    pt_resolution_rel=None,
    eta_resolution_abs=0.0,
    eta_resolution_rel=0.0,
    phi_resolution_abs=0.0,
    phi_resolution_rel=0.0,
)
lhe.set_met_noise(abs_=5.0, rel=0.02)
lhe.add_observable("pt_a", "a[0].pt", required=True)
lhe.add_observable("pt_l", "l[0].pt", required=False, default=0.0)
lhe.add_observable("met", "met.pt", required=True)
lhe.add_observable("delta_phi_la", "l[0].deltaphi(a[0]) * (-1.0 + 2.0 * float(l[0].eta > a[0].eta))", required=True)
lhe.add_cut("a[0].pt > 120.0")
lhe.analyse_samples()
lhe.save("data/lhe_data.h5")
combine_and_shuffle(["data/lhe_data.h5"], "data/lhe_data_shuffled.h5")

# 3a: likelihood ratio (ALICES)
sampler = SampleAugmenter("data/lhe_data_shuffled.h5")
x, theta0, theta1, y, r_xz, t_xz, n_effective = sampler.sample_train_ratio(
    theta0=sampling.random_morphing_points(50, [("gaussian", 0.0, 5.0), ("gaussian", 0.0, 5.0)]),
    theta1=sampling.benchmark("sm"),
    n_samples=2500,
    folder="./data/samples",
    filename="train_ratio",
    sample_only_from_closest_benchmark=True,
    return_individual_n_effective=True,
)
_ = sampler.sample_test(theta=sampling.benchmark("sm"), n_samples=300, folder="./data/samples", filename="test")
thetas_benchmarks, xsecs_benchmarks, xsec_errors_benchmarks = sampler.cross_sections(
    theta=sampling.benchmarks(list(sampler.benchmarks.keys()))
)
estimator = ParameterizedRatioEstimator(n_hidden=(20, 20), activation="tanh")
estimator.train(
    method="alices",
    theta="data/samples/theta0_train_ratio.npy",
    x="data/samples/x_train_ratio.npy",
    y="data/samples/y_train_ratio.npy",
    r_xz="data/samples/r_xz_train_ratio.npy",
    t_xz="data/samples/t_xz_train_ratio.npy",
    alpha=1.0,
    n_epochs=3,
    scale_parameters=True,
)
estimator.save("models/alices")
theta_each = np.linspace(-10, 10, 5)
theta_a, theta_b = np.meshgrid(theta_each, theta_each)
theta_grid = np.vstack((theta_a.flatten(), theta_b.flatten())).T
np.save("data/samples/theta_grid.npy", theta_grid)
estimator.load("models/alices")
log_r_hat, _ = estimator.evaluate_log_likelihood_ratio(
    theta="data/samples/theta_grid.npy", x="data/samples/x_test.npy", evaluate_score=False
)

# 3b: score (SALLY)
x, theta, t_xz, _ = sampler.sample_train_local(
    theta=sampling.benchmark("sm"), n_samples=2500, folder="./data/samples", filename="train_score"
)
sally = ScoreEstimator(n_hidden=(20, 20))
sally.train(method="sally", x="data/samples/x_train_score.npy", t_xz="data/samples/t_xz_train_score.npy", n_epochs=3)
sally.save("models/sally")
sally.load("models/sally")
t_hat = sally.evaluate_score(x="data/samples/x_test.npy")

# 4a: limits
limits = AsymptoticLimits("data/lhe_data_shuffled.h5")
grid_ranges = [(-10.0, 10.0), (-10.0, 10.0)]
grid_resolutions = [7, 7]
lumi = 300.0 * 1000.0
p_values, mle = {}, {}
theta_grid, p_values["Histogram"], mle["Histogram"], _, _, (histos, observed, observed_weights) = (
    limits.expected_limits(
        mode="histo",
        hist_vars=["pt_a"],
        theta_true=[0.0, 0.0],
        grid_ranges=grid_ranges,
        grid_resolutions=grid_resolutions,
        luminosity=lumi,
        include_xsec=False,
        return_asimov=True,
    )
)
theta_grid, p_values["ALICES"], mle["ALICES"], _, _, _ = limits.expected_limits(
    mode="ml",
    model_file="models/alices",
    theta_true=[0.0, 0.0],
    grid_ranges=grid_ranges,
    grid_resolutions=grid_resolutions,
    luminosity=lumi,
    include_xsec=False,
)
theta_grid, p_values["SALLY"], mle["SALLY"], _, _, _ = limits.expected_limits(
    mode="sally",
    model_file="models/sally",
    theta_true=[0.0, 0.0],
    grid_ranges=grid_ranges,
    grid_resolutions=grid_resolutions,
    luminosity=lumi,
    include_xsec=False,
)
x_observed, _, _ = sampler.sample_test(
    theta=sampling.morphing_point([5.0, 5.0]), n_samples=100, folder=None, filename=None
)
_, p_values["ALICES (observed)"], mle["ALICES (observed)"], _, _, _ = limits.observed_limits(
    x_observed=x_observed,
    mode="ml",
    model_file="models/alices",
    grid_ranges=grid_ranges,
    grid_resolutions=grid_resolutions,
    luminosity=lumi,
    include_xsec=False,
)
np.save("limits.npy", [p_values, mle])

# 4b: Fisher information
fisher = FisherInformation("data/lhe_data_shuffled.h5")
info_sally, _ = fisher.full_information(theta=[0.0, 0.0], model_file="models/sally", luminosity=300.0 * 1000.0)
info_histo_1d, cov_histo_1d = fisher.histo_information(
    theta=[0.0, 0.0],
    luminosity=300.0 * 1000.0,
    observable="pt_a",
    bins=[120.0, 150.0, 200.0, 300.0],
    histrange=[120.0, 300.0],
)
info_histo_2d, cov_histo_2d = fisher.histo_information_2d(
    theta=[0.0, 0.0],
    luminosity=300.0 * 1000.0,
    observable1="pt_a",
    bins1=[120.0, 150.0, 200.0, 300.0],
    histrange1=[120.0, 300.0],
    observable2="delta_phi_la",
    bins2=5,
    histrange2=[-3.2, 3.2],
)
info_truth, _ = fisher.truth_information(theta=[0.0, 0.0], luminosity=300.0 * 1000.0)
info_rate, _ = fisher.rate_information(theta=[0.0, 0.0], luminosity=300.0 * 1000.0)
print("Fisher information after 300 ifb:\n{}".format(info_sally))
np.savez(
    "results.npz",
    thetas_benchmarks=thetas_benchmarks,
    xsecs_benchmarks=xsecs_benchmarks,
    xsec_errors_benchmarks=xsec_errors_benchmarks,
    log_r_hat=log_r_hat,
    t_hat=t_hat,
    theta_grid=theta_grid,
    info_sally=info_sally,
    info_histo_1d=info_histo_1d,
    info_histo_2d=info_histo_2d,
    info_truth=info_truth,
    info_rate=info_rate,
    p_histo=p_values["Histogram"],
    p_alices=p_values["ALICES"],
    p_sally=p_values["SALLY"],
    p_observed=p_values["ALICES (observed)"],
    observed=observed,
    observed_weights=observed_weights,
)
