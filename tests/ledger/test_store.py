from __future__ import annotations

import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gekko_agent.domain import EVENT_TYPES, AgentDecided, AlertRaised, EquityMarked, OrderFilled
from gekko_agent.errors import InvalidInput, LedgerError
from gekko_agent.ledger import MEMORY, Ledger, events, fills, open_reader

if TYPE_CHECKING:
    from conftest import Samples


def test_append_every_kind_reads_back_equal(ledger_path: Path, samples: Samples) -> None:
    marked = EquityMarked(
        ts=samples.at(9),
        currency="USD",
        equity=Decimal("99000"),
        day_start=Decimal(100000),
        peak=Decimal(101000),
    )
    written = [*samples.every_kind(), marked]
    assert {e.kind for e in written} == set(EVENT_TYPES)
    with Ledger(ledger_path) as ledger:
        seqs = [ledger.append(e) for e in written]
    assert seqs == list(range(1, len(written) + 1))
    with Ledger(ledger_path) as ledger:
        stored = events(ledger)
    assert [s.event for s in stored] == written
    assert [s.seq for s in stored] == seqs
    assert all(s.schema_version == type(s.event).schema_version for s in stored)


def test_append_many_every_kind_reads_back_equal_in_one_batch(samples: Samples) -> None:
    written = samples.every_kind()
    with Ledger(MEMORY) as ledger:
        ledger.append(AlertRaised(ts=samples.t0, level="info", source="t", message="first"))
        seqs = ledger.append_many(written)
        assert seqs == list(range(2, len(written) + 2))
        assert [s.event for s in events(ledger, after_seq=1)] == written
        assert ledger.append_many([]) == []


def test_append_extracts_index_columns(samples: Samples) -> None:
    with Ledger(MEMORY) as ledger:
        ledger.append_many(samples.order_story())
        rows = ledger.fetch(
            "SELECT kind, decision_id, instrument_id, client_order_id, venue, intent_id, fill_id "
            "FROM events ORDER BY seq"
        )
    assert rows[1] == ("intent_proposed", "dec-1", "BTC/USD@paper", None, "paper", "int-1", None)
    assert rows[2] == ("risk_evaluated", None, None, None, None, "int-1", None)
    assert rows[3] == ("order_submitted", "dec-1", "BTC/USD@paper", "gk-1", "paper", "int-1", None)
    assert rows[5] == ("order_filled", None, "BTC/USD@paper", "gk-1", "paper", None, "gk-1-f1")


def test_append_replayed_fill_returns_existing_seq(samples: Samples) -> None:
    fill = OrderFilled(ts=samples.t0, fill=samples.fill("t-1", "0.1", "20000"))
    with Ledger(MEMORY) as ledger:
        first = ledger.append(fill)
        ledger.append(AlertRaised(ts=samples.t0, level="info", source="t", message="between"))
        assert ledger.append(fill) == first
        assert ledger.append_many([fill, fill]) == [first, first]
        assert len(fills(ledger)) == 1
        assert ledger.last_seq == 2
        assert ledger.fetch("SELECT count(*) FROM events")[0][0] == 2


def test_append_many_repeated_fill_in_batch_is_written_once(samples: Samples) -> None:
    fill = OrderFilled(ts=samples.t0, fill=samples.fill("t-9", "0.1", "20000"))
    alert = AlertRaised(ts=samples.t0, level="info", source="t", message="x")
    with Ledger(MEMORY) as ledger:
        assert ledger.append_many([fill, alert, fill]) == [1, 2, 1]
        assert ledger.append(alert) == 3


def test_append_same_fill_id_on_two_venues_keeps_both(samples: Samples) -> None:
    a = OrderFilled(ts=samples.t0, fill=samples.fill("123", "0.1", "20000", iid="BTC/USD@binanceus"))
    b = OrderFilled(ts=samples.t0, fill=samples.fill("123", "0.1", "20000", iid="BTC/USD@coinbase"))
    with Ledger(MEMORY) as ledger:
        assert [ledger.append(a), ledger.append(b)] == [1, 2]


def test_append_float_payload_raises_and_writes_nothing(samples: Samples) -> None:
    story = samples.order_story()
    bad = AgentDecided(ts=samples.t0, brain="rules", action="hold", detail={"x": 0.1})
    with Ledger(MEMORY) as ledger:
        with pytest.raises(InvalidInput, match="float"):
            ledger.append(bad)
        with pytest.raises(InvalidInput, match="float"):
            ledger.append_many([story[1], bad])
        assert ledger.last_seq == 0
        assert ledger.fetch("SELECT count(*) FROM events")[0][0] == 0


def test_reopen_continues_seq(ledger_path: Path, samples: Samples) -> None:
    with Ledger(ledger_path) as ledger:
        ledger.append_many(samples.order_story())
    with Ledger(ledger_path) as ledger:
        assert ledger.last_seq == 7
        assert ledger.append(AlertRaised(ts=samples.t0, level="info", source="t", message="x")) == 8


def test_second_writer_in_process_is_refused(ledger_path: Path) -> None:
    with Ledger(ledger_path), pytest.raises(LedgerError, match="already open for writing in this process"):
        Ledger(ledger_path)
    Ledger(ledger_path).close()  # released on close


def test_second_writer_process_gets_ledger_error(ledger_path: Path) -> None:
    code = (
        "import sys\n"
        "from gekko_agent.ledger import Ledger\n"
        "from gekko_agent.errors import LedgerError\n"
        "try:\n"
        "    Ledger(sys.argv[1])\n"
        "except LedgerError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    with Ledger(ledger_path):
        done = subprocess.run(
            [sys.executable, "-c", code, str(ledger_path)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 3, done.stderr
    assert "already open for writing by another process" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1


def test_closed_ledger_refuses_appends(samples: Samples) -> None:
    ledger = Ledger(MEMORY)
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerError, match="closed"):
        ledger.append(AlertRaised(ts=samples.t0, level="info", source="t", message="x"))


def test_concurrent_appends_get_unique_gapless_seqs(samples: Samples) -> None:
    alert = AlertRaised(ts=samples.t0, level="info", source="t", message="x")
    with Ledger(MEMORY) as ledger:
        got: list[int] = []
        lock = threading.Lock()

        def work() -> None:
            mine = [ledger.append(alert) for _ in range(25)]
            with lock:
                got.extend(mine)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(got) == list(range(1, 101))


def test_open_foreign_file_raises_ledger_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database" * 1000)
    with pytest.raises(LedgerError, match="cannot open ledger"):
        Ledger(junk)


def test_writer_after_reader_in_process_names_the_reader(ledger_path: Path) -> None:
    Ledger(ledger_path).close()
    with open_reader(ledger_path) as reader:
        assert reader.source == "file"
        with pytest.raises(LedgerError, match="open read-only in this process"):
            Ledger(ledger_path)
    with Ledger(ledger_path) as ledger, open_reader(ledger_path) as shared:
        assert shared.source == "writer"
        assert ledger.last_seq == 0
