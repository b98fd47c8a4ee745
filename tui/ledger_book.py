"""Money and risk state rebuilt from a ledger: portfolio, marks, equity curve, limits in force.

A headless ``gekko run`` journals its fills, orders and limit changes but not its marks. The dashboard
beside it rebuilds what the engine holds the way the engine built it:

* the **portfolio** is the journaled fills applied in order to the configured starting cash (the same
  :class:`~gekko_agent.domain.Portfolio` arithmetic the execution engine uses);
* **marks** come from a :class:`PriceHistory`: for paper runs the bundled datasets agent.yaml names,
  replayed into the same :class:`~gekko_agent.runtime.marks.MarketBook` the Trader feeds (last prices,
  implied currency rates such as USDC in USD, the factor-return window VaR reads). Without one (a live
  venue) each fill's price is the mark of its instrument from then on;
* **equity** is sampled into :class:`~gekko_agent.runtime.marks.EquityMarks` on every bar (every fill
  without price history) from the first journaled event on, giving the curve, day start and peak the
  breakers measure. Each journaled ``equity_marked`` (the engine's own equity and breaker references,
  written at each new UTC day and new peak) overrides the rebuilt figures at its time, so the
  references are the engine's even across its restarts, and without price history it is the curve;
* **limits** are agent.yaml's, with each journaled ``limit_changed`` applied in order.

Events and bars are merged in time: before an event at ``t`` every bar closing at or before ``t`` is
applied. A venue stamps a fill inside the bar that made it (from the bar's open on) and the engine
books it when that bar closes, after the previous bar's marks, which this order reproduces; the
equity curve then matches the engine's sample for sample. Everything is "as of the last journaled
event".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gekko_agent.domain import (
    AssetClass,
    Bar,
    EquityMarked,
    Event,
    Instrument,
    InstrumentId,
    LimitChanged,
    Order,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderUpdated,
    Portfolio,
    split_instrument_id,
)
from gekko_agent.errors import DataNotFound, GekkoError
from gekko_agent.ops import PositionRow
from gekko_agent.risk.config import RiskConfig
from gekko_agent.risk.limits import RiskLimits
from gekko_agent.risk.snapshot import MarketData, RiskSnapshot, TradingState
from gekko_agent.runtime.marks import EquityMarks, MarketBook, portfolio_snapshot

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig

__all__ = ["DatasetPrices", "LedgerBook", "PriceHistory"]

_CANCELS = (OrderStatus.PENDING_CANCEL, OrderStatus.CANCELED)


class PriceHistory(Protocol):
    """Bars of the traded instruments, for marking a rebuilt portfolio."""

    def bars(self, since: datetime) -> Iterator[Bar]:
        """Bars opening at or after ``since``, every instrument merged in close-time order."""
        ...


class DatasetPrices:
    """The bundled datasets agent.yaml names per instrument (what a paper run replays).

    Args:
        datasets: dataset name per traded instrument id.
        cache: the bar cache (``data.cache`` of agent.yaml).
    """

    def __init__(self, datasets: Mapping[InstrumentId, str], cache: Path | None = None) -> None:
        self.datasets = dict(datasets)
        self.cache = cache

    def bars(self, since: datetime) -> Iterator[Bar]:
        """Bars from ``since`` to the end of each dataset."""
        from gekko_agent.market import load_bars
        from gekko_agent.runtime.feed import ReplayFeed

        arrays = {iid: load_bars(name, since, None, cache=self.cache) for iid, name in self.datasets.items()}
        return iter(ReplayFeed(arrays))


def _close(bar: Bar) -> datetime:
    return bar.ts + timedelta(seconds=bar.interval)


class LedgerBook:
    """Portfolio, marks and equity of a run, rebuilt event by event (see the module docstring).

    Args:
        instruments: traded instruments by id.
        account_currency: the currency of equity.
        starting_cash: balances before the first fill.
        risk: the risk section of agent.yaml (limit changes apply to it).
        prices: bars for marks; None: fill prices are the marks.
        return_interval: seconds between VaR return samples (as the engine).
    """

    def __init__(
        self,
        instruments: Mapping[InstrumentId, Instrument],
        account_currency: str,
        starting_cash: Mapping[str, Decimal],
        risk: RiskConfig,
        prices: PriceHistory | None = None,
        return_interval: int = 60,
    ) -> None:
        self.instruments = dict(instruments)
        self.account_currency = account_currency
        self.starting_cash = dict(starting_cash)
        self.risk_config = risk
        self.prices = prices
        self.return_interval = return_interval
        self.limits = RiskLimits.from_config(risk)
        self.portfolio = Portfolio(account_currency, dict(starting_cash))
        self.book = MarketBook(
            self.instruments, account_currency, return_interval=return_interval, lookback=risk.var.lookback
        )
        self.equity = EquityMarks()
        self.submit_times: deque[datetime] = deque(maxlen=4096)
        self.cancel_times: deque[datetime] = deque(maxlen=4096)
        self.owner: dict[InstrumentId, str] = {}
        self.notes: list[str] = []  # what could not be applied, for the Logs screen
        self._bars: Iterator[Bar] | None = None
        self._next: Bar | None = None
        self._equity_from: datetime | None = None

    @classmethod
    def from_config(cls, cfg: GekkoConfig, prices: PriceHistory | None = None) -> LedgerBook:
        """The book of a run configured by ``cfg``."""
        from gekko_agent.runtime.wiring import build_instruments

        return cls(build_instruments(cfg), cfg.account.currency, cfg.account.starting_cash, cfg.risk, prices)

    def fresh(self) -> LedgerBook:
        """An empty book with the same settings (the ledger was recreated)."""
        return LedgerBook(
            self.instruments,
            self.account_currency,
            self.starting_cash,
            self.risk_config,
            self.prices,
            self.return_interval,
        )

    # -- folding ---------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event in, after the bars that closed before it."""
        if self._equity_from is None:
            self._start(event.ts)
        self.advance(event.ts)
        if isinstance(event, OrderFilled):
            self._fill(event)
        elif isinstance(event, OrderSubmitted):
            self.submit_times.append(event.ts)
            self.owner[event.intent.instrument_id] = event.intent.strategy
        elif isinstance(event, OrderUpdated) and event.status in _CANCELS:
            self.cancel_times.append(event.ts)
        elif isinstance(event, LimitChanged):
            self._limit(event)
        elif isinstance(event, EquityMarked) and event.currency == self.account_currency:
            self._marked(event)

    def _start(self, first: datetime) -> None:
        """Open the price history early enough to fill the VaR window by the first event."""
        self._equity_from = first
        if self.prices is None:
            return
        warm = timedelta(seconds=self.return_interval * (self.risk_config.var.lookback + 1))
        try:
            self._bars = self.prices.bars(first - warm)
        except GekkoError as exc:
            self.notes.append(f"prices unavailable ({exc}); fills are the marks")
            self.prices = None
            return
        self._next = next(self._bars, None)

    def advance(self, until: datetime, *, inclusive: bool = True) -> None:
        """Apply every bar closing before ``until`` (or at it, with ``inclusive``)."""
        bar, bars = self._next, self._bars
        if bar is None or bars is None:
            return
        start = self._equity_from
        while bar is not None:
            close = _close(bar)
            if close > until or (close == until and not inclusive):
                break
            self.book.on_bar(bar, close)
            if start is not None and close >= start:
                self.equity.update(self.portfolio, self.book, close)
            bar = next(bars, None)
        self._next = bar

    def _terms(self, iid: InstrumentId) -> tuple[str, AssetClass]:
        inst = self.instruments.get(iid)
        if inst is not None:
            return inst.quote, inst.asset_class
        symbol, _venue = split_instrument_id(iid)
        return symbol.split("/")[1], AssetClass.CRYPTO_SPOT

    def _fill(self, event: OrderFilled) -> None:
        fill = event.fill
        try:
            quote, asset_class = self._terms(fill.instrument_id)
        except (GekkoError, IndexError):
            self.notes.append(f"fill {fill.fill_id}: unknown instrument {fill.instrument_id}")
            return
        self.portfolio.apply_fill(fill, quote, asset_class)
        if self.prices is None:  # no price history: the fill's price is the instrument's mark
            self.book.market[fill.instrument_id] = MarketData(last=fill.price, last_ts=fill.ts)
            self.equity.update(self.portfolio, self.book, fill.ts)

    def _marked(self, event: EquityMarked) -> None:
        """The engine's own figures at ``event.ts`` replace the rebuilt ones."""
        eq = self.equity
        eq.now, eq.day_start, eq.peak = event.equity, event.day_start, event.peak
        if eq.curve and eq.curve[-1][0] == event.ts:
            eq.curve[-1] = (event.ts, event.equity)
        elif not eq.curve or (event.ts - eq.curve[-1][0]).total_seconds() >= eq.sample_seconds:
            eq.curve.append((event.ts, event.equity))

    def _limit(self, event: LimitChanged) -> None:
        import yaml

        tree = self.risk_config.model_dump(mode="python")
        parts = event.key.split(".")
        node = tree
        try:
            for part in parts[:-1]:
                node = node[part]
            node[parts[-1]] = yaml.safe_load(event.new) if event.new.strip() else None
            self.risk_config = RiskConfig.model_validate(tree)
        except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
            self.notes.append(f"limit change {event.key}={event.new} not applied here: {exc}")
            return
        self.limits = RiskLimits.from_config(self.risk_config)

    # -- reading ---------------------------------------------------------------------------------

    def gross_exposure(self) -> Decimal | None:
        """Gross exposure at the marks (None while a mark or rate is missing)."""
        try:
            return self.portfolio.gross_exposure(self.book.marks(), self.book.rates())
        except DataNotFound:
            return None

    def positions(self) -> list[PositionRow]:
        """Open positions with their marks."""
        rows: list[PositionRow] = []
        for iid, pos in sorted(self.portfolio.positions.items()):
            if not pos.quantity:
                continue
            md = self.book.market.get(iid)
            last = md.last if md is not None else None
            unrealized = pos.unrealized_pnl(last) if last is not None else None
            rows.append(PositionRow(iid, pos.quantity, pos.avg_price, last, unrealized, pos.realized_pnl))
        return rows

    def notional(self, iid: InstrumentId, quantity: Decimal) -> Decimal:
        """``quantity`` of ``iid`` in the account currency at its mark (0 when unknown)."""
        try:
            return quantity * self.book.value_in_account(iid)
        except (DataNotFound, KeyError):
            return Decimal(0)

    def _strategy_usage(self) -> dict[str, Decimal]:
        usage: dict[str, Decimal] = {}
        for iid, pos in self.portfolio.positions.items():
            if pos.quantity and iid in self.book.market:
                name = self.owner.get(iid, "manual")
                usage[name] = usage.get(name, Decimal(0)) + abs(self.notional(iid, pos.quantity))
        return usage

    def risk_snapshot(self, now: datetime, open_orders: Sequence[Order], state: str) -> RiskSnapshot:
        """What the risk engine would see now (the Risk screen's input)."""
        return portfolio_snapshot(
            now,
            self.portfolio,
            self.book,
            self.equity,
            self.instruments,
            open_orders=open_orders,
            submit_times=self.submit_times,
            cancel_times=self.cancel_times,
            trading_state=TradingState(state),
            strategy_usage=self._strategy_usage(),
        )
