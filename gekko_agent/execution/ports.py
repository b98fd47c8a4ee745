"""The ``Venue`` port: what the execution engine needs from any place that trades.

Every adapter (paper, ccxt, OANDA) implements :class:`Venue` and parses its wire format into the
frozen, wire-neutral values defined here at its own edge. Money is ``Decimal`` throughout.

Idempotency is part of the contract: ``client_order_id`` is the key. Submitting a request whose
``client_order_id`` the venue already knows returns the existing order (``VenueAck.duplicate`` is
true) and never places a second one, whatever the rest of the request says. An adapter whose
submit timed out must look the order up by client id before it sends anything again.

Business rejects (funds, lot, tick, notional, unknown symbol…) are *values*: ``submit`` returns an
ack whose order is ``REJECTED`` with a :class:`RejectReason`. Exceptions are reserved for the
error tree in :mod:`gekko_agent.errors`: :class:`~gekko_agent.errors.RetryableError` when the
venue could not be reached, :class:`~gekko_agent.errors.OrderNotFound` for an unknown client id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import Instrument, InstrumentId
from gekko_agent.domain.money import ZERO, Currency, Money, Price, Quantity
from gekko_agent.domain.orders import (
    TERMINAL_STATES,
    Fill,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

__all__ = [
    "BookLevel",
    "FillBatch",
    "OrderBook",
    "OrderRequest",
    "Quote",
    "RejectReason",
    "Venue",
    "VenueAck",
    "VenueCapabilities",
    "VenueOrder",
    "VenuePosition",
]


class RejectReason(StrEnum):
    """Why a venue refused an order; adapters map their venue's error codes onto these."""

    UNKNOWN_INSTRUMENT = "unknown_instrument"
    UNSUPPORTED_ORDER = "unsupported_order"
    INVALID_CLIENT_ORDER_ID = "invalid_client_order_id"
    BAD_LOT = "bad_lot"
    BAD_TICK = "bad_tick"
    BELOW_MIN_QUANTITY = "below_min_quantity"
    BELOW_MIN_NOTIONAL = "below_min_notional"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    REDUCE_ONLY_WOULD_INCREASE = "reduce_only_would_increase"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    NO_MARKET_DATA = "no_market_data"


