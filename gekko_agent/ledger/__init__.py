"""The ledger: Gekko's append-only journal of events in one DuckDB file.

- :class:`Ledger` is the single writer of a file (``append`` / ``append_many``, durable on return,
  fills deduplicated by venue and fill id); opening migrates an older file forward.
- :func:`open_reader` reads a ledger while the agent writes it (see :mod:`.reader` for what DuckDB's
  file lock allows and the snapshot used when another process writes).
- :mod:`.queries` answers typed questions: events, orders, fills, positions, equity, decision trails.
- :mod:`.journal` prints events as one line for people.

``duckdb`` is imported only inside this package.
"""

from gekko_agent.ledger.journal import describe, journal_line, journal_record
from gekko_agent.ledger.migrations import LATEST_VERSION, MIGRATIONS, Migration
from gekko_agent.ledger.queries import (
    InstrumentTerms,
    Queryable,
    decision_trail,
    equity,
    events,
    fills,
    order_trail,
    orders,
    portfolio,
    positions,
)
from gekko_agent.ledger.reader import LedgerReader, open_reader
from gekko_agent.ledger.rows import QueryResult, StoredEvent
from gekko_agent.ledger.store import DEFAULT_LEDGER_PATH, MEMORY, Ledger

__all__ = [
    "DEFAULT_LEDGER_PATH",
    "LATEST_VERSION",
    "MEMORY",
    "MIGRATIONS",
    "InstrumentTerms",
    "Ledger",
    "LedgerReader",
    "Migration",
    "QueryResult",
    "Queryable",
    "StoredEvent",
    "decision_trail",
    "describe",
    "equity",
    "events",
    "fills",
    "journal_line",
    "journal_record",
    "open_reader",
    "order_trail",
    "orders",
    "portfolio",
    "positions",
]
