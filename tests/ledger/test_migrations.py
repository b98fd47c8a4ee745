from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from gekko_agent.domain import Event, OrderFilled, encode
from gekko_agent.errors import LedgerError
from gekko_agent.ledger import LATEST_VERSION, MEMORY, MIGRATIONS, Ledger, events, fills, open_reader
from gekko_agent.ledger.migrations import current_version, migrate

if TYPE_CHECKING:
    from conftest import Samples

_INDEX_COLUMNS = "kind, decision_id, instrument_id, client_order_id, venue, intent_id, fill_id"


def _write_v1(path: Path, written: list[Event]) -> None:
    """A file as the first ledger wrote it: schema 1, only the event's own top-level ids extracted."""
    conn = duckdb.connect(str(path))
    try:
        assert migrate(conn, str(path), target=1) == (0, 1)
        for seq, event in enumerate(written, start=1):
            conn.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    seq,
                    event.ts,
                    event.kind,
                    event.schema_version,
                    event.decision_id,
                    getattr(event, "instrument_id", None),
                    getattr(event, "client_order_id", None),
                    json.dumps(encode(event)),
                ],
            )
    finally:
        conn.close()


def _version(path: Path) -> int:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return current_version(conn)
    finally:
        conn.close()


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


def test_open_v1_file_migrates_to_latest_with_same_columns_as_fresh(
    ledger_path: Path, samples: Samples
) -> None:
    written = samples.every_kind()
    replayed = OrderFilled(ts=samples.at(9), fill=samples.fill("gk-1-f1", "0.2", "20000.00"))
    ledger_path.parent.mkdir(parents=True)
    _write_v1(ledger_path, [*written, replayed])
    assert _version(ledger_path) == 1

    with Ledger(ledger_path) as ledger:
        assert ledger.schema_version == LATEST_VERSION
        migrated = ledger.fetch(f"SELECT {_INDEX_COLUMNS} FROM events ORDER BY seq")
        applied = ledger.fetch("SELECT version FROM schema_migrations ORDER BY version")
        stored = events(ledger)
        assert len(fills(ledger)) == 2  # the v1 duplicate no longer counts as a fill
        assert ledger.append(replayed) == 6  # dedupe works on the migrated file
        quantities = ledger.fetch("SELECT quantity FROM fills ORDER BY seq")
    with Ledger(MEMORY) as fresh:
        fresh.append_many(written)
        expected = fresh.fetch(f"SELECT {_INDEX_COLUMNS} FROM events ORDER BY seq")

    assert migrated[: len(written)] == expected
    assert migrated[-1][-1] is None  # the duplicate keeps its row, loses its fill_id
    assert [v for (v,) in applied] == list(range(1, LATEST_VERSION + 1))
    assert [s.event for s in stored] == [*written, replayed]
    assert quantities == [(Decimal("0.2"),), (Decimal("0.3"),)]
    assert _version(ledger_path) == LATEST_VERSION


def test_open_newer_schema_raises_ledger_error(ledger_path: Path) -> None:
    Ledger(ledger_path).close()
    conn = duckdb.connect(str(ledger_path))
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', current_timestamp)", [99])
    conn.close()
    with pytest.raises(
        LedgerError, match=f"schema version 99 but this Gekko knows versions up to {LATEST_VERSION}"
    ):
        Ledger(ledger_path)
    with pytest.raises(LedgerError, match="upgrade Gekko"):
        open_reader(ledger_path)
    assert _version(ledger_path) == 99


def test_reader_reads_v1_file_without_migrating_it(ledger_path: Path, samples: Samples) -> None:
    ledger_path.parent.mkdir(parents=True)
    written = samples.order_story()
    _write_v1(ledger_path, written)
    with open_reader(ledger_path) as reader:
        assert reader.source == "snapshot"
        assert [s.event for s in events(reader)] == written
        assert len(reader.query("SELECT * FROM fills").rows) == 2
    assert _version(ledger_path) == 1


def test_open_file_with_events_but_no_migrations_raises_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE TABLE events (x INTEGER)")
    conn.close()
    with pytest.raises(LedgerError, match="not a Gekko ledger"):
        Ledger(path)
