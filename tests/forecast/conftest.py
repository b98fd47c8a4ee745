"""Fixtures for the forecast tests: bundled BTC bars (parsed once) and one small trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from gekko_agent.forecast import ModelRegistry, TrainConfig, TrainResult, train
from gekko_agent.market import BarArray, BarCache, load_bars, resample

DATASET = "binanceus-btcusd-1m"

SMALL = TrainConfig(epochs=4, patience=2, hidden=16, layers=1, batch_size=512, device="cpu", seed=3)
"""A model small enough that a training run takes well under a second."""


@pytest.fixture(scope="session")
def bars_1m(tmp_path_factory: pytest.TempPathFactory) -> BarArray:
    """The whole bundled BTC/USD 1-minute dataset."""
    return load_bars(DATASET, cache=BarCache(tmp_path_factory.mktemp("cache") / "market.duckdb"))


@pytest.fixture(scope="session")
def bars_5m(bars_1m: BarArray) -> BarArray:
    """The same data as 5-minute bars."""
    return resample(bars_1m, "5m")


@pytest.fixture(scope="session")
def trained(bars_5m: BarArray) -> TrainResult:
    """One small model trained on the 5-minute bars."""
    return train(bars_5m, SMALL)


@pytest.fixture(scope="session")
def registry_root(tmp_path_factory: pytest.TempPathFactory, trained: TrainResult, bars_5m: BarArray) -> Path:
    """A registry holding ``tiny`` v1 (the trained fixture)."""
    root = tmp_path_factory.mktemp("models")
    ModelRegistry(root).save(
        "tiny", trained, dataset=DATASET, instrument_id=bars_5m.instrument_id, interval=bars_5m.interval
    )
    return root
