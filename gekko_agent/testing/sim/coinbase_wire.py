"""Coinbase Advanced Trade wire format: products, orders, fills, accounts and errors as JSON.

Ids: Coinbase order and trade ids are UUIDs. The paper venue numbers its orders and fills, so an
id here is that number inside a fixed UUID (:func:`order_uuid`, :func:`trade_uuid`), and
:func:`order_number` reads the number back — no table to keep in step with the engine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse

from gekko_agent.domain.instruments import Instrument
from gekko_agent.domain.orders import Fill, OrderStatus, OrderType, TimeInForce
from gekko_agent.execution.ports import RejectReason
from gekko_agent.testing.sim.exchange import OrderView, numeric_id

__all__ = [
    "REJECTS",
    "OrderSpec",
    "d",
    "failure",
    "fill_json",
    "is_fiat",
    "iso",
    "not_found",
    "order_json",
    "order_number",
    "order_uuid",
    "parse_configuration",
    "product_json",
    "trade_uuid",
    "v2_account",
    "v3_account",
]

_ORDER_TAG = 0x6E6B_6B6F_0000_4000_8000_0000_0000_0000
_TRADE_TAG = 0x6E6B_6B6F_0000_4000_9000_0000_0000_0000
_SEQ_MASK = (1 << 48) - 1

_STATUS = {
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELLED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "FAILED",
    OrderStatus.PENDING_CANCEL: "CANCEL_QUEUED",
}
_TIF = {
    TimeInForce.GTC: "GOOD_UNTIL_CANCELLED",
    TimeInForce.DAY: "GOOD_UNTIL_CANCELLED",
    TimeInForce.IOC: "IMMEDIATE_OR_CANCEL",
    TimeInForce.FOK: "FILL_OR_KILL",
}
_TYPE = {
    OrderType.MARKET: "MARKET",
    OrderType.LIMIT: "LIMIT",
    OrderType.STOP: "STOP",
    OrderType.STOP_LIMIT: "STOP_LIMIT",
}
# order_configuration key → (order type, time in force)
_CONFIGS = {
    "market_market_ioc": (OrderType.MARKET, TimeInForce.GTC),
    "limit_limit_gtc": (OrderType.LIMIT, TimeInForce.GTC),
    "sor_limit_ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "limit_limit_fok": (OrderType.LIMIT, TimeInForce.FOK),
    "stop_limit_stop_limit_gtc": (OrderType.STOP_LIMIT, TimeInForce.GTC),
}
# paper reject → (error, preview_failure_reason, message), as Coinbase answers a failed create
REJECTS = {
    RejectReason.UNKNOWN_INSTRUMENT: (
        "INVALID_PRODUCT_ID",
        "PREVIEW_INVALID_PRODUCT_ID",
        "Invalid product_id",
    ),
    RejectReason.BAD_LOT: (
        "INVALID_SIZE_PRECISION",
        "PREVIEW_INVALID_BASE_SIZE_PRECISION",
        "Invalid order size precision",
    ),
    RejectReason.BELOW_MIN_QUANTITY: (
        "INVALID_REQUEST",
        "PREVIEW_INVALID_BASE_SIZE_TOO_SMALL",
        "Order size is below the minimum",
    ),
    RejectReason.BAD_TICK: (
        "INVALID_PRICE_PRECISION",
        "PREVIEW_INVALID_LIMIT_PRICE_PRECISION",
        "Invalid limit price precision",
    ),
    RejectReason.BELOW_MIN_NOTIONAL: (
        "INVALID_REQUEST",
        "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL",
        "Order value is below the minimum",
    ),
    RejectReason.INSUFFICIENT_FUNDS: (
        "INSUFFICIENT_FUND",
        "PREVIEW_INSUFFICIENT_FUND",
        "Insufficient balance in source account",
    ),
    RejectReason.POST_ONLY_WOULD_TAKE: (
        "INVALID_LIMIT_PRICE_POST_ONLY",
        "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY",
        "Post-only order would cross the book",
    ),
    RejectReason.INVALID_CLIENT_ORDER_ID: ("INVALID_REQUEST", "", "Invalid client_order_id"),
    RejectReason.UNSUPPORTED_ORDER: (
        "UNSUPPORTED_ORDER_CONFIGURATION",
        "UNSUPPORTED_ORDER_CONFIGURATION",
        "Unsupported order configuration",
    ),
}


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What an ``order_configuration`` asks for.

    Attributes:
        order_type: market, limit or stop-limit.
        time_in_force: GTC, IOC or FOK.
        base_size: base units, when given.
        quote_size: quote to spend (market buys), when given.
        limit_price: limit, when any.
        stop_price: stop trigger, when any.
        post_only: never take liquidity.
    """

    order_type: OrderType
    time_in_force: TimeInForce
    base_size: Decimal | None
    quote_size: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    post_only: bool


