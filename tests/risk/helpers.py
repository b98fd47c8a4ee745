"""Builders for risk tests: instruments, snapshots, intents, a synthetic return window."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from gekko_agent.domain import (
    AssetClass,
    Instrument,
    OrderIntent,
    OrderSide,
    OrderType,
    Position,
    Price,
    Quantity,
)
from gekko_agent.risk import (
    MarketData,
    ReturnWindow,
    RiskConfig,
    RiskEngine,
    RiskSnapshot,
    VenueHealth,
)

NOW = datetime(2023, 3, 8, 12, 0, tzinfo=UTC)  # a Wednesday
BTC = "BTC/USD@binanceus"
ETH = "ETH/USD@binanceus"
BTCUSDC = "BTC/USDC@binanceus"
EURUSD = "EUR/USD@oanda"
D = Decimal

INSTRUMENTS = {
    BTC: Instrument(
        "BTC/USD", "binanceus", AssetClass.CRYPTO_SPOT, D("0.01"), D("0.00001"), D("0.00001"), D(10)
    ),
    ETH: Instrument(
        "ETH/USD", "binanceus", AssetClass.CRYPTO_SPOT, D("0.01"), D("0.0001"), D("0.0001"), D(10)
    ),
    BTCUSDC: Instrument(
        "BTC/USDC", "binanceus", AssetClass.CRYPTO_SPOT, D("0.01"), D("0.00001"), D(0), D(10)
    ),
    EURUSD: Instrument("EUR/USD", "oanda", AssetClass.FX, D("0.00001"), D(1), D(1), D(0), D(20)),
}
PRICES = {BTC: D("20000.00"), ETH: D("1500.00"), BTCUSDC: D("20010.00"), EURUSD: D("1.06000")}

EXPOSURE_KEYS = ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account")


def market(last: Decimal, ts: datetime = NOW, spread: Decimal | None = None) -> MarketData:
    """Market data with a last price and, optionally, a quote of ``spread`` around it."""
    if spread is None:
        return MarketData(last, ts)
    return MarketData(last, ts, last - spread / 2, last + spread / 2, ts)


def returns_window(seed: int = 7, rows: int = 500) -> ReturnWindow:
    """Deterministic synthetic 1-minute returns for every test factor."""
    rng = np.random.default_rng(seed)
    factors = (BTC, ETH, BTCUSDC, EURUSD, "USDC")
    vols = np.array([0.001, 0.0015, 0.001, 0.0001, 0.00005])
    data = rng.standard_normal((rows, len(factors))) * vols
    data[:, 2] = data[:, 0] + rng.standard_normal(rows) * 0.0001
    return ReturnWindow.from_array(factors, data, 60)


def healthy_venues() -> dict[str, VenueHealth]:
    """Every test venue connected, reconciled, error-free."""
    t0 = NOW - timedelta(hours=1)
    return {v: VenueHealth(0, t0, None, t0 + timedelta(minutes=1)) for v in ("binanceus", "oanda", "kraken")}


def snapshot(
    positions: dict[str, Decimal] | None = None,
    cash: dict[str, Decimal] | None = None,
    **overrides: Any,
) -> RiskSnapshot:
    """A healthy snapshot (equity ~100k USD) with optional positions {instrument id: signed qty}."""
    pos = {
        iid: Position(iid, INSTRUMENTS[iid].quote, INSTRUMENTS[iid].asset_class, q, PRICES[iid])
        for iid, q in (positions or {}).items()
    }
    base: dict[str, Any] = {
        "now": NOW,
        "account_currency": "USD",
        "cash": cash if cash is not None else {"USD": D(100_000), "USDC": D(0)},
        "positions": pos,
        "instruments": INSTRUMENTS,
        "market": {iid: market(p) for iid, p in PRICES.items()},
        "rates": {"USDC": D("1.0000"), "EUR": D("1.06")},
        "equity_day_start": None,
        "equity_peak": None,
        "venues": healthy_venues(),
        "returns": returns_window(),
    }
    base.update(overrides)
    return RiskSnapshot(**base)


def with_equity_marks(snap: RiskSnapshot, engine: RiskEngine) -> RiskSnapshot:
    """``snap`` with day-start and peak equity equal to its equity now (no loss, no drawdown)."""
    eq = engine.view(snap).equity
    return dataclasses.replace(snap, equity_day_start=eq, equity_peak=eq)


def intent(
    qty: str | Decimal,
    side: OrderSide = OrderSide.BUY,
    iid: str = BTC,
    price: str | Decimal | None = None,
    **kw: Any,
) -> OrderIntent:
    """A market (or, with ``price``, limit) intent."""
    order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderIntent(
        intent_id="i-1",
        instrument_id=iid,
        side=side,
        quantity=Quantity(D(qty)),
        order_type=order_type,
        limit_price=Price(D(price)) if price is not None else None,
        **kw,
    )


def config(**sections: Any) -> RiskConfig:
    """A RiskConfig from keyword sections, e.g. ``config(order={"max_notional": 5000})``."""
    return RiskConfig.model_validate(sections)


def loose(**sections: Any) -> RiskConfig:
    """Very large limits everywhere, so a test isolates the one check it sets."""
    big = 10**12
    base: dict[str, Any] = {
        "order": {"max_notional": big},
        "position": {"max_notional": big},
        "exposure": dict.fromkeys(
            ("max_gross_per_venue", "max_net_per_venue", "max_gross_account", "max_net_account"), big
        ),
        "leverage": {"max_leverage": 1000},
        "budgets": {"default_budget": big},
        "stress": {"max_loss": big},
        "var": {"max_var": big, "max_es": big},
    }
    for k, v in sections.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v
    return RiskConfig.model_validate(base)
