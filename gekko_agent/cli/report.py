"""``gekko report``: after-the-fact reports read from the ledger.

``gekko report regret`` scores every denied or resized proposal in a ledger with its
counterfactual PnL over a horizon (see :mod:`gekko_agent.runtime.regret`) and says whether the risk
limits cost or saved money. Prices come from the bundled datasets agent.yaml names for each
instrument (``instruments[].dataset``); fees are the paper venue's taker fee on both legs.
Proposals on instruments without a dataset are counted but not scored. Heavy imports stay inside
the command so that ``gekko --help`` answers at once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.domain import InstrumentId
    from gekko_agent.market.bararray import BarArray
    from gekko_agent.runtime.regret import BlockedProposal, RegretReport, RegretRow

__all__ = ["app"]

app = typer.Typer(help="Reports read from the ledger (gate regret).", no_args_is_help=True)

LedgerOpt = Annotated[
    Path | None, typer.Option("--ledger", help="The ledger file (default: agent.yaml ledger.path).")
]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="agent.yaml naming each instrument's dataset and fees.")
]
HorizonOpt = Annotated[
    str, typer.Option("--horizon", help="How long a blocked trade is held: 30m, 60m, 4h, 1d.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@app.callback()
def _group() -> None:
    """Reports read from the ledger."""


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _bars(
    cfg: GekkoConfig, blocked: list[BlockedProposal], horizon: timedelta
) -> dict[InstrumentId, BarArray]:
    """Bars of each traded instrument with a dataset, covering the decisions and the horizon after them."""
    from gekko_agent.market import load_bars

    wanted = {b.intent.instrument_id for b in blocked}
    out: dict[InstrumentId, BarArray] = {}
    for ic in cfg.instruments:
        iid = f"{ic.symbol}@{ic.venue}"
        if iid not in wanted or ic.dataset is None:
            continue
        times = [b.ts for b in blocked if b.intent.instrument_id == iid]
        lo = min(times) - timedelta(hours=1)
        hi = max(times) + horizon + timedelta(hours=1)
        out[iid] = load_bars(ic.dataset, lo, hi, cache=cfg.data.cache)
    return out


def _fees(cfg: GekkoConfig) -> dict[InstrumentId, Decimal]:
    from gekko_agent.config import PaperVenueConfig

    out: dict[InstrumentId, Decimal] = {}
    for ic in cfg.instruments:
        venue = cfg.venues.get(ic.venue)
        if isinstance(venue, PaperVenueConfig):
            out[f"{ic.symbol}@{ic.venue}"] = venue.taker_fee_bps
    return out


def _row_json(row: RegretRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "currency": row.currency,
        "count": row.count,
        "scored": row.scored,
        "blocked_notional": str(row.blocked_notional),
        "pnl": str(row.pnl),
        "verdict": row.verdict,
    }


def _as_json(report: RegretReport, ledger: Path) -> dict[str, Any]:
    return {
        "ledger": str(ledger),
        "horizon_seconds": int(report.horizon.total_seconds()),
        "verdict": report.verdict(),
        "totals": [_row_json(r) for r in report.totals],
        "by_reason": [_row_json(r) for r in report.by_reason],
        "by_strategy": [_row_json(r) for r in report.by_strategy],
        "by_brain": [_row_json(r) for r in report.by_brain],
        "proposals": [
            {
                "ts": p.proposal.ts.isoformat(),
                "intent_id": p.proposal.intent.intent_id,
                "instrument_id": p.proposal.intent.instrument_id,
                "side": str(p.proposal.intent.side),
                "outcome": p.proposal.outcome,
                "reasons": list(p.proposal.reasons),
                "blocked": str(p.proposal.blocked),
                "entry": None if p.entry is None else str(p.entry),
                "exit": None if p.exit is None else str(p.exit),
                "fees": str(p.fees),
                "pnl": None if p.pnl is None else str(p.pnl),
            }
            for p in report.proposals
        ],
    }


def _print(report: RegretReport, ledger: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Gate regret — {ledger} (horizon {int(report.horizon.total_seconds() // 60)}m)")
    table.add_column("by")
    table.add_column("key", no_wrap=True)
    table.add_column("ccy")
    for name in ("blocked", "scored", "notional", "regret PnL"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("limits")
    sections = (
        ("reason", report.by_reason),
        ("strategy", report.by_strategy),
        ("brain", report.by_brain),
        ("total", report.totals),
    )
    for label, rows in sections:
        for row in rows:
            colour = "red" if row.verdict == "cost" else "green" if row.verdict == "saved" else "white"
            table.add_row(
                label,
                row.key,
                row.currency,
                str(row.count),
                str(row.scored),
                _money(row.blocked_notional),
                f"[{colour}]{_money(row.pnl)}[/]",
                row.verdict,
            )
        table.add_section()
    console = Console()
    console.print(table)
    console.print(report.verdict(), soft_wrap=True)


@app.command("regret")
def regret(
    ledger: LedgerOpt = None,
    horizon: HorizonOpt = "60m",
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Score every denied or resized proposal with its counterfactual PnL; did the limits cost or save?

    The blocked quantity (denied: all of it; resized: proposed minus approved) enters at the next
    bar's open and exits at the price ``--horizon`` later, paying the taker fee on both legs. A
    positive PnL means the limits cost money; a negative one means they saved it.
    """
    from gekko_agent.config import load_config
    from gekko_agent.ledger import events, open_reader
    from gekko_agent.market import parse_interval
    from gekko_agent.runtime.regret import blocked_proposals, score_regret

    held = timedelta(seconds=parse_interval(horizon))
    cfg = load_config(config)
    path = ledger if ledger is not None else cfg.ledger.path
    reader = open_reader(path)
    try:
        stored = events(reader, kinds=("agent_decided", "intent_proposed", "risk_evaluated"))
    finally:
        reader.close()
    blocked = blocked_proposals(s.event for s in stored)
    report = score_regret(blocked, _bars(cfg, blocked, held), horizon=held, fee_bps=_fees(cfg))
    if as_json:
        typer.echo(json.dumps(_as_json(report, path), indent=2))
    else:
        _print(report, path)
