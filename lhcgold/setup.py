"""The setup stage: analysis card -> parameters, benchmarks and morphing basis.

Example:
    >>> from lhcgold.config import load_card_text
    >>> card = load_card_text('''
    ... lhcgold_card: 1
    ... parameters:
    ...   - {name: a, max_power: 2, range: [-1, 1]}
    ...   - {name: b, max_power: 2, range: [-1, 1]}
    ... benchmarks: {sm: {a: 0, b: 0}}
    ... morphing: {max_overall_power: 2, seed: 7}
    ... ''')
    >>> setup = build_setup(card)
    >>> setup.benchmark_names[:2], setup.components.shape
    (('sm', 'morphing_basis_vector_1'), (6, 2))
"""

from __future__ import annotations

import logging

import numpy as np

from .config import AnalysisCard, Benchmark, Setup
from .exceptions import MorphingError
from .physics.morphing import Morpher, find_components, optimize_basis

log = logging.getLogger(__name__)

__all__ = ["build_setup"]


def build_setup(card: AnalysisCard, *, rng: np.random.Generator | int | None = None) -> Setup:
    """Components, basis search and morphing matrix for an analysis card.

    The card's benchmarks are kept (first, in card order, when
    ``morphing.include_existing_benchmarks``); missing basis points are found by the seeded
    random search of :func:`lhcgold.physics.morphing.optimize_basis` and named
    ``morphing_basis_vector_<k>``. With more card benchmarks than components, all of them
    form a least-squares basis. ``n_extra_benchmarks`` adds further points beyond the
    basis (over-determined morphing).

    Raises:
        MorphingError: singular basis, or the benchmarks cannot form a basis.
    """
    opts = card.morphing
    max_powers = [p.max_power for p in card.parameters]
    components = find_components(max_powers, opts.max_overall_power)
    n_c = components.shape[0]
    existing = card.benchmark_values if opts.include_existing_benchmarks else np.zeros((0, len(max_powers)))
    seed = opts.seed if rng is None else rng
    gen = np.random.default_rng(seed)
    benchmarks = list(card.benchmarks) if opts.include_existing_benchmarks else []

    if existing.shape[0] >= n_c:
        basis = existing
    elif not opts.optimize:
        raise MorphingError(
            f"{n_c} morphing components need at least {n_c} benchmarks, the card gives {existing.shape[0]} "
            "(add benchmarks or set morphing.optimize: true)"
        )
    else:
        search = optimize_basis(
            components, card.ranges, fixed=existing, n_trials=opts.n_trials, n_test_thetas=opts.n_test_thetas, rng=gen
        )
        basis = search.basis
        for k, point in enumerate(basis[existing.shape[0] :], start=1):
            benchmarks.append(
                Benchmark(f"morphing_basis_vector_{k}", dict(zip(card.parameter_names, map(float, point))))
            )
    if opts.n_extra_benchmarks:
        extra = gen.uniform(card.ranges[:, 0], card.ranges[:, 1], size=(opts.n_extra_benchmarks, len(max_powers)))
        basis = np.vstack([basis, extra])
        for k, point in enumerate(extra, start=1):
            benchmarks.append(Benchmark(f"extra_benchmark_{k}", dict(zip(card.parameter_names, map(float, point)))))
    morpher = Morpher(components, basis)
    if morpher.condition_number > 1e8:
        log.warning("morphing basis is badly conditioned (condition number %.3g)", morpher.condition_number)
    log.info(
        "morphing: %d components, %d basis benchmarks, condition number %.3g",
        n_c,
        basis.shape[0],
        morpher.condition_number,
    )
    if not opts.include_existing_benchmarks:
        known = {b.name for b in benchmarks}
        benchmarks.extend(b for b in card.benchmarks if b.name not in known)
    names = [b.name for b in benchmarks]
    if len(set(names)) != len(names):
        raise MorphingError(f"benchmark names collide: {names}")
    return Setup(
        parameters=card.parameters, benchmarks=tuple(benchmarks), components=components, morphing_matrix=morpher.matrix
    )
