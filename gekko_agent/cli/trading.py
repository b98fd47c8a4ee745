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

from gekko_agent.errors import InvalidInput

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.runtime.sweep import SweepResult

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


def _with_mode(cfg: GekkoConfig, mode: str | None, source: Path | None) -> GekkoConfig:
    """``cfg`` with its mode replaced by ``--mode``, validated again by the same rules as agent.yaml."""
    if mode is None:
        return cfg
    if mode not in ("paper", "live"):
        raise InvalidInput(f"--mode: {mode!r} is not paper or live")
    from pydantic import ValidationError

    from gekko_agent.config import GekkoConfig
    from gekko_agent.errors import ConfigError

    data = cfg.model_dump(mode="python", exclude_unset=True)
    data["mode"] = mode
    try:
        return GekkoConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "mode"
        problem = err["msg"].removeprefix("Value error, ")
        raise ConfigError(str(source or "agent.yaml"), where, f"{problem} (with --mode {mode})") from None


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
    mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            help="paper or live: overrides agent.yaml's mode; the config is checked again with it "
            "(paper refuses venues that reach production, live refuses paper venues).",
        ),
    ] = None,
) -> None:
    """Run headless in the mode agent.yaml (or --mode) says, on the `schedule:` timetable, until SIGTERM.

    With paper venues it replays the configured datasets at ``--speed`` (and stops at their end);
    with ccxt/OANDA venues (real, or a ``gekko venue-sim`` server named by ``api_url``) it reconciles,
    then runs the ``agent_cycle`` and ``reconcile`` jobs of ``schedule:``. Either way it resumes the
    trading state from the ledger (a halt stays a halt), writes a daily report, and serves Slack and
    Telegram when agent.yaml has a ``chatops:`` section.
    """
    cfg = _with_mode(_load(config), mode, config)
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


MAX_FEE_BPS = Decimal(1000)
MAX_CASH = Decimal(10) ** 12


