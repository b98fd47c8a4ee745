"""OANDA v20 wire formats ↔ Gekko domain values. Nothing here does I/O.

OANDA writes instruments ``EUR_USD``, quantities as signed ``units`` strings (the sign is the side),
prices and money as decimal strings, and times as RFC 3339 with nanoseconds. An order's filled
quantity is not on the order: it is the sum of its ``ORDER_FILL`` transactions, and why an order
was cancelled is on its ``ORDER_CANCEL`` transaction, so the venue passes both in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import AssetClass, Instrument, InstrumentId, canonical_symbol
from gekko_agent.domain.money import ZERO, Money, Price, Quantity, to_decimal
from gekko_agent.domain.orders import Fill, Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.errors import InvalidInput
from gekko_agent.execution.ports import BookLevel, OrderRequest, Quote, RejectReason, VenueOrder
from gekko_agent.venues.parse_guard import venue_parse

__all__ = [
    "GRANULARITIES",
    "REJECT_CODES",
    "order_body",
    "parse_candles",
    "parse_fill",
    "parse_instrument",
    "parse_levels",
    "parse_order",
    "parse_quote",
    "parse_time",
    "reject_reason",
]

GRANULARITIES: Mapping[int, str] = {
    5: "S5", 10: "S10", 15: "S15", 30: "S30", 60: "M1", 120: "M2", 240: "M4", 300: "M5",
    600: "M10", 900: "M15", 1800: "M30", 3600: "H1", 7200: "H2", 10800: "H3", 14400: "H4",
    21600: "H6", 28800: "H8", 43200: "H12", 86400: "D",
}  # fmt: skip

REJECT_CODES: Mapping[str, RejectReason] = {
    "INSTRUMENT_UNKNOWN": RejectReason.UNKNOWN_INSTRUMENT,
    "INSTRUMENT_NOT_TRADEABLE": RejectReason.UNKNOWN_INSTRUMENT,
    "UNITS_PRECISION_EXCEEDED": RejectReason.BAD_LOT,
    "UNITS_INVALID": RejectReason.BAD_LOT,
    "UNITS_MINIMUM_NOT_MET": RejectReason.BELOW_MIN_QUANTITY,
    "PRICE_PRECISION_EXCEEDED": RejectReason.BAD_TICK,
    "PRICE_INVALID": RejectReason.BAD_TICK,
    "INSUFFICIENT_MARGIN": RejectReason.INSUFFICIENT_FUNDS,
    "CLIENT_ORDER_ID_INVALID": RejectReason.INVALID_CLIENT_ORDER_ID,
    "POSITION_FILL_INVALID": RejectReason.REDUCE_ONLY_WOULD_INCREASE,
    "INSTRUMENT_PRICE_UNKNOWN": RejectReason.NO_MARKET_DATA,
    "MARKET_HALTED": RejectReason.NO_MARKET_DATA,
    "TIME_IN_FORCE_INVALID": RejectReason.UNSUPPORTED_ORDER,
}
"""OANDA reject and cancel-at-creation reasons that mean "refused"; anything else is unsupported."""

_TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP"}
_TYPES_BACK = {"MARKET": OrderType.MARKET, "LIMIT": OrderType.LIMIT, "STOP": OrderType.STOP}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.DAY: "GFD"}
_TIF_BACK = {v: k for k, v in _TIF.items()} | {"GTD": TimeInForce.GTC}
_EXPIRED_CANCELS = frozenset({"TIME_IN_FORCE_EXPIRED", "INSUFFICIENT_LIQUIDITY", "BOUNDS_VIOLATION"})


def reject_reason(code: str) -> RejectReason:
    """Our reject reason for an OANDA reject or cancel reason code."""
    return REJECT_CODES.get(code, RejectReason.UNSUPPORTED_ORDER)


def parse_time(raw: str) -> datetime:
    """RFC 3339 with up to nanoseconds (``2024-01-02T12:00:00.123456789Z``) → aware UTC datetime."""
    text = raw.strip().removesuffix("Z")
    head, dot, frac = text.partition(".")
    if dot:
        head = f"{head}.{frac[:6].ljust(6, '0')}"
    try:
        ts = datetime.fromisoformat(head)
    except ValueError:
        raise InvalidInput(f"oanda: bad time {raw!r}") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _step(exponent: int) -> Decimal:
    return Decimal(1).scaleb(exponent)


@venue_parse
def parse_instrument(raw: Mapping[str, Any], venue: str) -> Instrument:
    """An ``/instruments`` entry → Instrument.

    The tick is the display precision (OANDA quotes fractional pips: ``pipLocation`` -4 with five
    decimals); the pip location stands in when the precision is missing. The lot is
    ``10**-tradeUnitsPrecision`` units and the leverage ``1 / marginRate``.
    """
    precision = raw.get("displayPrecision")
    tick = _step(-int(precision)) if precision is not None else _step(int(raw.get("pipLocation", -4)) - 1)
    margin = to_decimal(str(raw.get("marginRate", "1")), "marginRate")
    return Instrument(
        symbol=canonical_symbol(str(raw["name"]), venue),
        venue=venue,
        asset_class=AssetClass.FX,
        tick_size=tick,
        lot_size=_step(-int(raw.get("tradeUnitsPrecision", 0))),
        min_quantity=to_decimal(str(raw.get("minimumTradeSize", "0")), "minimumTradeSize"),
        max_leverage=(Decimal(1) / margin) if margin > 0 else Decimal(1),
        venue_symbol_override=str(raw["name"]),
    )


def parse_levels(raw: Iterable[Mapping[str, Any]]) -> tuple[BookLevel, ...]:
    """Pricing ``bids``/``asks`` buckets → book levels."""
    return tuple(
        BookLevel(Price(to_decimal(str(b["price"]))), Quantity(to_decimal(str(b.get("liquidity", 0)))))
        for b in raw
    )


@venue_parse
def parse_quote(raw: Mapping[str, Any], iid: InstrumentId) -> Quote:
    """A ``/pricing`` price → Quote (best bucket each side; last is the mid)."""
    bids, asks = parse_levels(raw.get("bids", ())), parse_levels(raw.get("asks", ()))
    if not bids or not asks:
        raise InvalidInput(f"oanda: price for {iid} has no bids or asks")
    bid, ask = bids[0], asks[0]
    return Quote(
        iid,
        bid.price,
        ask.price,
        Price((bid.price + ask.price) / 2),
        parse_time(str(raw["time"])),
        bid.quantity or None,
        ask.quantity or None,
    )


@venue_parse
def parse_candles(raw: Mapping[str, Any], iid: InstrumentId, interval: int) -> tuple[Bar, ...]:
    """Complete mid candles → Bars, oldest first (the forming candle is left out)."""
    bars = []
    for c in raw.get("candles", ()):
        mid = c.get("mid")
        if not c.get("complete", True) or not mid:
            continue
        d = {k: to_decimal(str(mid[k]), f"candle {k}") for k in ("o", "h", "l", "c")}
        volume = to_decimal(str(c.get("volume", 0)), "volume")
        bars.append(Bar(iid, parse_time(str(c["time"])), d["o"], d["h"], d["l"], d["c"], volume, interval))
    return tuple(bars)


def order_body(request: OrderRequest, symbol: str) -> dict[str, Any]:
    """An OrderRequest → the ``POST /orders`` body (signed units, string prices, client id)."""
    units = request.quantity * request.side.sign
    order: dict[str, Any] = {
        "type": _TYPES[request.order_type],
        "instrument": symbol,
        "units": f"{units:f}",
        "timeInForce": _TIF[request.time_in_force],
        "positionFill": "REDUCE_ONLY" if request.reduce_only else "DEFAULT",
        "clientExtensions": {"id": request.client_order_id},
    }
    if request.order_type is OrderType.MARKET and request.time_in_force not in (TimeInForce.IOC,):
        order["timeInForce"] = "FOK"  # OANDA market orders are FOK or IOC; GTC means "fill it all"
    price = request.limit_price if request.order_type is OrderType.LIMIT else request.stop_price
    if price is not None:
        order["price"] = f"{price:f}"
    return {"order": order}


@venue_parse
def parse_fill(tx: Mapping[str, Any], iid: InstrumentId, client_order_id: str, currency: str) -> Fill:
    """An ``ORDER_FILL`` transaction → Fill (commission charged in the account currency)."""
    units = to_decimal(str(tx["units"]), "units")
    return Fill(
        fill_id=str(tx["id"]),
        client_order_id=client_order_id,
        venue_order_id=str(tx["orderID"]),
        instrument_id=iid,
        side=OrderSide.BUY if units > 0 else OrderSide.SELL,
        quantity=Quantity(abs(units)),
        price=Price(to_decimal(str(tx["price"]), "price")),
        fee=Money(abs(to_decimal(str(tx.get("commission", "0")), "commission")), currency),
        liquidity=Liquidity.MAKER if tx.get("reason") == "LIMIT_ORDER" else Liquidity.TAKER,
        ts=parse_time(str(tx["time"])),
    )


@venue_parse
def parse_order(
    raw: Mapping[str, Any], iid: InstrumentId, fills: Iterable[Fill], cancel: Mapping[str, Any] | None
) -> VenueOrder:
    """A v20 order plus its fills and cancel transaction → VenueOrder.

    Args:
        raw: the order object (``GET /orders/{specifier}``, ``/pendingOrders``).
        iid: its instrument id.
        fills: its fills (from ``ORDER_FILL`` transactions).
        cancel: its ``ORDER_CANCEL`` transaction, when it was cancelled.
    """
    units = to_decimal(str(raw["units"]), "units")
    fills = tuple(fills)
    filled = sum((f.quantity for f in fills), ZERO)
    avg = Price(sum((f.notional for f in fills), ZERO) / filled) if filled else None
    reason = str(cancel.get("reason", "")) if cancel else ""
    status, rejected = _status(str(raw.get("state", "PENDING")), filled, abs(units), reason)
    price = raw.get("price")
    order_type = _TYPES_BACK.get(str(raw.get("type")), OrderType.MARKET)
    return VenueOrder(
        client_order_id=str((raw.get("clientExtensions") or {}).get("id") or raw["id"]),
        venue_order_id=str(raw["id"]),
        instrument_id=iid,
        side=OrderSide.BUY if units > 0 else OrderSide.SELL,
        order_type=order_type,
        quantity=Quantity(abs(units)),
        filled_quantity=Quantity(filled),
        avg_fill_price=avg,
        status=status,
        limit_price=Price(to_decimal(str(price))) if price and order_type is OrderType.LIMIT else None,
        stop_price=Price(to_decimal(str(price))) if price and order_type is OrderType.STOP else None,
        time_in_force=_TIF_BACK.get(str(raw.get("timeInForce")), TimeInForce.GTC),
        reject_reason=rejected,
        reason=reason,
        created_at=parse_time(str(raw["createTime"])) if raw.get("createTime") else None,
        updated_at=fills[-1].ts if fills else None,
    )


def _status(
    state: str, filled: Decimal, quantity: Decimal, cancel_reason: str
) -> tuple[OrderStatus, RejectReason | None]:
    if state == "FILLED" or (filled and filled >= quantity):
        return OrderStatus.FILLED, None
    if state == "CANCELLED":
        if not filled and cancel_reason in REJECT_CODES:
            return OrderStatus.REJECTED, reject_reason(cancel_reason)
        if cancel_reason in _EXPIRED_CANCELS:
            return OrderStatus.EXPIRED, None
        return OrderStatus.CANCELED, None
    return (OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED), None
