"""``ml_forecast`` loads a registered model, trades on its quantiles, and explains a missing model."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.agent.strategy import StrategyContext, load_strategy
from gekko_agent.domain import OrderSide
from gekko_agent.errors import ConfigError
from gekko_agent.market import BarArray
from gekko_agent.strategies.ml_forecast import MlForecast, prob_up

IID = "BTC/USD@binanceus"


def test_load_without_a_registered_model_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="gekko forecast train") as err:
        load_strategy("ml_forecast", [IID], {"registry": str(tmp_path / "empty")})
    assert err.value.key_path == "strategies.ml_forecast.params.model"


def test_load_with_unknown_param_raises_config_error(registry_root: Path) -> None:
    with pytest.raises(ConfigError, match="unknown parameter"):
        load_strategy("ml_forecast", [IID], {"registry": str(registry_root), "model": "tiny", "lr": 1})


def test_strategy_trades_on_forecasts_from_one_minute_bars(
    registry_root: Path, bars_1m: BarArray, tmp_path: Path
) -> None:
    params = {"registry": str(registry_root), "model": "tiny", "min_edge": "0", "max_downside": "0.5"}
    strategy = load_strategy("ml_forecast", [IID], params, search=tmp_path)  # the shipped module
    assert isinstance(strategy, MlForecast)
    position = Decimal(0)
    sides = []
    forecasts = 0
    for bar in bars_1m[:3000].to_bars():
        ctx = StrategyContext(now=bar.ts, positions={IID: position}, cash={"USD": Decimal(10_000)})
        before = dict(strategy.last_forecast)
        for intent in strategy.on_bar(bar, ctx):
            assert intent.strategy == "ml_forecast"
            assert intent.confidence is not None and 0 <= intent.confidence <= 1
            assert "forecast 1h median" in intent.rationale
            sides.append(intent.side)
            position += intent.quantity if intent.side is OrderSide.BUY else -intent.quantity
        if strategy.last_forecast != before:
            forecasts += 1
            closes_bucket = (bar.ts.minute + 1) % 5 == 0
            assert closes_bucket
    assert forecasts > 400  # one per closed 5-minute bar after the warm-up
    assert OrderSide.BUY in sides
    assert OrderSide.SELL in sides
    assert all(a != b for a, b in itertools.pairwise(sides))  # long-only: buy, sell, buy...


def test_strategy_ignores_other_instruments(registry_root: Path, bars_1m: BarArray) -> None:
    strategy = load_strategy("ml_forecast", [IID], {"registry": str(registry_root), "model": "tiny"})
    bar = bars_1m[0]
    other = type(bar)(**{**{f: getattr(bar, f) for f in bar.__slots__}, "instrument_id": "ETH/USD@x"})
    ctx = StrategyContext(now=datetime(2023, 3, 1, tzinfo=UTC), positions={}, cash={})
    assert strategy.on_bar(other, ctx) == ()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((-0.02, -0.01, 0.0, 0.01, 0.02), "0.50"),
        ((0.01, 0.02, 0.03, 0.04, 0.05), "0.95"),
        ((-0.05, -0.04, -0.03, -0.02, -0.01), "0.05"),
        ((-0.03, -0.01, 0.01, 0.02, 0.03), "0.62"),
    ],
)
def test_prob_up_interpolates_the_quantile_function(values: tuple[float, ...], expected: str) -> None:
    levels = (Decimal("0.05"), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("0.95"))
    q = {lvl: Decimal(str(v)) for lvl, v in zip(levels, values, strict=True)}
    assert prob_up(q) == Decimal(expected)
