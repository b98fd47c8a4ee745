"""``gekko reconcile``: compare the ledger with each configured venue and settle the differences.

It opens the ledger for writing (the agent must not be running: a running agent reconciles on its
own timer), builds the ccxt / OANDA venues agent.yaml names (credentials from their ``SecretRef``,
never printed), runs :class:`~gekko_agent.execution.reconcile.Reconciler` on each and prints what
it found and did. Paper venues live inside the process that trades them and are skipped.
Exit status: 0 when every venue agreed or was settled, 1 when a venue could not be reached.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.execution.reconcile import ReconciliationReport

__all__ = ["reconcile"]


async def _run(cfg: GekkoConfig, ledger_path: Path) -> tuple[list[ReconciliationReport], list[str]]:
    from gekko_agent.domain import LiveClock
    from gekko_agent.errors import RetryableError
    from gekko_agent.execution.reconcile import Reconciler
    from gekko_agent.ledger import Ledger
    from gekko_agent.runtime.live import build_venues
    from gekko_agent.runtime.wiring import build_instruments

    clock = LiveClock()
    venues = build_venues(cfg, clock)
    terms = {iid: (i.quote, i.asset_class) for iid, i in build_instruments(cfg).items()}
    reports: list[ReconciliationReport] = []
    failures: list[str] = []
    try:
        with Ledger(ledger_path) as ledger:
            reconciler = Reconciler(ledger, clock, terms, account_currency=cfg.account.currency)
            for name, venue in venues.items():
                try:
                    reports.append(await reconciler.reconcile(venue))
                except RetryableError as exc:
                    failures.append(f"{name}: not reconciled: {exc}")
    finally:
        for venue in venues.values():
            await venue.close()
    return reports, failures


def reconcile(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="agent.yaml to use (default: ./agent.yaml or the shipped one)."),
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Ledger file (default: ledger.path from agent.yaml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Compare the ledger with every configured ccxt / OANDA venue; journal and print the differences."""
    from gekko_agent.config import CcxtVenueConfig, OandaVenueConfig, load_config

    cfg = load_config(config)
    console = Console()
    live = {n for n, v in cfg.venues.items() if isinstance(v, (CcxtVenueConfig, OandaVenueConfig))}
    traded = {i.venue for i in cfg.instruments}
    skipped = sorted(set(cfg.venues) - (live & traded))
    reports, failures = asyncio.run(_run(cfg, ledger or cfg.ledger.path)) if live & traded else ([], [])
    if as_json:
        payload = {"reports": [r.to_dict() for r in reports], "failures": failures, "skipped": skipped}
        typer.echo(json.dumps(payload, indent=2))
    else:
        for report in reports:
            style = "green" if report.clean else "yellow"
            console.print(f"[{style}]{report.headline()}[/]")
            for diff in report.differences:
                console.print(f"  {diff.describe()}", markup=False, highlight=False)
        for line in failures:
            console.print(f"[red]{line}[/]")
        if skipped:
            console.print(f"skipped (paper or untraded): {', '.join(skipped)}")
    if failures:
        raise typer.Exit(1)
