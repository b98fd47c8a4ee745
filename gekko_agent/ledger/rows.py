"""How an event becomes a journal row and back.

The payload is :func:`~gekko_agent.domain.events.encode`'s JSON (decimal strings, ISO times), written
by :mod:`.encoding`'s compiled encoders (the same text, about four times faster). A few
fields are copied out of it into their own columns so queries can filter without parsing JSON:
``decision_id``, ``instrument_id``, ``client_order_id``, ``venue``, ``intent_id`` and ``fill_id``.
They are found by attribute name (also inside a nested ``intent`` or ``fill``), so a new event type
that carries, say, a ``client_order_id`` is indexed without a change here.

Every registered secret (:mod:`gekko_agent.secrets`) is masked in the payload before it is written,
whichever event carries it, so no ledger reader (TUI, chat-ops, ``gekko ledger``) can show one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gekko_agent.domain.clock import ensure_utc
from gekko_agent.domain.events import Event, decode, encode
from gekko_agent.domain.orders import Fill, OrderIntent
from gekko_agent.errors import InvalidInput, LedgerError
from gekko_agent.ledger.encoding import dumps
from gekko_agent.ledger.encoding import payload as fast_payload
from gekko_agent.secrets import contains_secret, scrub_data

__all__ = [
    "COLUMNS",
    "EVENT_COLUMNS",
    "EventRow",
    "QueryResult",
    "StoredEvent",
    "event_from_row",
    "event_payload",
    "index_columns",
    "to_row",
]

# columns written by the ledger, in insert order (seq first)
COLUMNS: tuple[str, ...] = (
    "seq",
    "ts",
    "kind",
    "schema_version",
    "decision_id",
    "instrument_id",
    "client_order_id",
    "venue",
    "intent_id",
    "fill_id",
    "payload",
)
# what queries select to rebuild an event with :func:`event_from_row`
EVENT_COLUMNS = "seq, kind, schema_version, payload"


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The answer to an ad-hoc SQL query.

    Attributes:
        columns: column names, in order.
        rows: one tuple per row (DECIMAL columns come back as ``Decimal``).
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def records(self) -> list[dict[str, Any]]:
        """The rows as ``{column: value}`` dicts."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as the ledger holds it.

    Attributes:
        seq: its position in the journal (1, 2, …; never reused).
        event: the decoded event, equal to the one appended.
        schema_version: the version of the event's class when it was written.
    """

    seq: int
    event: Event
    schema_version: int

    @property
    def kind(self) -> str:
        """The event's kind (``order_filled``, …)."""
        return self.event.kind


@dataclass(frozen=True, slots=True)
class EventRow:
    """The column values of one event, before a seq is assigned.

    Attributes:
        ts: event time as aware UTC.
        kind: the event's kind.
        schema_version: the event class's schema version.
        decision_id: the decision it belongs to (the event's own, else its intent's).
        instrument_id: ``SYMBOL@venue`` it concerns, when any.
        client_order_id: the order it concerns, when any.
        venue: the venue named by the event, else the one in its instrument id.
        intent_id: the intent it concerns, when any.
        fill_id: the venue's trade id, for ``order_filled`` only (dedupe key with ``venue``).
        payload: the JSON text of the encoded event.
    """

    ts: datetime
    kind: str
    schema_version: int
    decision_id: str | None
    instrument_id: str | None
    client_order_id: str | None
    venue: str | None
    intent_id: str | None
    fill_id: str | None
    payload: str

    def values(self, seq: int) -> list[object]:
        """Parameters for an insert of :data:`COLUMNS`."""
        return [
            seq,
            self.ts,
            self.kind,
            self.schema_version,
            self.decision_id,
            self.instrument_id,
            self.client_order_id,
            self.venue,
            self.intent_id,
            self.fill_id,
            self.payload,
        ]

    @property
    def fill_key(self) -> tuple[str, str] | None:
        """``(venue, fill_id)`` for a fill, else None."""
        return None if self.fill_id is None else (self.venue or "", self.fill_id)


