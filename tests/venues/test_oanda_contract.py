"""The Venue contract suite, run against the OANDA adapter talking to the v20 simulator over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.faults import FaultPlan
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.oanda import OandaConfig, OandaVenue

from .contract import *  # noqa: F403
from .contract import ContractMarket


@pytest.fixture
def base_url() -> Iterator[str]:
    app, _ = oanda_sim.build_app(oanda_sim.default_venue(), FaultPlan())
    with SimServer(app) as url:
        yield url


@pytest.fixture
async def venue(base_url: str) -> AsyncIterator[OandaVenue]:
    v = OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "sim-token", api_url=base_url, timeout_s=2.0))
    yield v
    await v.close()


@pytest.fixture
def market() -> ContractMarket:
    return ContractMarket(
        instrument_id="EUR/USD@oanda",
        base="EUR",
        quote="USD",
        quantity=Decimal(1000),
        resting_buy_price=Decimal("0.90000"),
        off_lot_quantity=Decimal("1000.5"),
        unaffordable_quantity=Decimal(100_000_000),
    )
