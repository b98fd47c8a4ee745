"""The ``drop``, ``drop_accepted`` and ``skew`` faults, and how the real clients take them.

* ``drop`` resets the TCP connection before the venue sees the request; ``drop_accepted`` places
  the order and then resets the connection, with no answer: the client must find the order by its
  client id instead of placing it again.
* ``skew`` moves the venue's clock: Binance refuses signed requests outside ``recvWindow`` with
  ``-1021`` (ccxt ``InvalidNonce``), the ccxt adapter measures the venue's clock again and the
  retry goes through; Coinbase checks its token and timestamp windows against the skewed clock.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from gekko_agent.domain import LiveClock, OrderSide, OrderStatus, Quantity
from gekko_agent.errors import InvalidInput, RetryableError, VenueRejected, VenueUnavailable
from gekko_agent.execution.ports import OrderRequest, VenueAck
from gekko_agent.testing.sim import Fault, FaultInjector, FaultPlan, RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.testing.sim import coinbase as coinbase_sim
from gekko_agent.testing.sim import oanda as oanda_sim
from gekko_agent.testing.sim.server import SimServer
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig
from gekko_agent.venues.ccxt.client import build_exchange
from gekko_agent.venues.oanda import OandaConfig, OandaVenue

BTC = "BTC/USD@binanceus"
QTY = Quantity(Decimal("0.001"))


def _binance(sim: RunningSimulator) -> CcxtVenue:
    return CcxtVenue(_binance_config(sim), LiveClock())


def _binance_config(sim: RunningSimulator) -> CcxtVenueConfig:
    return CcxtVenueConfig(
        "binanceus",
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=sim.url,
        timeout_ms=2000,
        enable_rate_limit=False,
        lookup_delay_s=0.01,
        symbols=("BTC/USD",),
    )


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


@pytest.fixture
async def venue(sim: RunningSimulator) -> AsyncIterator[CcxtVenue]:
    v = _binance(sim)
    await v.instruments()
    yield v
    await v.close()


def _placements(sim: RunningSimulator, cid: str) -> int:
    assert sim.exchange is not None
    return sim.exchange.placements[cid]


# -- the plan ---------------------------------------------------------------------------------------


def test_parse_reads_drop_kinds_and_signed_skew() -> None:
    plan = FaultPlan.parse("drop=0.1,drop_accepted=0.2,timeout_after_accept=0.3,skew=-1.5s")
    assert (plan.drop, plan.drop_accepted, plan.drop_after_accept, plan.skew_ms) == (0.1, 0.2, 0.3, -1500)
    assert FaultPlan.parse("skew=250ms").skew_ms == 250
    assert FaultPlan.parse(
        "latency=50ms,429=0.05,5xx=0.02,drop_after_accept=0.05,partial=0.3,reject=0.01,seed=7"
    ) == (FaultPlan(50, 0.05, 0.02, 0.05, 0.3, 0.01, 7))


@pytest.mark.parametrize(
    "spec", ["latency=-5ms", "skew=nan", "skew=1e12", "skew=soon", "drop=1.5", "retry_after=-1", "drop"]
)
def test_parse_bad_new_items_raise_invalid_input(spec: str) -> None:
    with pytest.raises(InvalidInput):
        FaultPlan.parse(spec)


def test_plan_without_new_kinds_draws_the_same_faults_as_before_they_existed() -> None:
    """Seeded campaigns keep their fault sequences: new kinds draw only when they are set."""
    plan = FaultPlan.parse("429=0.2,5xx=0.1,drop_after_accept=0.2,partial=0.3,reject=0.1,seed=11")
    injector = FaultInjector(plan)
    rng = random.Random(
        11
    )  # the draw order of the original kinds: 429, 5xx | drop_after_accept, partial, reject

    def first(kinds: list[tuple[Fault, float]]) -> Fault | None:
        return next((kind for kind, p in kinds if rng.random() < p), None)

    for _ in range(200):
        expected_request = first([(Fault.RATE_LIMIT, 0.2), (Fault.SERVER_ERROR, 0.1)])
        assert injector.request_fault({})[0] == expected_request
        expected_order = first([(Fault.DROP_AFTER_ACCEPT, 0.2), (Fault.PARTIAL, 0.3), (Fault.REJECT, 0.1)])
        assert injector.order_fault({}) == expected_order


def test_header_names_drop_reset_and_skew() -> None:
    injector = FaultInjector(FaultPlan(skew_ms=40))
    assert injector.request_fault({"x-gekko-fault": "reset"})[0] is Fault.DROP
    assert injector.order_fault({"x-gekko-fault": "drop_accepted"}) is Fault.DROP_ACCEPTED
    assert injector.order_fault({"x-gekko-fault": "timeout"}) is Fault.DROP_AFTER_ACCEPT
    assert injector.skew_ms({"x-gekko-fault": "skew=-2s"}) == -2000
    assert injector.skew_ms({"x-gekko-fault": "skew=junk"}) == 40
    assert injector.skew_ms({}) == 40


# -- drop --------------------------------------------------------------------------------------------


async def test_read_dropped_before_the_venue_is_an_error_or_a_clean_retry(
    sim: RunningSimulator, venue: CcxtVenue
) -> None:
    sim.injector.script(Fault.DROP)
    outcome: object
    try:  # aiohttp resends an idempotent GET once when a reused connection dies unanswered
        outcome = (await venue.balances())["USD"].amount
    except VenueUnavailable as exc:
        outcome = type(exc.__cause__).__name__
    assert outcome in (Decimal(100_000), "ExchangeNotAvailable")
    assert Fault.DROP in sim.injector.injected


async def test_submit_dropped_before_the_venue_is_placed_once_on_retry(
    sim: RunningSimulator, venue: CcxtVenue
) -> None:
    sim.injector.script(Fault.DROP)  # the first request of the submit: the POST itself
    ack = await venue.submit(OrderRequest("drop-before", BTC, OrderSide.BUY, QTY))
    assert ack.accepted and ack.order.status is OrderStatus.FILLED
    assert sim.injector.injected == [Fault.DROP]
    assert _placements(sim, "drop-before") == 1


async def test_submit_dropped_after_accept_is_found_not_placed_again(
    sim: RunningSimulator, venue: CcxtVenue
) -> None:
    sim.injector.script(Fault.DROP_ACCEPTED)
    ack = await venue.submit(OrderRequest("drop-after", BTC, OrderSide.BUY, QTY))
    assert ack.accepted and ack.order.filled_quantity == QTY
    assert [f.quantity for f in ack.fills] == [QTY]
    assert sim.injector.injected == [Fault.DROP_ACCEPTED]
    assert _placements(sim, "drop-after") == 1


async def test_oanda_submit_dropped_after_accept_is_found_not_placed_again() -> None:
    app, exchange = oanda_sim.build_app(oanda_sim.default_venue(), FaultPlan())
    with SimServer(app) as url:
        venue = OandaVenue(OandaConfig(oanda_sim.ACCOUNT_ID, "t", api_url=url, timeout_s=2.0))
        try:
            exchange.injector.script(Fault.DROP_ACCEPTED)
            request = OrderRequest("oanda-drop", "EUR/USD@oanda", OrderSide.BUY, Quantity(Decimal(1000)))
            ack = await _until_answered(lambda: venue.submit(request))
            assert ack.accepted and ack.order.filled_quantity == Decimal(1000)
            exchange.injector.script(Fault.DROP)
            again = await _until_answered(lambda: venue.submit(request))
            assert again.order.venue_order_id == ack.order.venue_order_id
        finally:
            await venue.close()
    assert exchange.placements["oanda-drop"] == 1
    assert exchange.injector.injected == [Fault.DROP_ACCEPTED, Fault.DROP]


async def _until_answered(call: Callable[[], Awaitable[VenueAck]], tries: int = 5) -> VenueAck:
    """A submit retried while it raises a retryable error, as the ExecutionEngine retries it."""
    for _ in range(tries - 1):
        try:
            return await call()
        except RetryableError:
            await asyncio.sleep(0.01)
    return await call()


# -- skew --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skew_ms", "message"),
    [(-3000, "1000ms ahead of the server's time"), (15_000, "outside of the recvWindow")],
)
async def test_binance_refuses_requests_outside_recv_window_with_1021(
    sim: RunningSimulator, skew_ms: int, message: str
) -> None:
    sim.injector.plan = FaultPlan(skew_ms=skew_ms)
    exchange = build_exchange(_binance_config(sim))
    try:
        with pytest.raises(ccxt.InvalidNonce, match=message):
            await exchange.fetch_balance()
        server_ms = await exchange.fetch_time()
        assert abs(server_ms - exchange.milliseconds() - skew_ms) < 1000
        await exchange.load_time_difference()  # a client that measures the venue's clock gets in
        assert "USD" in (await exchange.fetch_balance())["total"]
    finally:
        await exchange.close()


async def test_binance_accepts_skew_inside_recv_window(sim: RunningSimulator, venue: CcxtVenue) -> None:
    sim.injector.plan = FaultPlan(skew_ms=4000)  # ccxt signs with recvWindow 10 s
    assert (await venue.balances())["USD"].amount == Decimal(100_000)


async def test_ccxt_venue_resyncs_its_clock_after_1021_and_places_once(
    sim: RunningSimulator, venue: CcxtVenue
) -> None:
    sim.injector.plan = FaultPlan(skew_ms=-5000)
    with pytest.raises(VenueUnavailable, match="-1021"):
        await venue.balances()
    assert (await venue.balances())["USD"].amount == Decimal(100_000)  # resynced
    sim.injector.plan = FaultPlan(skew_ms=20_000)  # the venue's clock jumps the other way
    request = OrderRequest("skewed", BTC, OrderSide.BUY, QTY)
    ack = await _until_answered(lambda: venue.submit(request))
    assert ack.accepted
    assert _placements(sim, "skewed") == 1


async def test_coinbase_checks_token_window_on_its_skewed_clock() -> None:
    with running_simulator("coinbase", FaultPlan(skew_ms=600_000)) as sim:
        config = CcxtVenueConfig(
            "coinbase",
            api_key=coinbase_sim.API_KEY,
            secret=coinbase_sim.API_SECRET,
            base_url=sim.url,
            timeout_ms=2000,
            enable_rate_limit=False,
        )
        venue = CcxtVenue(config, LiveClock())
        try:
            # ccxt's coinbase has no clock to resync: 10 minutes off reads as a refused key, as it
            # does against the real venue (401), and Gekko does not retry it
            with pytest.raises(VenueRejected, match="timestamp expired"):
                await venue.balances()
            sim.injector.plan = FaultPlan()
            assert (await venue.balances())["USD"].amount > 0
        finally:
            await venue.close()
