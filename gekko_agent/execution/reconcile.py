"""Reconciliation: compare the ledger with a venue and settle every difference in the journal.

The venue is the truth about what happened at the venue; the ledger is the truth about what Gekko
asked for. :class:`Reconciler` compares the two for one venue and, for each difference, journals
what it did — nothing is dropped silently:

=========================  ======================================================================
difference                 action
=========================  ======================================================================
``missed_fill``            the venue's fill is journaled (``OrderFilled``; deduped by fill id)
``unknown_at_venue``       the ledger's open order is marked ``rejected`` (never acknowledged) or
                           ``canceled`` with reason "unknown at venue after reconcile"
``closed_at_venue``        the ledger's open order takes the venue's terminal status
``open_at_venue``          an order the ledger holds closed is live at the venue: reopened
``status_behind``          the venue acknowledged an order the ledger still calls submitted
``filled_quantity``        ledger and venue disagree on how much of an order filled: journaled
``not_in_ledger``          the venue holds an order Gekko never journaled: alert, left alone
``balance``                a balance differs from the last one observed plus later fills: the
                           venue's balances are journaled as the new baseline
``position``               a margin position differs from the journaled fills: journaled
=========================  ======================================================================

Every run ends with one ``ReconciliationCompleted`` listing the differences, plus an
``AlertRaised`` for each difference that changed the ledger or needs a person. A second run right
after the first finds nothing to change (``tests/execution`` checks this).

With an engine (:class:`~gekko_agent.execution.resume.RestorableExecutionEngine`) missed fills go
through the engine (so its portfolio books them) and afterwards the engine adopts the orders and
portfolio folded from the ledger; the caller then lifts the risk watermark with
``engine.mark_reconciled(venue)``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Protocol, TypeVar

from gekko_agent.domain import (
    AlertRaised,
    BalancesObserved,
    Clock,
    Currency,
    Fill,
    Money,
    Order,
    OrderFilled,
    OrderStatus,
    OrderUpdated,
    ReconciliationCompleted,
)
from gekko_agent.domain.money import ZERO
from gekko_agent.errors import OrderNotFound, RetryableError
from gekko_agent.execution.engine import EventSink
from gekko_agent.execution.ports import Venue, VenueOrder
from gekko_agent.execution.reconcile_report import Difference, DifferenceKind, ReconciliationReport
from gekko_agent.execution.resume import (
    RestorableExecutionEngine,
    balance_baselines,
    expected_balances,
    ledger_fills,
    restore_portfolio,
    venue_of,
)
from gekko_agent.ledger import InstrumentTerms, Queryable, orders

__all__ = [
    "UNKNOWN_AT_VENUE",
    "Difference",
    "DifferenceKind",
    "LedgerPort",
    "Reconciler",
    "ReconciliationReport",
]

UNKNOWN_AT_VENUE = "unknown at venue after reconcile"
T = TypeVar("T")
_K = DifferenceKind
_SETTLE_ROUNDS = 3


class LedgerPort(EventSink, Queryable, Protocol):
    """The ledger as reconciliation uses it: appends and read queries."""


class Reconciler:
    """Compares the ledger with venues and settles the differences (see the module docstring).

    Args:
        ledger: the journal (appends and queries).
        clock: stamps the events it journals.
        instruments: quote currency and asset class per traded instrument.
        engine: the running engine, when there is one (live sessions); None for ``gekko reconcile``.
        tolerance: balances closer than this are equal (venues round fees).
        account_currency: the account's currency, for the restored portfolio.
        starting_cash: cash of venues that never reported balances, for the restored portfolio.
        read_attempts: tries per venue read (reads are idempotent) before a RetryableError escapes.
        retry_delay: seconds between those tries.
    """

    def __init__(
        self,
        ledger: LedgerPort,
        clock: Clock,
        instruments: InstrumentTerms,
        *,
        engine: RestorableExecutionEngine | None = None,
        tolerance: Decimal = Decimal("1e-8"),
        account_currency: Currency = "USD",
        starting_cash: Mapping[Currency, Decimal] | None = None,
        read_attempts: int = 5,
        retry_delay: float = 0.1,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.instruments = dict(instruments)
        self.engine = engine
        self.tolerance = tolerance
        self.account_currency = account_currency
        self.starting_cash = dict(starting_cash or {})
        self.read_attempts = max(1, read_attempts)
        self.retry_delay = retry_delay

    async def _read(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.read_attempts):
            try:
                return await call()
            except RetryableError:
                if attempt + 1 == self.read_attempts:
                    raise
                await asyncio.sleep(self.retry_delay)
        raise AssertionError("unreachable")

    async def reconcile(self, venue: Venue) -> ReconciliationReport:
        """Compare the ledger with ``venue``, settle and journal every difference, and report.

        Raises:
            RetryableError: the venue could not be reached; whatever was settled before stays
                journaled (a rerun is idempotent) and the venue is not marked reconciled.
        """
        name = venue.name
        started = self.clock.now()
        found: list[Difference] = []
        adopted = await self._adopt_fills(venue, found)
        marked = await self._check_orders(venue, found)
        for _ in range(_SETTLE_ROUNDS):  # fills landing while we look would fake a balance difference
            venue_balances = {c: m.amount for c, m in (await self._read(venue.balances)).items()}
            late = await self._adopt_fills(venue, found)
            adopted += late
            if not late:
                break
        if venue.capabilities.margin:
            await self._check_positions(venue, found)
        else:
            self._check_balances(name, venue_balances, found)
        for diff in found:
            if diff.needs_alert:
                self.ledger.append(
                    AlertRaised(
                        ts=self.clock.now(),
                        level="warning",
                        source=f"reconcile:{name}",
                        message=diff.describe(),
                    )
                )
        self.ledger.append(
            ReconciliationCompleted(
                ts=self.clock.now(), venue=name, differences=tuple(d.describe() for d in found)
            )
        )
        if self.engine is not None:
            self._resync_engine()
        return ReconciliationReport(name, started, tuple(found), adopted, marked)

    # -- fills -----------------------------------------------------------------------------------

    async def _adopt_fills(self, venue: Venue, found: list[Difference]) -> int:
        known = {f.fill_id for _, f in ledger_fills(self.ledger, venue.name)}
        ledger_orders = orders(self.ledger)
        batch = await self._read(functools.partial(venue.fills_since, None))
        adopted = 0
        for fill in batch.fills:
            if fill.fill_id in known:
                continue
            known.add(fill.fill_id)
            order = ledger_orders.get(fill.client_order_id)
            found.append(
                Difference(
                    _K.MISSED_FILL,
                    fill.fill_id,
                    "absent",
                    f"{fill.side} {fill.quantity} {fill.instrument_id} @ {fill.price} "
                    f"for {fill.client_order_id}",
                    "journaled the venue's fill",
                )
            )
            if order is None:
                found.append(
                    Difference(
                        _K.NOT_IN_LEDGER,
                        fill.client_order_id,
                        "no order",
                        f"order filled {fill.quantity} {fill.instrument_id}",
                        "fill journaled; the order itself was never journaled by Gekko",
                    )
                )
            self._book_fill(fill, order)
            adopted += 1
        return adopted

    def _book_fill(self, fill: Fill, order: Order | None) -> None:
        engine = self.engine
        if engine is not None and fill.instrument_id in engine.instruments:
            engine.on_fill(fill)
            return
        decision = order.intent.decision_id if order is not None else None
        self.ledger.append(OrderFilled(ts=fill.ts, decision_id=decision, fill=fill))

    # -- orders ----------------------------------------------------------------------------------

    async def _check_orders(self, venue: Venue, found: list[Difference]) -> int:
        ledger_orders = {
            cid: o for cid, o in orders(self.ledger).items() if venue_of(o.instrument_id) == venue.name
        }
        marked = 0
        for cid, order in ledger_orders.items():
            if not order.is_open:
                continue
            try:
                vo = await self._read(functools.partial(venue.order_status, cid))
            except OrderNotFound:
                status = (
                    OrderStatus.REJECTED if order.status is OrderStatus.SUBMITTED else OrderStatus.CANCELED
                )
                found.append(
                    Difference(
                        _K.UNKNOWN_AT_VENUE, cid, order.status.value, "unknown", f"marked {status.value}"
                    )
                )
                self._update(order, status, None, UNKNOWN_AT_VENUE)
                marked += 1
                continue
            marked += self._compare_order(order, vo, found)
        for vo in await self._read(venue.open_orders):
            mine = ledger_orders.get(vo.client_order_id)
            if mine is None:
                found.append(
                    Difference(
                        _K.NOT_IN_LEDGER,
                        vo.client_order_id,
                        "no order",
                        f"open {vo.side} {vo.quantity} {vo.instrument_id}",
                        "left at the venue for a person to decide",
                    )
                )
            elif mine.is_terminal:
                found.append(
                    Difference(
                        _K.OPEN_AT_VENUE, vo.client_order_id, mine.status.value, vo.status.value, "reopened"
                    )
                )
                self._update(mine, vo.status, vo.venue_order_id, "open at venue after reconcile")
                marked += 1
        return marked

    def _compare_order(self, order: Order, vo: VenueOrder, found: list[Difference]) -> int:
        cid = order.client_order_id
        if vo.filled_quantity != order.filled_quantity:
            found.append(
                Difference(
                    _K.FILLED_QUANTITY,
                    cid,
                    str(order.filled_quantity),
                    str(vo.filled_quantity),
                    "journaled; the venue's fills are adopted as it reports them",
                )
            )
        if vo.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
            found.append(
                Difference(
                    _K.CLOSED_AT_VENUE, cid, order.status.value, vo.status.value, f"marked {vo.status.value}"
                )
            )
            self._update(
                order, vo.status, vo.venue_order_id, vo.reason or f"{vo.status.value} at venue (reconcile)"
            )
            return 1
        if vo.status is OrderStatus.FILLED and vo.filled_quantity == order.filled_quantity:
            return 0  # the journaled fills already complete it
        if order.status is OrderStatus.SUBMITTED and vo.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
        ):
            found.append(
                Difference(_K.STATUS_BEHIND, cid, order.status.value, vo.status.value, "marked accepted")
            )
            self._update(order, OrderStatus.ACCEPTED, vo.venue_order_id, "")
            return 1
        return 0

    def _update(self, order: Order, status: OrderStatus, venue_order_id: str | None, reason: str) -> None:
        self.ledger.append(
            OrderUpdated(
                ts=self.clock.now(),
                decision_id=order.intent.decision_id,
                client_order_id=order.client_order_id,
                status=status,
                venue_order_id=venue_order_id or order.venue_order_id,
                reason=reason,
            )
        )

    # -- balances and positions ------------------------------------------------------------------

    def _check_balances(
        self, name: str, venue_balances: Mapping[Currency, Decimal], found: list[Difference]
    ) -> None:
        baseline = balance_baselines(self.ledger).get(name)
        observed = BalancesObserved(
            ts=self.clock.now(),
            venue=name,
            balances=tuple(Money(a, c) for c, a in sorted(venue_balances.items())),
        )
        if baseline is None:
            self.ledger.append(observed)  # the first look: the venue's balances become the baseline
            return
        expected = expected_balances(baseline, ledger_fills(self.ledger, name), self.instruments)
        differs = False
        for ccy in sorted(set(expected) | set(venue_balances)):
            want, have = expected.get(ccy, ZERO), venue_balances.get(ccy, ZERO)
            if abs(want - have) > self.tolerance:
                differs = True
                found.append(
                    Difference(
                        _K.BALANCE,
                        ccy,
                        str(want),
                        str(have),
                        "adopted the venue's balances as the new baseline",
                    )
                )
        if differs:
            self.ledger.append(observed)

    async def _check_positions(self, venue: Venue, found: list[Difference]) -> None:
        held: dict[str, Decimal] = {}
        for _, fill in ledger_fills(self.ledger, venue.name):
            held[fill.instrument_id] = held.get(fill.instrument_id, ZERO) + fill.quantity * fill.side.sign
        at_venue = {p.instrument_id: p.quantity for p in await self._read(venue.positions)}
        for iid in sorted(set(held) | set(at_venue)):
            want, have = held.get(iid, ZERO), at_venue.get(iid, ZERO)
            if want != have:
                found.append(
                    Difference(_K.POSITION, iid, str(want), str(have), "journaled for a person to check")
                )

    # -- engine ----------------------------------------------------------------------------------

    def _resync_engine(self) -> None:
        engine = self.engine
        assert engine is not None
        portfolio = restore_portfolio(
            self.ledger,
            self.instruments,
            account_currency=self.account_currency,
            starting_cash=self.starting_cash,
        )
        engine.restore(orders(self.ledger).values(), portfolio)
