"""``gekko tui``: the dashboard, attached to a running Gekko.

How it attaches:

* ``gekko demo`` runs the engine *inside* the dashboard (same process, same asyncio loop; see
  :mod:`gekko_agent.runtime.dashboard`): full view, and halt/resume/approve/reject/cancel through the
  ops command layer as the local operator.
* ``gekko tui`` next to a headless ``gekko run`` reads that process's ledger, read-only: DuckDB allows
  one writer, so it reads consistent snapshot copies once a second and folds in what was journaled
  since (see :mod:`gekko_agent.tui.ledger_source`). Every screen is rebuilt from the ledger plus
  agent.yaml: the trading state, decisions with their tool calls and verdicts, denials, approvals
  waiting, open orders, and the portfolio from the fills marked with the bundled datasets the paper
  run replays (with a live venue, the fill prices), giving equity, its curve, PnL, exposure, limit
  usage, VaR/ES and the breakers; forecasts come from the trained model, as in the demo. It cannot
  command the other process; halt it through chat-ops (Slack/Telegram) or by stopping it.
* ``gekko tui --demo`` is ``gekko demo`` under another name, for people who look here first.

``gekko_agent.tui`` (and textual) is imported only inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.tui.ledger_source import LedgerSource

__all__ = ["app", "ledger_source", "tui"]

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

    GekkoApp(ledger_source(cfg, path, refresh), poll=True).run()


def ledger_source(cfg: GekkoConfig, path: Path, refresh: float = 1.0) -> LedgerSource:
    """The dashboard's source over the ledger of a run configured by ``cfg`` (the composition root).

    Paper venues replay the bundled datasets agent.yaml names, so those mark the rebuilt portfolio;
    any other venue's prices are not on disk, and the fills' own prices mark it instead.
    """
    from gekko_agent.config import PaperVenueConfig
    from gekko_agent.runtime.dashboard import load_forecasts
    from gekko_agent.tui.ledger_book import DatasetPrices, LedgerBook, PriceHistory
    from gekko_agent.tui.ledger_source import LedgerSource

    prices: PriceHistory | None = None
    datasets = {f"{i.symbol}@{i.venue}": i.dataset for i in cfg.instruments if i.dataset is not None}
    paper = all(isinstance(v, PaperVenueConfig) for v in cfg.venues.values())
    if paper and len(datasets) == len(cfg.instruments):
        prices = DatasetPrices(datasets, cfg.data.cache)
    return LedgerSource(
        path,
        LedgerBook.from_config(cfg, prices),
        forecasts=load_forecasts(),
        refresh_hz=refresh,
        mode=str(cfg.mode),
        brain=cfg.brain.kind,
    )
