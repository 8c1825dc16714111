"""The method registry: what each inference method needs and how it is trained (torch-free).

Each method name (a ``Literal``) resolves to one :class:`MethodSpec` saying which estimator
family it trains, which gold it requires from the training set (``requires``), whether it
needs class labels, and which loss it uses (the base loss plus, for the "…S"/"…AL" methods,
the score term weighted by α).

Example:
    >>> get_method("alices").requires == frozenset({"r_xz", "t_xz"})
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..exceptions import ConfigError, unknown_name_error

__all__ = ["METHODS", "Method", "MethodSpec", "check_training_set", "get_method"]

Method = Literal[
    "carl",
    "rolr",
    "alice",
    "alices",
    "rascal",
    "cascal",
    "carl2",
    "rolr2",
    "alice2",
    "alices2",
    "rascal2",
    "cascal2",
    "sally",
    "sallino",
    "nde",
    "scandal",
    "nuisance",
]
Family = Literal["ratio", "double_ratio", "score", "likelihood", "nuisance"]
BaseLoss = Literal["carl", "rolr", "alice", "mse", "nll", "ratio_mse"]


@dataclass(frozen=True)
class MethodSpec:
    """One inference method.

    Attributes:
        name: the method name.
        family: estimator family it trains.
        requires: gold needed in the training set (subset of {"r_xz", "t_xz", "t_xz1", "nu_ratio"}).
        labels: whether the class labels y are used.
        base: the base loss.
        score_term: whether the loss adds α × the score MSE.
        class_name: the paper's name for it.
        sample_kinds: training-set kinds it can train on.
    """

    name: str
    family: Family
    requires: frozenset[str]
    labels: bool
    base: BaseLoss
    score_term: bool
    class_name: str
    sample_kinds: tuple[str, ...]


def _ratio(name: str, req: set[str], labels: bool, base: BaseLoss, score: bool, cls: str) -> MethodSpec:
    return MethodSpec(name, "ratio", frozenset(req), labels, base, score, cls, ("ratio", "more_ratios"))


def _double(name: str, req: set[str], labels: bool, base: BaseLoss, score: bool, cls: str) -> MethodSpec:
    return MethodSpec(name, "double_ratio", frozenset(req), labels, base, score, cls, ("more_ratios", "ratio"))


METHODS: dict[str, MethodSpec] = {
    "carl": _ratio("carl", set(), True, "carl", False, "CARL"),
    "rolr": _ratio("rolr", {"r_xz"}, True, "rolr", False, "ROLR"),
    "alice": _ratio("alice", {"r_xz"}, False, "alice", False, "ALICE"),
    "alices": _ratio("alices", {"r_xz", "t_xz"}, False, "alice", True, "ALICES"),
    "rascal": _ratio("rascal", {"r_xz", "t_xz"}, True, "rolr", True, "RASCAL"),
    "cascal": _ratio("cascal", {"t_xz"}, True, "carl", True, "CASCAL"),
    "carl2": _double("carl2", set(), True, "carl", False, "CARL2"),
    "rolr2": _double("rolr2", {"r_xz"}, True, "rolr", False, "ROLR2"),
    "alice2": _double("alice2", {"r_xz"}, False, "alice", False, "ALICE2"),
    "alices2": _double("alices2", {"r_xz", "t_xz", "t_xz1"}, False, "alice", True, "ALICES2"),
    "rascal2": _double("rascal2", {"r_xz", "t_xz", "t_xz1"}, True, "rolr", True, "RASCAL2"),
    "cascal2": _double("cascal2", {"t_xz", "t_xz1"}, True, "carl", True, "CASCAL2"),
    "sally": MethodSpec("sally", "score", frozenset({"t_xz"}), False, "mse", False, "SALLY", ("local", "density")),
    "sallino": MethodSpec(
        "sallino",
        "score",
        frozenset({"t_xz"}),
        False,
        "mse",
        False,
        "SALLINO",
        ("local", "density"),
    ),
    "nde": MethodSpec(
        "nde",
        "likelihood",
        frozenset(),
        False,
        "nll",
        False,
        "NDE",
        ("density", "plain", "local", "ratio"),
    ),
    "scandal": MethodSpec(
        "scandal",
        "likelihood",
        frozenset({"t_xz"}),
        False,
        "nll",
        True,
        "SCANDAL",
        ("density", "local", "ratio"),
    ),
    # per-nuisance ratio factors p(x|ν_k = ±1)/p(x|ν = 0), regressed on the joint ratios (parametric approach)
    "nuisance": MethodSpec(
        "nuisance",
        "nuisance",
        frozenset({"nu_ratio"}),
        False,
        "ratio_mse",
        False,
        "NuisanceRatioEstimator",
        ("local", "plain", "density"),
    ),
}


def get_method(name: str) -> MethodSpec:
    """The registry entry of ``name`` (case-insensitive); ConfigError with near misses otherwise."""
    key = str(name).lower()
    if key not in METHODS:
        raise unknown_name_error("method", str(name), METHODS)
    return METHODS[key]


def check_training_set(
    method: str | MethodSpec, kind: str, gold: frozenset[str] | set[str], has_labels: bool
) -> MethodSpec:
    """Check that a training set (its kind, gold and labels) suits a method.

    Raises:
        ConfigError: the set lacks gold or labels the method needs, or is of the wrong kind.
    """
    spec = method if isinstance(method, MethodSpec) else get_method(method)
    missing = sorted(spec.requires - set(gold))
    if missing:
        raise ConfigError(
            f"method {spec.name!r} ({spec.class_name}) needs {', '.join(missing)} "
            "in the training set, "
            f"which has {', '.join(sorted(gold)) or 'no gold'}; draw it with "
            + (
                "nuisances=True (sample_local --nuisances)"
                if spec.family == "nuisance"
                else "sample_local/sample_density"
                if spec.family in ("score", "likelihood")
                else "sample_more_ratios"
                if "t_xz1" in missing
                else "sample_ratio"
            )
        )
    if spec.labels and not has_labels:
        raise ConfigError(f"method {spec.name!r} needs class labels y (a ratio sample); got a {kind!r} sample")
    if kind not in spec.sample_kinds:
        raise ConfigError(
            f"method {spec.name!r} trains on {' or '.join(spec.sample_kinds)} samples, got a {kind!r} sample"
        )
    return spec
