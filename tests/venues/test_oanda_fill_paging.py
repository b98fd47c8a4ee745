"""More ORDER_FILL transactions than one ``transactions/sinceid`` answer holds (1000), read through
the real oandapyV20 client: every fill comes back once."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import Price, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus, OrderType
from gekko_agent.execution.ports import OrderRequest
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.faults import FaultPlan
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.oanda import OandaConfig, OandaVenue
from gekko_agent.venues.paper import PaperVenue

EUR = "EUR/USD@oanda"
PIECES = 1_150


@pytest.fixture
async def sim_and_venue() -> AsyncIterator[tuple[PaperVenue, OandaVenue]]:
    paper = oanda_sim.default_venue()
    app, _ = oanda_sim.build_app(paper, FaultPlan())
    with SimServer(app) as url:
        venue = OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "secret-token", api_url=url, timeout_s=5.0))
        try:
            yield paper, venue
        finally:
            await venue.close()


async def test_fills_since_reads_every_sinceid_page(sim_and_venue: tuple[PaperVenue, OandaVenue]) -> None:
    paper, venue = sim_and_venue
    start = await venue.fills_since(None)
    standing = await paper.quote(EUR)
    piece = Decimal(10)
    thin = dataclasses.replace(standing, ask_size=Quantity(piece), bid_size=Quantity(piece))
    paper.on_quote(thin)
    limit = Price(standing.ask + Decimal("0.001"))
    request = OrderRequest(
        "oa-many", EUR, OrderSide.BUY, Quantity(piece * PIECES), OrderType.LIMIT, limit_price=limit
    )
    assert (await venue.submit(request)).accepted
    for _ in range(PIECES - 1):
        paper.on_quote(dataclasses.replace(thin, ts=LiveClock().now()))
    paper.on_quote(dataclasses.replace(standing, ts=LiveClock().now()))
    assert (await venue.order_status("oa-many")).status is OrderStatus.FILLED

    batch = await venue.fills_since(start.cursor)
    assert len(batch.fills) == PIECES
    assert len({f.fill_id for f in batch.fills}) == PIECES
    assert sum(f.quantity for f in batch.fills) == piece * PIECES
    assert (await venue.fills_since(batch.cursor)).fills == ()
    everything = await venue.fills_since(None)
    assert [f.fill_id for f in everything.fills][-PIECES:] == [f.fill_id for f in batch.fills]
