"""The Venue contract suite, run against the paper venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gekko_agent.venues.paper import FeeSchedule, FixedBpsSlippage, PaperVenue

from .contract import *  # noqa: F403
from .contract import ContractMarket
from .helpers import BTC, make_venue, quote


@pytest.fixture
async def venue() -> AsyncIterator[PaperVenue]:
    v = make_venue(
        fees=FeeSchedule(maker_bps=Decimal(5), taker_bps=Decimal(10)),
        slippage=FixedBpsSlippage(Decimal(2)),
    )
    v.on_quote(quote("29999.00", "30001.00"))
    yield v
    await v.close()


@pytest.fixture
def market() -> ContractMarket:
    return ContractMarket(
        instrument_id=BTC.id,
        base="BTC",
        quote="USD",
        quantity=Decimal("0.01"),
        resting_buy_price=Decimal("20000.00"),
        off_lot_quantity=Decimal("0.0105"),
        unaffordable_quantity=Decimal(10),
    )
