"""History download: page a venue's OHLCV into the :class:`FetchedBarStore`, incrementally and gap-aware.

:func:`fetch_history` asks only for what the store lacks inside ``[start, end)``:

* the **head** before the first stored bar and the **tail** after the last one;
* every **hole** between two stored bars (a bar deleted, an earlier download that stopped short,
  two downloads of separate windows) that is not already a *known gap*.

Each missing window is paged through ``Venue.ohlcv(iid, interval, since, page_limit)``: a page's
last bar moves ``since`` on, so a venue that answers fewer bars than asked (its own page cap) is
simply asked again. Once the venue has shown a bar at or after a span, whatever it did not return
inside that span is a gap the venue itself has (a weekend for FX, an exchange outage): it is
recorded as a known gap and never requested again. The tail past the venue's last bar is not
recorded, so a later call picks up bars that appear there. Bars still forming (``ts + interval``
after now) are never stored.

Example::

    store = FetchedBarStore()                       # var/cache/market.duckdb
    report = await fetch_history(venue, "BTC/USD@binanceus", 60, "2023-03-01", "2023-03-02", store)
    bars = load_fetched("BTC/USD@binanceus", 60, "2023-03-01", "2023-03-02")
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import Clock, LiveClock
from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.errors import InvalidInput, RateLimited, RetryableError
from gekko_agent.execution.ports import Venue
from gekko_agent.market.bararray import BarArray, TimeLike, to_ns
from gekko_agent.market.cache import DEFAULT_CACHE
from gekko_agent.market.fetched import FetchedBarStore, Span

__all__ = ["FetchProgress", "FetchReport", "fetch_history", "load_fetched", "missing_windows"]

FetchProgress = Callable[[int, int], None]
"""Called after every page with ``(bars_received, bars_expected)``; the total is an upper bound."""

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FetchReport:
    """What one :func:`fetch_history` call did.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        interval: bar length in seconds.
        start: first open time asked for (UTC).
        end: end of the window asked for (exclusive, UTC; capped at the last complete bar).
        windows: the missing spans ``[start, end)`` (ns) that were requested.
        requests: ``Venue.ohlcv`` calls made (retries included).
        received: bars the venue returned inside the windows.
        stored: bars that were new to the store.
        holes: windows that were holes between stored bars (re-requested once).
        gaps: spans recorded as known gaps (the venue has no bars there).
        seconds: wall time the call took.
    """

    instrument_id: InstrumentId
    interval: int
    start: datetime
    end: datetime
    windows: tuple[Span, ...]
    requests: int
    received: int
    stored: int
    holes: int
    gaps: tuple[Span, ...]
    seconds: float

    @property
    def bars_per_second(self) -> float:
        """Bars received per second of wall time (0 when nothing was received)."""
        return self.received / self.seconds if self.seconds > 0 else 0.0


def _moment(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _subtract(span: Span, known: Sequence[Span]) -> list[Span]:
    """``span`` minus the (sorted) ``known`` spans."""
    out: list[Span] = []
    lo, hi = span
    for a, b in known:
        if b <= lo or a >= hi:
            continue
        if a > lo:
            out.append((lo, a))
        lo = max(lo, b)
        if lo >= hi:
            return out
    if lo < hi:
        out.append((lo, hi))
    return out


def missing_windows(
    times: Sequence[int], known: Sequence[Span], lo: int, hi: int, step: int
) -> tuple[list[Span], int]:
    """The spans of ``[lo, hi)`` that hold no stored bar and are not known gaps.

    Args:
        times: stored open times (ns) inside ``[lo, hi)``, ascending.
        known: known gaps (ns), ascending by start.
        lo: window start (ns, inclusive).
        hi: window end (ns, exclusive).
        step: bar length (ns).

    Returns:
        The windows to request, ascending, and how many of them are holes between stored bars.
    """
    if hi <= lo:
        return [], 0
    if not len(times):
        return _subtract((lo, hi), known), 0
    wanted: list[Span] = []
    holes = 0
    if times[0] > lo:
        wanted += _subtract((lo, int(times[0])), known)
    for prev, nxt in itertools.pairwise(times):
        if nxt - prev > step:
            pieces = _subtract((int(prev) + step, int(nxt)), known)
            holes += len(pieces)
            wanted += pieces
    if int(times[-1]) + step < hi:
        wanted += _subtract((int(times[-1]) + step, hi), known)
    return wanted, holes


def _absent(got: Sequence[int], lo: int, hi: int, step: int) -> list[Span]:
    """Spans of ``[lo, hi)`` not covered by bars opening at ``got`` (ascending) of length ``step``."""
    out: list[Span] = []
    cursor = lo
    for t in got:
        if t > cursor:
            out.append((cursor, t))
        cursor = max(cursor, t + step)
    if hi > cursor:
        out.append((cursor, hi))
    return out


class _Pager:
    """Pages one window out of a venue into the store, with retries on transient errors."""

    def __init__(
        self,
        venue: Venue,
        iid: InstrumentId,
        interval: int,
        store: FetchedBarStore,
        page_limit: int,
        retries: int,
    ) -> None:
        self.venue, self.iid, self.interval, self.store = venue, iid, interval, store
        self.page_limit, self.retries = page_limit, retries
        self.requests = self.received = self.stored = 0

    async def _page(self, since: int) -> tuple[Bar, ...]:
        for attempt in range(self.retries + 1):
            self.requests += 1
            try:
                return await self.venue.ohlcv(self.iid, self.interval, _moment(since), self.page_limit)
            except RetryableError as exc:
                if attempt == self.retries:
                    raise
                wait = (
                    exc.retry_after if isinstance(exc, RateLimited) and exc.retry_after else 0.5 * 2**attempt
                )
                await asyncio.sleep(min(float(wait), 30.0))
        raise AssertionError("unreachable")  # pragma: no cover

    async def window(self, lo: int, hi: int, on_page: Callable[[], None]) -> list[Span]:
        """Fetch ``[lo, hi)``; return the spans the venue showed it has no bars in."""
        step = self.interval * _NS
        since, confirmed = lo, lo
        got: list[int] = []
        while since < hi:
            page = await self._page(since)
            fresh = [b for b in page if since <= to_ns(b.ts) < hi]
            beyond = any(to_ns(b.ts) >= hi for b in page)
            if fresh:
                self.received += len(fresh)
                self.stored += self.store.put(fresh)
                got += [to_ns(b.ts) for b in fresh]
                since = confirmed = to_ns(fresh[-1].ts) + step
            on_page()
            if beyond:
                confirmed = hi
            if beyond or not fresh:
                break
        return _absent(got, lo, min(confirmed, hi), step)


async def fetch_history(
    venue: Venue,
    iid: InstrumentId,
    interval: int,
    start: TimeLike,
    end: TimeLike,
    store: FetchedBarStore,
    *,
    page_limit: int = 500,
    clock: Clock | None = None,
    progress: FetchProgress | None = None,
    retries: int = 3,
) -> FetchReport:
    """Download the bars of ``iid`` opening in ``[start, end)`` that ``store`` lacks.

    Args:
        venue: where to read bars from (any :class:`~gekko_agent.execution.ports.Venue`).
        iid: ``SYMBOL@venue``; its venue must be ``venue.name``.
        interval: bar length in seconds (the venue must offer it).
        start: first open time wanted (UTC when naive).
        end: end of the window (exclusive); capped at the last bar complete by ``clock``'s now.
        store: where bars and known gaps are kept.
        page_limit: bars asked for per request (the venue may answer fewer; paging goes on).
        clock: decides which bars are complete (the wall clock by default).
        progress: called after every page with ``(bars_received, bars_expected)``.
        retries: attempts per page after a transient venue error, with backoff.

    Returns:
        What was requested, received, stored and recorded as known gaps.

    Raises:
        InvalidInput: a bad window, interval or page limit, or an instrument of another venue.
        DataNotFound: the venue does not list the instrument.
        RetryableError: the venue stayed unreachable after ``retries`` attempts.
    """
    if interval <= 0 or page_limit <= 0:
        raise InvalidInput(f"interval ({interval}) and page limit ({page_limit}) must be positive")
    if iid.rpartition("@")[2] != venue.name:
        raise InvalidInput(f"{iid} is not an instrument of venue {venue.name!r}")
    began = time.perf_counter()
    step = interval * _NS
    lo, hi = to_ns(start), to_ns(end)
    if hi < lo:
        raise InvalidInput(f"end {end} is before start {start}")
    now = to_ns((clock or LiveClock()).now())
    hi = min(hi, now - step + 1)
    pager = _Pager(venue, iid, interval, store, page_limit, retries)
    gaps: list[Span] = []
    with store.session():
        windows, holes = missing_windows(
            store.times(iid, interval, lo, max(lo, hi)).tolist(), store.gaps(iid, interval), lo, hi, step
        )
        expected = sum((b - a + step - 1) // step for a, b in windows)

        def on_page() -> None:
            if progress is not None:
                progress(pager.received, max(expected, pager.received))

        for a, b in windows:
            found = await pager.window(a, b, on_page)
            store.add_gaps(iid, interval, found)
            gaps += found
    if progress is not None:
        progress(pager.received, pager.received)
    return FetchReport(
        instrument_id=iid,
        interval=interval,
        start=_moment(lo),
        end=_moment(max(lo, hi)),
        windows=tuple(windows),
        requests=pager.requests,
        received=pager.received,
        stored=pager.stored,
        holes=holes,
        gaps=tuple(gaps),
        seconds=time.perf_counter() - began,
    )


def load_fetched(
    iid: InstrumentId,
    interval: int,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    store: FetchedBarStore | Path = DEFAULT_CACHE,
) -> BarArray:
    """Fetched bars of ``iid`` opening in ``[start, end)`` as a :class:`BarArray` (empty when none).

    Args:
        iid: ``SYMBOL@venue``.
        interval: bar length in seconds.
        start: first open time (inclusive); None: from the first stored bar.
        end: end (exclusive); None: to the last stored bar.
        store: the store, or the DuckDB file it lives in.
    """
    source = store if isinstance(store, FetchedBarStore) else FetchedBarStore(store)
    return source.load(iid, interval, start, end)
