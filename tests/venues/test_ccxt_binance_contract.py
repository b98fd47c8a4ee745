"""The Venue contract suite, run through the real async ccxt ``binanceus`` client against the
loopback Binance simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import LiveClock
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

from .contract import *  # noqa: F403
from .contract import ContractMarket


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


@pytest.fixture
async def venue(sim: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    config = CcxtVenueConfig(
        "binanceus",
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=sim.url,
        timeout_ms=2_000,
        enable_rate_limit=False,
        lookup_delay_s=0.01,
    )
    v = CcxtVenue(config, LiveClock())
    yield v
    await v.close()


@pytest.fixture
def market() -> ContractMarket:
    return ContractMarket(
        instrument_id="BTC/USD@binanceus",
        base="BTC",
        quote="USD",
        quantity=Decimal("0.01"),
        resting_buy_price=Decimal("20000.00"),
        off_lot_quantity=Decimal("0.010005"),
        unaffordable_quantity=Decimal(10),
    )
