"""Typed questions to the ledger, answered with domain objects.

Every function takes a :class:`Queryable`: the writer (:class:`~gekko_agent.ledger.store.Ledger`)
or a reader (:class:`~gekko_agent.ledger.reader.LedgerReader`). Events come back decoded (equal to
what was appended); orders are folded from their events; positions and equity are the replay of
the journaled fills into a :class:`~gekko_agent.domain.portfolio.Portfolio`, so they are ``Decimal``
end to end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from gekko_agent.domain.clock import ensure_utc
from gekko_agent.domain.events import EVENT_TYPES, OrderFilled, OrderSubmitted, OrderUpdated
from gekko_agent.domain.instruments import AssetClass, InstrumentId, split_instrument_id
from gekko_agent.domain.money import Currency, Money, Price, Quantity
from gekko_agent.domain.orders import TERMINAL_STATES, Fill, Order, OrderStatus
from gekko_agent.domain.portfolio import Portfolio, Position
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.ledger.rows import EVENT_COLUMNS, StoredEvent, event_from_row

__all__ = [
    "InstrumentTerms",
    "Queryable",
    "decision_trail",
    "equity",
    "events",
    "fills",
    "order_trail",
    "orders",
    "portfolio",
    "positions",
]

InstrumentTerms = Mapping[InstrumentId, tuple[Currency, AssetClass]]
_ORDER_KINDS = (OrderSubmitted.kind, OrderUpdated.kind, OrderFilled.kind)


class Queryable(Protocol):
    """Anything that runs a read query: a Ledger or a LedgerReader."""

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` run with ``params``."""
        ...


def _kinds(kinds: str | Iterable[str] | None) -> list[str]:
    if kinds is None:
        return []
    wanted = [kinds] if isinstance(kinds, str) else list(kinds)
    unknown = sorted(set(wanted) - set(EVENT_TYPES))
    if unknown:
        known = ", ".join(sorted(EVENT_TYPES))
        raise InvalidInput(f"unknown event kind(s) {', '.join(unknown)}; known: {known}")
    return wanted


