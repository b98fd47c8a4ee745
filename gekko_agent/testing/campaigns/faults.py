"""Fault campaign: thousands of venue requests through the ExecutionEngine and the real ccxt client
against the Binance wire simulator with injected faults, then reconciliation and a ledger/venue audit.

Faults (a :class:`~gekko_agent.testing.sim.FaultPlan` SPEC): ``429`` and ``5xx`` on any request;
``drop`` (the TCP connection is reset before the venue sees the request); ``drop_after_accept``
(the order is placed and the connection stays silent until the client's timeout);
``drop_accepted`` (the order is placed and the connection reset at once, no answer); ``partial``
fills; ``reject``. **Clock skew**: every ``skew_every`` requests the venue's clock steps to the next
offset of :data:`SKEW_STEPS_MS` (as an NTP correction or a drifting host would); offsets beyond
Binance's window (more than 1 s behind the client, or more than ccxt's 10 s ``recvWindow`` ahead)
make the venue refuse signed requests with ``-1021`` until the client measures the venue's clock
again.

The campaign submits, cancels, polls and refreshes at random (seeded) until the simulator has
answered ``requests`` HTTP requests. After every step it evaluates the venue circuit breaker with the
risk engine's own :func:`~gekko_agent.risk.breaker_trips` (default limits) and counts trips and
recoveries; while the breaker is tripped no new order is sent (the risk check would deny it). At the
end the faults stop (as a storm ends), and it reconciles and compares ledger and venue the way the
crash test does. Long campaigns run as sessions of ``session_requests`` (fresh simulator, engine and
ledger each), whose figures are added up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from gekko_agent.domain import (
    Fill,
    LiveClock,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Portfolio,
    Price,
    Quantity,
)
from gekko_agent.errors import GekkoError, OrderNotFound, RetryableError
from gekko_agent.execution.engine import ExecutionEngine
from gekko_agent.execution.reconcile import Reconciler
from gekko_agent.ledger import MEMORY, Ledger, events, fills, orders
from gekko_agent.risk import breaker_trips
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import RiskSnapshot, VenueHealth
from gekko_agent.testing.sim import FaultInjector, FaultPlan, SimExchange, SimServer, load_protocol
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.testing.sim.exchange import numeric_id
from gekko_agent.testing.sim.faults import ASGIApp, FaultMiddleware, Receive, Scope, Send
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

__all__ = ["DEFAULT_FAULTS", "SKEW_STEPS_MS", "FaultFigures", "run_fault_campaign"]

DEFAULT_FAULTS = (
    "429=0.05,5xx=0.05,drop=0.02,drop_after_accept=0.03,drop_accepted=0.03,partial=0.3,reject=0.02,"
    "retry_after=0"
)
# the venue clock's offsets (ms), stepped through in turn: beyond Binance's window both ways (the
# venue over 1 s behind the client, or over ccxt's 10 s recvWindow ahead) and inside it
SKEW_STEPS_MS = (-2_500, 700, 15_000, -800, 40_000, -60_000, 0)
DEFAULT_SKEW_EVERY = 150
VENUE = "binanceus"
IID = f"BTC/USD@{VENUE}"
T = TypeVar("T")


@dataclass
class FaultFigures:
    """What one fault campaign saw.

    Attributes:
        requests: HTTP requests the simulator answered (faulted ones included).
        operations: engine calls made (submit, cancel, poll, refresh).
        faults: injected faults by kind.
        orders: orders in the ledger.
        fills: fills at the venue.
        lost_fills: venue fills missing from the ledger.
        duplicate_fills: fills journaled more than once.
        duplicate_orders: intents that became more than one order, or client ids placed twice.
        resubmits: client ids the engine sent again after the venue said it did not know them.
        mismatches: ledger/venue differences left after reconciliation.
        unhandled: exceptions outside Gekko's error tree escaping the engine.
        typed_errors: Gekko errors surfaced to the caller (a cancel out of retries, a cancel refused).
        breaker_trips: times the venue circuit breaker tripped.
        breaker_recoveries: times it cleared again after a successful request.
        held_by_breaker: submits not sent because the breaker was tripped.
        skew_steps: times the venue's clock stepped to another offset.
        clock_refusals: signed requests the venue refused (``-1021``) for a timestamp off its clock.
        wall_s: wall-clock seconds.
    """

    requests: int = 0
    operations: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    fills: int = 0
    lost_fills: int = 0
    duplicate_fills: int = 0
    duplicate_orders: int = 0
    resubmits: int = 0
    mismatches: list[str] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    typed_errors: int = 0
    breaker_trips: int = 0
    breaker_recoveries: int = 0
    held_by_breaker: int = 0
    skew_steps: int = 0
    clock_refusals: int = 0
    wall_s: float = 0.0

    @property
    def clean(self) -> bool:
        """True when no fill was lost or doubled, no order duplicated, nothing mismatched or unhandled."""
        return not (
            self.lost_fills
            or self.duplicate_fills
            or self.duplicate_orders
            or self.mismatches
            or self.unhandled
        )


class _Counting:
    """ASGI middleware counting every HTTP request before the fault middleware sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


