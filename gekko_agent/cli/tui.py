"""``gekko tui``: the dashboard, attached to a running Gekko.

How it attaches:

* ``gekko demo`` runs the engine *inside* the dashboard (same process, same asyncio loop; see
  :mod:`gekko_agent.runtime.dashboard`): full view, and halt/resume/approve/reject/cancel through the
  ops command layer as the local operator.
* ``gekko tui`` next to a headless ``gekko run`` reads that process's ledger, read-only: DuckDB allows
  one writer, so it reads consistent snapshot copies, refreshed once a second (state, decisions and
  verdicts, denials, open orders, positions at cost, notable journal lines). It cannot command the
  other process; halt it through chat-ops (Slack/Telegram) or by stopping it.
* ``gekko tui --demo`` is ``gekko demo`` under another name, for people who look here first.

``gekko_agent.tui`` (and textual) is imported only inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "tui"]

app = typer.Typer(help="The Textual dashboard.", invoke_without_command=True)


@app.callback()
def tui(
    ledger: Annotated[
        Path | None, typer.Option(help="Ledger to watch (default: ledger.path of agent.yaml).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="agent.yaml to use.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Run the paper demo inside the dashboard.")] = False,
    refresh: Annotated[float, typer.Option(help="Ledger reads per second (read-only mode).")] = 1.0,
) -> None:
    """Watch a running Gekko (read-only over its ledger), or run the demo inside the dashboard."""
    from gekko_agent.config import load_config
    from gekko_agent.errors import DataNotFound

    cfg = load_config(config)
    if demo:
        from gekko_agent.cli.trading import demo as demo_cmd

        demo_cmd(config=config, speed=None, ledger=ledger or Path("var/demo.duckdb"), headless=False)
        return
    path = ledger or Path(cfg.ledger.path)
    if not path.is_file():
        raise DataNotFound(f"no ledger at {path}; start `gekko run` first, or try `gekko demo`")
    from gekko_agent.tui.app import GekkoApp
    from gekko_agent.tui.ledger_source import LedgerSource

    GekkoApp(LedgerSource(path, refresh_hz=refresh), poll=True).run()
