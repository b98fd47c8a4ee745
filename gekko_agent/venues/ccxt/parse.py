"""Parse ccxt's unified structures (markets, orders, trades, balances) into Gekko's domain values.

The exchange is built with ``number = str``, so every amount arrives as the venue's own decimal
string and becomes a ``Decimal`` here without passing through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gekko_agent.domain.instruments import AssetClass, Instrument, InstrumentId
from gekko_agent.domain.money import ZERO, Money, Price, Quantity
from gekko_agent.domain.orders import Fill, Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.execution.ports import VenueOrder
from gekko_agent.venues.parse_guard import venue_parse

__all__ = ["dec", "fill_from_trade", "instrument_from_market", "order_from_ccxt", "timestamp"]

_TICK_SIZE_MODE = 4  # ccxt.base.decimal_to_precision.TICK_SIZE
_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
    "canceling": OrderStatus.PENDING_CANCEL,
}
_TYPES = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_loss": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "stop_loss_limit": OrderType.STOP_LIMIT,
}


def dec(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A Decimal from a ccxt number (string, int or float), or ``default`` when missing."""
    if value is None or value == "":
        return default
    try:
        return Decimal(value if isinstance(value, str | int) else repr(value))
    except (InvalidOperation, ValueError):
        return default


def _step(value: Any, precision_mode: int) -> Decimal | None:
    raw = dec(value)
    if raw is None:
        return None
    if precision_mode == _TICK_SIZE_MODE:
        return raw
    return Decimal(1).scaleb(-int(raw))


def timestamp(ms: Any) -> datetime | None:
    """An aware UTC datetime from milliseconds since the epoch."""
    value = dec(ms)
    return None if value is None else datetime.fromtimestamp(float(value) / 1000, UTC)


@venue_parse
def instrument_from_market(market: Mapping[str, Any], venue: str, precision_mode: int) -> Instrument | None:
    """The Instrument of a ccxt spot market; None for markets Gekko does not trade."""
    if not market.get("spot") or market.get("active") is False:
        return None
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    tick = _step(precision.get("price"), precision_mode)
    lot = _step(precision.get("amount"), precision_mode)
    if tick is None or lot is None or tick <= 0 or lot <= 0:
        return None
    return Instrument(
        symbol=f"{market['base']}/{market['quote']}",
        venue=venue,
        asset_class=AssetClass.CRYPTO_SPOT,
        tick_size=tick,
        lot_size=lot,
        min_quantity=dec((limits.get("amount") or {}).get("min"), ZERO) or ZERO,
        min_notional=dec((limits.get("cost") or {}).get("min"), ZERO) or ZERO,
        venue_symbol_override=str(market["id"]),
    )


def _status(order: Mapping[str, Any], filled: Decimal, quantity: Decimal) -> OrderStatus:
    raw = str(order.get("status") or "open").lower()
    if raw in _STATUS:
        status = _STATUS[raw]
        if status is OrderStatus.FILLED and filled < quantity:
            return OrderStatus.CANCELED if filled else OrderStatus.EXPIRED
        return status
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACCEPTED


@venue_parse
def order_from_ccxt(order: Mapping[str, Any], iid: InstrumentId, client_order_id: str) -> VenueOrder:
    """The VenueOrder of a ccxt order; ``client_order_id`` is ours (cancel answers may carry another)."""
    quantity = dec(order.get("amount"), ZERO) or ZERO
    filled = dec(order.get("filled"), ZERO) or ZERO
    average = dec(order.get("average"))
    if average is None and filled > 0:
        cost = dec(order.get("cost"))
        average = cost / filled if cost is not None else None
    tif = str(order.get("timeInForce") or "GTC").lower()
    limit = dec(order.get("price")) if str(order.get("type")) != "market" else None
    return VenueOrder(
        client_order_id=client_order_id,
        venue_order_id=str(order["id"]) if order.get("id") is not None else None,
        instrument_id=iid,
        side=OrderSide(str(order.get("side") or "buy").lower()),
        order_type=_TYPES.get(str(order.get("type") or "limit").lower(), OrderType.LIMIT),
        quantity=Quantity(quantity),
        filled_quantity=Quantity(filled),
        avg_fill_price=Price(average) if average else None,
        status=_status(order, filled, quantity),
        limit_price=Price(limit) if limit else None,
        stop_price=Price(p) if (p := dec(order.get("triggerPrice") or order.get("stopPrice"))) else None,
        time_in_force=TimeInForce(tif) if tif in {t.value for t in TimeInForce} else TimeInForce.GTC,
        created_at=timestamp(order.get("timestamp")),
        updated_at=timestamp(order.get("lastUpdateTimestamp") or order.get("timestamp")),
    )


@venue_parse
def fill_from_trade(
    trade: Mapping[str, Any], order: VenueOrder, market_id: str, quote: str, fallback_ts: datetime
) -> Fill | None:
    """The Fill of a ccxt trade of ``order`` (None for a trade without id, size or price).

    Trade ids are unique per market on some venues, so the fill id is ``MARKET_ID:TRADE_ID``.
    Trades embedded in an order answer may lack side and time; the order and ``fallback_ts`` fill in.
    """
    qty, price = dec(trade.get("amount")), dec(trade.get("price"))
    if trade.get("id") is None or not qty or not price:
        return None
    fee = trade.get("fee") or {}
    fee_ccy = str(fee.get("currency") or quote)
    taker = trade.get("takerOrMaker")
    return Fill(
        fill_id=f"{market_id}:{trade['id']}",
        client_order_id=order.client_order_id,
        venue_order_id=str(trade.get("order") or order.venue_order_id),
        instrument_id=order.instrument_id,
        side=OrderSide(str(trade["side"]).lower()) if trade.get("side") else order.side,
        quantity=Quantity(qty),
        price=Price(price),
        fee=Money(dec(fee.get("cost"), ZERO) or ZERO, fee_ccy),
        liquidity=Liquidity.MAKER if taker == "maker" else Liquidity.TAKER,
        ts=timestamp(trade.get("timestamp")) or fallback_ts,
    )