class _Breaker:
    """Tracks the venue circuit breaker as the risk engine evaluates it."""

    def __init__(self, figures: FaultFigures) -> None:
        self.limits = RiskLimits.from_config(RiskConfig())
        self.figures = figures
        self.tripped = False

    def observe(self, engine: ExecutionEngine) -> None:
        stats = engine.stats[VENUE]
        snapshot = RiskSnapshot(
            now=engine.clock.now(),
            account_currency="USD",
            cash={},
            positions={},
            instruments={},
            market={},
            venues={VENUE: VenueHealth(consecutive_errors=stats.consecutive_errors)},
        )
        tripped = any(t.breaker == f"venue:{VENUE}" for t in breaker_trips(snapshot, self.limits))
        if tripped and not self.tripped:
            self.figures.breaker_trips += 1
            stats.breaker_trips += 1
        elif self.tripped and not tripped:
            self.figures.breaker_recoveries += 1
        self.tripped = tripped


def _intent(n: int, rng: random.Random) -> OrderIntent:
    qty = Quantity(Decimal("0.001") * rng.randint(1, 5))
    kind = rng.random()
    if kind < 0.2:
        return OrderIntent(f"fault-{n}", IID, OrderSide.BUY, qty, OrderType.LIMIT, Price(Decimal("20000.00")))
    side = OrderSide.BUY if kind < 0.6 else OrderSide.SELL
    return OrderIntent(f"fault-{n}", IID, side, qty)


def _wire_fill_id(fill: Fill) -> str:
    return f"{fill.instrument_id.partition('@')[0].replace('/', '')}:{numeric_id(fill.fill_id)}"


async def _retried(call: Callable[[], Awaitable[T]]) -> T:
    """A venue read again while faults are injected (reads are idempotent)."""
    for _ in range(30):
        try:
            return await call()
        except RetryableError:
            await asyncio.sleep(0.01)
    return await call()


async def _step(engine: ExecutionEngine, rng: random.Random, n: int, breaker: _Breaker) -> None:
    roll = rng.random()
    open_ids = [o.client_order_id for o in engine.open_orders()]
    if roll < 0.6:
        if breaker.tripped:
            breaker.figures.held_by_breaker += 1
            await engine.poll()
        else:
            await engine.submit(_intent(n, rng))
    elif roll < 0.75 and open_ids:
        await engine.cancel(rng.choice(open_ids))
    elif roll < 0.9 or not engine.orders:
        await engine.poll()
    else:
        await engine.refresh(rng.choice(list(engine.orders)))


async def _audit(
    venue: CcxtVenue, ledger: Ledger, exchange: SimExchange | None, figures: FaultFigures
) -> None:
    clock = LiveClock()
    terms = {i.id: (i.quote, i.asset_class) for i in await _retried(venue.instruments)}
    reconciler = Reconciler(ledger, clock, terms, read_attempts=30, retry_delay=0.01)
    await reconciler.reconcile(venue)
    report = await reconciler.reconcile(venue)  # a second pass must find nothing left to settle
    figures.mismatches.extend(d.describe() for d in report.differences)
    # the venue's truth is read from the simulator's engine, not over the wire (a page there holds 500
    # trades); its fill ids are spelled as the wire spells them (``BTCUSD:<trade id>``)
    if exchange is not None:
        venue_fills = {_wire_fill_id(f) for f in (await exchange.venue.fills_since(None)).fills}
    else:
        venue_fills = {f.fill_id for f in (await _retried(lambda: venue.fills_since(None))).fills}
    journaled = [f.fill_id for f in fills(ledger)]
    figures.fills = len(venue_fills)
    figures.lost_fills = len(venue_fills - set(journaled))
    figures.duplicate_fills = len(journaled) - len(set(journaled))
    figures.mismatches.extend(f"fill {f} not at venue" for f in set(journaled) - venue_fills)
    submitted = [s.event for s in events(ledger, kinds="order_submitted")]
    per_intent = Counter(e.intent.intent_id for e in submitted if isinstance(e, OrderSubmitted))
    figures.duplicate_orders = sum(n - 1 for n in per_intent.values())
    state = orders(ledger)
    figures.orders = len(state)
    if exchange is not None:
        at_venue = Counter(o.client_order_id for o in await exchange.all_orders())
    else:
        listed: list[dict[str, Any]] = await _retried(lambda: venue.exchange.fetch_orders("BTC/USD"))
        at_venue = Counter(str(o.get("clientOrderId")) for o in listed)
    figures.duplicate_orders += sum(n - 1 for n in at_venue.values())
    figures.mismatches.extend(f"venue order {c} not in ledger" for c in at_venue if c not in state)
    if exchange is not None:
        figures.resubmits = sum(1 for n in exchange.placements.values() if n > 1)
    for cid, order in state.items():
        try:
            vo = await _retried(functools.partial(venue.order_status, cid))
        except OrderNotFound:
            if order.status is not OrderStatus.REJECTED:
                figures.mismatches.append(f"{cid}: unknown at venue but {order.status} in ledger")
            continue
        if (vo.filled_quantity, vo.is_terminal) != (order.filled_quantity, order.is_terminal):
            figures.mismatches.append(f"{cid}: venue {vo.status} {vo.filled_quantity}, ledger {order.status}")


