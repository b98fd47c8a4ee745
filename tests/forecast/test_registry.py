"""The registry stores versions with metadata; the Forecaster turns bars into Decimal quantiles."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import torch

from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.forecast import FEATURE_NAMES, WARMUP, Forecaster, ModelRegistry, TrainResult
from gekko_agent.market import BarArray

from .conftest import DATASET


def test_registry_saves_versions_and_loads_latest_or_given(
    tmp_path: Path, trained: TrainResult, bars_5m: BarArray
) -> None:
    reg = ModelRegistry(tmp_path / "models")
    assert reg.names() == []
    for _ in range(2):
        reg.save("m", trained, dataset=DATASET, instrument_id=bars_5m.instrument_id, interval=300)
    assert reg.names() == ["m"]
    assert reg.versions("m") == [1, 2]
    assert reg.meta("m").version == 2
    model, meta = reg.load("m", 1)
    assert meta.version == 1
    for key, value in trained.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)
    assert not list((tmp_path / "models" / "m").glob(".*"))


def test_registry_metadata_records_data_features_metrics_and_provenance(registry_root: Path) -> None:
    raw = json.loads((registry_root / "tiny" / "v1" / "meta.json").read_text())
    assert raw["dataset"] == DATASET
    assert raw["features"] == list(FEATURE_NAMES)
    assert raw["horizon"] == 12
    assert raw["quantiles"] == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert set(raw["ranges"]) == {"train", "val", "test"}
    assert raw["ranges"]["train"][1] < raw["ranges"]["val"][0] < raw["ranges"]["test"][0]
    assert [s["name"] for s in raw["metrics"]["test"]] == ["model", "zero", "last", "empirical"]
    assert raw["torch_version"] == torch.__version__
    assert raw["git_commit"] is None or len(raw["git_commit"]) == 40
    assert raw["training"]["seed"] == 3
    assert raw["created_at"].endswith("+00:00")


def test_registry_unknown_model_or_version_raises_data_not_found(registry_root: Path) -> None:
    reg = ModelRegistry(registry_root)
    with pytest.raises(DataNotFound, match="gekko forecast train"):
        reg.load("missing")
    with pytest.raises(DataNotFound, match="no version 9"):
        reg.load("tiny", 9)


def test_registry_bad_name_raises_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="model name"):
        ModelRegistry(tmp_path).versions("../escape")


def test_forecaster_quantiles_are_decimal_monotone_simple_returns(
    registry_root: Path, bars_5m: BarArray
) -> None:
    fc = Forecaster.from_registry("tiny", root=registry_root)
    q = fc.quantiles(bars_5m[1000:1100])
    assert list(q) == [Decimal("0.05"), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("0.95")]
    values = list(q.values())
    assert all(isinstance(v, Decimal) for v in values)
    assert values == sorted(values)
    assert -0.2 < float(values[0]) < float(values[-1]) < 0.2
    assert fc.horizon_seconds == 3600


def test_forecaster_uses_only_the_tail_and_matches_training_predictions(
    registry_root: Path, trained: TrainResult, bars_5m: BarArray
) -> None:
    fc = Forecaster.from_registry("tiny", root=registry_root)
    assert fc.quantiles(bars_5m[:1100]) == fc.quantiles(bars_5m[1100 - fc.min_bars : 1100])
    ts, pred = fc.predict_log(bars_5m[:1100])
    row = trained.predict(trained.split.train.x[trained.split.train.ts == ts[-1]])
    np.testing.assert_allclose(pred[-1], row[0], rtol=1e-6)
    simple = np.expm1(pred[-1])
    got = [float(v) for v in fc.quantiles(bars_5m[:1100]).values()]
    np.testing.assert_allclose(got, simple, atol=1e-8)


def test_forecaster_resamples_one_minute_bars_to_the_model_interval(
    registry_root: Path, bars_1m: BarArray, bars_5m: BarArray
) -> None:
    fc = Forecaster.from_registry("tiny", root=registry_root)
    assert fc.quantiles(bars_1m[: 5 * 1100]) == fc.quantiles(bars_5m[:1100])


def test_forecaster_with_too_few_bars_raises(registry_root: Path, bars_5m: BarArray) -> None:
    fc = Forecaster.from_registry("tiny", root=registry_root)
    with pytest.raises(InvalidInput, match=f"needs {WARMUP + 1} bars"):
        fc.quantiles(bars_5m[:WARMUP])


def test_forecaster_evaluate_on_the_test_range_reproduces_stored_metrics(
    registry_root: Path, bars_1m: BarArray
) -> None:
    fc = Forecaster.from_registry("tiny", root=registry_root)
    first, last = fc.meta.ranges["test"]
    scores = fc.evaluate(bars_1m, first, last)
    for got, stored in zip(scores, fc.meta.test_scores(), strict=True):
        assert got.name == stored.name
        assert got.rows == stored.rows
        assert got.pinball_bps == pytest.approx(stored.pinball_bps, rel=1e-6)
        assert got.coverage == pytest.approx(stored.coverage)