def _decimal(text: str, option: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{option}: {text!r} is not a number") from None
    if positive and (not value.is_finite() or value <= 0):
        raise InvalidInput(f"{option}: {text!r} must be a finite number above zero")
    if not value.is_finite() or value < 0:
        raise InvalidInput(f"{option}: {text!r} must be a finite number >= 0")
    return value


def _money(fees: str, cash: str) -> tuple[Decimal, Decimal]:
    """``--fees`` (0 to 1,000 bps) and ``--cash`` (above 0, at most 10^12), checked."""
    fee_bps = _decimal(fees, "--fees")
    if fee_bps > MAX_FEE_BPS:
        raise InvalidInput(f"--fees: {fees} bps is above {MAX_FEE_BPS} bps (10 % of notional per fill)")
    amount = _decimal(cash, "--cash", positive=True)
    if amount > MAX_CASH:
        raise InvalidInput(f"--cash: {cash!r} is above {MAX_CASH:,}")
    return fee_bps, amount


def _window(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    lo, hi = _time(start, "--from"), _time(end, "--to")
    if lo is not None and hi is not None and lo >= hi:
        raise InvalidInput(f"--from {start} must be before --to {end}")
    return lo, hi


def _datasets(items: list[str] | None) -> list[str]:
    """``--data a --data b`` and ``--data a,b`` alike."""
    return [name.strip() for item in items or [] for name in item.split(",") if name.strip()]


def _interval(text: str | None, csv: Path | None) -> int | None:
    if text is None:
        return None
    if csv is None:
        raise InvalidInput("--interval is for --csv (bundled datasets know their bar length)")
    from gekko_agent.market.resample import parse_interval

    return parse_interval(int(text) if text.strip().isdigit() else text)


def _params(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param: {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _combo(params: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def _failures(results: list[SweepResult]) -> str:
    """Why every combination of a sweep failed, in one line (identical reasons said once)."""
    reasons: dict[str, list[str]] = {}
    for r in results:
        reasons.setdefault(str(r.error), []).append(_combo(r.params))
    parts = [
        f"{', '.join(combos[:3])}{' ...' if len(combos) > 3 else ''}: {why}"
        for why, combos in reasons.items()
    ]
    return f"--grid: all {len(results)} combinations failed ({' | '.join(parts)})"


def _sweep(
    base: GekkoConfig,
    strategy: str,
    source: tuple[list[str], Path | None, int | None],
    grid: list[str],
    window: tuple[datetime | None, datetime | None],
    money: tuple[Decimal, Decimal],
    workers: int,
    vectorized: bool,
    as_json: bool,
) -> None:
    if not 1 <= workers <= 64:
        raise InvalidInput(f"--workers: {workers} is not between 1 and 64")
    from gekko_agent.runtime.sweep import parse_grid, run_grid

    datasets, csv, interval = source
    results = run_grid(
        base,
        strategy,
        datasets or None,
        parse_grid(grid),
        csv=csv,
        interval=interval,
        start=window[0],
        end=window[1],
        fee_bps=money[0],
        cash=money[1],
        workers=workers,
        vectorized=vectorized,
    )
    if results and all(r.error for r in results):
        raise InvalidInput(_failures(results))
    if as_json:
        rows = [{"params": r.params, "path": r.path, "metrics": r.metrics, "error": r.error} for r in results]
        typer.echo(json.dumps(rows, default=str))
        return
    for r in results:
        m = r.metrics
        outcome = (
            f"failed: {r.error}"
            if r.error
            else f"return {m['total_return']:.2%}  Sharpe {m['sharpe']:.2f}  max drawdown "
            f"{m['max_drawdown']:.2%}  fills {m['fills']:.0f}  fees {m['fees']:,.2f}"
        )
        typer.echo(f"{_combo(r.params):<28} [{r.path}] {outcome}")


def backtest(
    strategy: Annotated[
        str | None,
        typer.Option(help="Strategy name (built-in or strategies/NAME.py); needed with --brain rules."),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            help="Bundled dataset (see `gekko data list`); repeat it or separate names by commas to "
            "trade several instruments (arbitrage takes two)."
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Your own OHLCV CSV: time, Open, High, Low, Close, Volume.")
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(help="--csv: bar length in seconds (or 1m, 1h, 1d); default: inferred from the rows."),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First bar that may trade (ISO time).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Stop before this time (ISO time).")] = None,
    fees: Annotated[str, typer.Option(help="Fee per fill, basis points of notional (0 to 1000).")] = "10",
    cash: Annotated[
        str,
        typer.Option(
            help="Starting cash (above 0) in the first instrument's quote currency; any other quote "
            "currency starts with 5 % of it."
        ),
    ] = "100000",
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
    workers: Annotated[int, typer.Option(help="Processes for --grid (1 to 64).")] = 2,
    every_bar: Annotated[
        bool,
        typer.Option(
            "--every-bar",
            help="Run every bar through the full per-bar path, as paper trading does (same results, "
            "slower: checks a strategy's observe/decide split).",
        ),
    ] = False,
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
    datasets = _datasets(data)
    if bool(datasets) == (csv is not None):
        raise InvalidInput("backtest: give exactly one of --data DATASET or --csv PATH")
    seconds = _interval(interval, csv)
    fee_bps, cash_amount = _money(fees, cash)
    window = _window(start, end)
    overrides = _params(param or [])
    base = _load(config)
    if grid:
        if report_dir is not None:
            raise InvalidInput(
                "--report writes one backtest; rerun the best --grid combination with --report"
            )
        source = (datasets, csv, seconds)
        _sweep(base, strategy, source, grid, window, (fee_bps, cash_amount), workers, vectorized, as_json)
        return
    from gekko_agent.runtime.backtest import run_backtest

    result = run_backtest(
        base,
        strategy=strategy,
        dataset=datasets or None,
        csv=csv,
        interval=seconds,
        start=window[0],
        end=window[1],
        fee_bps=fee_bps,
        cash=cash_amount,
        params=overrides,
        progress=not as_json,
        report_dir=report_dir,
        brain=brain,
        model=model,
        api_base=api_base,
        record=record,
        replay=replay,
        every_bar=every_bar,
    )
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    from gekko_agent.runtime.backtest import CSV_SYMBOL, Leg, dataset_legs, strategy_params
    from gekko_agent.runtime.report import summary_lines

    title = f"{strategy} on {', '.join(datasets) or csv}"
    for line in summary_lines(result, title):
        typer.echo(line)
    if brain == "rules":
        legs = dataset_legs(datasets) if datasets else [Leg(CSV_SYMBOL)]
        used = strategy_params(base, strategy, legs, overrides)
        typer.echo(f"parameters: {' '.join(f'{k}={v}' for k, v in used.items()) or 'the strategy defaults'}")
    if report_dir is not None:
        typer.echo(f"report written to {report_dir / 'report.html'}")
