"""``gekko risk``: trading state, limits and their usage, dry-run checks, VaR/ES and stress reports.

The snapshot is built from agent.yaml (``--config``; risk limits, instruments, starting cash) or the
defaults, the latest bar of the bundled data for each instrument, and ``--cash`` / ``--position``. Venues
count as reconciled and healthy in a dry run, and the trading state is ACTIVE unless ``--state`` says
otherwise; the live state and usage come from the ledger when the runtime serves them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gekko_agent.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gekko_agent.risk import RiskLimits, RiskSnapshot

__all__ = ["app"]

app = typer.Typer(help="Risk state, limits, dry-run checks, VaR and stress.", no_args_is_help=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="agent.yaml to read limits and instruments from.")
]
CashOpt = Annotated[
    str | None, typer.Option("--cash", help="Account-currency cash (default: agent.yaml or 100000).")
]
PositionOpt = Annotated[
    list[str] | None,
    typer.Option("--position", help="Holding as INSTRUMENT=QTY, e.g. BTC/USD@binanceus=0.5."),
]
StateOpt = Annotated[
    str, typer.Option("--state", help="Trading state to assume: active, reducing or halted.")
]


def _dec(text: str, what: str) -> Decimal:
    from gekko_agent.domain import to_decimal

    return to_decimal(text, what)


def _build(
    config: Path | None, cash: str | None, positions: list[str], extra: list[str], state: str
) -> tuple[RiskSnapshot, RiskLimits]:
    """Snapshot and limits for a dry run (see the module docstring)."""
    import numpy as np

    from gekko_agent.domain import AssetClass, Instrument, Position, split_instrument_id
    from gekko_agent.market import list_datasets, load_bars
    from gekko_agent.risk import (
        MarketData,
        RiskConfig,
        RiskLimits,
        RiskSnapshot,
        RollingReturns,
        TradingState,
        VenueHealth,
    )

    instruments: dict[str, Instrument] = {}
    datasets = {d.instrument_id: d for d in list_datasets()}
    starting: dict[str, Decimal] = {"USD": Decimal(100_000)}
    if config is not None:
        from gekko_agent.config.loader import load_config

        cfg = load_config(config)
        risk_cfg, account = cfg.risk, cfg.account.currency
        starting = dict(cfg.account.starting_cash)
        for ic in cfg.instruments:
            inst = Instrument(
                ic.symbol,
                ic.venue,
                AssetClass(ic.asset_class),
                ic.tick_size,
                ic.lot_size,
                Decimal(0),
                ic.min_notional,
            )
            instruments[inst.id] = inst
    else:
        risk_cfg, account = RiskConfig(), "USD"
        for d in datasets.values():
            instruments[d.instrument_id] = Instrument(
                d.symbol, d.venue, d.asset_class, Decimal("0.01"), Decimal("0.00001")
            )
    try:
        trading_state = TradingState(state.lower())
    except ValueError:
        raise InvalidInput(f"--state must be active, reducing or halted, not {state!r}") from None
    held: dict[str, Decimal] = {}
    for spec in positions:
        iid, sep, qty = spec.partition("=")
        if not sep:
            raise InvalidInput(f"--position {spec!r} must look like BTC/USD@binanceus=0.5")
        split_instrument_id(iid)
        held[iid] = held.get(iid, Decimal(0)) + _dec(qty, f"--position {iid}")
    cash_map = {account: _dec(cash, "--cash")} if cash is not None else starting
    limits = RiskLimits.from_config(risk_cfg)
    needed = sorted(set(held) | set(extra))
    for iid in needed:
        if iid not in datasets:
            raise InvalidInput(f"no bundled market data for {iid}; try one of {', '.join(sorted(datasets))}")
    bars = {iid: load_bars(datasets[iid].name, cache=None) for iid in needed}
    usd_ref = next((iid for iid in datasets if iid.startswith("BTC/USD@")), None)
    rates: dict[str, Decimal] = {}
    factors: dict[str, np.ndarray] = {}
    lookback = limits.var_lookback + 1
    for iid, b in bars.items():
        closes = np.asarray(b.close)[-lookback:]
        if iid not in instruments:
            raise InvalidInput(f"{iid} is not an instrument in the config")
        quote = split_instrument_id(iid)[0].split("/")[1]
        in_account = closes
        if quote != account and usd_ref is not None and account == "USD":
            ref = np.asarray(load_bars(datasets[usd_ref].name, cache=None).close)[-lookback:]
            ratio = ref / closes
            rates[quote] = Decimal(repr(round(float(ratio[-1]), 8)))
            factors[quote] = ratio[1:] / ratio[:-1] - 1
            in_account = ref
        factors[iid] = in_account[1:] / in_account[:-1] - 1
    window = RollingReturns(tuple(factors), max(limits.var_lookback, 2), 60)
    if factors:
        for row in np.column_stack([factors[f] for f in factors]):
            window.push(row)
    last_bar = max((b.end for b in bars.values() if b.end is not None), default=None)
    if last_bar is None:
        raise InvalidInput("name an instrument (--symbol or --position) to price the portfolio")
    now = last_bar + timedelta(minutes=1)
    market = {iid: MarketData(Decimal(repr(float(b.close[-1]))), now) for iid, b in bars.items()}
    pos = {
        iid: Position(
            iid, instruments[iid].quote, instruments[iid].asset_class, q, market[iid].last or Decimal(0)
        )
        for iid, q in held.items()
    }
    venues = {i.venue: VenueHealth(0, now, None, now) for i in instruments.values()}
    snap = RiskSnapshot(
        now=now,
        account_currency=account,
        cash=cash_map,
        positions=pos,
        instruments=instruments,
        market=market,
        rates=rates,
        venues=venues,
        trading_state=trading_state,
        returns=window.window() if factors else None,
    )
    from gekko_agent.risk.view import PortfolioView

    equity = PortfolioView(snap, limits).equity
    import dataclasses

    return dataclasses.replace(snap, equity_day_start=equity, equity_peak=equity), limits


def _console() -> Console:
    from rich.console import Console

    return Console()


@app.command()
def check(
    symbol: Annotated[str, typer.Option("--symbol", help="Instrument id, e.g. BTC/USD@binanceus.")],
    side: Annotated[str, typer.Option("--side", help="buy or sell.")],
    qty: Annotated[str, typer.Option("--qty", help="Quantity in base units.")],
    price: Annotated[
        str | None, typer.Option("--price", help="Limit price (market order without it).")
    ] = None,
    config: ConfigOpt = None,
    cash: CashOpt = None,
    position: PositionOpt = None,
    state: StateOpt = "active",
) -> None:
    """Dry-run an order through every check and print the verdict of each."""
    from rich.table import Table

    from gekko_agent.domain import OrderIntent, OrderSide, OrderType, Price, Quantity, to_price, to_quantity
    from gekko_agent.risk import Approved, Denied, RiskEngine

    try:
        order_side = OrderSide(side.lower())
    except ValueError:
        raise InvalidInput(f"--side must be buy or sell, not {side!r}") from None
    quantity = to_quantity(qty, "--qty")
    if quantity <= 0:
        raise InvalidInput("--qty must be > 0")
    limit = to_price(price, "--price") if price is not None else None
    snap, limits = _build(config, cash, position or [], [symbol], state)
    intent = OrderIntent(
        "dry-run",
        symbol,
        order_side,
        Quantity(quantity),
        OrderType.LIMIT if limit else OrderType.MARKET,
        limit_price=Price(limit) if limit else None,
    )
    out = RiskEngine(limits).check(intent, snap)
    table = Table(title=f"risk check: {side} {qty} {symbol} at {snap.now:%Y-%m-%d %H:%M} UTC")
    for col in ("check", "verdict", "reason", "detail"):
        table.add_column(col)
    colors = {"pass": "green", "resize": "yellow", "deny": "red", "skip": "dim"}
    for r in out.trace:
        table.add_row(r.name, f"[{colors[r.verdict]}]{r.verdict}[/]", r.reason or "", r.detail)
    con = _console()
    con.print(table)
    color = "green" if isinstance(out, Approved) else "red" if isinstance(out, Denied) else "yellow"
    con.print(f"[bold {color}]{type(out).__name__.upper()}[/] {out.explanation}")


@app.command()
def status(
    config: ConfigOpt = None, cash: CashOpt = None, position: PositionOpt = None, state: StateOpt = "active"
) -> None:
    """Trading state, limits and their usage, VaR/ES now."""
    from rich.table import Table

    from gekko_agent.risk import limit_usage

    snap, limits = (
        _build(config, cash, position or [], [], state) if position else _empty(config, cash, state)
    )
    con = _console()
    con.print(f"trading state: [bold]{snap.trading_state.value.upper()}[/] (dry run)")
    table = Table(title=f"limits and usage ({limits.currency})")
    for col in ("limit", "used", "max", "unit"):
        table.add_column(col)
    for u in limit_usage(snap, limits):
        table.add_row(
            u.name,
            "n/a" if u.used is None else f"{u.used:,.4f}",
            "off" if u.limit is None else f"{u.limit:,}",
            u.unit,
        )
    con.print(table)


def _empty(config: Path | None, cash: str | None, state: str) -> tuple[RiskSnapshot, RiskLimits]:
    return _build(config, cash, [], ["BTC/USD@binanceus"], state)


@app.command()
def var(config: ConfigOpt = None, cash: CashOpt = None, position: PositionOpt = None) -> None:
    """VaR and expected shortfall of a portfolio, historical and parametric."""
    from gekko_agent.risk import var_report

    snap, limits = _build(config, cash, position or [], [], "active")
    report = var_report(snap, limits)
    if report is None:
        raise InvalidInput("not enough return history for VaR")
    con = _console()
    horizon = limits.var_horizon_s / 3600
    con.print(f"VaR/ES at {limits.var_confidence:%} over {horizon:g} h ({limits.currency}):")
    for name, pair in (("historical", report.historical), ("parametric", report.parametric)):
        if pair is not None:
            con.print(f"  {name:<11} VaR {pair[0]:>14,.2f}   ES {pair[1]:>14,.2f}")
    con.print(f"  limits      VaR {limits.max_var:>14,.2f}   ES {limits.max_es:>14,.2f}")


@app.command()
def stress(config: ConfigOpt = None, cash: CashOpt = None, position: PositionOpt = None) -> None:
    """Loss of a portfolio in each configured stress scenario."""
    from gekko_agent.risk import stress_report

    snap, limits = _build(config, cash, position or [], [], "active")
    legs = stress_report(snap, limits)
    if legs is None:
        raise InvalidInput("stress cannot be computed: a price, rate or return history is missing")
    con = _console()
    con.print(f"stress losses ({limits.currency}; limit {limits.stress_max_loss:,.2f}):")
    for name, loss in legs:
        flag = "  [red]over limit[/]" if loss > limits.stress_max_loss else ""
        con.print(f"  {name:<28} {loss:>14,.2f}{flag}")