def d(value: Decimal) -> str:
    """A decimal as Coinbase writes it (plain notation)."""
    return format(value, "f")


def iso(ts: datetime | None) -> str:
    """RFC 3339 with microseconds and ``Z``, as Coinbase stamps orders and fills."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts is not None else ""


def order_uuid(paper_id: str | None) -> str:
    """The order's Coinbase id (a UUID carrying the paper venue's sequence number)."""
    return str(uuid.UUID(int=_ORDER_TAG | numeric_id(paper_id)))


def trade_uuid(fill: Fill) -> str:
    """The fill's Coinbase trade id."""
    return str(uuid.UUID(int=_TRADE_TAG | numeric_id(fill.fill_id)))


def order_number(order_id: str) -> int | None:
    """The paper venue's order number in a Coinbase order id made by :func:`order_uuid` (None otherwise)."""
    try:
        value = uuid.UUID(order_id).int
    except ValueError:
        return None
    if value & ~_SEQ_MASK != _ORDER_TAG:
        return None
    return value & _SEQ_MASK


def failure(reason: RejectReason | None, configuration: dict[str, Any]) -> JSONResponse:
    """A failed create-order answer (HTTP 200, ``success: false``), as Coinbase sends it."""
    error, preview, message = REJECTS.get(
        reason or RejectReason.UNSUPPORTED_ORDER, REJECTS[RejectReason.UNSUPPORTED_ORDER]
    )
    body = {
        "success": False,
        "failure_reason": "UNKNOWN_FAILURE_REASON",
        "order_id": "",
        "error_response": {
            "error": error,
            "message": message,
            "error_details": message,
            "preview_failure_reason": preview,
        },
        "order_configuration": configuration,
    }
    return JSONResponse(body)


def not_found(message: str = "order with this orderID was not found") -> JSONResponse:
    """Coinbase's 404 body."""
    return JSONResponse({"error": "NOT_FOUND", "error_details": message, "message": message}, status_code=404)


def _num(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"not a number: {raw!r}") from None


def parse_configuration(configuration: Any) -> OrderSpec | None:
    """The order an ``order_configuration`` asks for (None when unsupported). ValueError for bad numbers."""
    if not isinstance(configuration, dict) or len(configuration) != 1:
        return None
    (key, body), *_ = configuration.items()
    kind = _CONFIGS.get(key)
    if kind is None or not isinstance(body, dict):
        return None
    return OrderSpec(
        order_type=kind[0],
        time_in_force=kind[1],
        base_size=_num(body.get("base_size")),
        quote_size=_num(body.get("quote_size")),
        limit_price=_num(body.get("limit_price")),
        stop_price=_num(body.get("stop_price")),
        post_only=bool(body.get("post_only", False)),
    )


def _configuration(view: OrderView) -> dict[str, Any]:
    o = view.order
    size, limit = d(o.quantity), d(o.limit_price or Decimal(0))
    if o.order_type is OrderType.MARKET:
        return {"market_market_ioc": {"base_size": size}}
    if o.order_type is OrderType.LIMIT:
        key = {TimeInForce.IOC: "sor_limit_ioc", TimeInForce.FOK: "limit_limit_fok"}.get(
            o.time_in_force, "limit_limit_gtc"
        )
        body: dict[str, Any] = {"base_size": size, "limit_price": limit}
        if key == "limit_limit_gtc":
            body["post_only"] = False
        return {key: body}
    direction = "STOP_DIRECTION_STOP_DOWN" if o.side.value == "sell" else "STOP_DIRECTION_STOP_UP"
    return {
        "stop_limit_stop_limit_gtc": {
            "base_size": size,
            "limit_price": limit,
            "stop_price": d(o.stop_price or Decimal(0)),
            "stop_direction": direction,
        }
    }


