"""The ledger's schema, as an ordered list of migrations.

A ledger file records the migrations applied to it in ``schema_migrations``. Opening a file for
writing applies the missing ones in order, each in its own transaction (a crash between two leaves
a file at the earlier version, and the next open carries on). A file whose version is newer than
:data:`LATEST_VERSION` is refused: this code cannot know what the newer columns mean.

Schema history:

1. ``events``: the append-only journal (seq, ts, kind, schema_version, decision_id, instrument_id,
   client_order_id, payload JSON).
2. ``venue``, ``intent_id`` and ``fill_id`` columns, back-filled from the payloads. A fill id that
   repeats an earlier one on the same venue keeps its row (the journal is append-only) but not its
   ``fill_id``, so it no longer counts as a fill.
3. A unique index on ``(venue, fill_id)``: the same fill cannot be journaled twice. DuckDB refuses to
   build an index in the transaction that updated the table, hence its own step.
4. Typed views ``fills``, ``intents`` and ``risk_decisions`` (amounts as ``DECIMAL(38,18)``, never
   ``DOUBLE``) for ad-hoc SQL such as ``gekko ledger query``.

Money never becomes a float: payloads keep decimal strings; the views cast them to DECIMAL.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gekko_agent.errors import LedgerError

if TYPE_CHECKING:
    import duckdb

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "check_version", "current_version", "migrate"]


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema.

    Attributes:
        version: the schema version the file is at once this step is applied (1, 2, …).
        description: a few words for ``schema_migrations`` and error messages.
        statements: SQL run in order inside one transaction.
    """

    version: int
    description: str
    statements: tuple[str, ...]


_DEC = "DECIMAL(38,18)"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events journal",
        (
            """
            CREATE TABLE events (
                seq BIGINT PRIMARY KEY,
                ts TIMESTAMPTZ NOT NULL,
                kind VARCHAR NOT NULL,
                schema_version INTEGER NOT NULL,
                decision_id VARCHAR,
                instrument_id VARCHAR,
                client_order_id VARCHAR,
                payload JSON NOT NULL
            )
            """,
        ),
    ),
    Migration(
        2,
        "venue, intent and fill columns",
        (
            "ALTER TABLE events ADD COLUMN venue VARCHAR",
            "ALTER TABLE events ADD COLUMN intent_id VARCHAR",
            "ALTER TABLE events ADD COLUMN fill_id VARCHAR",
            """
            UPDATE events SET
                decision_id = COALESCE(decision_id, payload->>'$.intent.decision_id'),
                instrument_id = COALESCE(
                    instrument_id, payload->>'$.fill.instrument_id', payload->>'$.intent.instrument_id'
                ),
                client_order_id = COALESCE(
                    client_order_id, payload->>'$.client_order_id', payload->>'$.fill.client_order_id'
                ),
                intent_id = COALESCE(payload->>'$.intent_id', payload->>'$.intent.intent_id')
            """,
            """
            UPDATE events SET
                venue = COALESCE(payload->>'$.venue', split_part(instrument_id, '@', 2)),
                fill_id = CASE WHEN kind = 'order_filled' THEN payload->>'$.fill.fill_id' END
            """,
            """
            UPDATE events SET fill_id = NULL WHERE seq IN (
                SELECT seq FROM (
                    SELECT seq, row_number() OVER (PARTITION BY venue, fill_id ORDER BY seq) AS n
                    FROM events WHERE fill_id IS NOT NULL
                ) WHERE n > 1
            )
            """,
        ),
    ),
    Migration(
        3,
        "unique fills",
        ("CREATE UNIQUE INDEX events_fill ON events (venue, fill_id)",),
    ),
    Migration(
        4,
        "typed views",
        (
            f"""
            CREATE VIEW fills AS SELECT
                seq, ts, decision_id, venue, instrument_id, client_order_id, fill_id,
                payload->>'$.fill.venue_order_id' AS venue_order_id,
                payload->>'$.fill.side' AS side,
                CAST(payload->>'$.fill.quantity' AS {_DEC}) AS quantity,
                CAST(payload->>'$.fill.price' AS {_DEC}) AS price,
                CAST(payload->>'$.fill.fee.amount' AS {_DEC}) AS fee,
                payload->>'$.fill.fee.currency' AS fee_currency,
                payload->>'$.fill.liquidity' AS liquidity,
                CAST(payload->>'$.fill.ts' AS TIMESTAMPTZ) AS fill_ts
            FROM events WHERE kind = 'order_filled' AND fill_id IS NOT NULL
            """,
            f"""
            CREATE VIEW intents AS SELECT
                seq, ts, decision_id, venue, instrument_id, intent_id,
                payload->>'$.intent.side' AS side,
                CAST(payload->>'$.intent.quantity' AS {_DEC}) AS quantity,
                payload->>'$.intent.order_type' AS order_type,
                CAST(payload->>'$.intent.limit_price' AS {_DEC}) AS limit_price,
                CAST(payload->>'$.intent.stop_price' AS {_DEC}) AS stop_price,
                payload->>'$.intent.strategy' AS strategy,
                payload->>'$.intent.rationale' AS rationale
            FROM events WHERE kind = 'intent_proposed'
            """,
            f"""
            CREATE VIEW risk_decisions AS SELECT
                seq, ts, decision_id, intent_id,
                payload->>'$.outcome' AS outcome,
                CAST(payload->'$.reasons' AS VARCHAR[]) AS reasons,
                payload->>'$.explanation' AS explanation,
                CAST(payload->>'$.approved_quantity' AS {_DEC}) AS approved_quantity
            FROM events WHERE kind = 'risk_evaluated'
            """,
        ),
    ),
)

