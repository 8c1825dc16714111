"""Machine learning estimators (needs torch: ``pip install 'lhcgold[ml]'``).

Importing ``lhcgold.ml`` is cheap: the method registry (:mod:`lhcgold.ml.methods`) is
torch-free, and the estimators, trainer and losses load torch on first use.

Density estimators use zuko (neural spline flows): it is maintained, pure PyTorch,
small, and its flows are ordinary ``nn.Module`` s whose log-density is differentiable in
the context θ, which SCANDAL's score term needs. (nflows is unmaintained; MadMiner's own
MAF port has known bugs, see the anatomy notes §8.4.)
"""

from __future__ import annotations

import importlib
from typing import Any

from ..exceptions import MissingDependencyError
from .methods import METHODS, Method, MethodSpec, check_training_set, get_method

_LAZY = {
    "TrainConfig": "trainer",
    "TrainingHistory": "trainer",
    "fit": "trainer",
    "Ensemble": "ensemble",
    "load_model": "ensemble",
    "load_estimator": "ensemble",
    "losses": None,
}
_EST = [
    "ALICE",
    "ALICE2",
    "ALICES",
    "ALICES2",
    "CARL",
    "CARL2",
    "CASCAL",
    "CASCAL2",
    "NDE",
    "ROLR",
    "ROLR2",
    "RASCAL",
    "RASCAL2",
    "SALLINO",
    "SALLY",
    "SCANDAL",
    "DoubleParameterizedRatioEstimator",
    "Estimator",
    "LikelihoodEstimator",
    "MorphingAwareRatioEstimator",
    "NuisanceRatioEstimator",
    "ParameterizedRatioEstimator",
    "ScoreEstimator",
    "estimator_class",
]
_LAZY.update({n: "estimators" for n in _EST})

__all__ = [
    "METHODS",
    "Method",
    "MethodSpec",
    "check_training_set",
    "get_method",
    *sorted(k for k in _LAZY if k != "losses"),
]


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("torch", "ml") from exc


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'lhcgold.ml' has no attribute {name!r}")
    _require_torch()
    if _LAZY[name] is None:
        return importlib.import_module(f"{__name__}.{name}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
