"""Paper sessions over bundled data: ``gekko demo`` (live view) and ``gekko run`` (log lines).

Until the Textual dashboard lands, the demo shows a Rich live view of the same facts the TUI will:
time, equity and PnL, trading state, the brain deciding, positions, and the latest intents with
the risk engine's verdicts and reasons. Everything is journaled in the ledger as it happens.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from gekko_agent.config import GekkoConfig
from gekko_agent.domain import Bar
from gekko_agent.ledger import Ledger
from gekko_agent.risk.outcomes import Denied, outcome_name
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.wiring import build_replay

__all__ = ["render", "run_paper_session"]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def render(trader: Trader, title: str) -> Group:
    """The live view: headline, positions, recent decisions."""
    eq = trader.equity
    pnl_day = (eq.now - eq.day_start) if eq.now is not None and eq.day_start is not None else None
    start = eq.curve[0][1] if eq.curve else None
    pnl_all = (eq.now - start) if eq.now is not None and start is not None else None
    dd = ((eq.peak - eq.now) / eq.peak) if eq.peak and eq.now is not None else Decimal(0)
    state_style = {"active": "green", "reducing": "yellow", "halted": "bold red"}[trader.state.value]
    head = Table.grid(padding=(0, 2))
    head.add_row(
        f"[bold]{trader.clock.now():%Y-%m-%d %H:%M} UTC[/]",
        f"brain [bold]{trader.brain.name}[/]",
        f"state [{state_style}]{trader.state.value.upper()}[/]",
        f"equity [bold]{_money(eq.now)}[/] {trader.execution.portfolio.account_currency}",
        f"PnL today {_money(pnl_day)}",
        f"total {_money(pnl_all)}",
        f"drawdown {dd:.2%}",
    )
    positions = Table(
        "instrument", "qty", "avg", "last", "unrealized", "realized", title="positions", expand=True
    )
    for iid, pos in sorted(trader.execution.portfolio.positions.items()):
        last = trader.book.market.get(iid)
        mark = last.last if last and last.last is not None else None
        upnl = pos.unrealized_pnl(mark) if mark is not None and pos.quantity else Decimal(0)
        positions.add_row(
            iid,
            f"{pos.quantity:f}",
            _money(pos.avg_price or None),
            _money(mark),
            _money(upnl),
            _money(pos.realized_pnl),
        )
    decisions = Table("time", "intent", "risk", "why", title="latest intents → risk", expand=True)
    for intent, outcome in trader.recent[-8:]:
        verdict = outcome_name(outcome)
        style = "red" if isinstance(outcome, Denied) else ("yellow" if verdict == "resized" else "green")
        why = outcome.explanation if outcome.reasons else intent.rationale
        ts = intent.created_at.strftime("%m-%d %H:%M") if intent.created_at else ""
        decisions.add_row(
            ts,
            f"{intent.side} {intent.quantity} {intent.instrument_id}",
            f"[{style}]{verdict}[/] {outcome.quantity if verdict == 'resized' else ''}",
            why[:90],
        )
    s = trader.stats
    foot = (
        f"bars {s.bars:,} · intents {s.intents} · approved {s.approved} · resized {s.resized} · "
        f"denied {s.denied} · fills {trader.execution.fill_count} · "
        "Ctrl-C stops (the ledger keeps everything)"
    )
    return Group(Panel(head, title=title), positions, decisions, foot)


def run_paper_session(
    cfg: GekkoConfig,
    *,
    ledger_path: Path,
    start: datetime | None,
    end: datetime | None,
    speed: float,
    live_view: bool,
) -> None:
    """Replay the configured datasets through the paper venue, journaling into ``ledger_path``."""
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    console = Console()
    with Ledger(ledger_path) as ledger:
        system = build_replay(cfg, ledger, start=start, end=end)
        trader = system.trader
        title = f"Gekko · paper · {', '.join(trader.instruments)} · {speed:g}× · ledger {ledger_path}"
        last_line: list[datetime] = []

        def headless(bar: Bar) -> None:
            now = trader.clock.now()
            if start is not None and now <= start:
                return
            if not last_line or now - last_line[0] >= timedelta(hours=1):
                last_line[:] = [now]
                console.print(
                    f"{now:%Y-%m-%d %H:%M} state={trader.state.value} equity={_money(trader.equity.now)} "
                    f"intents={trader.stats.intents} denied={trader.stats.denied} "
                    f"fills={trader.execution.fill_count}"
                )

        if live_view:
            with Live(render(trader, title), console=console, refresh_per_second=4, transient=False) as live:

                def refresh(_bar: Bar) -> None:
                    live.update(render(trader, title), refresh=False)

                asyncio.run(run_replay(system, start=start, speed=speed, on_bar=refresh))
        elif cfg.brain.shadow:
            from gekko_agent.runtime.shadow import build_shadow, run_with_shadow

            shadow = build_shadow(system, cfg, start=start, end=end)
            console.print(
                "shadow: the LLM brain runs beside the rules brain on its own paper account (unpaced)"
            )
            asyncio.run(run_with_shadow(system, shadow, start=start, on_bar=headless))
        else:
            asyncio.run(run_replay(system, start=start, speed=speed, on_bar=headless))
        console.print(
            f"done: equity {_money(trader.equity.now)}, {trader.stats.intents} intents, "
            f"{trader.execution.fill_count} fills; `gekko ledger journal --ledger {ledger_path}` shows why"
        )
