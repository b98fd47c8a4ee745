"""What the paper venue knows about each market: the last quote, last price, recent bars, and a
synthetic order book built around the quote.

The synthetic book gives quote-driven matching some depth: level ``i`` on the ask side is priced
``step_bps × i`` above the best ask (rounded away from the mid onto the tick) and holds
``level_quantity`` base units (level 0 holds the quote's own size when the quote carries one). A
taker walks the levels; what does not fit stays working for the next quote.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import Instrument
from gekko_agent.domain.money import Price, Quantity, round_to_step
from gekko_agent.domain.orders import OrderSide
from gekko_agent.errors import InvalidInput
from gekko_agent.execution.ports import BookLevel, OrderBook, Quote
from gekko_agent.venues.paper.costs import BPS

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


@dataclass(slots=True)
class MarketState:
    """Mutable market data for one instrument, owned by the paper venue.

    Attributes:
        instrument: the instrument.
        last: last trade or close price.
        last_ts: time of the last market event.
        quote: the last quote (or a bar's close standing in for one) for reads.
        matchable: the last event was a quote, so orders can execute against it right now.
        bars: recent bars, oldest first.
    """

    instrument: Instrument
    last: Decimal | None = None
    last_ts: datetime | None = None
    quote: Quote | None = None
    matchable: bool = False
    bars: deque[Bar] = field(default_factory=lambda: deque(maxlen=5000))

    def on_bar(self, bar: Bar) -> None:
        """Record a closed bar; bars are not quotes, so nothing executes against the close."""
        self.bars.append(bar)
        self.last = bar.close
        self.last_ts = bar.ts
        close = Price(bar.close)
        self.quote = Quote(self.instrument.id, close, close, close, bar.ts)
        self.matchable = False

    def on_quote(self, quote: Quote) -> None:
        """Record a quote; resting and arriving orders may execute against it."""
        if quote.bid > quote.ask:
            raise InvalidInput(f"{quote.instrument_id}: crossed quote {quote.bid} > {quote.ask}")
        self.quote = quote
        self.last = quote.last
        self.last_ts = quote.ts
        self.matchable = True

    def reference_price(self, side: OrderSide) -> Decimal | None:
        """The price a taker on ``side`` would expect now (ask for buys, bid for sells), if known."""
        if self.quote is None:
            return self.last
        return self.quote.ask if side is OrderSide.BUY else self.quote.bid

    def book(self, depth: BookDepth | None, count: int) -> OrderBook | None:
        """A synthetic snapshot of ``count`` levels per side, None before any data."""
        q = self.quote
        if q is None:
            return None
        shape = depth or BookDepth(levels=1)
        tick = self.instrument.tick_size

        def levels(side: OrderSide) -> tuple[BookLevel, ...]:
            return tuple(BookLevel(Price(p), Quantity(s)) for p, s in shape.side(side, q, tick, count))

        return OrderBook(self.instrument.id, levels(OrderSide.SELL), levels(OrderSide.BUY), q.ts)

    def history(self, interval: int, since: datetime | None, limit: int) -> tuple[Bar, ...]:
        """Recorded bars of ``interval`` seconds opening at or after ``since``, oldest first."""
        picked = [b for b in self.bars if b.interval == interval and (since is None or b.ts >= since)]
        return tuple(picked[:limit])
