"""``gekko risk``: trading state, limits and their usage, dry-run checks, VaR/ES and stress reports.

The snapshot is built from agent.yaml (``--config``; risk limits with strategy budgets, instruments,
starting cash) or the defaults, the bundled data of each instrument (its ``dataset`` as a paper run
replays it), and ``--cash`` / ``--position``. Histories are aligned on the close times they share: prices
are the last shared close, returns are sampled at the data's own bar spacing (60 s for minute bars, 3,600 s
for hourly FX), and instruments whose histories do not overlap are refused rather than mixed. Venues count
as reconciled and healthy in a dry run, and the trading state is ACTIVE unless ``--state`` says otherwise;
the live state and usage come from the ledger when the runtime serves them. Bad options print one line and
exit 2 (through the root app).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gekko_agent.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from gekko_agent.domain import Instrument
    from gekko_agent.market import Dataset
    from gekko_agent.risk import RiskConfig, RiskLimits, RiskSnapshot
    from gekko_agent.risk.history import IntArray
    from gekko_agent.risk.snapshot import FloatArray

__all__ = ["app", "dry_run_snapshot"]

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


@dataclass(frozen=True, slots=True)
class _Setup:
    """What a dry run knows before any price: instruments, their bundled data, limits, account, cash."""

    instruments: dict[str, Instrument]
    datasets: dict[str, Dataset]
    risk: RiskConfig
    account: str
    cash: dict[str, Decimal]


def _setup(config: Path | None) -> _Setup:
    """Instruments and data as the paper runtime maps them, or every bundled dataset without a config.

    With a config, instruments come from :func:`~gekko_agent.runtime.wiring.build_instruments` and each
    replays its ``dataset`` (as in a paper run); one without a ``dataset`` uses the bundled data that stands
    in for its symbol (:func:`~gekko_agent.testing.sim.bars.dataset_for`, as the venue simulators do).
    """
    from gekko_agent.domain import AssetClass, Instrument
    from gekko_agent.market import get_dataset, list_datasets
    from gekko_agent.risk import RiskConfig

    if config is None:
        bundled = {d.instrument_id: d for d in list_datasets()}
        fx = AssetClass.FX
        instruments = {
            iid: Instrument(
                d.symbol,
                d.venue,
                d.asset_class,
                Decimal("0.00001") if d.asset_class is fx else Decimal("0.01"),
                Decimal(1) if d.asset_class is fx else Decimal("0.00001"),
            )
            for iid, d in bundled.items()
        }
        return _Setup(instruments, bundled, RiskConfig(), "USD", {"USD": Decimal(100_000)})
    from gekko_agent.config.loader import load_config
    from gekko_agent.runtime.wiring import build_instruments, risk_config
    from gekko_agent.testing.sim.bars import dataset_for

    cfg = load_config(config)
    instruments = build_instruments(cfg)
    named = {f"{ic.symbol}@{ic.venue}": ic.dataset for ic in cfg.instruments}
    datasets: dict[str, Dataset] = {}
    for iid, inst in instruments.items():
        name = named.get(iid)
        found = get_dataset(name) if name is not None else dataset_for(inst)
        if found is not None:
            datasets[iid] = found
    cash = dict(cfg.account.starting_cash)
    return _Setup(instruments, datasets, risk_config(cfg), cfg.account.currency, cash)


def _reference(setup: _Setup, iid: str) -> Dataset | None:
    """Bundled data of BASE/ACCOUNT standing in for ``iid`` (converts its quote currency), if any."""
    from gekko_agent.domain import Instrument
    from gekko_agent.testing.sim.bars import dataset_for

    inst, own = setup.instruments[iid], setup.datasets[iid]
    ref = Instrument(f"{inst.base}/{setup.account}", own.venue, inst.asset_class, Decimal(1), Decimal(1))
    return dataset_for(ref)


def _needed(setup: _Setup, held: dict[str, Decimal], extra: list[str], cash: dict[str, Decimal]) -> list[str]:
    """Instruments to price: those held or named, plus one quoted in each foreign cash currency held."""
    needed = list(dict.fromkeys([*held, *extra]))
    for iid in needed:
        if iid not in setup.instruments:
            known = ", ".join(setup.instruments)
            raise InvalidInput(f"{iid} is not a configured instrument; try one of {known}")
        if iid not in setup.datasets:
            raise InvalidInput(f"no bundled market data for {iid}; set instruments[].dataset in agent.yaml")
    for ccy, amount in cash.items():
        quoted = [i for i, inst in setup.instruments.items() if inst.quote == ccy and i in setup.datasets]
        if ccy != setup.account and amount and quoted and not set(quoted) & set(needed):
            needed.append(quoted[0])
    if not needed:
        raise InvalidInput("name an instrument (--symbol or --position) to price the portfolio")
    return needed


def _histories(
    setup: _Setup, needed: list[str]
) -> tuple[dict[str, tuple[IntArray, FloatArray]], dict[str, str], dict[str, int]]:
    """Close times and closes of every series involved; per instrument with a foreign quote, the name of
    the BASE/ACCOUNT series that converts it (``ref:<dataset>``); per series, its price decimals."""
    import numpy as np

    from gekko_agent.market import load_dataset

    series: dict[str, tuple[IntArray, FloatArray]] = {}
    refs: dict[str, str] = {}
    decimals: dict[str, int] = {}
    for iid in needed:
        sources = [(iid, setup.datasets[iid])]
        inst = setup.instruments[iid]
        if inst.quote != setup.account:
            ref = _reference(setup, iid)
            if ref is None:
                raise InvalidInput(f"no bundled {inst.base}/{setup.account} data to value {iid}")
            refs[iid] = f"ref:{ref.name}"
            sources.append((refs[iid], ref))
        for name, ds in sources:
            if name not in series:
                bars = load_dataset(ds, cache=None)
                closes = np.asarray(bars.close, dtype=np.float64)
                series[name] = (bars.ts + bars.interval * 1_000_000_000, closes)
                decimals[name] = bars.price_decimals
    return series, refs, decimals


def dry_run_snapshot(
    config: Path | None, cash: str | None, positions: list[str], extra: list[str], state: str
) -> tuple[RiskSnapshot, RiskLimits]:
    """Snapshot and limits for a dry run (see the module docstring).

    Every price history involved (the instruments held or named, one instrument quoted in each foreign
    cash currency, and the BASE/ACCOUNT data that converts a foreign quote) is cut to the close times
    they share (:func:`~gekko_agent.risk.history.align_closes`); the return interval is their bar
    spacing, and ``now`` is the last shared close.

    Raises:
        InvalidInput: a bad option, an instrument without bundled data, or histories that do not overlap.
    """
    import dataclasses

    import numpy as np

    from gekko_agent.domain import Position, split_instrument_id
    from gekko_agent.risk import MarketData, ReturnWindow, RiskLimits, RiskSnapshot, TradingState, VenueHealth
    from gekko_agent.risk.history import align_closes
    from gekko_agent.risk.view import PortfolioView

    setup = _setup(config)
    account = setup.account
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
    cash_map = {account: _dec(cash, "--cash")} if cash is not None else setup.cash
    limits = RiskLimits.from_config(setup.risk)
    needed = _needed(setup, held, extra, cash_map)
    series, refs, decimals = _histories(setup, needed)
    aligned = align_closes(series, limits.var_lookback + 1)
    closes, now = aligned.closes, aligned.last
    rates: dict[str, Decimal] = {}
    factors: dict[str, FloatArray] = {}
    last: dict[str, Decimal] = {}
    for iid in needed:
        inst, px = setup.instruments[iid], closes[iid]
        last[iid] = Decimal(f"{float(px[-1]):.{decimals[iid]}f}")
        in_account = px
        if iid in refs:  # e.g. BTC/USDT valued through BTC/USD: USDT = BTC/USD ÷ BTC/USDT
            in_account = closes[refs[iid]]
            ratio = in_account / px
            rates[inst.quote] = Decimal(repr(round(float(ratio[-1]), 8)))
            factors.setdefault(inst.quote, ratio[1:] / ratio[:-1] - 1)
        factors[iid] = in_account[1:] / in_account[:-1] - 1
    window = ReturnWindow.from_array(
        factors.keys(), np.column_stack(list(factors.values())), aligned.interval_seconds
    )
    pos = {
        iid: Position(iid, setup.instruments[iid].quote, setup.instruments[iid].asset_class, q, last[iid])
        for iid, q in held.items()
    }
    venues = {i.venue: VenueHealth(0, now, None, now) for i in setup.instruments.values()}
    snap = RiskSnapshot(
        now=now,
        account_currency=account,
        cash=cash_map,
        positions=pos,
        instruments=setup.instruments,
        market={iid: MarketData(p, now) for iid, p in last.items()},
        rates=rates,
        venues=venues,
        trading_state=trading_state,
        returns=window,
    )
    equity = PortfolioView(snap, limits).equity
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

    from gekko_agent.domain import OrderIntent, OrderSide, OrderType, Price, Quantity
    from gekko_agent.risk import Approved, Denied, RiskEngine
    from gekko_agent.risk.bounds import MAX_PRICE, MAX_QUANTITY, number_problem

    try:
        order_side = OrderSide(side.lower())
    except ValueError:
        raise InvalidInput(f"--side must be buy or sell, not {side!r}") from None
    quantity = _dec(qty, "--qty")
    problem = number_problem(quantity, "--qty", MAX_QUANTITY)
    limit = _dec(price, "--price") if price is not None else None
    if problem is None and limit is not None:
        problem = number_problem(limit, "--price", MAX_PRICE)
    if problem is not None:
        raise InvalidInput(problem)
    snap, limits = dry_run_snapshot(config, cash, position or [], [symbol], state)
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

    snap, limits = dry_run_snapshot(config, cash, position or [], [] if position else _first(config), state)
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


def _first(config: Path | None) -> list[str]:
    """The instrument that prices an empty portfolio: the first configured one with bundled data."""
    if config is None:
        return ["BTC/USD@binanceus"]
    return list(_setup(config).datasets)[:1]


@app.command()
def var(config: ConfigOpt = None, cash: CashOpt = None, position: PositionOpt = None) -> None:
    """VaR and expected shortfall of a portfolio, historical and parametric."""
    from gekko_agent.risk import var_report

    snap, limits = dry_run_snapshot(config, cash, position or [], [], "active")
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

    snap, limits = dry_run_snapshot(config, cash, position or [], [], "active")
    legs = stress_report(snap, limits)
    if legs is None:
        raise InvalidInput("stress cannot be computed: a price, rate or return history is missing")
    con = _console()
    con.print(f"stress losses ({limits.currency}; limit {limits.stress_max_loss:,.2f}):")
    for name, loss in legs:
        flag = "  [red]over limit[/]" if loss > limits.stress_max_loss else ""
        con.print(f"  {name:<28} {loss:>14,.2f}{flag}")
