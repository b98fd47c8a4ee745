"""What the paper venue knows about each market: the last quote, last price, recent bars, and a
synthetic order book built around the quote.

The synthetic book gives quote-driven matching some depth: level ``i`` on the ask side is priced
``step_bps × i`` above the best ask (rounded away from the mid onto the tick) and holds
``level_quantity`` base units (level 0 holds the quote's own size when the quote carries one). A
taker walks the levels; what does not fit stays working for the next quote.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import Instrument, InstrumentId
from gekko_agent.domain.money import Price, Quantity, round_to_step
from gekko_agent.domain.orders import OrderSide
from gekko_agent.errors import InvalidInput
from gekko_agent.execution.ports import BookLevel, OrderBook, Quote
from gekko_agent.venues.paper.costs import BPS

if TYPE_CHECKING:
    from gekko_agent.market.bararray import BarArray

__all__ = ["BookDepth", "Level", "MarketState"]

Level = tuple[Decimal, Decimal]
"""``(price, base quantity)``."""


@dataclass(frozen=True, slots=True)
class BookDepth:
    """Shape of the synthetic book around a quote.

    Attributes:
        levels: levels per side.
        level_quantity: base units per level (and at the touch when the quote has no size).
        step_bps: distance between consecutive levels, in basis points of the best price.
    """

    levels: int = 10
    level_quantity: Decimal = Decimal(1)
    step_bps: Decimal = Decimal(2)

    def __post_init__(self) -> None:
        if self.levels < 1 or self.level_quantity <= 0 or self.step_bps < 0:
            raise InvalidInput("paper book depth: levels >= 1, level_quantity > 0, step_bps >= 0")

    def side(self, taker: OrderSide, quote: Quote, tick: Decimal, count: int | None = None) -> list[Level]:
        """Levels a ``taker`` on one side would walk (asks for a buyer, bids for a seller), best first."""
        best = quote.ask if taker is OrderSide.BUY else quote.bid
        touch = quote.ask_size if taker is OrderSide.BUY else quote.bid_size
        mode = "up" if taker is OrderSide.BUY else "down"
        out: list[Level] = []
        for i in range(self.levels if count is None else min(count, self.levels)):
            if i == 0:
                out.append((best, touch if touch else self.level_quantity))
                continue
            raw = best * (BPS + taker.sign * self.step_bps * i) / BPS
            out.append((round_to_step(raw, tick, mode), self.level_quantity))
        return out


_HISTORY = 5000
"""Recent bars kept per instrument."""


class _Span:
    """Rows ``lo..hi-1`` of a :class:`BarArray`, relabelled ``iid``, not yet turned into bars."""

    __slots__ = ("array", "hi", "iid", "lo")

    def __init__(self, iid: InstrumentId, array: BarArray, lo: int, hi: int) -> None:
        self.iid = iid
        self.array = array
        self.lo = lo
        self.hi = hi

    def bars(self) -> list[Bar]:
        """The rows as bars, built exactly as the replay feed builds them."""
        return self.array.rows_to_bars(self.lo, self.hi, self.iid)


class MarketState:
    """Mutable market data for one instrument, owned by the paper venue.

    Bars are cheap to record: the quote a bar's close stands in for is built only when someone
    reads :attr:`quote`, and rows skipped with :meth:`skip` stay rows of their array until
    :attr:`bars` (or :meth:`history`) is read.

    Args:
        instrument: the instrument.

    Attributes:
        instrument: the instrument.
        last: last trade or close price.
        last_ts: time of the last market event.
        matchable: the last event was a quote, so orders can execute against it right now.
    """

    __slots__ = (
        "_bars",
        "_close",
        "_iid",
        "_lazy",
        "_lazy_count",
        "_quote",
        "instrument",
        "last",
        "last_ts",
        "matchable",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self._iid = instrument.id
        self.last: Decimal | None = None
        self.last_ts: datetime | None = None
        self.matchable = False
        self._quote: Quote | None = None
        self._close: Bar | None = None  # the bar whose close is the quote, until it is built
        self._bars: deque[Bar] = deque(maxlen=_HISTORY)
        # once rows are skipped, newer history waits here (bars and spans) until it is read
        self._lazy: deque[Bar | _Span] = deque()
        self._lazy_count = 0

    @property
    def quote(self) -> Quote | None:
        """The last quote (or a bar's close standing in for one) for reads."""
        q = self._quote
        if q is None:
            bar = self._close
            if bar is None:
                return None
            close = Price(bar.close)
            q = self._quote = Quote(self._iid, close, close, close, bar.ts)
            self._close = None
        return q

    @property
    def bars(self) -> deque[Bar]:
        """Recent bars (at most 5000), oldest first."""
        lazy = self._lazy
        if lazy:
            bars = self._bars
            for item in lazy:
                if isinstance(item, _Span):
                    bars.extend(item.bars())
                else:
                    bars.append(item)
            lazy.clear()
            self._lazy_count = 0
        return self._bars

    def on_bar(self, bar: Bar) -> None:
        """Record a closed bar; bars are not quotes, so nothing executes against the close."""
        if self._lazy:
            self._lazy.append(bar)
            self._lazy_count += 1
            if self._lazy_count > _HISTORY:
                self._trim()
        else:
            self._bars.append(bar)
        self.last = bar.close
        self.last_ts = bar.ts
        self._close = bar
        self._quote = None
        self.matchable = False

    def skip(self, array: BarArray, lo: int, hi: int) -> None:
        """Record rows ``lo..hi-1`` of ``array`` (``hi > lo``) exactly as :meth:`on_bar` would, in O(1).

        Only the last row becomes a :class:`Bar` now (it is the last price and the quote); the
        others become bars labelled with this market's instrument id when :attr:`bars` is read.
        """
        last = array.bar_at(hi - 1, self._iid)
        if hi - 1 > lo:
            start = max(lo, hi - _HISTORY)  # with the last row, older ones would fall out of the history
            self._lazy.append(_Span(self._iid, array, start, hi - 1))
            self._lazy_count += hi - 1 - start
        self.on_bar(last)

    def _trim(self) -> None:
        """Keep at most 5000 bars: drop the oldest lazy items, shorten the oldest span."""
        lazy = self._lazy
        self._bars.clear()  # called only with more than 5000 lazy bars: they push every older one out
        while self._lazy_count > _HISTORY:
            head = lazy[0]
            excess = self._lazy_count - _HISTORY
            if isinstance(head, _Span):
                size = head.hi - head.lo
                if size <= excess:
                    lazy.popleft()
                    self._lazy_count -= size
                else:
                    head.lo += excess
                    self._lazy_count -= excess
            else:
                lazy.popleft()
                self._lazy_count -= 1

    def on_quote(self, quote: Quote) -> None:
        """Record a quote; resting and arriving orders may execute against it."""
        if quote.bid > quote.ask:
            raise InvalidInput(f"{quote.instrument_id}: crossed quote {quote.bid} > {quote.ask}")
        self._quote = quote
        self._close = None
        self.last = quote.last
        self.last_ts = quote.ts
        self.matchable = True

    def reference_price(self, side: OrderSide) -> Decimal | None:
        """The price a taker on ``side`` would expect now (ask for buys, bid for sells), if known."""
        q = self.quote
        if q is None:
            return self.last
        return q.ask if side is OrderSide.BUY else q.bid

    def book(self, depth: BookDepth | None, count: int) -> OrderBook | None:
        """A synthetic snapshot of ``count`` levels per side, None before any data."""
        q = self.quote
        if q is None:
            return None
        shape = depth or BookDepth(levels=1)
        tick = self.instrument.tick_size

        def levels(side: OrderSide) -> tuple[BookLevel, ...]:
            return tuple(BookLevel(Price(p), Quantity(s)) for p, s in shape.side(side, q, tick, count))

        return OrderBook(self._iid, levels(OrderSide.SELL), levels(OrderSide.BUY), q.ts)

    def history(self, interval: int, since: datetime | None, limit: int) -> tuple[Bar, ...]:
        """Recorded bars of ``interval`` seconds opening at or after ``since``, oldest first."""
        picked = [b for b in self.bars if b.interval == interval and (since is None or b.ts >= since)]
        return tuple(picked[:limit])
