"""Rejects, reservations, latency, expiry and margin instruments of the paper venue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.errors import DataNotFound, InvalidInput, VenueUnavailable
from gekko_agent.execution.ports import RejectReason, Venue
from gekko_agent.venues.paper import FeeSchedule

from .helpers import EUR, T0, bar, make_venue, minutes, quote, request

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (request("r1", BUY, "0.0005"), RejectReason.BAD_LOT),
        (request("r2", BUY, "0.0015"), RejectReason.BAD_LOT),
        (request("r3", BUY, "1", OrderType.LIMIT, limit="100.005"), RejectReason.BAD_TICK),
        (request("r4", BUY, "0.001", OrderType.LIMIT, limit="100"), RejectReason.BELOW_MIN_NOTIONAL),
        (request("r5", BUY, "1", iid="DOGE/USD@paper"), RejectReason.UNKNOWN_INSTRUMENT),
        (request("r6", SELL, "3"), RejectReason.INSUFFICIENT_FUNDS),
        (
            request("r7", BUY, "1", OrderType.STOP, stop="120", tif=TimeInForce.IOC),
            RejectReason.UNSUPPORTED_ORDER,
        ),
        (request("r8", BUY, "1", OrderType.LIMIT), RejectReason.UNSUPPORTED_ORDER),
        (request("r9", BUY, "1", reduce_only=True), RejectReason.REDUCE_ONLY_WOULD_INCREASE),
        (
            request("r10", BUY, "1", OrderType.LIMIT, limit="101", post_only=True),
            RejectReason.POST_ONLY_WOULD_TAKE,
        ),
        (request("x" * 40, BUY, "1"), RejectReason.INVALID_CLIENT_ORDER_ID),
    ],
)
async def test_submit_invalid_order_is_rejected_with_reason(req: object, reason: RejectReason) -> None:
    v = make_venue()
    v.on_quote(quote("99.99", "100.01"))
    ack = await v.submit(req)  # type: ignore[arg-type]
    assert (ack.status, ack.order.reject_reason) == (OrderStatus.REJECTED, reason)
    assert ack.venue_order_id is None
    assert (await v.fills_since()).fills == ()


async def test_submit_market_without_data_is_rejected() -> None:
    ack = await make_venue().submit(request("m", BUY, "1"))
    assert ack.order.reject_reason is RejectReason.NO_MARKET_DATA


async def test_buy_affordable_only_without_fees_is_rejected() -> None:
    v = make_venue(balances={"USD": D(1000)}, fees=FeeSchedule(maker_bps=D(10), taker_bps=D(10)))
    ack = await v.submit(request("l", BUY, "10", OrderType.LIMIT, limit="100"))
    assert ack.order.reject_reason is RejectReason.INSUFFICIENT_FUNDS
    ok = await v.submit(request("l2", BUY, "9.99", OrderType.LIMIT, limit="100"))
    assert ok.accepted


async def test_open_orders_reserve_funds_until_canceled() -> None:
    v = make_venue(balances={"USD": D(1000)})
    assert (await v.submit(request("a", BUY, "10", OrderType.LIMIT, limit="100"))).accepted
    second = await v.submit(request("b", BUY, "1", OrderType.LIMIT, limit="100"))
    assert second.order.reject_reason is RejectReason.INSUFFICIENT_FUNDS
    await v.cancel("a")
    assert (await v.submit(request("c", BUY, "10", OrderType.LIMIT, limit="100"))).accepted
    assert (await v.balances())["USD"].amount == 1000


async def test_resubmit_after_reject_returns_the_same_reject() -> None:
    v = make_venue()
    first = await v.submit(request("dup", SELL, "5", OrderType.LIMIT, limit="100"))
    again = await v.submit(request("dup", SELL, "1", OrderType.LIMIT, limit="100"))
    assert again.duplicate
    assert again.order == first.order


async def test_latency_delays_matching_until_active_on_quotes() -> None:
    clock = SimClock(T0)
    v = make_venue(clock, latency_ms=500)
    v.on_quote(quote("99.99", "100.01"))
    ack = await v.submit(request("lat", BUY, "1"))
    assert ack.fills == ()
    assert v.on_quote(quote("99.99", "100.02", ts=T0 + timedelta(milliseconds=499))) == []
    fills = v.on_quote(quote("99.99", "100.03", ts=T0 + timedelta(milliseconds=500)))
    assert [f.price for f in fills] == [D("100.03")]
    assert fills[0].ts == T0 + timedelta(milliseconds=500)


async def test_latency_past_bar_end_waits_for_following_bar() -> None:
    clock = SimClock(T0 + timedelta(seconds=59))
    v = make_venue(clock, latency_ms=2000)
    v.on_bar(bar("100", "100", "100", "100", ts=T0 - minutes(1)))
    await v.submit(request("lat", BUY, "1"))
    assert v.on_bar(bar("101", "101", "101", "101")) == []
    assert [f.price for f in v.on_bar(bar("102", "102", "102", "102", ts=T0 + minutes(1)))] == [D(102)]


async def test_day_order_expires_when_date_changes() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("day", BUY, "1", OrderType.LIMIT, limit="90", tif=TimeInForce.DAY))
    v.on_bar(bar("100", "100", "95", "100", ts=T0 + timedelta(days=1)))
    order = await v.order_status("day")
    assert (order.status, order.reason) == (OrderStatus.EXPIRED, "day_ended")
    assert (await v.balances())["USD"].amount == 100_000


async def test_post_only_crossing_on_bar_expires_without_fill() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("po", BUY, "1", OrderType.LIMIT, limit="101", post_only=True))
    assert v.on_bar(bar("100", "100", "99", "100", ts=T0 + minutes(1))) == []
    assert (await v.order_status("po")).reject_reason is None
    assert (await v.order_status("po")).status is OrderStatus.EXPIRED


async def test_fx_short_books_realized_pnl_and_fees_only() -> None:
    v = make_venue(fees=FeeSchedule(maker_bps=D(0), taker_bps=D(1)))
    v.on_quote(quote("1.10000", "1.10000", iid=EUR.id))
    await v.submit(request("s", SELL, "10000", iid=EUR.id))
    assert [(p.quantity, p.avg_price) for p in await v.positions()] == [(D(-10000), D("1.1"))]
    v.on_quote(quote("1.09000", "1.09000", ts=T0 + minutes(1), iid=EUR.id))
    await v.submit(request("c", BUY, "10000", iid=EUR.id, reduce_only=True))
    assert await v.positions() == ()
    usd = (await v.balances())["USD"].amount
    assert usd == D(100_000) + D(100) - D("1.1") - D("1.09")


async def test_fx_reduce_only_without_position_is_rejected() -> None:
    v = make_venue()
    v.on_quote(quote("1.10000", "1.10000", iid=EUR.id))
    ack = await v.submit(request("r", SELL, "1000", iid=EUR.id, reduce_only=True))
    assert ack.order.reject_reason is RejectReason.REDUCE_ONLY_WOULD_INCREASE


async def test_reads_report_market_data_and_history() -> None:
    v = make_venue()
    with pytest.raises(DataNotFound):
        await v.quote("BTC/USD@paper")
    for i in range(3):
        v.on_bar(bar("100", "101", "99", str(100 + i), ts=T0 + minutes(i)))
    assert (await v.quote("BTC/USD@paper")).last == D(102)
    assert [b.close for b in await v.ohlcv("BTC/USD@paper", 60, since=T0 + minutes(1))] == [D(101), D(102)]
    book = await v.order_book("BTC/USD@paper", depth=3)
    assert book.bids[0].price == book.asks[0].price == D(102)


async def test_fills_since_time_and_bad_cursor() -> None:
    v = make_venue()
    v.on_quote(quote("99.99", "100.01"))
    await v.submit(request("a", BUY, "1"))
    assert len((await v.fills_since(T0)).fills) == 1
    assert (await v.fills_since(T0 + minutes(1))).fills == ()
    with pytest.raises(InvalidInput):
        await v.fills_since("nope")


async def test_closed_venue_raises_unavailable() -> None:
    v: Venue = make_venue()
    await v.close()
    with pytest.raises(VenueUnavailable):
        await v.balances()
