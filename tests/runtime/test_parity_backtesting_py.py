"""sma_cross through Gekko's full engine reproduces backtesting.py trade for trade on real bars.

Shared convention (docs/backtesting.md): the signal is taken on a bar's close (fast SMA crossing
the slow one: ``prev <= 0 < diff`` enters, ``prev >= 0 > diff`` exits, long only, fixed 0.1 BTC);
the market order fills at the NEXT bar's open; commission 10 bps of notional per side; no
slippage; no participation cap (Gekko's paper venue is given unlimited bar volume, since its
config caps participation at 100 % of the bar's volume and 72 of these minutes traded nothing);
risk limits that never bind (the RiskEngine still checks every order: none is denied or resized).

backtesting.py trades whole units, so it runs as ``FractionalBacktest`` in units of Gekko's lot
(1e-5 BTC): prices are scaled by 1e-5 inside it and back on the way out. That scaling is the only
residual difference: prices agree to float rounding (relative 1e-12), Gekko's are exact Decimals.

backtesting.py is AGPL-3.0: a dev/test dependency only, never imported from gekko_agent.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import OrderFilled
from gekko_agent.market import load_bars
from gekko_agent.runtime.backtest import backtest_config
from gekko_agent.runtime.metrics import report
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.report import RoundTrip, round_trips
from gekko_agent.runtime.sweep import sma_cross_vectorized
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

pd = pytest.importorskip("pandas")
backtesting = pytest.importorskip("backtesting")
from backtesting import Strategy  # noqa: E402
from backtesting.lib import FractionalBacktest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATASET = "binanceus-btcusd-1m"
FAST, SLOW, QTY, FEE_BPS, CASH, LOT = 10, 30, Decimal("0.1"), Decimal(10), Decimal(100000), 1e-5


def _gekko_config() -> GekkoConfig:
    base = load_config(ROOT / "agent.yaml")
    cfg = backtest_config(
        base,
        strategy="sma_cross",
        symbol="BTC/USD",
        asset_class="crypto_spot",
        dataset=DATASET,
        fee_bps=FEE_BPS,
        cash=CASH,
        params={"fast": FAST, "slow": SLOW, "quantity": str(QTY)},
    )
    data = cfg.model_dump(mode="python")
    data["venues"]["paper"].update(slippage_bps=Decimal(0), max_participation=Decimal(1), latency_ms=0)
    data["instruments"][0]["min_notional"] = Decimal(0)
    # VaR needs a return history the first minutes of the file do not have yet; it would deny the
    # first entry. Every other check stays on (and none binds: the test asserts it).
    data["risk"]["var"]["enabled"] = False
    return GekkoConfig.model_validate(data)


def _gekko_trips() -> tuple[list[RoundTrip], Any]:
    bars = load_bars(DATASET)
    unlimited = replace(bars, instrument_id="BTC/USD@paper", volume=np.full(len(bars), 1e9))
    journal = MemoryJournal()
    system = build_replay(_gekko_config(), journal, bars={"BTC/USD@paper": unlimited})
    asyncio.run(run_replay(system))
    fills = [e.fill for e in journal.events if isinstance(e, OrderFilled)]
    result = report(system.trader, fills)
    assert result.denied == 0 and result.resized == 0, "risk limits must not bind in the parity run"
    return round_trips(fills), bars


class _SmaCross(Strategy):  # type: ignore[misc]
    def init(self) -> None:
        close = pd.Series(self.data.Close)
        diff = close.rolling(FAST).mean() - close.rolling(SLOW).mean()
        self.diff = self.I(lambda: diff.to_numpy(), name="diff")

    def next(self) -> None:
        prev, cur = self.diff[-2], self.diff[-1]
        if prev <= 0 < cur and not self.position:
            self.buy(size=round(float(QTY) / LOT))
        elif prev >= 0 > cur and self.position:
            self.position.close()


def _backtesting_py_trades(bars: Any) -> Any:
    frame = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close, "Volume": bars.volume},
        index=pd.to_datetime(bars.ts, utc=True),
    )
    bt = FractionalBacktest(
        frame,
        _SmaCross,
        cash=float(CASH),
        commission=float(FEE_BPS) / 1e4,
        trade_on_close=False,
        exclusive_orders=False,
        fractional_unit=LOT,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own notices (e.g. about the index), not ours
        stats = bt.run()
    return stats["_trades"].sort_values("EntryTime").reset_index(drop=True)


@pytest.fixture(scope="module")
def both() -> tuple[list[RoundTrip], Any, Any]:
    trips, bars = _gekko_trips()
    return trips, _backtesting_py_trades(bars), bars


def test_sma_cross_matches_backtesting_py_trade_for_trade(both: tuple[list[RoundTrip], Any, Any]) -> None:
    trips, theirs, _ = both
    assert len(trips) > 100
    assert len(trips) == len(theirs)
    for ours, (_, row) in zip(trips, theirs.iterrows(), strict=True):
        # both stamp a fill with the open time of the bar whose open it fills at
        assert ours.entry_ts == row.EntryTime.to_pydatetime()
        assert ours.exit_ts == row.ExitTime.to_pydatetime()
        assert ours.quantity == QTY and row.Size == pytest.approx(float(QTY), rel=1e-12)
        assert float(ours.entry_price) == pytest.approx(row.EntryPrice, rel=1e-12)
        assert float(ours.exit_price) == pytest.approx(row.ExitPrice, rel=1e-12)
        assert float(ours.pnl) == pytest.approx(row.PnL, abs=1e-6)  # net of both commissions


def test_numpy_sweep_path_agrees_with_the_engine(both: tuple[list[RoundTrip], Any, Any]) -> None:
    trips, _, bars = both
    fast = sma_cross_vectorized(bars, FAST, SLOW, quantity=float(QTY), cash=float(CASH), fee_bps=10.0)
    closed = 2 * len(trips)
    assert fast["fills"] in (closed, closed + 1)  # + the entry still open at the end, if any
    assert fast["fees"] >= float(sum(t.fees for t in trips))