def events(
    source: Queryable,
    *,
    kinds: str | Iterable[str] | None = None,
    since: datetime | None = None,
    decision_id: str | None = None,
    client_order_id: str | None = None,
    instrument_id: InstrumentId | None = None,
    after_seq: int | None = None,
    limit: int | None = None,
    newest: bool = False,
) -> list[StoredEvent]:
    """Journaled events matching every filter given, oldest first.

    Args:
        source: the ledger or a reader.
        kinds: one kind or several (``order_filled``…); None for all.
        since: only events at or after this time.
        decision_id: only events of this decision (their own id or their intent's).
        client_order_id: only events about this order.
        instrument_id: only events about this instrument.
        after_seq: only events with a higher seq (for tailing the journal).
        limit: at most this many events: the oldest ones, or with ``newest`` the latest ones
            (still returned oldest first).
        newest: see ``limit``.

    Raises:
        InvalidInput: an unknown kind or a limit below 1.
    """
    where: list[str] = []
    params: list[object] = []
    wanted = _kinds(kinds)
    if wanted:
        where.append(f"kind IN ({', '.join('?' * len(wanted))})")
        params.extend(wanted)
    for column, value in (
        ("decision_id", decision_id),
        ("client_order_id", client_order_id),
        ("instrument_id", instrument_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("ts >= ?")
        params.append(ensure_utc(since))
    if after_seq is not None:
        where.append("seq > ?")
        params.append(after_seq)
    sql = f"SELECT {EVENT_COLUMNS} FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY seq {'DESC' if newest else 'ASC'}"
    if limit is not None:
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1 (got {limit})")
        sql += " LIMIT ?"
        params.append(limit)
    rows = source.fetch(sql, params)
    if newest:
        rows.reverse()
    return [event_from_row(r) for r in rows]


def fills(
    source: Queryable, *, instrument_id: InstrumentId | None = None, since: datetime | None = None
) -> list[Fill]:
    """Journaled fills in journal order, each once (a replayed fill id was never written twice)."""
    sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE kind = ? AND fill_id IS NOT NULL"
    params: list[object] = [OrderFilled.kind]
    if instrument_id is not None:
        sql += " AND instrument_id = ?"
        params.append(instrument_id)
    if since is not None:
        sql += " AND ts >= ?"
        params.append(ensure_utc(since))
    out: list[Fill] = []
    for row in source.fetch(sql + " ORDER BY seq", params):
        event = event_from_row(row).event
        assert isinstance(event, OrderFilled)
        out.append(event.fill)
    return out


def _with_fill(order: Order, fill: Fill) -> Order:
    if fill.fill_id in order.fill_ids:
        return order
    filled = order.filled_quantity + fill.quantity
    value = (order.avg_fill_price or Decimal(0)) * order.filled_quantity + fill.quantity * fill.price
    complete = filled >= order.intent.quantity
    status = order.status
    if complete:
        status = OrderStatus.FILLED
    elif status not in TERMINAL_STATES:
        status = OrderStatus.PARTIALLY_FILLED
    return dataclasses.replace(
        order,
        status=status,
        filled_quantity=Quantity(filled),
        avg_fill_price=Price(value / filled),
        fees=(*order.fees, fill.fee),
        updated_at=fill.ts,
        venue_order_id=order.venue_order_id or fill.venue_order_id,
        fill_ids=order.fill_ids | {fill.fill_id},
    )


def orders(source: Queryable, *, open_only: bool = False) -> dict[str, Order]:
    """Every submitted order's current state, by client order id, in submission order.

    The state is folded from the journal as recorded, without re-checking the order state
    machine (the journal is the record of what venues said): an ``order_updated`` sets the status,
    a fill adds quantity and makes the order partially filled, or filled once complete. Events of
    orders never journaled as submitted (e.g. found only by reconciliation) are skipped here; their
    fills still count in :func:`fills` and :func:`portfolio`.

    Args:
        source: the ledger or a reader.
        open_only: only orders that may still fill at the venue.
    """
    out: dict[str, Order] = {}
    for stored in events(source, kinds=_ORDER_KINDS):
        event = stored.event
        if isinstance(event, OrderSubmitted):
            if event.client_order_id not in out:
                out[event.client_order_id] = Order(
                    event.client_order_id, event.intent, status=OrderStatus.SUBMITTED, updated_at=event.ts
                )
        elif isinstance(event, OrderUpdated):
            order = out.get(event.client_order_id)
            if order is not None:
                out[event.client_order_id] = dataclasses.replace(
                    order,
                    status=event.status,
                    venue_order_id=event.venue_order_id or order.venue_order_id,
                    reason=event.reason or order.reason,
                    updated_at=event.ts,
                )
        elif isinstance(event, OrderFilled):
            order = out.get(event.fill.client_order_id)
            if order is not None:
                out[order.client_order_id] = _with_fill(order, event.fill)
    if open_only:
        return {k: o for k, o in out.items() if o.is_open}
    return out


def _terms(iid: InstrumentId, instruments: InstrumentTerms | None) -> tuple[Currency, AssetClass]:
    if instruments is not None and iid in instruments:
        return instruments[iid]
    symbol, _venue = split_instrument_id(iid)
    return symbol.split("/")[1], AssetClass.CRYPTO_SPOT


def portfolio(
    source: Queryable,
    *,
    instruments: InstrumentTerms | None = None,
    account_currency: Currency = "USD",
    starting_cash: Iterable[Money] = (),
) -> Portfolio:
    """The portfolio the journaled fills add up to.

    Args:
        source: the ledger or a reader.
        instruments: quote currency and asset class per instrument id; an instrument not named
            here takes the quote of its ``BASE/QUOTE@venue`` id and counts as crypto spot.
        account_currency: the currency equity is reported in.
        starting_cash: cash held before the first fill.

    Raises:
        InvalidInput: a fill's instrument id is not ``BASE/QUOTE@venue`` and is not in
            ``instruments``.
    """
    result = Portfolio(account_currency=account_currency)
    for money in starting_cash:
        result.deposit(money)
    for fill in fills(source):
        quote, asset_class = _terms(fill.instrument_id, instruments)
        result.apply_fill(fill, quote, asset_class)
    return result


def positions(
    source: Queryable, *, instruments: InstrumentTerms | None = None, include_flat: bool = False
) -> dict[InstrumentId, Position]:
    """Positions per instrument from the journaled fills (open ones unless ``include_flat``)."""
    held = portfolio(source, instruments=instruments).positions
    return {iid: p for iid, p in held.items() if include_flat or not p.is_flat}


def equity(
    source: Queryable,
    marks: Mapping[InstrumentId, Decimal],
    rates: Mapping[Currency, Decimal] | None = None,
    *,
    instruments: InstrumentTerms | None = None,
    account_currency: Currency = "USD",
    starting_cash: Iterable[Money] = (),
) -> Decimal:
    """Equity in the account currency: starting cash plus everything the fills changed, at ``marks``.

    Raises:
        DataNotFound: a mark or a currency rate is missing.
    """
    book = portfolio(
        source, instruments=instruments, account_currency=account_currency, starting_cash=starting_cash
    )
    return book.equity(marks, rates or {})


_DECISION_TRAIL = f"""
WITH linked_intents AS (
    SELECT intent_id FROM events WHERE decision_id = ? AND intent_id IS NOT NULL
), linked_orders AS (
    SELECT client_order_id FROM events
    WHERE client_order_id IS NOT NULL
      AND (decision_id = ? OR intent_id IN (SELECT intent_id FROM linked_intents))
)
SELECT {EVENT_COLUMNS} FROM events
WHERE decision_id = ?
   OR intent_id IN (SELECT intent_id FROM linked_intents)
   OR client_order_id IN (SELECT client_order_id FROM linked_orders)
ORDER BY seq
"""

_ORDER_TRAIL = f"""
WITH own AS (SELECT intent_id, decision_id FROM events WHERE client_order_id = ?)
SELECT {EVENT_COLUMNS} FROM events
WHERE client_order_id = ?
   OR intent_id IN (SELECT intent_id FROM own WHERE intent_id IS NOT NULL)
   OR (kind = 'agent_decided' AND decision_id IN (SELECT decision_id FROM own WHERE decision_id IS NOT NULL))
ORDER BY seq
"""


def decision_trail(
    source: Queryable, decision_id: str, *, kinds: str | Iterable[str] | None = None
) -> list[StoredEvent]:
    """Everything linked to one decision ("why did it buy?"), in journal order.

    That is the events carrying the decision id (the agent's record, its intents), the risk
    answers to those intents, and every event of the orders they became (submissions, updates,
    fills), even where those events do not repeat the decision id. ``kinds`` keeps only those kinds.

    Raises:
        DataNotFound: nothing in the ledger belongs to ``decision_id``.
        InvalidInput: an unknown kind.
    """
    wanted = _kinds(kinds)
    found = [event_from_row(r) for r in source.fetch(_DECISION_TRAIL, [decision_id] * 3)]
    if not found:
        raise DataNotFound(f"no ledger events for decision {decision_id!r}")
    return [s for s in found if s.kind in wanted] if wanted else found


def order_trail(
    source: Queryable, client_order_id: str, *, kinds: str | Iterable[str] | None = None
) -> list[StoredEvent]:
    """One order's story: its decision record, intent, risk answer, submission, updates and fills.

    Raises:
        DataNotFound: nothing in the ledger mentions ``client_order_id``.
        InvalidInput: an unknown kind.
    """
    wanted = _kinds(kinds)
    found = [event_from_row(r) for r in source.fetch(_ORDER_TRAIL, [client_order_id] * 2)]
    if not found:
        raise DataNotFound(f"no ledger events for order {client_order_id!r}")
    return [s for s in found if s.kind in wanted] if wanted else found
