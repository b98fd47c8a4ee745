"""The backtest's quiet-bar fast path: bars on which nothing can happen skip the engine's bookkeeping.

Most bars of a backtest change nothing but indicators and marks: no order works, the strategy does
not act, no breaker is near a level and no equity reference is due to be journaled. On such a bar
the full path (:func:`~gekko_agent.runtime.replay.run_replay`) still builds a Decimal :class:`Bar`,
moves the clock, lets the paper venue record the bar, values the portfolio, samples a VaR return
row, pre-tests the breakers and builds a strategy context. :class:`QuietReplay` does all of that
once per run of quiet bars instead of once per bar, from the numpy columns, and leaves exactly the
state the full path would have left:

* every bar still goes to the strategy: a :class:`~gekko_agent.agent.strategy.SteppedStrategy`
  ``observe`` s plain floats equal to the Decimal bar's, in order, and says when it may act;
* a bar is quiet while no order works and its equity, estimated in float from the one position,
  stays inside :meth:`Trader.quiet_band <gekko_agent.runtime.trader.Trader.quiet_band>` (breakers
  untripped, venues healthy, equity known, below the level that journals a new peak and above half
  of every loss breaker's first level, with a relative margin of 1e-9) and it closes on the same
  UTC day as the last mark;
* the first bar that is not quiet takes the full path, and so do all bars while orders work; a
  quiet bar the strategy may act on is accounted for with the quiet bars before it, then only its
  decision runs (:meth:`Trader.think <gekko_agent.runtime.trader.Trader.think>`, told the strategy
  has observed it). Intents, risk checks, orders, fills and every journaled event are the full
  path's own.

What the quiet bars leave behind is applied in one step per run: the venue's last bar (recorded
lazily, :meth:`PaperVenue.skip_bars`), the clock, the book's last price and VaR return rows
(the same float arithmetic, row by row), and the equity marks: the last value, the peak (from
the highest or lowest close, equity being monotone in the one price) and the curve samples, each
valued by the same :meth:`Portfolio.equity` call the full path makes.

The path is taken only where that equivalence is shown to hold: one instrument quoted in the
account currency, bars at least the VaR sampling interval apart, a rules brain whose strategies on
the instrument are stepped, no forecast source, and price and volume columns that are exactly the
floats of the Decimals the feed would build (checked once per run); otherwise
:func:`~gekko_agent.runtime.replay.run_replay` runs every bar through the full path. The parity tests
(``tests/runtime/test_quiet_parity.py``) run both paths and compare every event.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from gekko_agent.domain import Bar, InstrumentId
from gekko_agent.market.bararray import BarArray
from gekko_agent.runtime.brain import SteppedBrain
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.wiring import System
from gekko_agent.venues.paper import PaperVenue

__all__ = ["QuietReplay"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHUNK = 8192
_MICRO = timedelta(microseconds=1)


def _canonical(column: np.ndarray, decimals: int) -> bool:
    """True when every value is the float of the decimal string the feed formats it to."""
    if not 0 <= decimals <= 12 or not len(column):
        return decimals <= 12
    scale = 10.0**decimals
    if not bool(np.isfinite(column).all()) or float(np.abs(column).max()) * scale >= 2.0**52:
        return False
    return bool((np.rint(column * scale) / scale == column).all())


class QuietReplay:
    """Replays a one-instrument backtest, skipping the bookkeeping of quiet bars (see the module).

    Build it with :meth:`attach`, which returns None where the fast path does not apply.
    """

    def __init__(self, system: System, iid: InstrumentId, bars: BarArray, venue: PaperVenue) -> None:
        self.system = system
        self.trader: Trader = system.trader
        stepped = self.trader.stepped
        assert stepped is not None
        self.brain: SteppedBrain = stepped
        self.iid = iid
        self.bars = bars
        self.venue = venue
        self._bar = bars.bar_factory(iid)
        self._price = f"{{:.{bars.price_decimals}f}}".format
        self._close_ns = bars.ts + bars.interval * 1_000_000_000
        self._base = -1
        self._rows: tuple[list[float], ...] = ()
        self._times: list[int] = []  # close times of the chunk's rows, µs since the epoch
        self._opens: list[int] = []
        self.skipped = 0
        """Bars handled as quiet so far."""

    @classmethod
    def attach(cls, system: System) -> QuietReplay | None:
        """The fast path for ``system``, or None when its run must take the full path."""
        trader = system.trader
        arrays = system.feed.arrays
        if len(arrays) != 1 or trader.forecasts is not None or trader.stepped is None:
            return None
        ((iid, bars),) = arrays.items()
        if not trader.stepped.stepped(iid) or iid not in trader.instruments:
            return None
        inst = trader.instruments[iid]
        book = trader.book
        if inst.quote != trader.execution.portfolio.account_currency or book.factors != (iid,):
            return None
        venue = system.venues.get(iid.rpartition("@")[2])
        if not isinstance(venue, PaperVenue):
            return None
        if len(bars) > 1 and int(np.diff(bars.ts).min()) < book.return_interval * 1_000_000_000:
            return None
        price_cols = (bars.open, bars.high, bars.low, bars.close)
        if not all(_canonical(c, bars.price_decimals) for c in price_cols):
            return None
        if not _canonical(bars.volume, bars.volume_decimals):
            return None
        return cls(system, iid, bars, venue)

    # -- the loop --------------------------------------------------------------------------------

    async def run(self, start: datetime | None, on_progress: Callable[[int], None] | None = None) -> int:
        """Replay every bar; returns the number of bars (as :func:`run_replay` does)."""
        n = len(self.bars)
        i = 0
        while i < n:
            band = self._band() if i else None
            if band is None:
                await self._full(i, start)
                j = i + 1
            else:
                j, observed = self._scan(i, band)
                if observed:  # an engine-quiet bar the strategy acts on: accounted as quiet, then decided
                    self._skip(i, j + 1)
                    await self._decide(j, start)
                    j += 1
                else:
                    if j > i:
                        self._skip(i, j)
                    if j < n:
                        await self._full(j, start)
                        j += 1
            if on_progress is not None:
                on_progress(j - i)
            i = j
        return n

    def _chunk(self, i: int) -> int:
        """Load the plain-float rows of the chunk holding row ``i``; returns its first row."""
        base = i - i % _CHUNK
        if base != self._base:
            b, sl = self.bars, slice(base, base + _CHUNK)
            self._rows = tuple(col[sl].tolist() for col in (b.open, b.high, b.low, b.close, b.volume))
            self._times = (self._close_ns[sl] // 1000).tolist()
            self._opens = (b.ts[sl] // 1000).tolist()
            self._base = base
        return base

    def _scan(self, i: int, band: tuple[float, float, int]) -> tuple[int, bool]:
        """The first row from ``i`` that is not quiet, and whether the strategy observed it."""
        lo, hi, day_end_ns = band
        day_end = day_end_ns // 1000
        iid = self.iid
        observe = self.brain.observer(iid)
        pos = self.trader.execution.portfolio.positions.get(iid)
        held = pos.quantity if pos is not None else Decimal(0)
        n = len(self.bars)
        while i < n:
            base = self._chunk(i)
            o, h, low, c, v = self._rows
            t = self._times
            for k in range(i - base, len(c)):
                ck = c[k]
                if not lo < ck < hi or t[k] >= day_end:
                    return base + k, False
                if observe(iid, o[k], h[k], low[k], ck, v[k], held):
                    return base + k, True
            i = base + len(c)
        return n, False

    def _bar_at(self, i: int) -> Bar:
        """Row ``i`` as the Decimal :class:`Bar` the replay feed would build."""
        base = self._chunk(i)
        k = i - base
        o, h, low, c, v = self._rows
        return self._bar(self._opens[k], o[k], h[k], low[k], c[k], v[k])

    async def _full(self, i: int, start: datetime | None) -> None:
        """Row ``i`` through the full path, exactly as :func:`run_replay` runs a bar."""
        bar = self._bar_at(i)
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        self.system.clock.advance_to(close_ts)
        fills = self.venue.on_bar(bar)
        if fills:
            await self.trader.on_fills(fills)
        await self.trader.on_bar(bar, decide=start is None or close_ts > start)

    async def _decide(self, i: int, start: datetime | None) -> None:
        """The decision on row ``i``, which the strategy observed and :meth:`_skip` accounted for.

        The row passed the band, so the full path's bookkeeping of it would journal nothing and the
        venue (nothing working) only records it: what :meth:`_skip` did. What is left is
        :meth:`Trader.think`: the strategy decides, and its intents go through risk.
        """
        bar = self._bar_at(i)
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        await self.trader.think(bar, decide=start is None or close_ts > start, observed=True)

    # -- quiet bars ------------------------------------------------------------------------------

    def _band(self) -> tuple[float, float, int] | None:
        """(lowest, highest) quiet close and the first close time of the next UTC day; None: none.

        :meth:`Trader.quiet_band`'s equity band as closes: equity moves with the one position.
        """
        band = self.trader.quiet_band()
        last = self.trader.book.market.get(self.iid)
        if band is None or last is None or last.last is None or self.venue.has_working(self.iid):
            return None
        lower, upper, day_end = band
        eq = self.trader.equity.now
        assert eq is not None  # quiet_band promises it
        now = float(eq)
        if not lower < now < upper:
            return None
        pos = self.trader.execution.portfolio.positions.get(self.iid)
        slope = float(pos.quantity) if pos is not None else 0.0
        if slope == 0.0:
            return -math.inf, math.inf, day_end
        c0 = float(last.last)
        a, b = c0 + (lower - now) / slope, c0 + (upper - now) / slope
        lo, hi = (a, b) if slope > 0 else (b, a)
        return (lo, hi, day_end) if lo < hi else None

    def _span(self, i: int, j: int) -> tuple[list[float], list[int]]:
        """Closes and close times (µs) of rows ``i`` .. ``j - 1``, from the chunk when it holds them."""
        base = self._base
        if base <= i and j <= base + len(self._times):
            return self._rows[3][i - base : j - base], self._times[i - base : j - base]
        return self.bars.close[i:j].tolist(), (self._close_ns[i:j] // 1000).tolist()

    def _skip(self, i: int, j: int) -> None:
        """Leave the state the full path would leave after quiet rows ``i`` .. ``j - 1``."""
        t, iid = self.trader, self.iid
        self.venue.skip_bars(iid, self.bars, i, j)
        closes, times = self._span(i, j)
        last_ts = _EPOCH + _MICRO * times[-1]
        self.system.clock.advance_to(last_ts)
        price = self._price
        t.book.skip(iid, closes, Decimal(price(closes[-1])), last_ts)
        portfolio, rates = t.execution.portfolio, t.book.rates()

        def value(close: float) -> Decimal:
            return portfolio.equity({iid: Decimal(price(close))}, rates)

        pos = portfolio.positions.get(iid)
        q = pos.quantity if pos is not None else Decimal(0)
        now = value(closes[-1])
        high = now if not q else value(max(closes) if q > 0 else min(closes))
        t.equity.advance(now, high, self._samples(closes, times, value))
        t.stats.bars += j - i
        self.skipped += j - i

    def _samples(
        self, closes: list[float], times: list[int], value: Callable[[float], Decimal]
    ) -> list[tuple[datetime, Decimal]]:
        """The equity-curve points quiet bars closing at ``times`` (µs) add: :meth:`EquityMarks.update`
        adds one once a close is ``sample_seconds`` or more after the last point (compared in µs)."""
        eq = self.trader.equity
        step = eq.sample_seconds * 1_000_000
        out: list[tuple[datetime, Decimal]] = []
        due = (eq.curve[-1][0] - _EPOCH) // _MICRO + step if eq.curve else None
        k, n = 0, len(times)
        while k < n:
            if due is not None:
                k = bisect_left(times, due, k)
                if k >= n:
                    break
            at = times[k]
            out.append((_EPOCH + _MICRO * at, value(closes[k])))
            due = at + step
            k += 1
        return out
