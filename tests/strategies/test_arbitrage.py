"""arbitrage: the two-leg state machine on synthetic bars, and the March 2023 USDC depeg."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from gekko_agent.agent.strategy import Strategy
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import OrderFilled, OrderSide
from gekko_agent.errors import ConfigError, InvalidInput
from gekko_agent.runtime.metrics import RunReport, report
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay
from gekko_agent.strategies.arbitrage import spread_bps
from tests.strategies.helpers import Book, make_bar

A, B = "BTC/USDC@paper", "BTC/USD@paper"
Build = Callable[..., Strategy]


def _feed(s: Strategy, book: Book, pairs: list[tuple[float, float]]) -> list[tuple[int, Any]]:
    bars = [bar for i, (pa, pb) in enumerate(pairs) for bar in (make_bar(A, i, pa), make_bar(B, i, pb))]
    return [(i // 2, x) for i, x in book.feed(s, bars)]


def test_spread_sign_says_which_leg_is_rich() -> None:
    assert spread_bps(101.0, 100.0) == pytest.approx(100.0)
    assert spread_bps(99.0, 100.0) == pytest.approx(-100.0)


def test_buys_inventory_enters_on_confirmed_spread_and_unwinds(strategy: Build) -> None:
    s = strategy("arbitrage", (A, B), quantity="1", inventory="2", fee_bps=10, threshold_bps=60, exit_bps=20)
    book = Book()
    pairs = [(100.0, 100.0)] * 3 + [(101.5, 100.0)] * 3 + [(100.1, 100.0)] * 2
    log = _feed(s, book, pairs)
    summary = [(i, x.instrument_id, x.side, x.quantity) for i, x in log]
    assert summary == [
        (0, A, OrderSide.BUY, Decimal(2)),  # inventory on both legs
        (0, B, OrderSide.BUY, Decimal(2)),
        (4, A, OrderSide.SELL, Decimal(1)),  # 150 bps > 4 x 10 + 60 for two bars: sell rich A, buy B
        (4, B, OrderSide.BUY, Decimal(1)),
        (6, A, OrderSide.BUY, Decimal(1)),  # back within 20 bps: unwind
        (6, B, OrderSide.SELL, Decimal(1)),
    ]
    entry = log[2][1]
    assert "sell BTC/USDC@paper, buy BTC/USD@paper" in entry.rationale and "fees" in entry.rationale
    assert entry.confidence is not None and Decimal("0.5") <= entry.confidence <= Decimal("0.95")
    assert book.positions == {A: Decimal(2), B: Decimal(2)}


def test_spread_inside_the_fees_is_not_traded(strategy: Build) -> None:
    s = strategy("arbitrage", (A, B), quantity="1", inventory="1", fee_bps=25, threshold_bps=10)
    book = Book({A: Decimal(1), B: Decimal(1)})
    assert _feed(s, book, [(100.9, 100.0)] * 10) == []  # 90 bps < 4 x 25 + 10


def test_never_sells_more_than_it_holds(strategy: Build) -> None:
    s = strategy("arbitrage", (A, B), quantity="5", inventory="0", threshold_bps=20, confirm_bars=1)
    book = Book({A: Decimal("0.3")})
    log = _feed(s, book, [(102.0, 100.0)] * 2)
    sells = [x for _, x in log if x.side is OrderSide.SELL]
    assert [(x.instrument_id, x.quantity) for x in sells] == [(A, Decimal("0.3"))]
    assert min(book.positions.values()) >= 0


def test_stale_leg_is_not_compared(strategy: Build) -> None:
    s = strategy("arbitrage", (A, B), quantity="1", inventory="1", threshold_bps=20, confirm_bars=1)
    book = Book({A: Decimal(1), B: Decimal(1)})
    bars = [make_bar(B, 0, 100.0), *(make_bar(A, i, 110.0) for i in range(1, 5))]
    assert book.feed(s, bars) == []


def test_params_and_instruments_are_validated(strategy: Build) -> None:
    with pytest.raises(ConfigError):
        strategy("arbitrage", (A, B), fee_bps=10, threshold_bps=0, exit_bps=40)
    with pytest.raises(InvalidInput, match=r"strategy 'arbitrage' on BTC/USDC@paper: .*exactly two"):
        strategy("arbitrage", (A,))


def _depeg_run(base: GekkoConfig, params: dict[str, Any]) -> RunReport:
    data = base.model_dump(mode="python")
    data["mode"] = "backtest"
    data["account"] = {"currency": "USD", "starting_cash": {"USD": Decimal(98000), "USDC": Decimal(3000)}}
    data["venues"]["paper"]["max_participation"] = Decimal(1)  # thin USDC book: fill what trades
    data["instruments"] = [i for i in data["instruments"] if i["symbol"] in ("BTC/USD", "BTC/USDC")]
    data["strategies"] = [{"name": "arbitrage", "instruments": [A, B], "params": params}]
    start, end = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 14, tzinfo=UTC)
    journal = MemoryJournal()
    system = build_replay(GekkoConfig.model_validate(data), journal, start=start, end=end)
    asyncio.run(run_replay(system, start=start))
    fills = [e.fill for e in journal.events if isinstance(e, OrderFilled)]
    return report(system.trader, fills, first_trading=start)


def test_usdc_depeg_is_traded_and_profitable_net_of_fees(base_config: GekkoConfig) -> None:
    hold = _depeg_run(base_config, {"quantity": "0.05", "threshold_bps": 100000})  # inventory only
    arb = _depeg_run(base_config, {"quantity": "0.05"})
    depeg = datetime(2023, 3, 11, tzinfo=UTC)
    assert all(f.ts < depeg for f in hold.fills)  # the inventory is bought on 03-10 and held
    arb_fills = [f for f in arb.fills if f.ts >= depeg]
    assert len(arb_fills) >= 4
    first = arb_fills[0]
    assert first.ts.date().isoformat() == "2023-03-11" and first.instrument_id in (A, B)
    usdc_sell = next(f for f in arb_fills if f.instrument_id == A and f.side is OrderSide.SELL)
    usd_buy = next(f for f in arb_fills if f.instrument_id == B and f.side is OrderSide.BUY)
    assert spread_bps(float(usdc_sell.price), float(usd_buy.price)) > 200  # sold the rich USDC leg
    edge = arb.final_equity - hold.final_equity  # equity is net of every fee paid
    assert arb.fees > hold.fees and edge > arb.fees - hold.fees > 0
