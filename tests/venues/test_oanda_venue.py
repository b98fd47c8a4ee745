"""OANDA adapter behaviour beyond the shared contract: mapping, positions, candles, local refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType, TimeInForce
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.execution.ports import OrderRequest, RejectReason
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.faults import FaultPlan
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.oanda import OandaConfig, OandaVenue

EUR, AUD = "EUR/USD@oanda", "AUD/USD@oanda"
T0 = datetime(2024, 1, 2, tzinfo=UTC)


@pytest.fixture
def base_url() -> Iterator[str]:
    paper = oanda_sim.default_venue()
    for i in range(4):
        px = Decimal("0.66000") + Decimal(i) / 10_000
        paper.on_bar(Bar(AUD, T0 + timedelta(minutes=i), px, px, px, px, Decimal(7), 60))
    app, _ = oanda_sim.build_app(paper, FaultPlan())
    with SimServer(app) as url:
        yield url


@pytest.fixture
async def venue(base_url: str) -> AsyncIterator[OandaVenue]:
    v = OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "secret-token", api_url=base_url, timeout_s=2.0))
    yield v
    await v.close()


def _order(cid: str, side: OrderSide, qty: str, **kw: object) -> OrderRequest:
    return OrderRequest(cid, EUR, side, Quantity(Decimal(qty)), **kw)  # type: ignore[arg-type]


async def test_instruments_map_precision_lot_and_margin(venue: OandaVenue) -> None:
    eur = next(i for i in await venue.instruments() if i.id == EUR)
    assert eur.venue_symbol == "EUR_USD"
    assert eur.tick_size == Decimal("0.00001")
    assert eur.lot_size == Decimal(1)
    assert eur.max_leverage == Decimal(20)


async def test_sell_then_buy_nets_position_through_short(venue: OandaVenue) -> None:
    await venue.submit(_order("v-1", OrderSide.SELL, "3000"))
    assert [(p.instrument_id, p.quantity) for p in await venue.positions()] == [(EUR, Decimal(-3000))]
    await venue.submit(_order("v-2", OrderSide.BUY, "1000"))
    assert [p.quantity for p in await venue.positions()] == [Decimal(-2000)]


async def test_ohlcv_reads_candles_since_time(venue: OandaVenue) -> None:
    bars = await venue.ohlcv(AUD, 60, since=T0 + timedelta(minutes=1), limit=2)
    assert [b.ts for b in bars] == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert bars[0].open == Decimal("0.66010")
    assert bars[0].volume == Decimal(7)


async def test_ohlcv_unsupported_interval_raises_invalid_input(venue: OandaVenue) -> None:
    with pytest.raises(InvalidInput):
        await venue.ohlcv(EUR, 7)


async def test_quote_other_venue_instrument_raises_data_not_found(venue: OandaVenue) -> None:
    with pytest.raises(DataNotFound):
        await venue.quote("EUR/USD@binanceus")
    with pytest.raises(DataNotFound):
        await venue.quote("NOPE/USD@oanda")


async def test_order_book_has_touch_levels(venue: OandaVenue) -> None:
    book = await venue.order_book(EUR)
    assert book.bids[0].price < book.asks[0].price
    assert book.bids[0].quantity > 0


async def test_post_only_and_stop_limit_rejected_locally(venue: OandaVenue) -> None:
    post = _order("v-3", OrderSide.BUY, "1000", order_type=OrderType.LIMIT, limit_price=Price(Decimal("1.0")),
                  post_only=True)  # fmt: skip
    stop_limit = _order("v-4", OrderSide.BUY, "1000", order_type=OrderType.STOP_LIMIT,
                        limit_price=Price(Decimal("1.2")), stop_price=Price(Decimal("1.2")))  # fmt: skip
    for request in (post, stop_limit):
        ack = await venue.submit(request)
        assert ack.order.reject_reason is RejectReason.UNSUPPORTED_ORDER
        assert ack.venue_order_id is None


async def test_reduce_only_without_position_rejects(venue: OandaVenue) -> None:
    ack = await venue.submit(_order("v-5", OrderSide.SELL, "1000", reduce_only=True))
    assert ack.order.reject_reason is RejectReason.REDUCE_ONLY_WOULD_INCREASE


async def test_cancel_filled_order_returns_it_unchanged(venue: OandaVenue) -> None:
    ack = await venue.submit(_order("v-6", OrderSide.BUY, "1000", time_in_force=TimeInForce.IOC))
    assert ack.status is OrderStatus.FILLED
    assert (await venue.cancel("v-6")).status is OrderStatus.FILLED


async def test_stop_order_rests_with_its_stop_price(venue: OandaVenue) -> None:
    stop = _order(
        "v-7", OrderSide.BUY, "1000", order_type=OrderType.STOP, stop_price=Price(Decimal("1.20000"))
    )
    ack = await venue.submit(stop)
    assert ack.status is OrderStatus.ACCEPTED
    listed = await venue.open_orders(EUR)
    assert [(o.client_order_id, o.stop_price) for o in listed] == [("v-7", Decimal("1.20000"))]


async def test_fills_since_time_filters_and_fee_is_in_account_currency(venue: OandaVenue) -> None:
    await venue.submit(_order("v-8", OrderSide.BUY, "1000"))
    batch = await venue.fills_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert [f.client_order_id for f in batch.fills] == ["v-8"]
    assert batch.fills[0].fee.currency == "USD"
    assert (await venue.fills_since(datetime(2999, 1, 1, tzinfo=UTC))).fills == ()


async def test_token_never_appears_in_reprs(venue: OandaVenue) -> None:
    config = OandaConfig("acct", "secret-token")
    assert "secret-token" not in repr(config)
    assert "secret-token" not in repr(venue)
