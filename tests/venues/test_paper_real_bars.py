"""The paper venue replaying bundled real bars (Binance.US BTC/USD, 1-minute, March 2023)."""

from __future__ import annotations

from decimal import Decimal

from gekko_agent.domain.clock import SimClock
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.domain.money import ZERO
from gekko_agent.domain.orders import Fill, OrderSide, OrderStatus, OrderType
from gekko_agent.market import load_bars
from gekko_agent.venues.paper import FeeSchedule, FillModel, PaperVenue, PaperVenueConfig, VolumeShareSlippage

from .helpers import request

D = Decimal


async def test_replay_real_bars_round_trip_costs_only_fees_and_moves() -> None:
    bars = load_bars("binanceus-btcusd-1m", "2023-03-10", "2023-03-10 03:00", cache=None)
    inst = Instrument(
        "BTC/USD", "binanceus", AssetClass.CRYPTO_SPOT, D("0.01"), D("0.00001"), min_notional=D(10)
    )
    clock = SimClock(bars[0].ts)
    venue = PaperVenue(
        PaperVenueConfig(
            name="binanceus",
            instruments=(inst,),
            balances={"USD": D(10_000)},
            fees=FeeSchedule(maker_bps=D(10), taker_bps=D(10)),
            slippage=VolumeShareSlippage(base_bps=D(1)),
            fill_model=FillModel(max_participation=D("0.01")),
        ),
        clock,
    )
    fills: list[Fill] = []
    for i, b in enumerate(bars.to_bars()):
        fills += venue.on_bar(b)
        clock.advance_to(b.ts)
        if i == 10:
            await venue.submit(request("buy", OrderSide.BUY, "0.2", iid=inst.id))
        if i == 120:
            held = (await venue.balances())["BTC"].amount
            limit = str(b.close + D("5.00"))
            await venue.submit(
                request("sell", OrderSide.SELL, str(held), OrderType.LIMIT, limit=limit, iid=inst.id)
            )
    assert (await venue.order_status("buy")).status is OrderStatus.FILLED
    assert (
        len([f for f in fills if f.client_order_id == "buy"]) > 1
    )  # 1% of real volume per bar: partial fills
    sells = [f for f in fills if f.client_order_id == "sell"]
    assert all(f.price == sells[0].price for f in sells)
    balances = await venue.balances()
    fees = sum((f.fee.amount for f in fills), ZERO)
    pnl = sum((f.quantity * f.price * -f.side.sign for f in fills), ZERO)
    assert balances["USD"].amount == D(10_000) + pnl - fees
