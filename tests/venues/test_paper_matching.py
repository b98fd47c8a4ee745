"""Order types, time in force, partial fills and slippage of the paper venue."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain.orders import Liquidity, OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.venues.paper import (
    BookDepth,
    FeeSchedule,
    FillModel,
    FixedBpsSlippage,
    VolumeShareSlippage,
)

from .helpers import T0, bar, make_venue, minutes, quote, request

BUY, SELL = OrderSide.BUY, OrderSide.SELL
D = Decimal


async def test_market_buy_fills_at_next_bar_open_plus_slippage() -> None:
    v = make_venue(slippage=FixedBpsSlippage(D(10)))
    v.on_bar(bar("100", "101", "99", "100"))
    ack = await v.submit(request("m1", BUY, "1"))
    assert ack.status is OrderStatus.ACCEPTED
    assert ack.fills == ()
    fills = v.on_bar(bar("102", "103", "101", "102", ts=T0 + minutes(1)))
    assert [(f.price, f.quantity, f.liquidity) for f in fills] == [(D("102.102"), D(1), Liquidity.TAKER)]
    assert (await v.order_status("m1")).status is OrderStatus.FILLED


async def test_market_sell_slips_down() -> None:
    v = make_venue(slippage=FixedBpsSlippage(D(10)))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("s2", SELL, "1"))
    fills = v.on_bar(bar("100", "101", "99", "100", ts=T0 + minutes(1)))
    assert fills[0].price == D("99.9")


async def test_limit_buy_touch_does_not_fill_by_default() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("l1", BUY, "1", OrderType.LIMIT, limit="99"))
    assert v.on_bar(bar("100", "100.5", "99", "99.5", ts=T0 + minutes(1))) == []
    fills = v.on_bar(bar("99.5", "99.8", "98.9", "99", ts=T0 + minutes(2)))
    assert [(f.price, f.liquidity) for f in fills] == [(D(99), Liquidity.MAKER)]


async def test_limit_buy_touch_fills_when_configured() -> None:
    v = make_venue(fill_model=FillModel(touch_fills=True))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("l1", BUY, "1", OrderType.LIMIT, limit="99"))
    fills = v.on_bar(bar("100", "100.5", "99", "99.5", ts=T0 + minutes(1)))
    assert [f.price for f in fills] == [D(99)]


async def test_marketable_limit_on_arrival_takes_at_open_capped_at_limit() -> None:
    v = make_venue(slippage=FixedBpsSlippage(D(100)))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("l1", BUY, "1", OrderType.LIMIT, limit="100.50"))
    fills = v.on_bar(bar("100", "100.2", "99.8", "100", ts=T0 + minutes(1)))
    assert [(f.price, f.liquidity) for f in fills] == [(D("100.50"), Liquidity.TAKER)]


async def test_limit_fees_are_maker_or_taker_in_quote() -> None:
    v = make_venue(fees=FeeSchedule(maker_bps=D(2), taker_bps=D(10)))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("l1", BUY, "1", OrderType.LIMIT, limit="99"))
    await v.submit(request("m1", BUY, "1"))
    fills = v.on_bar(bar("100", "100", "98", "99", ts=T0 + minutes(1)))
    by_cid = {f.client_order_id: f for f in fills}
    assert by_cid["l1"].fee.amount == D("0.0198")
    assert by_cid["l1"].fee.currency == "USD"
    assert by_cid["m1"].fee.amount == D("0.1")


async def test_stop_buy_triggers_on_high_and_fills_at_stop() -> None:
    v = make_venue(slippage=FixedBpsSlippage(D(10)))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("st", BUY, "1", OrderType.STOP, stop="101"))
    assert v.on_bar(bar("100", "100.9", "99", "100", ts=T0 + minutes(1))) == []
    fills = v.on_bar(bar("100", "102", "99", "101", ts=T0 + minutes(2)))
    assert [f.price for f in fills] == [D("101.101")]


async def test_stop_sell_gap_fills_at_open() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("st", SELL, "1", OrderType.STOP, stop="95"))
    fills = v.on_bar(bar("90", "91", "89", "90", ts=T0 + minutes(1)))
    assert [f.price for f in fills] == [D(90)]


async def test_stop_limit_beyond_limit_rests_then_fills_at_limit() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("sl", SELL, "1", OrderType.STOP_LIMIT, limit="96", stop="95"))
    assert v.on_bar(bar("94", "94.5", "93", "94", ts=T0 + minutes(1))) == []
    fills = v.on_bar(bar("94", "97", "94", "96.5", ts=T0 + minutes(2)))
    assert [(f.price, f.liquidity) for f in fills] == [(D(96), Liquidity.MAKER)]


async def test_ioc_limit_not_marketable_expires() -> None:
    v = make_venue()
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("i1", BUY, "1", OrderType.LIMIT, limit="99", tif=TimeInForce.IOC))
    assert v.on_bar(bar("100", "100", "98", "99", ts=T0 + minutes(1))) == []
    assert (await v.order_status("i1")).status is OrderStatus.EXPIRED


async def test_participation_cap_splits_market_order_across_bars() -> None:
    v = make_venue(fill_model=FillModel(max_participation=D("0.1")))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("p1", BUY, "2.5"))
    sizes = [
        sum(f.quantity for f in v.on_bar(bar("100", "100", "100", "100", "10", ts=T0 + minutes(i))))
        for i in (1, 2, 3)
    ]
    assert sizes == [D(1), D(1), D("0.5")]
    assert (await v.order_status("p1")).status is OrderStatus.FILLED


async def test_ioc_partial_fill_expires_remainder() -> None:
    v = make_venue(fill_model=FillModel(max_participation=D("0.1")))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("i1", BUY, "3", tif=TimeInForce.IOC))
    v.on_bar(bar("100", "100", "100", "100", "10", ts=T0 + minutes(1)))
    order = await v.order_status("i1")
    assert (order.status, order.filled_quantity) == (OrderStatus.EXPIRED, D(1))


async def test_fok_without_enough_volume_expires_unfilled() -> None:
    v = make_venue(fill_model=FillModel(max_participation=D("0.1")))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("f1", BUY, "3", tif=TimeInForce.FOK))
    await v.submit(request("f2", BUY, "1", tif=TimeInForce.FOK))
    fills = v.on_bar(bar("100", "100", "100", "100", "10", ts=T0 + minutes(1)))
    assert [f.client_order_id for f in fills] == ["f2"]
    assert (await v.order_status("f1")).filled_quantity == 0


async def test_market_buy_sweeps_synthetic_depth_on_quote() -> None:
    depth = BookDepth(levels=5, level_quantity=D(1), step_bps=D(10))
    v = make_venue(fill_model=FillModel(depth=depth))
    v.on_quote(quote("99.90", "100.00"))
    ack = await v.submit(request("d1", BUY, "2.5"))
    assert [(f.price, f.quantity) for f in ack.fills] == [
        (D(100), D(1)),
        (D("100.1"), D(1)),
        (D("100.2"), D("0.5")),
    ]


async def test_resting_limit_fills_when_quote_trades_through() -> None:
    v = make_venue()
    v.on_quote(quote("99.90", "100.00"))
    ack = await v.submit(request("q1", BUY, "1", OrderType.LIMIT, limit="99.50"))
    assert ack.fills == ()
    assert v.on_quote(quote("99.40", "99.50", ts=T0 + minutes(1))) == []
    fills = v.on_quote(quote("99.30", "99.45", ts=T0 + minutes(2)))
    assert [(f.price, f.liquidity) for f in fills] == [(D("99.50"), Liquidity.MAKER)]


async def test_volume_share_slippage_grows_with_square_root_of_share() -> None:
    v = make_venue(slippage=VolumeShareSlippage(coefficient_bps=D(100), cap_bps=D(30)))
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("a", BUY, "1"))
    fills = v.on_bar(bar("100", "100", "100", "100", "100", ts=T0 + minutes(1)))
    assert fills[0].price == D("100.1")  # share 1%: 100 × sqrt(0.01) = 10 bps
    await v.submit(request("b", BUY, "1"))
    fills = v.on_bar(bar("100", "100", "100", "100", "2", ts=T0 + minutes(2)))
    assert fills[0].price == D("100.3")  # share 50% would be 70 bps: capped at 30


async def test_market_buy_gapping_beyond_funds_fills_what_is_affordable() -> None:
    v = make_venue(balances={"USD": D(1000)})
    v.on_bar(bar("100", "100", "100", "100"))
    await v.submit(request("g1", BUY, "9.9"))
    fills = v.on_bar(bar("200", "200", "200", "200", ts=T0 + minutes(1)))
    order = await v.order_status("g1")
    assert fills[0].quantity == D(5)
    assert (order.status, order.reason) == (OrderStatus.CANCELED, "insufficient_funds")
    assert (await v.balances())["USD"].amount == 0
