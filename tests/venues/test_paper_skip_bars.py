"""``PaperVenue.skip_bars`` leaves the venue exactly as ``on_bar`` for every skipped row would.

The reference is the replay feed's own bars (``ReplayFeed`` over the same rows, relabelled with the
traded instrument id), fed one by one; the data is the bundled Binance.US BTC/USD 1-minute file,
relabelled ``BTC/USD@paper``. Compared: last price and time, quote, synthetic book, the recent-bar
history (5000 bars, read at any point) and what later orders fill at.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import pytest

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.orders import Fill, OrderSide, OrderType
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market import BarArray, load_bars
from gekko_agent.runtime.feed import ReplayFeed
from gekko_agent.venues.paper import FeeSchedule, FixedBpsSlippage, MarketState, PaperVenue

from .helpers import BTC, make_venue, request

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal
HISTORY = 5000


@cache
def _real() -> BarArray:
    """30,240 real one-minute bars (prices in cents, volumes in 1e-8 BTC)."""
    return load_bars("binanceus-btcusd-1m", cache=None)


def _rows(array: BarArray, lo: int, hi: int) -> list[Bar]:
    """Rows ``lo..hi-1`` as the replay feed emits them, labelled with the traded id."""
    return list(ReplayFeed({BTC.id: array[lo:hi]}))


def _venue(clock: SimClock | None = None) -> PaperVenue:
    return make_venue(
        clock,
        balances={"USD": D(1_000_000), "BTC": D(10)},
        fees=FeeSchedule(maker_bps=D(2), taker_bps=D(5)),
        slippage=FixedBpsSlippage(D(1), noise_bps=D(3)),
        session="t",
    )


def _assert_same_market(a: MarketState, b: MarketState) -> None:
    assert (a.last, a.last_ts, a.matchable) == (b.last, b.last_ts, b.matchable)
    assert a.quote == b.quote
    assert repr(a.quote) == repr(b.quote)
    assert list(a.bars) == list(b.bars)
    assert [repr(x) for x in a.bars] == [repr(x) for x in b.bars]


async def _assert_same_venue(a: PaperVenue, b: PaperVenue) -> None:
    assert await a.quote(BTC.id) == await b.quote(BTC.id)
    assert await a.order_book(BTC.id, 3) == await b.order_book(BTC.id, 3)
    for since in (None, (await a.quote(BTC.id)).ts):
        assert await a.ohlcv(BTC.id, 60, since, HISTORY) == await b.ohlcv(BTC.id, 60, since, HISTORY)
    assert await a.ohlcv(BTC.id, 60, None, 7) == await b.ohlcv(BTC.id, 60, None, 7)
    assert await a.balances() == await b.balances()
    assert a.orders() == b.orders()


@pytest.mark.parametrize(
    ("before", "lo", "hi", "after"),
    [
        (0, 0, 1, 0),  # one row
        (0, 0, 2, 3),
        (10, 10, 400, 5),
        (0, 0, HISTORY, 0),  # exactly the history
        (0, 0, HISTORY + 1, 0),
        (300, 300, 12_000, 0),  # more than the history: only the newest rows can be kept
        (4_990, 4_990, 5_020, 4_000),  # spans the history's edge, then pushed out by bars
        (HISTORY + 7, HISTORY + 7, HISTORY + 9, 2),
    ],
)
def test_skip_matches_on_bar_for_each_row(before: int, lo: int, hi: int, after: int) -> None:
    array = _real()
    rows = _rows(array, 0, hi + after)
    fed, skipped = MarketState(BTC), MarketState(BTC)
    for b in rows:
        fed.on_bar(b)
    for b in rows[:before]:
        skipped.on_bar(b)
    skipped.skip(array, lo, hi)
    for b in rows[hi:]:
        skipped.on_bar(b)
    _assert_same_market(fed, skipped)


def test_skip_twice_before_a_read_keeps_the_newest_history() -> None:
    array = _real()
    rows = _rows(array, 0, 9_000)
    fed, skipped = MarketState(BTC), MarketState(BTC)
    for b in rows:
        fed.on_bar(b)
    skipped.skip(array, 0, 3_000)
    skipped.on_bar(rows[3_000])
    skipped.skip(array, 3_001, 6_500)
    for b in rows[6_500:6_510]:
        skipped.on_bar(b)
    skipped.skip(array, 6_510, 9_000)
    _assert_same_market(fed, skipped)


async def test_skip_bars_in_random_segments_matches_on_bar_with_orders_between() -> None:
    """Random segments over the real file: quiet stretches skipped, orders traded bar by bar."""
    array = _real()
    rows = _rows(array, 0, 20_000)
    rng = random.Random(7)
    clock_a, clock_b = SimClock(rows[0].ts), SimClock(rows[0].ts)
    fed, skipping = _venue(clock_a), _venue(clock_b)
    fills_a: list[Fill] = []
    fills_b: list[Fill] = []
    i, n = 0, 0
    while i < len(rows):
        if not skipping.has_working(BTC.id) and rng.random() < 0.7:
            big = rng.random() < 0.02  # now and then a stretch longer than the history
            hi = min(len(rows), i + rng.choice((4_999, 5_001, 6_000) if big else (1, 2, 3, 5, 9, 30, 120)))
            for b in rows[i:hi]:
                fills_a += fed.on_bar(b)
            skipping.skip_bars(BTC.id, array, i, hi)
            i = hi
        else:
            b = rows[i]
            fills_a += fed.on_bar(b)
            fills_b += skipping.on_bar(b)
            i += 1
        close = rows[i - 1].ts
        clock_a.advance_to(close)
        clock_b.advance_to(close)
        if rng.random() < 0.02:  # read the history mid-way: what is lazy becomes bars, later skips go on
            await _assert_same_venue(fed, skipping)
        if not fed.has_working(BTC.id) and rng.random() < 0.5:
            n += 1
            last = (await fed.quote(BTC.id)).last
            side = BUY if n % 2 else SELL
            kind = rng.choice((OrderType.MARKET, OrderType.MARKET, OrderType.LIMIT, OrderType.STOP))
            offset = D(rng.randrange(-200, 200)) / 100 * side.sign
            price = str(last - offset) if kind is OrderType.LIMIT else str(last + abs(offset) * side.sign)
            req = request(
                f"o{n}",
                side,
                "0.05",
                kind,
                limit=price if kind is OrderType.LIMIT else None,
                stop=price if kind is OrderType.STOP else None,
            )
            acks = (await fed.submit(req), await skipping.submit(req))
            assert acks[0] == acks[1]
            assert fed.has_working(BTC.id) == skipping.has_working(BTC.id)
    assert fills_a == fills_b
    assert len(fills_a) > 100
    await _assert_same_venue(fed, skipping)
    _assert_same_market(fed._market(BTC.id), skipping._market(BTC.id))


async def test_skip_bars_refuses_while_an_order_works() -> None:
    array = _real()
    rows = _rows(array, 0, 3)
    venue = _venue(SimClock(rows[0].ts))
    venue.skip_bars(BTC.id, array, 0, 1)
    assert not venue.has_working(BTC.id)
    await venue.submit(request("m", BUY, "0.01"))
    assert venue.has_working(BTC.id)
    with pytest.raises(InvalidInput):
        venue.skip_bars(BTC.id, array, 1, 2)
    fills = venue.on_bar(rows[1])
    assert [f.client_order_id for f in fills] == ["m"]
    assert not venue.has_working(BTC.id)
    venue.skip_bars(BTC.id, array, 2, 3)
    assert (await venue.quote(BTC.id)).last == rows[2].close


@pytest.mark.parametrize(("lo", "hi"), [(0, 0), (5, 4), (-1, 3), (0, 30_241)])
def test_skip_bars_rejects_an_empty_or_outside_range(lo: int, hi: int) -> None:
    with pytest.raises(InvalidInput):
        _venue().skip_bars(BTC.id, _real(), lo, hi)


def test_skip_bars_of_an_unknown_instrument_is_not_found() -> None:
    with pytest.raises(DataNotFound):
        _venue().skip_bars("DOGE/USD@paper", _real(), 0, 3)


def _closes(bars: Sequence[Bar]) -> list[Decimal]:
    return [b.close for b in bars]


async def test_history_after_skip_reads_the_skipped_rows_at_source_precision() -> None:
    array = _real()
    venue = _venue()
    venue.skip_bars(BTC.id, array, 100, 110)
    got = await venue.ohlcv(BTC.id, 60, None, 100)
    assert _closes(got) == [array.decimal(float(c)) for c in array.close[100:110]]
    assert {b.instrument_id for b in got} == {BTC.id}
    assert got == tuple(_rows(array, 100, 110))
