"""The quiet-bar fast path leaves exactly what the full path leaves: every event, fill and mark.

Each case runs one backtest twice on the same bars, once through
:class:`~gekko_agent.runtime.quiet.QuietReplay` and once with every bar through the full path
(``skip_quiet=False``), and compares the journals event by event (random ids renamed in order of
appearance), the equity marks and curve, the VaR return window, the book, the clock, the portfolio
and the venue's last quote and bar history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import OrderFilled, TradingStateChanged
from gekko_agent.market.bararray import BarArray
from gekko_agent.runtime.backtest import backtest_config
from gekko_agent.runtime.quiet import QuietReplay
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.venues.paper import PaperVenue

ROOT = Path(__file__).resolve().parents[2]
_ID = re.compile(r"\b[a-z]{1,4}-[0-9a-f]{20}\b")


@dataclass
class Run:
    system: System
    journal: MemoryJournal


def _config(
    strategy: str, dataset: str, symbol: str, asset_class: str = "crypto_spot", **kw: Any
) -> GekkoConfig:
    base = load_config(ROOT / "agent.yaml")
    risk = kw.pop("risk", None)
    if risk is not None:
        data = base.model_dump(mode="python")
        data["risk"]["breakers"] = {**data["risk"]["breakers"], **risk}
        base = GekkoConfig.model_validate(data)
    return backtest_config(
        base,
        strategy=strategy,
        symbol=symbol,
        asset_class=asset_class,
        dataset=dataset,
        fee_bps=Decimal(10),
        cash=Decimal(kw.pop("cash", 100000)),
        params=kw.pop("params", {}),
    )


async def _run(
    cfg: GekkoConfig, *, quiet: bool, start: datetime, end: datetime, min_quiet: float = 0.5
) -> Run:
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=start, end=end)
    if quiet:
        fast = QuietReplay.attach(system)
        assert fast is not None, "the fast path should apply to this run"
        await fast.run(start)
        assert fast.skipped > len(system.feed) * min_quiet, "the fast path should skip bars"
    else:
        await run_replay(system, start=start, skip_quiet=False)
    return Run(system, journal)


def _normalized(events: list[Any]) -> list[str]:
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        return names.setdefault(m.group(0), f"<id{len(names)}>")

    return [_ID.sub(rename, repr(e)) for e in events]


def _assert_same(fast: Run, full: Run) -> None:
    assert _normalized(fast.journal.events) == _normalized(full.journal.events)
    a, b = fast.system.trader, full.system.trader
    assert (a.equity.now, a.equity.peak, a.equity.day_start, a.equity.day) == (
        b.equity.now,
        b.equity.peak,
        b.equity.day_start,
        b.equity.day,
    )
    assert a.equity.curve == b.equity.curve
    assert a.stats == b.stats
    assert a.state == b.state
    assert a.book.market == b.book.market
    wa, wb = a.book.returns.window(), b.book.returns.window()
    assert np.array_equal(np.asarray(wa.returns), np.asarray(wb.returns))
    assert fast.system.clock.now() == full.system.clock.now()
    pa, pb = a.execution.portfolio, b.execution.portfolio
    assert (pa.cash, pa.positions) == (pb.cash, pb.positions)
    va, vb = fast.system.paper_venues[0], full.system.paper_venues[0]
    assert isinstance(va, PaperVenue) and isinstance(vb, PaperVenue)
    iid = next(iter(a.instruments))
    assert va._market(iid).quote == vb._market(iid).quote
    assert list(va._market(iid).history(60, None, 10_000)) == list(vb._market(iid).history(60, None, 10_000))


CASES = {
    "sma_cross": ("sma_cross", "binanceus-btcusd-1m", "BTC/USD", {}),
    "momentum": ("momentum", "binanceus-btcusd-1m", "BTC/USD", {"lookback": 30, "exit_lookback": 10}),
    "mean_reversion_usdc_depeg": ("mean_reversion", "binanceus-btcusdc-1m", "BTC/USDC", {"window": 30}),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_quiet_path_matches_full_path(case: str) -> None:
    strategy, dataset, symbol, params = CASES[case]
    cfg = _config(strategy, dataset, symbol, params=params)
    start, end = datetime(2023, 3, 10, 12, tzinfo=UTC), datetime(2023, 3, 12, 6, tzinfo=UTC)
    fast = await _run(cfg, quiet=True, start=start, end=end)
    full = await _run(cfg, quiet=False, start=start, end=end)
    assert any(isinstance(e, OrderFilled) for e in full.journal.events), "the window should trade"
    _assert_same(fast, full)


async def test_quiet_path_matches_full_path_through_breaker_trips_and_new_days() -> None:
    # A position worth most of the account and breakers at fractions of a percent: the daily-loss
    # and drawdown breakers trip and clear, peaks are journaled often, and days roll over.
    tight = {
        "daily_loss": {"reduce_at": "0.004", "halt_at": "0.008"},
        "drawdown": {"reduce_at": "0.006", "halt_at": "0.012"},
    }
    cfg = _config(
        "sma_cross", "binanceus-btcusd-1m", "BTC/USD", cash=5000, risk=tight, params={"quantity": "0.15"}
    )
    start, end = datetime(2023, 3, 9, tzinfo=UTC), datetime(2023, 3, 14, tzinfo=UTC)
    fast = await _run(cfg, quiet=True, start=start, end=end, min_quiet=0.1)
    full = await _run(cfg, quiet=False, start=start, end=end)
    assert any(isinstance(e, TradingStateChanged) for e in full.journal.events), "the breakers should trip"
    _assert_same(fast, full)


async def test_quiet_path_matches_full_path_on_fx_shorts() -> None:
    params = {"window": 24, "allow_short": True, "entry_z": 1.5}
    cfg = _config("mean_reversion", "oanda-eurusd-1h", "EUR/USD", asset_class="fx", params=params)
    start, end = datetime(2017, 3, 1, tzinfo=UTC), datetime(2017, 6, 1, tzinfo=UTC)
    fast = await _run(cfg, quiet=True, start=start, end=end)
    full = await _run(cfg, quiet=False, start=start, end=end)
    sides = {str(e.fill.side) for e in full.journal.events if isinstance(e, OrderFilled)}
    assert sides == {"buy", "sell"}
    _assert_same(fast, full)


def test_fast_path_declines_runs_it_cannot_reproduce() -> None:
    cfg = _config("sma_cross", "binanceus-btcusd-1m", "BTC/USD")
    start, end = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 11, tzinfo=UTC)
    system = build_replay(cfg, MemoryJournal(), start=start, end=end)
    assert QuietReplay.attach(system) is not None
    bars = next(iter(system.feed.arrays.values()))
    off_grid = BarArray(
        "BTC/USD@paper",
        60,
        bars.ts,
        bars.open + 1e-7,  # not the float of any two-decimal price: the feed's Decimals would differ
        bars.high + 1e-7,
        bars.low,
        bars.close,
        bars.volume,
        bars.price_decimals,
        bars.volume_decimals,
    )
    system = build_replay(cfg, MemoryJournal(), start=start, end=end, bars={"BTC/USD@paper": off_grid})
    assert QuietReplay.attach(system) is None
