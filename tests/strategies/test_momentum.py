"""momentum: Donchian breakout on synthetic bars, and through the engine on bundled real bars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gekko_agent.agent.strategy import Strategy
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import OrderSide
from gekko_agent.errors import ConfigError
from gekko_agent.runtime.backtest import run_backtest
from tests.strategies.helpers import Book, path

IID = "X/USD@paper"
Build = Callable[..., Strategy]


def test_breakout_buys_then_exit_channel_sells(strategy: Build, book: Book) -> None:
    s = strategy("momentum", lookback=10, exit_lookback=5, quantity="2")
    closes = [100.0] * 15 + [101.0, 102.0, 103.0] + [103.0] * 5 + [99.0, 98.0]
    log = book.feed(s, path(IID, closes))
    assert [(i, x.side) for i, x in log] == [(15, OrderSide.BUY), (23, OrderSide.SELL)]
    buy, sell = log[0][1], log[1][1]
    assert buy.quantity == Decimal(2) and sell.quantity == Decimal(2)
    assert "broke above the 10-bar high" in buy.rationale
    assert buy.confidence is not None and Decimal("0.5") <= buy.confidence <= Decimal("0.9")
    assert book.positions[IID] == 0


def test_flat_market_does_nothing(strategy: Build, book: Book) -> None:
    s = strategy("momentum", lookback=10, exit_lookback=5)
    assert book.feed(s, path(IID, [100.0] * 50)) == []


def test_breakdown_sells_short_only_when_allowed(strategy: Build) -> None:
    closes = [100.0] * 15 + [98.0, 97.0] + [97.0] * 5 + [102.0]
    long_only = Book().feed(strategy("momentum", lookback=10, exit_lookback=5), path(IID, closes))
    assert [(i, x.side) for i, x in long_only] == [(22, OrderSide.BUY)]  # only the upside breakout
    book = Book()
    log = book.feed(strategy("momentum", lookback=10, exit_lookback=5, allow_short=True), path(IID, closes))
    assert [(i, x.side) for i, x in log] == [(15, OrderSide.SELL), (22, OrderSide.BUY)]
    assert "selling short" in log[0][1].rationale
    assert book.positions[IID] == 0


def test_momentum_filter_blocks_weak_breakouts(strategy: Build, book: Book) -> None:
    s = strategy("momentum", lookback=10, exit_lookback=5, min_return_bps="500")
    closes = [100.0] * 15 + [101.0, 102.0]
    assert book.feed(s, path(IID, closes)) == []


def test_params_reject_exit_channel_longer_than_entry(strategy: Build) -> None:
    with pytest.raises(ConfigError):
        strategy("momentum", lookback=10, exit_lookback=20)
    with pytest.raises(ConfigError):
        strategy("momentum", lookbak=10)


def test_trades_real_btc_bars_through_the_engine(base_config: GekkoConfig) -> None:
    start, end = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 12, tzinfo=UTC)
    r = run_backtest(base_config, strategy="momentum", dataset="binanceus-btcusd-1m", start=start, end=end)
    assert r.fills and r.denied == 0
    sides = [f.side for f in r.fills]
    assert sides[0] is OrderSide.BUY
    bought = sum(f.quantity for f in r.fills if f.side is OrderSide.BUY)
    sold = sum(f.quantity for f in r.fills if f.side is OrderSide.SELL)
    assert Decimal(0) <= bought - sold <= Decimal("0.1")  # long only: never net short
    assert r.fees > 0 and abs(r.total_return) < Decimal("0.05")
