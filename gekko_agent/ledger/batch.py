"""Events as insert-ready columns, for the ledger's batch append.

:meth:`Ledger.append_many <gekko_agent.ledger.store.Ledger.append_many>` hands DuckDB one NumPy
array per column. :func:`encode_batch` builds those columns straight from the events, with the same
values :func:`~gekko_agent.ledger.rows.to_row` gives one event (the same payload text, the same
index columns), without a row object per event: timestamps become microseconds since the epoch
(UTC) in one ``int64`` array, read by DuckDB as ``datetime64[us]`` exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from gekko_agent.domain.clock import ensure_utc
from gekko_agent.domain.events import Event
from gekko_agent.errors import InvalidInput
from gekko_agent.ledger.rows import COLUMNS, event_payload, index_columns

__all__ = ["Batch", "encode_batch", "ts_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # naive event times are UTC (ensure_utc)
_TEXT = COLUMNS[4:]  # decision_id … payload, in insert order


def ts_micros(ts: object) -> int:
    """``ts`` as microseconds since the epoch, UTC (a naive datetime is taken as UTC).

    Raises:
        InvalidInput: ``ts`` is not a datetime.
    """
    if type(ts) is datetime and (ts.tzinfo is UTC or ts.tzinfo is None):
        delta = ts - (_EPOCH_NAIVE if ts.tzinfo is None else _EPOCH)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not isinstance(ts, datetime):
        raise InvalidInput(f"ledger row timestamp {ts!r} is not a datetime")
    naive = ensure_utc(ts).replace(tzinfo=None)
    return int(np.datetime64(naive, "us").astype(np.int64))


@dataclass(slots=True)
class Batch:
    """The columns of several events, in order, before seqs are assigned.

    Attributes:
        micros: event times, microseconds since the epoch (UTC).
        kinds: event kinds.
        versions: schema versions.
        text: the text columns ``decision_id`` … ``payload`` (one list per column, None is NULL).
    """

    micros: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    text: tuple[list[str | None], ...] = field(default_factory=lambda: tuple([] for _ in _TEXT))

    def __len__(self) -> int:
        return len(self.kinds)

    def fill_keys(self) -> list[tuple[int, tuple[str, str]]]:
        """``(row, (venue, fill_id))`` of every fill, in order."""
        venues, fill_ids = self.text[3], self.text[5]
        return [(i, (venues[i] or "", f)) for i, f in enumerate(fill_ids) if f is not None]

    def columns(self, first_seq: int, keep: Sequence[int] | None = None) -> dict[str, np.ndarray[Any, Any]]:
        """One array per column of :data:`~gekko_agent.ledger.rows.COLUMNS`.

        Args:
            first_seq: the seq of the first row written; the rest follow one by one.
            keep: the rows to write, in order (all when None).
        """
        count = len(self) if keep is None else len(keep)
        pick = None if keep is None else np.asarray(keep, dtype=np.intp)

        def take(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            return values if pick is None else values[pick]

        out: dict[str, np.ndarray[Any, Any]] = {
            "seq": np.arange(first_seq, first_seq + count, dtype=np.int64),
            "ts": take(np.array(self.micros, dtype=np.int64)).view("datetime64[us]"),
            "kind": take(np.array(self.kinds, dtype=object)),
            "schema_version": take(np.array(self.versions, dtype=np.int32)),
        }
        for name, values in zip(_TEXT, self.text, strict=True):
            out[name] = take(np.array(values, dtype=object))
        return out


def encode_batch(events: Iterable[Event]) -> Batch:
    """Encode ``events`` into a :class:`Batch` (every event, before anything is written).

    Raises:
        InvalidInput: an event holds a float (or another value the payload encoder refuses), or its
            time is not a datetime.
    """
    batch = Batch()
    micros, kinds, versions = batch.micros, batch.kinds, batch.versions
    decision, instrument, order, venue, intent, fill, payloads = batch.text
    last_ts: object = None
    last_micros = 0
    for event in events:
        text = event_payload(event)
        d, i, o, v, n, f = index_columns(event)
        ts = event.ts
        if ts is not last_ts:  # the events of one bar share their time object
            last_ts, last_micros = ts, ts_micros(ts)
        micros.append(last_micros)
        kinds.append(event.kind)
        versions.append(event.schema_version)
        decision.append(d)
        instrument.append(i)
        order.append(o)
        venue.append(v)
        intent.append(n)
        fill.append(f)
        payloads.append(text)
    return batch