LATEST_VERSION: int = MIGRATIONS[-1].version


def _table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The schema version of the open file (0 for an empty file).

    Raises:
        LedgerError: the file has an ``events`` table but no ``schema_migrations``: not a Gekko
            ledger, or one damaged by hand.
    """
    if not _table_exists(conn, "schema_migrations"):
        if _table_exists(conn, "events"):
            raise LedgerError("the file has an events table but no schema_migrations: not a Gekko ledger")
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def check_version(version: int, where: str) -> None:
    """Refuse a file written by a newer Gekko.

    Raises:
        LedgerError: ``version`` is above :data:`LATEST_VERSION`.
    """
    if version > LATEST_VERSION:
        raise LedgerError(
            f"ledger {where} has schema version {version} but this Gekko knows versions up to "
            f"{LATEST_VERSION}; upgrade Gekko to open it (the file was left untouched)"
        )


def migrate(conn: duckdb.DuckDBPyConnection, where: str, target: int | None = None) -> tuple[int, int]:
    """Bring the file forward to ``target`` (default: :data:`LATEST_VERSION`).

    Args:
        conn: a writable connection to the ledger file.
        where: the file's name, for error messages.
        target: stop at this version (tests use it to build old files).

    Returns:
        ``(version before, version after)``.

    Raises:
        LedgerError: the file is newer than this code, or a step failed (that step is rolled back).
    """
    import duckdb

    goal = LATEST_VERSION if target is None else target
    start = current_version(conn)
    check_version(start, where)
    if start == 0 and goal > 0:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
    for step in MIGRATIONS:
        if step.version <= start or step.version > goal:
            continue
        try:
            conn.execute("BEGIN TRANSACTION")
            for sql in step.statements:
                conn.execute(sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)",
                [step.version, step.description],
            )
            conn.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                conn.execute("ROLLBACK")
            first = str(exc).splitlines()[0]
            what = f"migration {step.version} ({step.description})"
            raise LedgerError(f"ledger {where}: {what} failed: {first}") from exc
    return start, max(start, min(goal, LATEST_VERSION))