class _SkewSteps:
    """Steps the venue's clock to the next offset of :data:`SKEW_STEPS_MS` every ``every`` requests."""

    def __init__(self, injector: FaultInjector | None, every: int, figures: FaultFigures) -> None:
        self.injector = injector
        self.every = every
        self.figures = figures
        self.next_at = every

    def observe(self, requests: int) -> None:
        if self.injector is None or not self.every or requests < self.next_at:
            return
        self.next_at = requests + self.every
        offset = SKEW_STEPS_MS[self.figures.skew_steps % len(SKEW_STEPS_MS)]
        self.injector.plan = dataclasses.replace(self.injector.plan, skew_ms=offset)
        self.figures.skew_steps += 1


async def _campaign(
    url: str, counter: _Counting, injector: FaultInjector | None, requests: int, seed: int, skew_every: int
) -> FaultFigures:
    figures = FaultFigures()
    clock = LiveClock()
    config = CcxtVenueConfig(
        VENUE,
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=url,
        timeout_ms=250,
        enable_rate_limit=False,
        lookup_delay_s=0.01,
        symbols=("BTC/USD",),
    )
    venue = CcxtVenue(config, clock)
    rng = random.Random(seed)
    breaker = _Breaker(figures)
    skew = _SkewSteps(injector, skew_every, figures)
    inner = getattr(getattr(counter.app, "app", None), "state", None)
    exchange = getattr(inner, "exchange", None)
    exchange = exchange if isinstance(exchange, SimExchange) else None
    try:
        with Ledger(MEMORY) as ledger:
            instruments = {i.id: i for i in await _retried(venue.instruments)}
            engine = ExecutionEngine(
                {VENUE: venue}, instruments, Portfolio("USD"), ledger, clock, retry_delay=0.01
            )
            n = 0
            while counter.count < requests:
                n += 1
                try:
                    await _step(engine, rng, n, breaker)
                except GekkoError:
                    figures.typed_errors += 1
                except Exception as exc:
                    figures.unhandled.append(f"{type(exc).__name__}: {exc}")
                figures.operations += 1
                breaker.observe(engine)
                skew.observe(counter.count)
            figures.requests = counter.count
            if injector is not None:
                figures.faults = dict(Counter(str(f.value) for f in injector.injected))
                injector.plan = FaultPlan()  # the storm ends; reconcile against a healthy venue
            await _audit(venue, ledger, exchange, figures)
            figures.clock_refusals = exchange.clock_refusals if exchange is not None else 0
    finally:
        await venue.close()
    return figures


def _one_session(requests: int, faults: str, seed: int, skew_every: int) -> FaultFigures:
    plan = FaultPlan.parse(faults, seed=seed)
    module = load_protocol("binance")
    app = module.create_app(module.default_venue(seed), plan)
    counter = _Counting(app)
    injector = app.injector if isinstance(app, FaultMiddleware) else None
    with SimServer(counter) as url:
        return asyncio.run(_campaign(url, counter, injector, requests, seed, skew_every))


def _merge(total: FaultFigures, part: FaultFigures) -> None:
    for name in ("requests", "operations", "orders", "fills", "lost_fills", "duplicate_fills"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for name in ("duplicate_orders", "resubmits", "typed_errors", "breaker_trips", "breaker_recoveries"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for name in ("held_by_breaker", "skew_steps", "clock_refusals"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.mismatches.extend(part.mismatches)
    total.unhandled.extend(part.unhandled)
    for kind, n in part.faults.items():
        total.faults[kind] = total.faults.get(kind, 0) + n


def run_fault_campaign(
    requests: int = 3000,
    faults: str = DEFAULT_FAULTS,
    seed: int = 7,
    session_requests: int = 1000,
    skew_every: int = DEFAULT_SKEW_EVERY,
) -> FaultFigures:
    """Serve the Binance simulator with ``faults`` and drive ``requests`` requests through the engine.

    Args:
        requests: HTTP requests to make in all (each session's audit adds a few hundred more).
        faults: a FaultPlan SPEC string.
        seed: seeds the simulator's fault draws, the clock steps and the campaign's operations.
        session_requests: requests per trading session (fresh simulator, engine and ledger, then
            reconcile and audit); 0 runs one session.
        skew_every: requests between steps of the venue's clock (0: the clock stays where the
            SPEC's ``skew`` puts it).

    Returns:
        The figures of all sessions together (see :class:`FaultFigures`).
    """
    started = time.monotonic()
    size = session_requests or requests
    total = FaultFigures()
    for index, begin in enumerate(range(0, requests, size)):
        _merge(total, _one_session(min(size, requests - begin), faults, seed + index, skew_every))
    total.wall_s = round(time.monotonic() - started, 1)
    return total
