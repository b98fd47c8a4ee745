"""Headless paper sessions over bundled data: ``gekko run`` and ``gekko demo --headless``.

One log line per simulated hour (state, equity, intents, denials, fills); everything is journaled in
the ledger as it happens. The interactive demo is the Textual dashboard (:mod:`.dashboard`).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from gekko_agent.config import GekkoConfig
from gekko_agent.domain import Bar
from gekko_agent.ledger import Ledger
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay, ledger_session

__all__ = ["run_paper_session"]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def run_paper_session(
    cfg: GekkoConfig,
    *,
    ledger_path: Path,
    start: datetime | None,
    end: datetime | None,
    speed: float,
) -> None:
    """Replay the configured datasets through the paper venue, journaling into ``ledger_path``."""
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    console = Console()
    with Ledger(ledger_path) as ledger:
        system = build_replay(cfg, ledger, start=start, end=end, venue_session=ledger_session(ledger))
        trader = system.trader
        console.print(
            f"Gekko · {cfg.mode} · brain {trader.brain.name} · {', '.join(trader.instruments)} · "
            f"{speed:g}× · ledger {ledger_path}"
        )
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

        if cfg.brain.shadow:
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
