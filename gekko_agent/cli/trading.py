"""``gekko demo``, ``gekko run`` and ``gekko backtest``: the commands that trade.

Heavy modules (numpy, duckdb, the engine) are imported inside the commands so ``gekko --help``
stays instant.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gekko_agent.errors import InvalidInput

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig

__all__ = ["backtest", "demo", "run"]

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="agent.yaml to use (default: ./agent.yaml or the shipped one)."),
]


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option}: {text!r} is not an ISO date/time (e.g. 2023-03-10 or 2023-03-10T12:00)"
        ) from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def _load(path: Path | None) -> GekkoConfig:
    from gekko_agent.config import load_config

    return load_config(path)


def demo(
    config: ConfigOpt = None,
    speed: Annotated[
        float | None, typer.Option(help="Simulated seconds per real second (default from agent.yaml).")
    ] = None,
    ledger: Annotated[Path, typer.Option(help="Ledger file of the demo (recreated on each run).")] = Path(
        "var/demo.duckdb"
    ),
    headless: Annotated[
        bool,
        typer.Option("--headless", help="Print a summary line per simulated hour instead of a live view."),
    ] = False,
) -> None:
    """Paper-trade bundled real Binance.US BTC bars (March 2023, USDC depeg) with the rules brain."""
    cfg = _load(config)
    from gekko_agent.runtime.session import run_paper_session

    for suffix in ("", ".wal"):
        Path(f"{ledger}{suffix}").unlink(missing_ok=True)
    start, end = _time(cfg.demo.start, "demo.start"), _time(cfg.demo.end, "demo.end")
    if headless:
        run_paper_session(cfg, ledger_path=ledger, start=start, end=end, speed=speed or cfg.demo.speed)
        return
    from gekko_agent.runtime.dashboard import run_dashboard_demo

    run_dashboard_demo(cfg, ledger, start, end, speed or cfg.demo.speed)


def run(
    config: ConfigOpt = None,
    speed: Annotated[
        float, typer.Option(help="Replay speed for paper mode on bundled data (simulated s per real s).")
    ] = 60.0,
    start: Annotated[str | None, typer.Option("--from", help="First bar that may trade (ISO time).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Stop before this time (ISO time).")] = None,
) -> None:
    """Run headless in the mode agent.yaml says, on the `schedule:` timetable, until SIGTERM or Ctrl-C.

    With paper venues it replays the configured datasets at ``--speed`` (and stops at their end);
    with ccxt/OANDA venues (real, or a ``gekko venue-sim`` server named by ``api_url``) it reconciles,
    then runs the ``agent_cycle`` and ``reconcile`` jobs of ``schedule:``. Either way it resumes the
    trading state from the ledger (a halt stays a halt), writes a daily report, and serves Slack and
    Telegram when agent.yaml has a ``chatops:`` section.
    """
    cfg = _load(config)
    import asyncio

    from gekko_agent.runtime.chatops import ChatopsSelection
    from gekko_agent.runtime.headless import run_configured

    chatops = ChatopsSelection.every_configured(cfg.ops, cfg.chatops) if cfg.chatops is not None else None
    asyncio.run(
        run_configured(
            cfg,
            start=_time(start or cfg.demo.start, "--from"),
            end=_time(end, "--to"),
            speed=speed,
            chatops=chatops,
            echo=typer.echo,
        )
    )


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{option}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{option}: {text!r} must be a finite number >= 0")
    return value


def _params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param: {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _sweep(
    base: GekkoConfig,
    strategy: str,
    data: str | None,
    grid: list[str],
    window: tuple[str | None, str | None],
    money: tuple[str, str],
    workers: int,
    vectorized: bool,
    as_json: bool,
) -> None:
    if data is None:
        raise InvalidInput("--grid needs --data DATASET")
    from gekko_agent.runtime.sweep import parse_grid, run_grid

    results = run_grid(
        base,
        strategy,
        data,
        parse_grid(grid),
        start=_time(window[0], "--from"),
        end=_time(window[1], "--to"),
        fee_bps=_decimal(money[0], "--fees"),
        cash=_decimal(money[1], "--cash"),
        workers=workers,
        vectorized=vectorized,
    )
    rows = [{"params": r.params, "path": r.path, "metrics": r.metrics, "error": r.error} for r in results]
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    console = Console()
    for row in rows:
        console.print(row["params"], row["path"], row["error"] or row["metrics"])


def backtest(
    strategy: Annotated[
        str | None,
        typer.Option(help="Strategy name (built-in or strategies/NAME.py); needed with --brain rules."),
    ] = None,
    data: Annotated[str | None, typer.Option(help="Bundled dataset (see `gekko data list`).")] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Your own OHLCV CSV: time, Open, High, Low, Close, Volume.")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First bar that may trade (ISO time).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Stop before this time (ISO time).")] = None,
    fees: Annotated[str, typer.Option(help="Fee per fill, basis points of notional.")] = "10",
    cash: Annotated[str, typer.Option(help="Starting cash in the instrument's quote currency.")] = "100000",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter KEY=VALUE (repeatable).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a report.")
    ] = False,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Write metrics.json, trades.csv, equity/drawdown PNGs and report.html."
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid", help='Parameter sweep, e.g. --grid "fast=5,10,20 slow=30,60"; parallel processes.'
        ),
    ] = None,
    vectorized: Annotated[
        bool, typer.Option("--vectorized", help="With --grid on sma_cross: numpy path.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Processes for --grid.")] = 2,
    brain: Annotated[
        str, typer.Option(help="rules (the strategy decides) or llm (the agent decides).")
    ] = "rules",
    model: Annotated[str | None, typer.Option(help="litellm model for --brain llm.")] = None,
    api_base: Annotated[
        str | None, typer.Option(help="--brain llm: model server URL (local servers).")
    ] = None,
    record: Annotated[Path | None, typer.Option(help="--brain llm: store model exchanges in DIR.")] = None,
    replay: Annotated[
        Path | None, typer.Option(help="--brain llm: answer from exchanges recorded in DIR.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Backtest a strategy through the same risk and execution path as paper and live trading."""
    if brain not in ("rules", "llm"):
        raise InvalidInput(f"--brain: {brain!r} is not rules or llm")
    if strategy is None:
        if brain == "rules":
            raise InvalidInput("backtest: give --strategy NAME (or --brain llm)")
        strategy = "llm"
    if (data is None) == (csv is None):
        raise InvalidInput("backtest: give exactly one of --data DATASET or --csv PATH")
    from gekko_agent.runtime.backtest import run_backtest

    base = _load(config)
    if grid:
        _sweep(base, strategy, data, grid, (start, end), (fees, cash), workers, vectorized, as_json)
        return
    result = run_backtest(
        base,
        strategy=strategy,
        dataset=data,
        csv=csv,
        start=_time(start, "--from"),
        end=_time(end, "--to"),
        fee_bps=_decimal(fees, "--fees"),
        cash=_decimal(cash, "--cash"),
        params=_params(param or []),
        progress=not as_json,
        report_dir=report_dir,
        brain=brain,
        model=model,
        api_base=api_base,
        record=record,
        replay=replay,
    )
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    r = result
    console = Console()
    console.print(f"[bold]{strategy}[/] on {data or csv}: {r.start} → {r.end}, {r.bars:,} bars")
    console.print(
        f"final equity {r.final_equity:,.2f} (start {r.start_equity:,.2f}), return {r.total_return:.2%}, "
        f"Sharpe {r.sharpe:.2f}, max drawdown {r.max_drawdown:.2%}"
    )
    console.print(
        f"{len(r.trades)} fills, fees {r.fees:,.2f}; intents {r.intents}: approved {r.approved}, "
        f"resized {r.resized}, denied {r.denied} by risk"
    )
    if report_dir is not None:
        console.print(f"report written to {report_dir / 'report.html'}")
