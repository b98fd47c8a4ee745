"""``gekko ledger``: read the journal of decisions, orders and fills.

Both commands only read. They work while the agent runs: DuckDB lets no other process open a file
that a writer holds, not even read-only, so they then read a snapshot copy taken at that moment
(see :mod:`gekko_agent.ledger.reader`). ``duckdb`` is imported only when a command runs, so that
``gekko --help`` stays fast.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["DEFAULT_LEDGER", "app"]

DEFAULT_LEDGER = Path("var/gekko.duckdb")

app = typer.Typer(help="Query the journal of decisions, orders and fills.", no_args_is_help=True)

LedgerOption = Annotated[
    Path, typer.Option("--ledger", help="The ledger file (agent.yaml: ledger.path).", show_default=True)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _decimal(value: Decimal) -> str:
    """Exact decimal string without the trailing zeros of a DECIMAL(38,18) column."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(value: Any) -> Any:
    """JSON-safe value: Decimals and times as strings (exact), containers recursively."""
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _note(source: str, path: Path) -> None:
    if source == "snapshot":
        typer.secho(f"(read from a snapshot of {path}: the agent holds the file)", err=True, dim=True)


@app.command("query")
def query(
    sql: Annotated[str, typer.Argument(help='One SELECT statement, e.g. "select * from fills".')],
    ledger: LedgerOption = DEFAULT_LEDGER,
    as_json: JsonOption = False,
) -> None:
    """Run one read-only SQL query against the ledger.

    Tables and views: events (the journal; payload is JSON), fills, intents, risk_decisions,
    schema_migrations. Amounts are DECIMAL(38,18) in the views and decimal strings in payloads.
    """
    from gekko_agent.ledger import open_reader

    with open_reader(ledger) as reader:
        result = reader.query(sql)
        _note(reader.source, ledger)
    if as_json:
        typer.echo(json.dumps(_plain(result.records()), indent=2, ensure_ascii=False))
        return
    table = Table(*result.columns, show_lines=False)
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    console = Console()
    console.print(table)
    console.print(f"{len(result.rows)} row(s)", style="dim")


@app.command("journal")
def journal(
    ledger: LedgerOption = DEFAULT_LEDGER,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only this event kind (repeatable), e.g. order_filled.")
    ] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="The whole trail of one decision id (why did it buy?).")
    ] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="The whole trail of one client order id.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most the latest N events.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Print the journal as one line per event, newest last."""
    from gekko_agent.ledger import (
        decision_trail,
        events,
        journal_line,
        journal_record,
        open_reader,
        order_trail,
    )

    with open_reader(ledger) as reader:
        if decision is not None:
            found = decision_trail(reader, decision, kinds=kind)[-limit:]
        elif order is not None:
            found = order_trail(reader, order, kinds=kind)[-limit:]
        else:
            found = events(reader, kinds=kind, limit=limit, newest=True)
        _note(reader.source, ledger)
    if as_json:
        typer.echo(json.dumps([journal_record(s) for s in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no events")
        return
    for stored in found:
        typer.echo(journal_line(stored))
