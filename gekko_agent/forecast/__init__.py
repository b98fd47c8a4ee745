"""Forecasts: causal OHLCV features, a torch quantile model, time-ordered training, a model registry.

torch is imported only inside this package. The numpy-only parts (features, metrics) import at once;
the torch-backed names below load torch on first use, so importing the package for its types is cheap.

Public API::

    build_features(bars) / make_frame(bars, horizon)    causal features and forward log returns
    TrainConfig, train(bars, config, on_epoch)          time-ordered split, early stopping, seeds
    ModelRegistry(root).save/load/meta/versions/names   versioned weights + metadata on disk
    Forecaster.from_registry(name, version, root)       bars window -> {level: simple return}
    select_device("auto" | "cpu" | "cuda" | "mps")      CUDA -> MPS -> CPU, logged
    score / score_table / BASELINES                     pinball, direction, coverage vs baselines
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gekko_agent.forecast.features import FEATURE_NAMES, WARMUP, FeatureFrame, build_features, make_frame
from gekko_agent.forecast.metrics import BASELINES, Score, score, score_table

if TYPE_CHECKING:
    from gekko_agent.forecast.forecaster import Forecaster
    from gekko_agent.forecast.model import DEFAULT_QUANTILES, ModelSpec, QuantileMLP, select_device
    from gekko_agent.forecast.registry import DEFAULT_MODEL, DEFAULT_REGISTRY, ModelMeta, ModelRegistry
    from gekko_agent.forecast.training import TrainConfig, TrainResult, train

__all__ = [
    "BASELINES",
    "DEFAULT_MODEL",
    "DEFAULT_QUANTILES",
    "DEFAULT_REGISTRY",
    "FEATURE_NAMES",
    "WARMUP",
    "FeatureFrame",
    "Forecaster",
    "ModelMeta",
    "ModelRegistry",
    "ModelSpec",
    "QuantileMLP",
    "Score",
    "TrainConfig",
    "TrainResult",
    "build_features",
    "make_frame",
    "score",
    "score_table",
    "select_device",
    "train",
]

_LAZY = {
    "Forecaster": "forecaster",
    "DEFAULT_QUANTILES": "model",
    "ModelSpec": "model",
    "QuantileMLP": "model",
    "select_device": "model",
    "DEFAULT_MODEL": "registry",
    "DEFAULT_REGISTRY": "registry",
    "ModelMeta": "registry",
    "ModelRegistry": "registry",
    "TrainConfig": "training",
    "TrainResult": "training",
    "train": "training",
}


def __getattr__(name: str) -> Any:
    """Import the torch-backed names on first access."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"gekko_agent.forecast.{module}"), name)