def _str_attr(obj: object, name: str) -> str | None:
    value = getattr(obj, name, None)
    return value if isinstance(value, str) and value else None


IndexColumns = tuple[str | None, str | None, str | None, str | None, str | None, str | None]
_LOOKED_UP = ("intent", "fill", "instrument_id", "venue", "client_order_id", "intent_id")
_SHAPES: dict[type, tuple[bool, ...]] = {}


def _shape(cls: type) -> tuple[bool, ...]:
    """Which of :data:`_LOOKED_UP` an instance of ``cls`` may have (all, when that is not certain)."""
    plain = cls.__dictoffset__ == 0 and cls.__getattribute__ is object.__getattribute__  # type: ignore[comparison-overlap]
    shape = tuple(hasattr(cls, name) or not plain for name in _LOOKED_UP)
    _SHAPES[cls] = shape
    return shape


def index_columns(event: Event) -> IndexColumns:
    """``(decision_id, instrument_id, client_order_id, venue, intent_id, fill_id)`` of ``event``.

    Attributes the event's class cannot have are not looked up (the result is the same).
    """
    cls = type(event)
    has_intent, has_fill, has_instrument, has_venue, has_order, has_intent_id = _SHAPES.get(cls) or _shape(
        cls
    )
    intent = getattr(event, "intent", None) if has_intent else None
    if not isinstance(intent, OrderIntent):
        intent = None
    fill = getattr(event, "fill", None) if has_fill else None
    if not isinstance(fill, Fill):
        fill = None
    instrument = (
        (fill.instrument_id if fill else None)
        or (intent.instrument_id if intent else None)
        or (_str_attr(event, "instrument_id") if has_instrument else None)
    )
    venue = (_str_attr(event, "venue") if has_venue else None) or (
        instrument.partition("@")[2] if instrument else None
    )
    if fill is not None and venue is None:
        venue = ""
    return (
        event.decision_id or (intent.decision_id if intent else None),
        instrument,
        (_str_attr(event, "client_order_id") if has_order else None)
        or (fill.client_order_id if fill else None),
        venue,
        (_str_attr(event, "intent_id") if has_intent_id else None) or (intent.intent_id if intent else None),
        fill.fill_id if fill else None,
    )


def event_payload(event: Event) -> str:
    """The JSON text stored for ``event``: :func:`encode`'s data, compact, secrets masked.

    Raises:
        InvalidInput: the event holds a float or another value :func:`encode` refuses.
    """
    text = fast_payload(event)
    if contains_secret(text):  # the one write path of the ledger: no secret is ever stored
        text = dumps(scrub_data(encode(event)))
    return text


def to_row(event: Event) -> EventRow:
    """Encode ``event`` into its journal columns.

    Raises:
        InvalidInput: the event holds a float or another value :func:`encode` refuses.
    """
    text = event_payload(event)
    decision_id, instrument, order, venue, intent_id, fill_id = index_columns(event)
    return EventRow(
        ts=ensure_utc(event.ts),
        kind=event.kind,
        schema_version=event.schema_version,
        decision_id=decision_id,
        instrument_id=instrument,
        client_order_id=order,
        venue=venue,
        intent_id=intent_id,
        fill_id=fill_id,
        payload=text,
    )


def event_from_row(row: tuple[Any, ...]) -> StoredEvent:
    """Rebuild a stored event from ``(seq, kind, schema_version, payload)``.

    Raises:
        LedgerError: the payload is not valid JSON or does not decode into its kind.
    """
    seq, kind, schema_version, payload = row
    try:
        data = json.loads(payload) if isinstance(payload, str) else payload
        event = decode(kind, data)
    except (ValueError, TypeError, KeyError, InvalidInput) as exc:
        raise LedgerError(f"ledger event #{seq} ({kind}) cannot be decoded: {exc}") from exc
    return StoredEvent(seq=int(seq), event=event, schema_version=int(schema_version))
