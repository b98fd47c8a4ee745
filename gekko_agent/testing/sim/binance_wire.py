"""Binance spot wire format: JSON bodies of symbols, orders and errors, built from paper values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse

from gekko_agent.domain.instruments import Instrument
from gekko_agent.domain.orders import OrderStatus, OrderType, TimeInForce
from gekko_agent.execution.ports import RejectReason
from gekko_agent.testing.sim.exchange import OrderView, numeric_id

__all__ = ["REJECTS", "TYPES", "d", "error", "ms", "order_json", "symbol_info"]

TYPES = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "LIMIT_MAKER": OrderType.LIMIT,
    "STOP_LOSS": OrderType.STOP,
    "STOP_LOSS_LIMIT": OrderType.STOP_LIMIT,
}
_TYPE_NAMES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOP_LOSS"}
_STATUS = {
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.REJECTED: "REJECTED",
}
REJECTS = {
    RejectReason.UNKNOWN_INSTRUMENT: (-1121, "Invalid symbol."),
    RejectReason.BAD_LOT: (-1013, "Filter failure: LOT_SIZE"),
    RejectReason.BELOW_MIN_QUANTITY: (-1013, "Filter failure: LOT_SIZE"),
    RejectReason.BAD_TICK: (-1013, "Filter failure: PRICE_FILTER"),
    RejectReason.BELOW_MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    RejectReason.INSUFFICIENT_FUNDS: (-2010, "Account has insufficient balance for requested action."),
    RejectReason.POST_ONLY_WOULD_TAKE: (-2010, "Order would immediately match and take."),
    RejectReason.INVALID_CLIENT_ORDER_ID: (
        -1100,
        "Illegal characters found in parameter 'newClientOrderId'.",
    ),
}


def d(value: Decimal) -> str:
    """A decimal as Binance writes it (plain notation)."""
    return format(value, "f")


def ms(ts: Any) -> int:
    """Milliseconds since the epoch of a datetime (0 for None)."""
    return int(ts.timestamp() * 1000) if ts is not None else 0


def error(code: int, msg: str, status: int = 400) -> JSONResponse:
    """A Binance error body."""
    return JSONResponse({"code": code, "msg": msg}, status_code=status)


def symbol_info(inst: Instrument) -> dict[str, Any]:
    """The ``exchangeInfo`` entry of one symbol, with its filters."""
    return {
        "symbol": inst.venue_symbol,
        "status": "TRADING",
        "baseAsset": inst.base,
        "baseAssetPrecision": 8,
        "quoteAsset": inst.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": d(inst.tick_size),
                "maxPrice": "1000000.00",
                "tickSize": d(inst.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": d(inst.min_quantity or inst.lot_size),
                "maxQty": "9000.00",
                "stepSize": d(inst.lot_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": d(inst.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00",
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
    }


def order_json(view: OrderView, inst: Instrument, full: bool = False, shift_ms: int = 0) -> dict[str, Any]:
    """An order as Binance answers it (``full`` adds its fills, as ``newOrderRespType=FULL``).

    ``shift_ms`` moves its times by the venue clock's skew.
    """
    o = view.order
    created, updated = ms(o.created_at) + shift_ms, ms(o.updated_at or o.created_at) + shift_ms
    type_name = _TYPE_NAMES.get(o.order_type, "STOP_LOSS_LIMIT")
    body: dict[str, Any] = {
        "symbol": inst.venue_symbol,
        "orderId": numeric_id(o.venue_order_id),
        "orderListId": -1,
        "clientOrderId": o.client_order_id,
        "price": d(o.limit_price or Decimal(0)),
        "origQty": d(o.quantity),
        "executedQty": d(view.executed),
        "cummulativeQuoteQty": d(view.quote_amount),
        "status": _STATUS.get(o.status, "NEW"),
        "timeInForce": o.time_in_force.value.upper() if o.time_in_force is not TimeInForce.DAY else "GTC",
        "type": type_name,
        "side": o.side.value.upper(),
        "stopPrice": d(o.stop_price or Decimal(0)),
        "time": created,
        "transactTime": created,
        "updateTime": updated,
        "workingTime": created,
        "isWorking": not o.is_terminal,
        "selfTradePreventionMode": "NONE",
    }
    if full:
        body["fills"] = [
            {
                "price": d(f.price),
                "qty": d(f.quantity),
                "commission": d(f.fee.amount),
                "commissionAsset": f.fee.currency,
                "tradeId": numeric_id(f.fill_id),
            }
            for f in view.fills
        ]
    return body
