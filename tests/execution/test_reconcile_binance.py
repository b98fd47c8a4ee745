"""Reconciliation through the real async ccxt ``binanceus`` client against the loopback Binance
simulator: the same differences settle the same way over the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from gekko_agent.domain import LiveClock, OrderSide, OrderStatus
from gekko_agent.execution.reconcile import UNKNOWN_AT_VENUE, DifferenceKind, Reconciler
from gekko_agent.ledger import MEMORY, Ledger, fills, orders
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

from .helpers import journal_order, order_event_count, request_of, terms

IID = "BTC/USD@binanceus"
TERMS = terms(IID, "ETH/USD@binanceus", "BTC/USDT@binanceus")
K = DifferenceKind


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


async def test_reconcile_over_the_wire_settles_each_difference_once(venue: CcxtVenue) -> None:
    clock = LiveClock()
    with Ledger(MEMORY) as ledger:
        filled = journal_order(ledger, clock, "gk-fill", IID, OrderSide.BUY, "0.01")
        ack = await venue.submit(request_of(filled))  # filled at the venue, answer lost to the ledger
        journal_order(ledger, clock, "gk-lost", IID, OrderSide.BUY, "0.01")
        resting = journal_order(ledger, clock, "gk-rest", IID, OrderSide.BUY, "0.01", limit="20000.00")
        await venue.submit(request_of(resting))
        gone = journal_order(ledger, clock, "gk-gone", IID, OrderSide.BUY, "0.01", limit="20000.00")
        await venue.submit(request_of(gone))
        await venue.cancel("gk-gone")
        reconciler = Reconciler(ledger, clock, TERMS)
        report = await reconciler.reconcile(venue)
        assert report.fills_adopted == len(ack.fills) > 0
        assert {f.fill_id for f in fills(ledger)} == {f.fill_id for f in ack.fills}
        kinds = {d.subject: d.kind for d in report.differences if d.kind is not K.MISSED_FILL}
        assert kinds == {
            "gk-lost": K.UNKNOWN_AT_VENUE,
            "gk-rest": K.STATUS_BEHIND,
            "gk-gone": K.CLOSED_AT_VENUE,
        }
        state = orders(ledger)
        assert state["gk-fill"].status is OrderStatus.FILLED
        assert (state["gk-lost"].status, state["gk-lost"].reason) == (OrderStatus.REJECTED, UNKNOWN_AT_VENUE)
        assert state["gk-rest"].status is OrderStatus.ACCEPTED
        assert state["gk-gone"].status is OrderStatus.CANCELED
        count = order_event_count(ledger)
        again = await reconciler.reconcile(venue)
        assert again.clean, again.differences
        assert order_event_count(ledger) == count


async def test_reconcile_over_the_wire_journals_balance_drift(
    venue: CcxtVenue, sim: RunningSimulator
) -> None:
    clock = LiveClock()
    with Ledger(MEMORY) as ledger:
        reconciler = Reconciler(ledger, clock, TERMS)
        assert (await reconciler.reconcile(venue)).clean  # first look: the baseline
        stranger = journal_order(Ledger(MEMORY), clock, "manual-1", IID, OrderSide.SELL, "0.1")
        placed = await sim.venue.submit(request_of(stranger))  # a person traded at the venue directly
        report = await reconciler.reconcile(venue)
        assert len(report.of_kind(K.MISSED_FILL)) == len(placed.fills) > 0
        assert "manual-1" in {d.subject for d in report.of_kind(K.NOT_IN_LEDGER)}
        assert report.of_kind(K.BALANCE) == ()  # the adopted fill explains the balances
        assert Decimal(0) < sum(f.quantity for f in fills(ledger))
        assert (await reconciler.reconcile(venue)).clean
