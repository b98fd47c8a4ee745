"""Replay of the real USDC depeg (Binance.US, 2023-03-10/11) through the risk engine, minute by minute.

The book: long 2 BTC/USDC, 60,000 USDC and 10,000 USD cash, in a USD account. The USDC rate is implied
by the two real books (BTC/USD close ÷ BTC/USDC close); factor returns feed an incremental window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from gekko_agent.domain import AssetClass, Instrument, OrderIntent, OrderSide, Position, Quantity
from gekko_agent.risk import (
    EquityTracker,
    MarketData,
    ReasonCode,
    RiskConfig,
    RiskEngine,
    RiskSnapshot,
    RollingReturns,
    TradingStateMachine,
    VenueHealth,
    stress_report,
    var_report,
)

USDC_BOOK = "BTC/USDC@binanceus"
USD_BOOK = "BTC/USD@binanceus"
INSTRUMENTS = {
    USDC_BOOK: Instrument(
        "BTC/USDC", "binanceus", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001")
    ),
    USD_BOOK: Instrument("BTC/USD", "binanceus", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001")),
}
BIG = 1_000_000
CONFIG = RiskConfig.model_validate(
    {
        "order": {"max_notional": BIG},
        "position": {"max_notional": BIG},
        "exposure": dict.fromkeys(
            ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account"), BIG
        ),
        "budgets": {"default_budget": BIG},
        "breakers": {"daily_loss": {"reduce_at": "0.03", "halt_at": "0.05"}},
        "var": {
            "confidence": "0.99",
            "horizon_seconds": 86400,
            "lookback": 1440,
            "max_var": 8000,
            "max_es": 12000,
        },
        "stress": {
            "max_loss": 7000,
            "scenarios": [{"name": "usdc depeg -10%", "currency_shocks": {"USDC": "-0.10"}}],
        },
    }
)

EXPOSURE_KEYS = ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account")


@dataclass
class Timeline:
    """When each reaction first happened (bar open time, UTC)."""

    states: list[tuple[datetime, str, str]] = field(default_factory=list)
    first_var_breach: datetime | None = None
    first_var_denial: datetime | None = None
    first_stress_denial: datetime | None = None
    worst_equity_loss: Decimal = Decimal(0)
    usdc_low: Decimal = Decimal(1)
    var_before: Decimal | None = None
    var_peak: Decimal = Decimal(0)
    stress_before: Decimal | None = None


def _d(x: float) -> Decimal:
    return Decimal(repr(round(float(x), 8)))


def replay(start: str = "2023-03-10", end: str = "2023-03-12") -> Timeline:
    """Run the replay; returns the timeline of reactions."""
    from gekko_agent.market import load_bars

    usd = load_bars("binanceus-btcusd-1m", "2023-03-09", end, cache=None)
    usdc = load_bars("binanceus-btcusdc-1m", "2023-03-09", end, cache=None)
    assert np.array_equal(usd.ts, usdc.ts)
    rate = np.asarray(usd.close) / np.asarray(usdc.close)
    btc_ret = np.asarray(usd.close)[1:] / np.asarray(usd.close)[:-1] - 1
    usdc_ret = rate[1:] / rate[:-1] - 1
    window = RollingReturns((USDC_BOOK, USD_BOOK, "USDC"), 1440, 60)
    engine = RiskEngine(CONFIG)
    machine = TradingStateMachine()
    equity = EquityTracker()
    position = Position(USDC_BOOK, "USDC", AssetClass.CRYPTO_SPOT, Decimal(2), _d(usdc.close[0]))
    cash = {"USD": Decimal(10_000), "USDC": Decimal(60_000)}
    t_start = np.datetime64(start).astype("datetime64[ns]").astype(np.int64)
    tl = Timeline()
    health = {
        "binanceus": VenueHealth(0, datetime(2023, 3, 1, tzinfo=UTC), None, datetime(2023, 3, 1, tzinfo=UTC))
    }
    probe_sell = OrderIntent("probe-sell", USDC_BOOK, OrderSide.SELL, Quantity(Decimal("0.5")))
    for i in range(1, len(usd.ts)):
        window.push([btc_ret[i - 1], btc_ret[i - 1], usdc_ret[i - 1]])
        if usd.ts[i] < t_start:
            continue
        now = datetime.fromtimestamp(int(usd.ts[i]) / 1e9, tz=UTC)
        last = _d(usdc.close[i])
        r = _d(rate[i])
        market = {USDC_BOOK: MarketData(last, now), USD_BOOK: MarketData(_d(usd.close[i]), now)}
        snap = RiskSnapshot(
            now=now,
            account_currency="USD",
            cash=cash,
            positions={USDC_BOOK: position},
            instruments=INSTRUMENTS,
            market=market,
            rates={"USDC": r},
            venues=health,
            returns=window.window(),
            trading_state=machine.state,
        )
        eq = engine.view(snap).equity
        assert eq is not None
        equity.update(now, eq)
        snap = dataclasses.replace(snap, equity_day_start=equity.day_start, equity_peak=equity.peak)
        for ev in machine.evaluate(snap, engine.limits, engine.view(snap)):
            tl.states.append((now, ev.new, ev.actor))
        if tl.var_before is None:
            report = var_report(snap, engine.limits)
            losses = stress_report(snap, engine.limits)
            tl.var_before = report.var if report else None
            tl.stress_before = max(x for _, x in losses) if losses else None
        base = engine.view(snap).var_base()
        if base is not None:
            tl.var_peak = max(tl.var_peak, base.var)
            if tl.first_var_breach is None and base.var > engine.limits.max_var:
                tl.first_var_breach = now
        out = engine.check(probe_sell, snap)
        if tl.first_var_denial is None and ReasonCode.VAR_LIMIT in out.reasons:
            tl.first_var_denial = now
        if tl.first_stress_denial is None and ReasonCode.STRESS_LOSS in out.reasons:
            tl.first_stress_denial = now
        assert equity.day_start is not None
        tl.worst_equity_loss = max(tl.worst_equity_loss, equity.day_start - eq)
        tl.usdc_low = min(tl.usdc_low, r)
    return tl


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    print(replay(), f"{time.perf_counter() - t0:.1f}s")