@dataclass(frozen=True, slots=True)
class VenueCapabilities:
    """What a venue supports; callers consult this instead of branching on the venue's name.

    Attributes:
        order_types: order types the venue accepts.
        time_in_force: time-in-force values the venue accepts.
        reduce_only: reduce-only orders are honoured.
        post_only: post-only (maker-only) limit orders are honoured.
        fractional: quantities below one unit are allowed (subject to the lot size).
        shorting: selling what is not held is allowed.
        margin: the account trades on margin (positions, not balances, carry exposure).
        max_client_order_id_length: longest client order id the venue accepts.
    """

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    reduce_only: bool = False
    post_only: bool = False
    fractional: bool = True
    shorting: bool = False
    margin: bool = False
    max_client_order_id_length: int = 36

    def supports(self, order_type: OrderType, tif: TimeInForce) -> bool:
        """True when both the order type and the time in force are accepted."""
        return order_type in self.order_types and tif in self.time_in_force


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as sent to a venue.

    Attributes:
        client_order_id: our idempotency key.
        instrument_id: ``SYMBOL@venue``.
        side: buy or sell.
        quantity: base units, > 0.
        order_type: market, limit, stop or stop-limit.
        limit_price: for limit and stop-limit orders.
        stop_price: for stop and stop-limit orders.
        time_in_force: GTC, IOC, FOK or DAY.
        reduce_only: may only shrink a position.
        post_only: must add liquidity; rejected if it would take.
    """

    client_order_id: str
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Quantity
    order_type: OrderType = OrderType.MARKET
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    post_only: bool = False

    @classmethod
    def from_order(cls, order: Order, post_only: bool = False) -> OrderRequest:
        """The request that places ``order`` (its intent, keyed by its client order id)."""
        i = order.intent
        return cls(  # positional: this runs once per order
            order.client_order_id,
            i.instrument_id,
            i.side,
            i.quantity,
            i.order_type,
            i.limit_price,
            i.stop_price,
            i.time_in_force,
            i.reduce_only,
            post_only,
        )


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """The venue's view of one order.

    Attributes:
        client_order_id: our id.
        venue_order_id: the venue's id (None when rejected before it got one).
        instrument_id: ``SYMBOL@venue``.
        side: buy or sell.
        order_type: market, limit, stop or stop-limit.
        quantity: ordered base units.
        filled_quantity: base units filled so far.
        avg_fill_price: volume-weighted fill price, None before the first fill.
        status: lifecycle state (the domain's :class:`OrderStatus`).
        limit_price: limit, when any.
        stop_price: stop trigger, when any.
        time_in_force: how long it rests.
        reject_reason: set when the venue refused it.
        reason: free text from the venue (reject, cancel or expiry).
        created_at: when the venue accepted it.
        updated_at: last change at the venue.
    """

    client_order_id: str
    venue_order_id: str | None
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    filled_quantity: Quantity
    avg_fill_price: Price | None
    status: OrderStatus
    limit_price: Price | None = None
    stop_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reject_reason: RejectReason | None = None
    reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def remaining(self) -> Quantity:
        """Unfilled base units (0 once terminal)."""
        return Quantity(ZERO) if self.is_terminal else Quantity(self.quantity - self.filled_quantity)

    @property
    def is_terminal(self) -> bool:
        """True when the order can no longer change."""
        return self.status in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class VenueAck:
    """The answer to ``submit``.

    Attributes:
        order: the order as the venue now holds it (``REJECTED`` for a refused request).
        fills: fills of this order known at the time of the answer (immediate executions, or for a
            duplicate every fill so far).
        duplicate: the client order id was already known; nothing new was placed.
    """

    order: VenueOrder
    fills: tuple[Fill, ...] = ()
    duplicate: bool = False

    @property
    def client_order_id(self) -> str:
        """Our id of the order."""
        return self.order.client_order_id

    @property
    def venue_order_id(self) -> str | None:
        """The venue's id of the order, if it got one."""
        return self.order.venue_order_id

    @property
    def status(self) -> OrderStatus:
        """The order's state at the venue."""
        return self.order.status

    @property
    def accepted(self) -> bool:
        """False when the venue rejected the request."""
        return self.order.status is not OrderStatus.REJECTED


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        bid: best bid.
        ask: best ask.
        last: last trade (or close) price.
        ts: venue time of the quote.
        bid_size: base units at the bid, when known.
        ask_size: base units at the ask, when known.
    """

    instrument_id: InstrumentId
    bid: Price
    ask: Price
    last: Price
    ts: datetime
    bid_size: Quantity | None = None
    ask_size: Quantity | None = None

    @property
    def mid(self) -> Decimal:
        """(bid + ask) / 2."""
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level: ``quantity`` base units at ``price``."""

    price: Price
    quantity: Quantity


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A depth snapshot; bids best (highest) first, asks best (lowest) first."""

    instrument_id: InstrumentId
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts: datetime


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """A net position as the venue reports it (signed: + long, - short).

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        quantity: signed base units.
        avg_price: average entry price, when the venue tracks one.
    """

    instrument_id: InstrumentId
    quantity: Decimal
    avg_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FillBatch:
    """Fills returned by ``fills_since``, oldest first, and the cursor to ask from next time.

    Attributes:
        fills: the fills.
        cursor: opaque; pass it to the next ``fills_since`` call to get only newer fills.
    """

    fills: tuple[Fill, ...]
    cursor: str


@runtime_checkable
class Venue(Protocol):
    """An async trading venue. Implemented by the paper venue and every live adapter.

    All order methods key on the client order id so that a retry never doubles an order.
    """

    @property
    def name(self) -> str:
        """The venue's name as used in instrument ids (``paper``, ``binanceus``, ``oanda``)."""
        ...

    @property
    def capabilities(self) -> VenueCapabilities:
        """What the venue supports."""
        ...

    async def instruments(self) -> tuple[Instrument, ...]:
        """Tradable instruments with their tick, lot and minimums."""
        ...

    async def balances(self) -> Mapping[Currency, Money]:
        """Total balance per currency (free plus reserved by open orders)."""
        ...

    async def positions(self) -> tuple[VenuePosition, ...]:
        """Non-flat positions."""
        ...

    async def quote(self, iid: InstrumentId) -> Quote:
        """Top of book; raises DataNotFound for an unknown instrument or one without data."""
        ...

    async def order_book(self, iid: InstrumentId, depth: int = 10) -> OrderBook:
        """Up to ``depth`` levels per side."""
        ...

    async def ohlcv(
        self, iid: InstrumentId, interval: int, since: datetime | None = None, limit: int = 500
    ) -> tuple[Bar, ...]:
        """Bars of ``interval`` seconds opening at or after ``since``, oldest first, at most ``limit``."""
        ...

    async def submit(self, request: OrderRequest) -> VenueAck:
        """Place an order, or return the existing one when its client order id is already known."""
        ...

    async def cancel(self, client_order_id: str) -> VenueOrder:
        """Cancel an open order; a terminal order comes back unchanged. Unknown id: OrderNotFound."""
        ...

    async def order_status(self, client_order_id: str) -> VenueOrder:
        """The order as the venue holds it; raises OrderNotFound when unknown."""
        ...

    async def open_orders(self, iid: InstrumentId | None = None) -> tuple[VenueOrder, ...]:
        """Orders that may still fill, optionally for one instrument."""
        ...

    async def fills_since(self, since: datetime | str | None = None) -> FillBatch:
        """Fills after a cursor (str), at or after a time (datetime), or all (None); dedupe by fill id."""
        ...

    async def close(self) -> None:
        """Release connections; the venue is unusable afterwards."""
        ...
