"""Properties of the paper venue over random order flow and random bars (hypothesis)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gekko_agent.domain.money import ZERO
from gekko_agent.domain.orders import Fill, OrderSide, OrderType, TimeInForce
from gekko_agent.execution.ports import OrderRequest, VenueOrder
from gekko_agent.venues.paper import FeeSchedule, FillModel, FixedBpsSlippage, PaperVenue

from .helpers import T0, bar, make_venue, minutes, request

D = Decimal
START_USD, START_BTC = D(100_000), D(2)


@dataclass(frozen=True)
class Step:
    """One minute: maybe an order, then a bar."""

    side: OrderSide
    order_type: OrderType
    tif: TimeInForce
    qty_lots: int
    offset_ticks: int
    move_ticks: int
    range_ticks: int
    volume: int


steps = st.lists(
    st.builds(
        Step,
        side=st.sampled_from(OrderSide),
        order_type=st.sampled_from(OrderType),
        tif=st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        qty_lots=st.integers(1, 3000),
        offset_ticks=st.integers(-300, 300),
        move_ticks=st.integers(-200, 200),
        range_ticks=st.integers(0, 300),
        volume=st.integers(0, 50),
    ),
    min_size=1,
    max_size=30,
)


def _request(i: int, s: Step, price: Decimal) -> OrderRequest:
    qty = str(D(s.qty_lots) * D("0.001"))
    px = str(max(D(1), price + D(s.offset_ticks)))
    stop_px = str(max(D(1), price - D(s.offset_ticks)))
    tif = s.tif if s.order_type in (OrderType.MARKET, OrderType.LIMIT) else TimeInForce.GTC
    limit = px if s.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
    stop = stop_px if s.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) else None
    return request(f"p{i}", s.side, qty, s.order_type, limit=limit, stop=stop, tif=tif)


async def _run(flow: list[Step], seed: int) -> tuple[PaperVenue, list[Fill], list[OrderRequest], Decimal]:
    v = make_venue(
        fees=FeeSchedule(maker_bps=D(2), taker_bps=D(7)),
        slippage=FixedBpsSlippage(D(3), noise_bps=D(5)),
        fill_model=FillModel(max_participation=D("0.2")),
        latency_ms=100,
        latency_jitter_ms=90_000,
        seed=seed,
    )
    price = D(1000)
    v.on_bar(bar(str(price), str(price), str(price), str(price), ts=T0))
    fills: list[Fill] = []
    sent: list[OrderRequest] = []
    for i, s in enumerate(flow):
        req = _request(i, s, price)
        sent.append(req)
        await v.submit(req)
        o = price
        price = max(D(50), price + D(s.move_ticks))
        hi, lo = max(o, price) + D(s.range_ticks), max(D(1), min(o, price) - D(s.range_ticks))
        fills += v.on_bar(bar(str(o), str(hi), str(lo), str(price), str(s.volume), ts=T0 + minutes(i + 1)))
    return v, fills, sent, price


@settings(max_examples=150, deadline=None)
@given(flow=steps, seed=st.integers(0, 2**32))
def test_random_flow_conserves_value_and_respects_orders(flow: list[Step], seed: int) -> None:
    async def check() -> None:
        v, fills, sent, mark = await _run(flow, seed)
        bal = {c: m.amount for c, m in (await v.balances()).items()}
        # value at any mark moves only by fees and by price moves against the fill prices
        signed = sum((f.quantity * f.side.sign for f in fills), ZERO)
        spent = sum((f.quantity * f.price * f.side.sign for f in fills), ZERO)
        fees = sum((f.fee.amount for f in fills), ZERO)
        assert bal.get("BTC", ZERO) == START_BTC + signed
        assert bal["USD"] == START_USD - spent - fees
        value = bal["USD"] + bal.get("BTC", ZERO) * mark
        assert (
            value
            == START_USD
            + START_BTC * mark
            + sum((f.quantity * f.side.sign * (mark - f.price) for f in fills), ZERO)
            - fees
        )
        assert all(a >= 0 for a in bal.values())
        assert all(v._account.free(c) >= 0 for c in bal)  # reservations never exceed balances
        by_cid: dict[str, list[Fill]] = {}
        for f in fills:
            by_cid.setdefault(f.client_order_id, []).append(f)
        for req in sent:
            order: VenueOrder = await v.order_status(req.client_order_id)
            mine = by_cid.get(req.client_order_id, [])
            assert sum((f.quantity for f in mine), ZERO) == order.filled_quantity <= req.quantity
            if req.order_type is OrderType.LIMIT and req.limit_price is not None:
                if req.side is OrderSide.BUY:
                    assert all(f.price <= req.limit_price for f in mine)
                else:
                    assert all(f.price >= req.limit_price for f in mine)
            if req.time_in_force is TimeInForce.FOK:
                assert order.filled_quantity in (ZERO, req.quantity)
        assert len({f.fill_id for f in fills}) == len(fills)

    asyncio.run(check())


@settings(max_examples=40, deadline=None)
@given(flow=steps, seed=st.integers(0, 2**32))
def test_same_seed_gives_identical_fills(flow: list[Step], seed: int) -> None:
    async def both() -> None:
        _, first, _, _ = await _run(flow, seed)
        _, second, _, _ = await _run(flow, seed)
        assert first == second

    asyncio.run(both())
