"""mean_reversion: z-score / Bollinger rules on synthetic bars, and on bundled real bars."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gekko_agent.agent.strategy import Strategy
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import OrderSide
from gekko_agent.errors import ConfigError
from gekko_agent.runtime.backtest import run_backtest
from gekko_agent.strategies.mean_reversion import zscore
from tests.strategies.helpers import Book, path

IID = "X/USD@paper"
Build = Callable[..., Strategy]
WIGGLE = [100.0 + (0.5 if i % 2 else -0.5) for i in range(20)]


def test_zscore_matches_statistics_and_keeps_precision_at_large_prices() -> None:
    values = [30000.0 + 0.01 * math.sin(i) for i in range(60)]
    z, mean, std = zscore(values)
    assert mean == pytest.approx(statistics.fmean(values), abs=1e-9)
    assert std == pytest.approx(statistics.stdev(values), rel=1e-9)
    assert z == pytest.approx((values[-1] - statistics.fmean(values)) / statistics.stdev(values), rel=1e-6)
    assert zscore([5.0, 5.0, 5.0]) == (0.0, 5.0, 0.0)


def test_buys_the_lower_band_and_sells_the_reversion(strategy: Build, book: Book) -> None:
    s = strategy("mean_reversion", window=20, entry_z=2.0, exit_z=0.0, quantity="3")
    closes = [*WIGGLE, 96.0, 97.0, 100.5]
    log = book.feed(s, path(IID, closes))
    assert [(i, x.side, x.quantity) for i, x in log] == [
        (20, OrderSide.BUY, Decimal(3)),
        (22, OrderSide.SELL, Decimal(3)),
    ]
    assert "lower Bollinger band" in log[0][1].rationale and "reverted" in log[1][1].rationale
    assert log[0][1].confidence is not None and log[0][1].confidence >= Decimal("0.5")


def test_stop_exits_a_long_that_keeps_falling(strategy: Build, book: Book) -> None:
    s = strategy("mean_reversion", window=20, entry_z=2.0, stop_z=3.5)
    closes = [*WIGGLE, 97.5, 90.0]
    log = book.feed(s, path(IID, closes))
    assert [(i, x.side) for i, x in log] == [(20, OrderSide.BUY), (21, OrderSide.SELL)]
    assert "stopping out" in log[1][1].rationale


def test_upper_band_sells_short_only_when_allowed(strategy: Build) -> None:
    closes = [*WIGGLE, 104.0, 99.5]
    assert Book().feed(strategy("mean_reversion", window=20), path(IID, closes)) == []
    book = Book()
    log = book.feed(strategy("mean_reversion", window=20, allow_short=True), path(IID, closes))
    assert [(i, x.side) for i, x in log] == [(20, OrderSide.SELL), (21, OrderSide.BUY)]
    assert book.positions[IID] == 0


def test_quiet_market_below_min_std_is_skipped(strategy: Build, book: Book) -> None:
    s = strategy("mean_reversion", window=20, min_std_bps=500.0)
    assert book.feed(s, path(IID, [*WIGGLE, 96.0])) == []


def test_params_reject_inverted_thresholds(strategy: Build) -> None:
    with pytest.raises(ConfigError):
        strategy("mean_reversion", entry_z=1.0, exit_z=1.5)
    with pytest.raises(ConfigError):
        strategy("mean_reversion", entry_z=2.0, stop_z=1.5)


def test_trades_real_btc_bars_long_only(base_config: GekkoConfig) -> None:
    start, end = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 12, tzinfo=UTC)
    r = run_backtest(
        base_config,
        strategy="mean_reversion",
        dataset="binanceus-btcusd-1m",
        start=start,
        end=end,
        params={"window": 120, "entry_z": 2.5, "stop_z": 4.0},
    )
    assert len(r.fills) >= 4
    position = Decimal(0)
    for f in r.fills:
        position += f.quantity if f.side is OrderSide.BUY else -f.quantity
        assert position >= 0  # spot, long only: never short
    assert abs(r.total_return) < Decimal("0.05") and r.max_drawdown < Decimal("0.05")
