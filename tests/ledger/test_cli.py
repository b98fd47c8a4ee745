from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from gekko_agent.cli.ledger import app
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.ledger import Ledger

if TYPE_CHECKING:
    from conftest import Samples


@pytest.fixture
def written(ledger_path: Path, samples: Samples) -> Path:
    with Ledger(ledger_path) as ledger:
        ledger.append_many(samples.every_kind())
        ledger.append_many(samples.order_story("dec-2", "gk-2", "int-2"))
    return ledger_path


def _written_count(samples: Samples) -> int:
    """Events the ``written`` fixture journals."""
    return len(samples.every_kind()) + len(samples.order_story("dec-2", "gk-2", "int-2"))


def _run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output, result.exception


def test_query_prints_table_of_rows(written: Path, samples: Samples) -> None:
    code, out, exc = _run(
        "query",
        "select kind, count(*) as n from events group by kind order by kind",
        "--ledger",
        str(written),
    )
    assert code == 0, exc
    assert "order_filled" in out
    assert f"{len({e.kind for e in samples.every_kind()})} row(s)" in out


def test_query_json_keeps_money_exact(written: Path) -> None:
    code, out, exc = _run(
        "query",
        "select f.fill_id, f.price, e.payload->>'$.fill.price' as raw "
        "from fills f join events e using (seq) order by seq",
        "--ledger",
        str(written),
        "--json",
    )
    assert code == 0, exc
    rows = json.loads(out)
    assert rows[0] == {"fill_id": "gk-1-f1", "price": "20000", "raw": "20000.00"}
    assert len(rows) == 4


def test_query_sql_error_raises_one_line_invalid_input(written: Path) -> None:
    code, _, exc = _run("query", "select nope from events", "--ledger", str(written))
    assert code != 0
    assert isinstance(exc, InvalidInput)
    assert str(exc).startswith("SQL error:")
    assert "\n" not in str(exc)


def test_query_syntax_error_raises_one_line_invalid_input(written: Path) -> None:
    _, _, exc = _run("query", "selec 1", "--ledger", str(written))
    assert isinstance(exc, InvalidInput)
    assert "\n" not in str(exc)


@pytest.mark.parametrize(
    "sql", ["delete from events", "insert into events select * from events", "select 1; select 2"]
)
def test_query_anything_but_one_select_is_refused(written: Path, samples: Samples, sql: str) -> None:
    _, _, exc = _run("query", sql, "--ledger", str(written))
    assert isinstance(exc, InvalidInput)
    with Ledger(written) as ledger:
        assert ledger.last_seq == _written_count(samples)


def test_query_missing_ledger_raises_data_not_found(tmp_path: Path) -> None:
    _, _, exc = _run("query", "select 1", "--ledger", str(tmp_path / "none.duckdb"))
    assert isinstance(exc, DataNotFound)


def test_query_beside_open_writer_reads_live(ledger_path: Path, samples: Samples) -> None:
    with Ledger(ledger_path) as ledger:
        ledger.append_many(samples.order_story())
        code, out, exc = _run(
            "query", "select count(*) as n from events", "--ledger", str(ledger_path), "--json"
        )
        assert code == 0, exc
        assert json.loads(out) == [{"n": 7}]


def test_journal_prints_latest_lines_newest_last(written: Path, samples: Samples) -> None:
    code, out, exc = _run("journal", "--ledger", str(written), "--limit", "3")
    assert code == 0, exc
    lines = out.strip().splitlines()
    last = _written_count(samples)
    assert [ln.split()[0] for ln in lines] == [f"#{last - 2}", f"#{last - 1}", f"#{last}"]
    assert "filled buy 0.3 BTC/USD@paper @ 20010.00 fee 1.25 USD" in lines[-1]


def test_journal_decision_shows_its_whole_trail(written: Path) -> None:
    code, out, exc = _run("journal", "--ledger", str(written), "--decision", "dec-2")
    assert code == 0, exc
    lines = out.strip().splitlines()
    assert len(lines) == 7
    assert "rules decided propose_orders: buy the crossover" in lines[0]
    assert "risk approved intent int-2 qty 0.5 [ok]: within every limit" in lines[2]


def test_journal_kind_filter_and_json(written: Path) -> None:
    code, out, exc = _run("journal", "--ledger", str(written), "--kind", "limit_changed", "--json")
    assert code == 0, exc
    records = json.loads(out)
    assert [r["kind"] for r in records] == ["limit_changed"]
    assert records[0]["event"]["new"] == "500"


def test_journal_unknown_kind_raises_invalid_input(written: Path) -> None:
    _, _, exc = _run("journal", "--ledger", str(written), "--kind", "order_exploded")
    assert isinstance(exc, InvalidInput)


def test_journal_unknown_decision_raises_data_not_found(written: Path) -> None:
    _, _, exc = _run("journal", "--ledger", str(written), "--decision", "dec-404")
    assert isinstance(exc, DataNotFound)


def test_import_cli_module_does_not_import_duckdb() -> None:
    code = "import sys, gekko_agent.cli.ledger; print('duckdb' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_gekko_on_a_file_that_is_not_a_ledger_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("not a database\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gekko_agent", "ledger", "query", "select 1", "--ledger", str(bogus)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gekko: ledger error:")
    assert str(bogus) in lines[0]
