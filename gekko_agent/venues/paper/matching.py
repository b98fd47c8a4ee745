"""The paper matching engine: working orders matched against bars or quotes. No I/O, no clock.

Rules on a bar (``o, h, l, c, v``; an order takes part when it became active before the bar ended):

* market: fills at the open, slipped against the taker;
* limit on arrival: if the open already crosses the limit it takes at the open (never worse than
  the limit); otherwise it rests and fills at its limit, as maker, once the bar *trades through* it
  (``low < limit`` for a buy) — a touch is enough only with ``touch_fills``;
* stop: triggers when the bar reaches the stop (at the open when it gaps past), then acts as a
  market order at the trigger price; a stop-limit becomes a limit at the trigger;
* with ``max_participation`` an order book fills at most that share of the bar's volume (shared by
  all orders on the bar in time priority); the rest keeps working on later bars.

On a quote, takers walk the :class:`~gekko_agent.venues.paper.book.BookDepth` levels from the
touch; resting limits fill at their price once the opposite side trades through them.

IOC takes what it can on its first chance and expires the rest; FOK fills completely on its first
chance or expires untouched; DAY expires when the UTC date changes. Balances are not the engine's
business: every fill is sized and booked through the :class:`Settlement` it is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gekko_agent.domain.money import ZERO
from gekko_agent.domain.orders import (
    TERMINAL_STATES,
    Fill,
    Liquidity,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from gekko_agent.execution.ports import Quote, RejectReason
from gekko_agent.venues.paper.book import BookDepth, Level
from gekko_agent.venues.paper.costs import NoSlippage, SlippageModel, apply_bps
from gekko_agent.venues.paper.orders import WorkingOrder

__all__ = ["FillModel", "MatchingEngine", "Settlement"]

_MARKETISH = (OrderType.MARKET, OrderType.STOP)
_STOPS = (OrderType.STOP, OrderType.STOP_LIMIT)
_IMMEDIATE = (TimeInForce.IOC, TimeInForce.FOK)
# enum members read through module globals: ``OrderSide.BUY`` costs ~0.1 us per read
_BUY, _STOP = OrderSide.BUY, OrderType.STOP
_DAY, _FOK = TimeInForce.DAY, TimeInForce.FOK
_FILLED, _PARTIALLY_FILLED = OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED
_TAKER, _MAKER = Liquidity.TAKER, Liquidity.MAKER


class Settlement(Protocol):
    """Sizes and books fills (the paper account implements it)."""

    def capacity(self, order: WorkingOrder, price: Decimal) -> Decimal:
        """Most base units ``order`` may fill at ``price`` given funds and reduce-only."""
        ...

    def settle(
        self, order: WorkingOrder, quantity: Decimal, price: Decimal, liquidity: Liquidity, ts: datetime
    ) -> Fill:
        """Book a fill (balances, fees, position) and return it."""
        ...

    def release(self, order: WorkingOrder) -> None:
        """``order`` left the book: free whatever it still holds."""
        ...


@dataclass(frozen=True, slots=True)
class FillModel:
    """How generously orders fill.

    Attributes:
        max_participation: share of a bar's volume orders may take (None: unlimited).
        touch_fills: a resting limit fills when the price only touches it.
        depth: synthetic book for quote matching (None: unlimited size at the touch).
    """

    max_participation: Decimal | None = None
    touch_fills: bool = False
    depth: BookDepth | None = None


class MatchingEngine:
    """Working orders per instrument, matched in time priority.

    Args:
        settlement: sizes and books fills.
        lots: lot size per instrument id (fills are rounded down to it).
        fill_model: participation, touch and depth rules.
        slippage: slippage for taker fills.
        rng: the seeded generator slippage noise comes from.
    """

    def __init__(
        self,
        settlement: Settlement,
        lots: dict[str, Decimal],
        fill_model: FillModel | None = None,
        slippage: SlippageModel | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._settlement = settlement
        self._lots = lots
        self._model = fill_model or FillModel()
        self._slippage: SlippageModel = slippage or NoSlippage()
        self._rng = rng or random.Random(0)
        self._working: dict[str, list[WorkingOrder]] = {}
        self._matching = False  # during an event, finished orders are swept out once at the end

    def add(self, order: WorkingOrder) -> None:
        """Put an accepted order on the book."""
        self._working.setdefault(order.instrument_id, []).append(order)

    def has_working(self, iid: str) -> bool:
        """True when an order works on ``iid`` (a bar or quote of it may then fill something)."""
        return bool(self._working.get(iid))

    def working(self, iid: str | None = None) -> list[WorkingOrder]:
        """Working orders, for one instrument or all, in time priority."""
        if iid is not None:
            return list(self._working.get(iid, ()))
        return [o for orders in self._working.values() for o in orders]

    def cancel(self, order: WorkingOrder, ts: datetime, reason: str = "canceled") -> None:
        """Take ``order`` off the book as canceled."""
        self._finish(order, OrderStatus.CANCELED, ts, reason)

    def _finish(self, order: WorkingOrder, status: OrderStatus, ts: datetime, reason: str) -> None:
        order.status = status
        order.reason = reason
        order.updated_at = ts
        book = self._working.get(order.instrument_id)
        if not self._matching and book is not None and order in book:
            book.remove(order)
        self._settlement.release(order)

    def _sweep(self, iid: str) -> None:
        self._matching = False
        book = self._working.get(iid)
        if book:
            self._working[iid] = [o for o in book if o.status not in TERMINAL_STATES]

    def _fill(
        self, order: WorkingOrder, qty: Decimal, price: Decimal, liq: Liquidity, ts: datetime
    ) -> Fill | None:
        lot = self._lots[order.instrument_id]
        qty = min(qty, order.quantity - order.filled)
        allowed = self._settlement.capacity(order, price)
        if allowed < qty:
            qty, order.funds_capped = allowed, True
        qty = (qty // lot) * lot
        if qty <= 0:
            return None
        order.filled += qty
        order.notional += qty * price
        order.updated_at = ts
        order.status = _FILLED if order.filled == order.quantity else _PARTIALLY_FILLED
        return self._settlement.settle(order, qty, price, liq, ts)

    def _taker_price(
        self, order: WorkingOrder, ref: Decimal, qty: Decimal, volume: Decimal | None
    ) -> Decimal:
        price = apply_bps(ref, self._slippage.bps(qty, volume, self._rng), order.side)
        if order.limit_price is not None and order.order_type is not _STOP:
            price = min(price, order.limit_price) if order.side is _BUY else max(price, order.limit_price)
        return price

    def _after_event(self, order: WorkingOrder, ts: datetime) -> None:
        """Apply time in force once an order has had its chance on an event."""
        order.rested = True
        if order.status is _FILLED:
            self._finish(order, _FILLED, ts, "")
        elif order.tif in _IMMEDIATE:
            why = "fok_not_fillable" if order.tif is _FOK else "ioc_remainder"
            self._finish(order, OrderStatus.EXPIRED, ts, why)
        elif order.funds_capped:
            self._finish(order, OrderStatus.CANCELED, ts, RejectReason.INSUFFICIENT_FUNDS.value)

    def _expire_day(self, order: WorkingOrder, ts: datetime) -> bool:
        if order.tif is _DAY and ts.date() > order.created_at.date():
            self._finish(order, OrderStatus.EXPIRED, ts, "day_ended")
            return True
        return False

    def _trigger(self, order: WorkingOrder, open_: Decimal, high: Decimal, low: Decimal) -> Decimal | None:
        """The stop's trigger price on a bar (or quote, with open = high = low), None if untouched."""
        stop = order.stop_price
        assert stop is not None
        if order.side is _BUY:
            return open_ if open_ >= stop else (stop if high >= stop else None)
        return open_ if open_ <= stop else (stop if low <= stop else None)

    def _fok_blocked(self, order: WorkingOrder, available: Decimal, price: Decimal) -> bool:
        if order.tif is not _FOK or order.rested:
            return False
        need = order.quantity - order.filled
        return available < need or self._settlement.capacity(order, price) < need

    def on_bar(
        self, iid: str, ts: datetime, end: datetime, o: Decimal, h: Decimal, lo: Decimal, v: Decimal
    ) -> list[Fill]:
        """Match the instrument's working orders against one closed bar.

        Args:
            iid: the instrument.
            ts: the bar's open time.
            end: the bar's close time; orders active from ``end`` on wait for the next bar.
            o: open. h: high. lo: low.
            v: volume (base units).

        Returns:
            The fills, in the order they happened.
        """
        self._matching = True
        try:
            return self._match_bar(iid, ts, end, o, h, lo, v)
        finally:
            self._sweep(iid)

    def _match_bar(
        self, iid: str, ts: datetime, end: datetime, o: Decimal, h: Decimal, lo: Decimal, v: Decimal
    ) -> list[Fill]:
        book = self._working.get(iid)
        if not book:
            return []
        fills: list[Fill] = []
        part = self._model.max_participation
        room = v * part if part is not None else None
        touch = self._model.touch_fills
        for order in book:
            if order.active_at >= end or self._expire_day(order, ts):
                continue
            fill_ts = max(ts, order.active_at)
            ref: Decimal | None = None
            liq = _TAKER
            if order.order_type in _STOPS and not order.triggered:
                trig = self._trigger(order, o, h, lo)
                if trig is None:
                    order.rested = True
                    continue
                order.triggered = True
                if order.order_type is _STOP:
                    ref = trig
                else:
                    lim = order.limit_price
                    assert lim is not None
                    crosses = trig <= lim if order.side is _BUY else trig >= lim
                    ref = trig if crosses else None
                    order.rested = not crosses
            elif order.order_type in _MARKETISH:
                ref = o
            else:
                lim = order.limit_price
                assert lim is not None
                buy = order.side is _BUY
                if not order.rested and (o <= lim if buy else o >= lim):
                    if order.post_only:
                        self._finish(
                            order, OrderStatus.EXPIRED, fill_ts, RejectReason.POST_ONLY_WOULD_TAKE.value
                        )
                        continue
                    ref = o
                elif order.tif not in _IMMEDIATE and (
                    (lo < lim or (touch and lo <= lim)) if buy else (h > lim or (touch and h >= lim))
                ):
                    ref, liq = lim, _MAKER
            if ref is not None:
                want = (
                    order.quantity - order.filled
                    if room is None
                    else min(room, order.quantity - order.filled)
                )
                price = ref if liq is _MAKER else self._taker_price(order, ref, want, v)
                if not self._fok_blocked(order, want, price):
                    fill = self._fill(order, want, price, liq, fill_ts)
                    if fill is not None:
                        fills.append(fill)
                        if room is not None:
                            room -= fill.quantity
            self._after_event(order, fill_ts)
        return fills

    def on_quote(self, quote: Quote, tick: Decimal, only: WorkingOrder | None = None) -> list[Fill]:
        """Match working orders (or just ``only``, an order arriving now) against a quote."""
        self._matching = True
        try:
            return self._match_quote(quote, tick, only)
        finally:
            self._sweep(quote.instrument_id)

    def _match_quote(self, quote: Quote, tick: Decimal, only: WorkingOrder | None) -> list[Fill]:
        iid = quote.instrument_id
        book = [only] if only is not None else list(self._working.get(iid, ()))
        fills: list[Fill] = []
        ts = quote.ts
        for order in book:
            if order.active_at > ts or self._expire_day(order, ts):
                continue
            buy = order.side is _BUY
            touch_px = quote.ask if buy else quote.bid
            liq = _TAKER
            limit = order.limit_price
            if order.order_type in _STOPS and not order.triggered:
                if self._trigger(order, touch_px, touch_px, touch_px) is None:
                    order.rested = True
                    continue
                order.triggered = True
                order.rested = False
            if order.order_type is _STOP:
                limit = None
            elif limit is not None:
                crosses = touch_px <= limit if buy else touch_px >= limit
                if not order.rested:
                    if not crosses:
                        self._after_event(order, ts)
                        continue
                    if order.post_only:
                        self._finish(order, OrderStatus.EXPIRED, ts, RejectReason.POST_ONLY_WOULD_TAKE.value)
                        continue
                else:
                    through = touch_px < limit if buy else touch_px > limit
                    if not (through or (self._model.touch_fills and crosses)):
                        continue
                    liq = _MAKER
            levels = self._levels(order, quote, tick, limit)
            if not self._fok_blocked(order, sum((q for _, q in levels), ZERO), touch_px):
                for px, size in levels:
                    if order.status is _FILLED:
                        break
                    price = limit if liq is _MAKER and limit is not None else px
                    if liq is _TAKER:
                        price = self._taker_price(order, px, min(size, order.quantity - order.filled), None)
                    fill = self._fill(order, size, price, liq, ts)
                    if fill is None:
                        break
                    fills.append(fill)
            self._after_event(order, ts)
        return fills

    def _levels(self, order: WorkingOrder, quote: Quote, tick: Decimal, limit: Decimal | None) -> list[Level]:
        depth = self._model.depth
        if depth is None:
            best = quote.ask if order.side is _BUY else quote.bid
            return [(best, order.quantity - order.filled)]
        levels = depth.side(order.side, quote, tick)
        if limit is None:
            return levels
        if order.side is _BUY:
            return [(p, q) for p, q in levels if p <= limit]
        return [(p, q) for p, q in levels if p >= limit]