def order_json(
    view: OrderView, inst: Instrument, configuration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An order as ``GET /orders/historical/{order_id}`` shows it (``configuration``: as it was sent)."""
    o = view.order
    open_ = not o.is_terminal
    status = _STATUS.get(o.status, "OPEN")
    quantity = o.quantity or Decimal(1)
    return {
        "order_id": order_uuid(o.venue_order_id),
        "product_id": inst.venue_symbol,
        "user_id": "gekko-sim",
        "order_configuration": configuration or _configuration(view),
        "side": o.side.value.upper(),
        "client_order_id": o.client_order_id,
        "status": status,
        "time_in_force": _TIF[o.time_in_force],
        "created_time": iso(o.created_at),
        "completion_percentage": d(round(view.executed / quantity * 100, 2)),
        "filled_size": d(view.executed),
        "average_filled_price": d(view.quote_amount / view.executed) if view.executed else "0",
        "number_of_fills": str(len(view.fills)),
        "filled_value": d(view.quote_amount),
        "pending_cancel": o.status is OrderStatus.PENDING_CANCEL,
        "size_in_quote": False,
        "total_fees": d(view.fees),
        "size_inclusive_of_fees": False,
        "total_value_after_fees": d(view.quote_amount + view.fees),
        "trigger_status": "INVALID_ORDER_TYPE",
        "order_type": _TYPE[o.order_type],
        "reject_reason": "",
        "settled": not open_,
        "product_type": "SPOT",
        "reject_message": "",
        "cancel_message": o.reason or "" if o.status is OrderStatus.CANCELED else "",
        "order_placement_source": "RETAIL_ADVANCED",
        "outstanding_hold_amount": "0",
        "is_liquidation": False,
        "last_fill_time": iso(view.fills[-1].ts) if view.fills else None,
        "edit_history": [],
        "leverage": "",
        "margin_type": "UNKNOWN_MARGIN_TYPE",
        "retail_portfolio_id": "gekko-sim-portfolio",
    }


def fill_json(fill: Fill, inst: Instrument) -> dict[str, Any]:
    """A fill as ``GET /orders/historical/fills`` lists it."""
    trade_id = trade_uuid(fill)
    return {
        "entry_id": trade_id,
        "trade_id": trade_id,
        "order_id": order_uuid(fill.venue_order_id),
        "trade_time": iso(fill.ts),
        "trade_type": "FILL",
        "price": d(fill.price),
        "size": d(fill.quantity),
        "commission": d(fill.fee.amount),
        "product_id": inst.venue_symbol,
        "sequence_timestamp": iso(fill.ts),
        "liquidity_indicator": fill.liquidity.value.upper(),
        "size_in_quote": False,
        "user_id": "gekko-sim",
        "side": fill.side.value.upper(),
        "retail_portfolio_id": "gekko-sim-portfolio",
    }


def product_json(inst: Instrument, price: Decimal | None) -> dict[str, Any]:
    """A product as ``GET /market/products`` lists it."""
    return {
        "product_id": inst.venue_symbol,
        "price": d(price) if price is not None else "",
        "price_percentage_change_24h": "0",
        "volume_24h": "0",
        "volume_percentage_change_24h": "0",
        "base_increment": d(inst.lot_size),
        "quote_increment": d(inst.tick_size),
        "quote_min_size": d(inst.min_notional),
        "quote_max_size": "10000000",
        "base_min_size": d(inst.min_quantity or inst.lot_size),
        "base_max_size": "10000",
        "base_name": inst.base,
        "quote_name": inst.quote,
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": inst.quote,
        "base_currency_id": inst.base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": inst.base,
        "quote_display_symbol": inst.quote,
        "view_only": False,
        "price_increment": d(inst.tick_size),
        "display_name": inst.venue_symbol,
        "product_venue": "CBE",
    }


_FIAT = frozenset({"USD", "EUR", "GBP"})


def is_fiat(currency: str) -> bool:
    """True for the fiat currencies Coinbase keeps in ``fiat`` accounts."""
    return currency in _FIAT


def v2_account(currency: str, total: Decimal) -> dict[str, Any]:
    """A ``GET /v2/accounts`` entry (ccxt's default balance call reads ``balance``)."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gekko-sim/{currency}")),
        "name": f"{currency} Wallet",
        "primary": True,
        "type": "fiat" if is_fiat(currency) else "wallet",
        "currency": {"code": currency, "name": currency},
        "balance": {"amount": d(total), "currency": currency},
        "allow_deposits": True,
        "allow_withdrawals": True,
    }


def v3_account(currency: str, free: Decimal, held: Decimal) -> dict[str, Any]:
    """A ``GET /api/v3/brokerage/accounts`` entry."""
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gekko-sim/{currency}")),
        "name": f"{currency} Wallet",
        "currency": currency,
        "available_balance": {"value": d(free), "currency": currency},
        "default": True,
        "active": True,
        "type": "ACCOUNT_TYPE_FIAT" if is_fiat(currency) else "ACCOUNT_TYPE_CRYPTO",
        "ready": True,
        "hold": {"value": d(held), "currency": currency},
    }
