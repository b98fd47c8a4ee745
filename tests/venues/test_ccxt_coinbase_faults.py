"""Fault injection through the real ccxt ``coinbase`` client against the Coinbase simulator: every
intent ends as exactly one order known to both sides, or a recorded failure; no duplicate
placements; no lost fills."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest

from gekko_agent.domain.clock import LiveClock
from gekko_agent.domain.money import ZERO, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus
from gekko_agent.errors import RateLimited, RetryableError, VenueUnavailable
from gekko_agent.execution.ports import OrderRequest, RejectReason, VenueAck
from gekko_agent.testing.sim import Fault, FaultPlan, RunningSimulator, running_simulator
from gekko_agent.testing.sim import coinbase as coinbase_sim
from gekko_agent.testing.sim.coinbase_wire import order_uuid
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

BTC = "BTC/USD@coinbase"
QTY = Quantity(Decimal("0.01"))


def _venue(sim: RunningSimulator) -> CcxtVenue:
    config = CcxtVenueConfig(
        "coinbase",
        api_key=coinbase_sim.API_KEY,
        secret=coinbase_sim.API_SECRET,
        base_url=sim.url,
        timeout_ms=400,
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
    v = _venue(sim)
    await v.instruments()
    yield v
    await v.close()


def _buy(cid: str, qty: Quantity = QTY) -> OrderRequest:
    return OrderRequest(cid, BTC, OrderSide.BUY, qty)


def _placements(sim: RunningSimulator, cid: str) -> int:
    assert sim.exchange is not None
    return sim.exchange.placements[cid]


async def test_header_429_raises_rate_limited_with_retry_after(venue: CcxtVenue) -> None:
    venue.exchange.headers = {"X-Gekko-Fault": "429"}
    with pytest.raises(RateLimited) as info:
        await venue.balances()
    assert info.value.retry_after == 1.0


async def test_header_5xx_raises_venue_unavailable(venue: CcxtVenue) -> None:
    venue.exchange.headers = {"X-Gekko-Fault": "503"}
    with pytest.raises(VenueUnavailable):
        await venue.balances()


async def test_submit_after_429_places_one_order(venue: CcxtVenue, sim: RunningSimulator) -> None:
    sim.injector.script(Fault.RATE_LIMIT)
    with pytest.raises(RateLimited):
        await venue.submit(_buy("f-429"))
    ack = await venue.submit(_buy("f-429"))
    assert ack.accepted
    assert _placements(sim, "f-429") == 1


async def test_submit_after_5xx_looks_up_then_places_once(venue: CcxtVenue, sim: RunningSimulator) -> None:
    sim.injector.script(Fault.SERVER_ERROR)
    ack = await venue.submit(_buy("f-5xx"))
    assert ack.status is OrderStatus.FILLED
    assert _placements(sim, "f-5xx") == 1
    assert Fault.SERVER_ERROR in sim.injector.injected


async def test_dropped_answer_finds_order_by_client_id(venue: CcxtVenue, sim: RunningSimulator) -> None:
    sim.injector.script(Fault.DROP_AFTER_ACCEPT)
    ack = await venue.submit(_buy("f-drop"))
    assert ack.accepted
    assert not ack.duplicate
    venue_side = await sim.venue.order_status("f-drop")
    assert ack.venue_order_id == order_uuid(venue_side.venue_order_id)
    assert _placements(sim, "f-drop") == 1
    fills = (await venue.fills_since(None)).fills
    assert sum((f.quantity for f in fills), ZERO) == QTY


async def test_restarted_client_resubmitting_gets_the_existing_order(
    venue: CcxtVenue, sim: RunningSimulator
) -> None:
    first = await venue.submit(_buy("f-again"))
    fresh = _venue(sim)  # a new process: it has not sent "f-again" itself
    try:
        again = await fresh.submit(_buy("f-again"))
    finally:
        await fresh.close()
    assert again.venue_order_id == first.venue_order_id
    assert again.status is OrderStatus.FILLED
    assert _placements(sim, "f-again") == 1


async def test_partial_fill_completes_without_losing_fills(venue: CcxtVenue, sim: RunningSimulator) -> None:
    sim.injector.script(Fault.PARTIAL)
    ack = await venue.submit(_buy("f-part"))
    # Coinbase answers a create with the order id only; the adapter's read-back is a new request,
    # by which time the simulator has refilled the touch, so the ack may already show it all done.
    assert ack.accepted
    assert Fault.PARTIAL in sim.injector.injected
    final = await venue.order_status("f-part")
    assert final.status is OrderStatus.FILLED
    fills = (await venue.fills_since(None)).fills
    assert len(fills) == len({f.fill_id for f in fills}) == 2
    assert sum((f.quantity for f in fills), ZERO) == QTY


async def test_injected_reject_is_a_rejected_ack_unknown_to_venue(
    venue: CcxtVenue, sim: RunningSimulator
) -> None:
    sim.injector.script(Fault.REJECT)
    ack = await venue.submit(_buy("f-rej"))
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.INSUFFICIENT_FUNDS
    assert _placements(sim, "f-rej") == 0


async def _submit_with_retries(venue: CcxtVenue, req: OrderRequest, tries: int = 6) -> VenueAck | None:
    for _ in range(tries):
        try:
            return await venue.submit(req)
        except RetryableError:
            continue
    return None


async def test_random_fault_campaign_ends_with_one_order_per_intent() -> None:
    plan = FaultPlan.parse("429=0.1,5xx=0.1,drop_after_accept=0.1,partial=0.3,reject=0.1,seed=1")
    with running_simulator("coinbase", plan) as sim:
        venue = _venue(sim)
        try:
            acks: dict[str, VenueAck | None] = {}
            for n in range(12):
                cid = f"camp-{n:02d}"
                acks[cid] = await _submit_with_retries(venue, _buy(cid, Quantity(Decimal("0.002"))))
            sim.injector.plan = FaultPlan()  # reconcile on a quiet line
            assert sim.exchange is not None
            for cid, ack in acks.items():
                placed = sim.exchange.placements[cid]
                if ack is None:  # a recorded failure: the venue may still hold it; reconciliation finds it
                    assert placed <= 1
                elif ack.status is OrderStatus.REJECTED:
                    assert placed == 0
                else:
                    assert placed == 1
                    assert (await venue.order_status(cid)).status is OrderStatus.FILLED
            ours = (await venue.fills_since(None)).fills
            theirs = (await sim.venue.fills_since(None)).fills
            assert len({f.fill_id for f in ours}) == len(ours) == len(theirs)
            assert sum((f.quantity for f in ours), ZERO) == sum((f.quantity for f in theirs), ZERO)
            assert {Fault.PARTIAL, Fault.DROP_AFTER_ACCEPT} <= set(sim.injector.injected)
        finally:
            await venue.close()
