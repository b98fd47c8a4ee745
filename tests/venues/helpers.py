"""Builders shared by the paper venue tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderType, TimeInForce
from gekko_agent.execution.ports import OrderRequest, Quote
from gekko_agent.venues.paper import FeeSchedule, NoSlippage, PaperVenue, PaperVenueConfig

T0 = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
BTC = Instrument(
    "BTC/USD",
    "paper",
    AssetClass.CRYPTO_SPOT,
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.001"),
    min_quantity=Decimal("0.001"),
    min_notional=Decimal(10),
)
EUR = Instrument(
    "EUR/USD",
    "paper",
    AssetClass.FX,
    tick_size=Decimal("0.00001"),
    lot_size=Decimal(1),
    max_leverage=Decimal(20),
)
NO_FEES = FeeSchedule(maker_bps=Decimal(0), taker_bps=Decimal(0))


def make_venue(clock: SimClock | None = None, **overrides: Any) -> PaperVenue:
    """A paper venue with BTC/USD and EUR/USD, 100k USD and 2 BTC, no fees and no slippage unless given."""
    fields: dict[str, Any] = {
        "instruments": (BTC, EUR),
        "balances": {"USD": Decimal(100_000), "BTC": Decimal(2)},
        "fees": NO_FEES,
        "slippage": NoSlippage(),
    }
    fields.update(overrides)
    return PaperVenue(PaperVenueConfig(**fields), clock or SimClock(T0))


def bar(o: str, h: str, lo: str, c: str, v: str = "100", ts: datetime = T0, iid: str = BTC.id) -> Bar:
    """A one-minute bar from decimal strings."""
    d = Decimal
    return Bar(iid, ts, d(o), d(h), d(lo), d(c), d(v), 60)


def quote(bid: str, ask: str, ts: datetime = T0, iid: str = BTC.id, size: str | None = None) -> Quote:
    """A quote from decimal strings (last = mid)."""
    b, a = Price(Decimal(bid)), Price(Decimal(ask))
    sz = Quantity(Decimal(size)) if size else None
    return Quote(iid, b, a, Price((b + a) / 2), ts, sz, sz)


def request(
    cid: str,
    side: OrderSide,
    qty: str,
    order_type: OrderType = OrderType.MARKET,
    limit: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    iid: str = BTC.id,
    **extra: Any,
) -> OrderRequest:
    """An order request from decimal strings."""
    return OrderRequest(
        client_order_id=cid,
        instrument_id=iid,
        side=side,
        quantity=Quantity(Decimal(qty)),
        order_type=order_type,
        limit_price=Price(Decimal(limit)) if limit else None,
        stop_price=Price(Decimal(stop)) if stop else None,
        time_in_force=tif,
        **extra,
    )


def minutes(n: int) -> timedelta:
    """``n`` minutes."""
    return timedelta(minutes=n)
