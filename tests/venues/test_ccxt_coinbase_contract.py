"""The Venue contract suite, run through the real async ccxt ``coinbase`` client against the
loopback Coinbase Advanced Trade simulator (legacy HMAC keys), plus the CDP (JWT) key path and the
simulator's own auth checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType
from gekko_agent.errors import VenueRejected
from gekko_agent.execution.ports import OrderRequest, RejectReason
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import coinbase as coinbase_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

from .contract import *  # noqa: F403
from .contract import ContractMarket

BTC = "BTC/USD@coinbase"


def _venue(sim: RunningSimulator, api_key: str, secret: str) -> CcxtVenue:
    config = CcxtVenueConfig(
        "coinbase",
        api_key=api_key,
        secret=secret,
        base_url=sim.url,
        timeout_ms=2_000,
        enable_rate_limit=False,
        lookup_delay_s=0.01,
    )
    return CcxtVenue(config, LiveClock())


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator("coinbase") as running:
        yield running


@pytest.fixture
async def venue(sim: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    v = _venue(sim, coinbase_sim.API_KEY, coinbase_sim.API_SECRET)
    yield v
    await v.close()


@pytest.fixture
def market() -> ContractMarket:
    return ContractMarket(
        instrument_id=BTC,
        base="BTC",
        quote="USD",
        quantity=Decimal("0.01"),
        resting_buy_price=Decimal("20000.00"),
        off_lot_quantity=Decimal("0.010000005"),
        unaffordable_quantity=Decimal(10),
    )


async def test_cdp_jwt_key_trades_like_legacy_key(sim: RunningSimulator) -> None:
    venue = _venue(sim, coinbase_sim.CDP_KEY_NAME, coinbase_sim.CDP_PRIVATE_KEY)
    try:
        before = await venue.balances()
        ack = await venue.submit(OrderRequest("jwt-1", BTC, OrderSide.BUY, Quantity(Decimal("0.01"))))
        assert ack.accepted
        assert (await venue.order_status("jwt-1")).status is OrderStatus.FILLED
        assert (await venue.balances())["BTC"].amount == before["BTC"].amount + Decimal("0.01")
    finally:
        await venue.close()


async def test_wrong_secret_is_refused(sim: RunningSimulator) -> None:
    venue = _venue(sim, coinbase_sim.API_KEY, "not-the-secret")
    try:
        with pytest.raises(VenueRejected, match="invalid signature"):
            await venue.balances()
        assert sim.venue.orders() == ()
    finally:
        await venue.close()


async def test_post_only_that_would_take_rejects(venue: CcxtVenue, market: ContractMarket) -> None:
    req = OrderRequest(
        "po-1", BTC, OrderSide.BUY, Quantity(market.quantity), OrderType.LIMIT,
        limit_price=Price(Decimal("40000.00")), post_only=True,
    )  # fmt: skip
    ack = await venue.submit(req)
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.POST_ONLY_WOULD_TAKE


async def test_ohlcv_and_quote_read_the_simulated_market(venue: CcxtVenue) -> None:
    quote = await venue.quote(BTC)
    assert quote.bid < Decimal(30_000) < quote.ask
    assert await venue.ohlcv(BTC, 60) == ()
