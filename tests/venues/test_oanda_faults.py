"""The OANDA adapter under injected faults: one order per intent, or a journaled failure; no lost fills."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from gekko_agent.domain.money import ZERO, Quantity
from gekko_agent.domain.orders import OrderSide, OrderStatus
from gekko_agent.errors import OrderNotFound, RateLimited, RetryableError
from gekko_agent.execution.ports import OrderRequest, RejectReason, VenueAck
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.exchange import SimExchange
from gekko_agent.testing.sim.faults import Fault, FaultPlan
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.oanda import OandaConfig, OandaVenue
from gekko_agent.venues.oanda._v20 import oandapyV20, transactions

T = TypeVar("T")
EUR = "EUR/USD@oanda"


class Sim:
    """A running simulator: its URL and its exchange (for scripting faults)."""

    def __init__(self, plan: FaultPlan) -> None:
        app, self.exchange = oanda_sim.build_app(oanda_sim.default_venue(), plan)
        self._server = SimServer(app)
        self.url = ""

    def venue(self, timeout_s: float = 0.4) -> OandaVenue:
        return OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "t", api_url=self.url, timeout_s=timeout_s))

    def creates_by_client_id(self) -> Counter[str]:
        """How many orders the simulated account created per client id, read over the wire."""
        env = f"gekko-faults-{id(self)}"
        oandapyV20.oandapyV20.TRADING_ENVIRONMENTS[env] = {"api": self.url, "stream": self.url}
        api = oandapyV20.API(access_token="t", environment=env, headers={"X-Gekko-Fault": "latency=0ms"})
        try:
            log = api.request(transactions.TransactionsSinceID(oanda_sim.ACCOUNT_ID, params={"id": "0"}))
        finally:
            api.close()
        return Counter(
            t["clientExtensions"]["id"] for t in log["transactions"] if str(t["type"]).endswith("_ORDER")
        )


@pytest.fixture
def sim() -> Iterator[Sim]:
    s = Sim(FaultPlan())
    with s._server as url:
        s.url = url
        yield s


@pytest.fixture
async def venue(sim: Sim) -> AsyncIterator[OandaVenue]:
    v = sim.venue()
    yield v
    await v.close()


def _buy(cid: str, qty: str = "1000") -> OrderRequest:
    return OrderRequest(cid, EUR, OrderSide.BUY, Quantity(Decimal(qty)))


async def _retrying(call: Callable[[], Awaitable[T]], tries: int = 40) -> T:
    for _ in range(tries - 1):
        try:
            return await call()
        except RetryableError:
            await asyncio.sleep(0.005)
    return await call()


def _script(exchange: SimExchange, *faults: Fault) -> None:
    exchange.injector.script(*faults)


async def test_submit_under_429_raises_rate_limited_and_places_nothing(sim: Sim, venue: OandaVenue) -> None:
    await venue.fills_since(None)  # the adapter's first request is not the submit
    _script(sim.exchange, Fault.RATE_LIMIT)
    with pytest.raises(RateLimited) as err:
        await venue.submit(_buy("f-429"))
    assert err.value.retry_after == 1
    with pytest.raises(OrderNotFound):
        await venue.order_status("f-429")
    ack = await venue.submit(_buy("f-429"))
    assert ack.status is OrderStatus.FILLED
    assert sim.creates_by_client_id()["f-429"] == 1


async def test_submit_after_5xx_looks_up_then_places_once(sim: Sim, venue: OandaVenue) -> None:
    await venue.balances()
    _script(sim.exchange, Fault.SERVER_ERROR)
    ack = await venue.submit(_buy("f-5xx"))
    assert ack.accepted
    assert ack.status is OrderStatus.FILLED
    assert sim.creates_by_client_id()["f-5xx"] == 1


async def test_submit_dropped_after_accept_returns_the_landed_order(sim: Sim, venue: OandaVenue) -> None:
    _script(sim.exchange, Fault.DROP_AFTER_ACCEPT)
    ack = await venue.submit(_buy("f-drop"))
    assert ack.accepted
    assert not ack.duplicate
    assert ack.order.filled_quantity == Decimal(1000)
    assert sim.creates_by_client_id()["f-drop"] == 1
    again = await venue.submit(_buy("f-drop"))
    assert again.duplicate
    assert again.venue_order_id == ack.venue_order_id
    assert sim.creates_by_client_id()["f-drop"] == 1


async def test_partial_fill_completes_on_next_request_without_losing_fills(
    sim: Sim, venue: OandaVenue
) -> None:
    start = await venue.fills_since(None)
    _script(sim.exchange, Fault.PARTIAL)
    ack = await venue.submit(_buy("f-part"))
    assert ack.status is OrderStatus.PARTIALLY_FILLED
    assert ack.order.filled_quantity == Decimal(500)
    order = await venue.order_status("f-part")
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal(1000)
    fills = (await venue.fills_since(start.cursor)).fills
    assert [f.quantity for f in fills] == [Decimal(500), Decimal(500)]
    assert len({f.fill_id for f in fills}) == 2
    positions = await venue.positions()
    assert [(p.instrument_id, p.quantity) for p in positions] == [(EUR, Decimal(1000))]


async def test_injected_reject_is_a_rejected_ack_and_no_order(sim: Sim, venue: OandaVenue) -> None:
    _script(sim.exchange, Fault.REJECT)
    ack = await venue.submit(_buy("f-rej"))
    assert ack.status is OrderStatus.REJECTED
    assert ack.order.reject_reason is RejectReason.NO_MARKET_DATA
    assert "MARKET_HALTED" in ack.order.reason
    with pytest.raises(OrderNotFound):
        await venue.order_status("f-rej")
    assert sim.creates_by_client_id()["f-rej"] == 0


async def _submit_until_answered(venue: OandaVenue, request: OrderRequest) -> VenueAck | None:
    """What an execution engine does: retry a retryable failure with the same client id."""
    for _ in range(20):
        try:
            return await venue.submit(request)
        except RetryableError:
            await asyncio.sleep(0.005)
    return None


async def test_fault_campaign_every_intent_is_one_order_or_a_failure_and_no_fill_is_lost() -> None:
    plan = FaultPlan(
        rate_limit=0.1,
        server_error=0.1,
        drop_after_accept=0.05,
        drop=0.05,
        drop_accepted=0.05,
        partial=0.2,
        reject=0.1,
        seed=7,
    )
    sim = Sim(plan)
    with sim._server as url:
        sim.url = url
        venue = sim.venue(timeout_s=0.3)
        journal: dict[str, Any] = {}
        for i in range(24):
            side = OrderSide.BUY if i % 3 else OrderSide.SELL
            request = OrderRequest(f"camp-{i:03d}", EUR, side, Quantity(Decimal(1000 + 10 * i)))
            ack = await _submit_until_answered(venue, request)
            journal[request.client_order_id] = ack if ack is not None else "failed"
        creates = sim.creates_by_client_id()
        fills = (await _retrying(lambda: venue.fills_since(None))).fills
        filled: Counter[str] = Counter()
        for f in fills:
            filled[f.client_order_id] += f.quantity
        for cid, outcome in journal.items():
            if isinstance(outcome, VenueAck) and outcome.accepted:
                order = await _retrying(lambda cid=cid: venue.order_status(cid))  # type: ignore[misc]
                assert creates[cid] == 1, cid
                assert order.status is OrderStatus.FILLED, cid
                assert filled[cid] == order.quantity, cid
            else:
                assert creates[cid] == 0, cid
                assert filled[cid] == ZERO, cid
        assert len({f.fill_id for f in fills}) == len(fills)
        assert sum(creates.values()) == len(creates)
        net = sum((f.quantity * f.side.sign for f in fills), ZERO)
        positions = await _retrying(venue.positions)
        assert sum((p.quantity for p in positions), ZERO) == net
        assert set(sim.exchange.injector.injected) == set(Fault)
        await venue.close()
