"""Reconciliation against the in-process paper venue: missed fills adopted, unknown orders marked,
closed orders settled, balance differences journaled, and a second run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gekko_agent.domain import (
    AlertRaised,
    AssetClass,
    Instrument,
    OrderSide,
    OrderStatus,
    Portfolio,
    Price,
    ReconciliationCompleted,
    SimClock,
)
from gekko_agent.execution.ports import Quote
from gekko_agent.execution.reconcile import UNKNOWN_AT_VENUE, DifferenceKind, Reconciler
from gekko_agent.execution.resume import RestorableExecutionEngine, restore_portfolio
from gekko_agent.ledger import MEMORY, Ledger, events, fills, orders
from gekko_agent.venues.paper import FeeSchedule, NoSlippage, PaperVenue, PaperVenueConfig

from .helpers import journal_order, order_event_count, request_of, terms

T0 = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)
BTC = Instrument(
    "BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.001"), Decimal("0.001")
)
IID = BTC.id
TERMS = terms(IID)
K = DifferenceKind


def paper(clock: SimClock, usd: int = 100_000) -> PaperVenue:
    venue = PaperVenue(
        PaperVenueConfig(
            instruments=(BTC,),
            balances={"USD": Decimal(usd), "BTC": Decimal(2)},
            fees=FeeSchedule(maker_bps=Decimal(5), taker_bps=Decimal(10)),
            slippage=NoSlippage(),
        ),
        clock,
    )
    q = Quote(IID, Price(Decimal("29999")), Price(Decimal("30001")), Price(Decimal(30000)), T0)
    venue.on_quote(q)
    return venue


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger(MEMORY) as led:
        yield led


async def test_reconcile_adopts_missed_fill_once(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    order = journal_order(ledger, clock, "gk-1", IID, OrderSide.BUY, "0.1")
    ack = await venue.submit(request_of(order))  # the venue filled it; the answer never reached the ledger
    assert ack.fills
    report = await Reconciler(ledger, clock, TERMS).reconcile(venue)
    assert report.fills_adopted == len(ack.fills)
    assert [d.subject for d in report.of_kind(K.MISSED_FILL)] == [f.fill_id for f in ack.fills]
    assert [f.fill_id for f in fills(ledger)] == [f.fill_id for f in ack.fills]
    assert orders(ledger)["gk-1"].status is OrderStatus.FILLED
    assert report.of_kind(K.BALANCE) == ()


async def test_reconcile_marks_order_unknown_at_venue(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    journal_order(ledger, clock, "gk-lost", IID, OrderSide.BUY, "0.1")  # crashed before the venue saw it
    report = await Reconciler(ledger, clock, TERMS).reconcile(venue)
    (diff,) = report.of_kind(K.UNKNOWN_AT_VENUE)
    assert diff.subject == "gk-lost"
    order = orders(ledger)["gk-lost"]
    assert order.status is OrderStatus.REJECTED
    assert order.reason == UNKNOWN_AT_VENUE
    alerts = [s.event for s in events(ledger, kinds="alert_raised")]
    assert any(isinstance(a, AlertRaised) and "gk-lost" in a.message for a in alerts)


async def test_reconcile_settles_order_closed_at_venue(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    order = journal_order(ledger, clock, "gk-rest", IID, OrderSide.BUY, "0.1", limit="20000")
    await venue.submit(request_of(order))
    await venue.cancel("gk-rest")  # canceled at the venue while we were down
    report = await Reconciler(ledger, clock, TERMS).reconcile(venue)
    assert [d.subject for d in report.of_kind(K.CLOSED_AT_VENUE)] == ["gk-rest"]
    assert orders(ledger)["gk-rest"].status is OrderStatus.CANCELED


async def test_reconcile_catches_up_acknowledged_order(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    order = journal_order(ledger, clock, "gk-ack", IID, OrderSide.BUY, "0.1", limit="20000")
    await venue.submit(request_of(order))
    report = await Reconciler(ledger, clock, TERMS).reconcile(venue)
    assert [d.subject for d in report.of_kind(K.STATUS_BEHIND)] == ["gk-ack"]
    restored = orders(ledger)["gk-ack"]
    assert restored.status is OrderStatus.ACCEPTED
    assert restored.venue_order_id is not None


async def test_reconcile_journals_venue_order_missing_from_ledger(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    stranger = journal_order(Ledger(MEMORY), clock, "manual-1", IID, OrderSide.BUY, "0.1", limit="20000")
    await venue.submit(request_of(stranger))
    report = await Reconciler(ledger, clock, TERMS).reconcile(venue)
    assert [d.subject for d in report.of_kind(K.NOT_IN_LEDGER)] == ["manual-1"]
    assert "manual-1" not in orders(ledger)


async def test_reconcile_journals_balance_difference_and_adopts_it(clock: SimClock, ledger: Ledger) -> None:
    await Reconciler(ledger, clock, TERMS).reconcile(paper(clock))  # baseline: 100k USD
    withdrawn = paper(clock, usd=90_000)  # someone took 10k out at the venue
    report = await Reconciler(ledger, clock, TERMS).reconcile(withdrawn)
    (diff,) = report.of_kind(K.BALANCE)
    assert (diff.subject, Decimal(diff.ledger), Decimal(diff.venue)) == ("USD", 100_000, 90_000)
    again = await Reconciler(ledger, clock, TERMS).reconcile(withdrawn)
    assert again.clean


async def test_reconcile_twice_changes_nothing_the_second_time(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    filled = journal_order(ledger, clock, "gk-f", IID, OrderSide.BUY, "0.1")
    await venue.submit(request_of(filled))
    journal_order(ledger, clock, "gk-u", IID, OrderSide.SELL, "0.1")
    resting = journal_order(ledger, clock, "gk-r", IID, OrderSide.BUY, "0.2", limit="25000")
    await venue.submit(request_of(resting))
    reconciler = Reconciler(ledger, clock, TERMS)
    first = await reconciler.reconcile(venue)
    assert not first.clean
    count = order_event_count(ledger)
    second = await reconciler.reconcile(venue)
    assert second.clean, second.differences
    assert (second.fills_adopted, second.orders_marked) == (0, 0)
    assert order_event_count(ledger) == count
    completed = [s.event for s in events(ledger, kinds="reconciliation_completed")]
    assert isinstance(completed[-1], ReconciliationCompleted)
    assert completed[-1].differences == ()
    assert isinstance(completed[0], ReconciliationCompleted)
    assert len(completed[0].differences) == len(first.differences)


async def test_reconcile_with_engine_books_fills_and_restores_orders(clock: SimClock, ledger: Ledger) -> None:
    venue = paper(clock)
    portfolio = Portfolio("USD", {"USD": Decimal(100_000)})
    engine = RestorableExecutionEngine({"paper": venue}, {IID: BTC}, portfolio, ledger, clock)
    filled = journal_order(ledger, clock, "gk-f", IID, OrderSide.BUY, "0.1")
    ack = await venue.submit(request_of(filled))
    journal_order(ledger, clock, "gk-u", IID, OrderSide.BUY, "0.1")
    engine.restore(orders(ledger).values())
    assert {o.client_order_id for o in engine.open_orders()} == {"gk-f", "gk-u"}
    reconciler = Reconciler(ledger, clock, TERMS, engine=engine, starting_cash={"USD": Decimal(100_000)})
    await reconciler.reconcile(venue)
    assert engine.open_orders() == []
    assert engine.orders["gk-u"].status is OrderStatus.REJECTED
    position = engine.portfolio.positions[IID]
    assert position.quantity == Decimal("0.1")
    assert engine.portfolio.applied_fills == {f.fill_id for f in ack.fills}
    usd_at_venue = (await venue.balances())["USD"].amount
    assert engine.portfolio.cash == {"USD": usd_at_venue}
    assert restore_portfolio(ledger, TERMS).cash == {"USD": usd_at_venue}
