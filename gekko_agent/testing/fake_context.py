"""An in-memory :class:`~gekko_agent.tools.context.ToolContext` for tests: real risk, no engine.

:class:`FakeToolContext` holds a portfolio, bars per instrument and a trading state; its snapshot is
built from them on every call, and its dry-run checks run the real :class:`~gekko_agent.risk.RiskEngine`.
Proposals and cancels are queued in ``proposals`` / ``cancels``; :meth:`FakeToolContext.submit` runs
queued (or given) intents through the risk engine the way the Trader does, so a test can assert that
nothing outside the limits would ever reach a venue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from gekko_agent.agent.engine_context import BarHistory, SnapshotToolContext
from gekko_agent.domain import Bar, Instrument, InstrumentId, OrderIntent, Portfolio
from gekko_agent.risk import (
    ForecastQuantiles,
    MarketData,
    ReturnWindow,
    RiskConfig,
    RiskEngine,
    RiskOutcome,
    RiskSnapshot,
    TradingState,
    VenueHealth,
    snapshot_from_portfolio,
)
from gekko_agent.tools.context import ForecastView, OpenOrderView

__all__ = ["FakeToolContext", "FakeWorld", "synthetic_bars"]


def synthetic_bars(
    instrument_id: InstrumentId,
    start: datetime,
    n: int,
    *,
    price: Decimal = Decimal(20000),
    step: Decimal = Decimal(5),
    interval: int = 60,
) -> list[Bar]:
    """``n`` deterministic 1-minute bars that zig-zag upward around ``price`` (for tests and benchmarks).

    Args:
        instrument_id: the instrument.
        start: open time of the first bar (UTC).
        n: how many bars.
        price: first close.
        step: price move per bar.
        interval: bar length in seconds.
    """
    bars: list[Bar] = []
    close = price
    for i in range(n):
        move = step if i % 3 else -step / 2
        o, close = close, close + move
        hi, lo = max(o, close) + step / 4, min(o, close) - step / 4
        ts = start + timedelta(seconds=interval * i)
        bars.append(Bar(instrument_id, ts, o, hi, lo, close, Decimal(3), interval))
    return bars


@dataclass(slots=True)
class FakeWorld:
    """The mutable state behind a :class:`FakeToolContext`.

    Attributes:
        instruments: tradable instruments.
        portfolio: cash and positions.
        now: engine time (UTC).
        state: trading state.
        forecasts: forecast quantiles per instrument.
        open_orders: resting orders.
        equity_day_start: equity at the start of the day (starting cash when not given).
        equity_peak: highest equity seen (starting cash when not given).
    """

    instruments: dict[InstrumentId, Instrument]
    portfolio: Portfolio
    now: datetime
    state: TradingState = TradingState.ACTIVE
    forecasts: dict[InstrumentId, ForecastQuantiles] = field(default_factory=dict)
    open_orders: list[OpenOrderView] = field(default_factory=list)
    equity_day_start: Decimal | None = None
    equity_peak: Decimal | None = None


def _returns_window(bars: Mapping[InstrumentId, Sequence[Bar]]) -> ReturnWindow | None:
    """Simple returns of each instrument's closes, aligned on the shortest series (for VaR)."""
    series = {iid: [float(b.close) for b in s] for iid, s in bars.items() if len(s) > 2}
    if not series:
        return None
    n = min(len(c) for c in series.values())
    cols = [[c[i] / c[i - 1] - 1 for i in range(len(c) - n + 1, len(c))] for c in series.values()]
    rows = [list(r) for r in zip(*cols, strict=True)]
    interval = next(iter(bars.values()))[-1].interval
    return ReturnWindow.from_array(series, rows, interval)


class FakeToolContext(SnapshotToolContext):
    """A ToolContext over a :class:`FakeWorld` and a real RiskEngine.

    Args:
        instruments: tradable instruments.
        bars: bars per instrument (oldest first); the last close is each instrument's last price.
        cash: starting balances.
        risk: risk limits (agent.yaml's ``risk:`` section); defaults apply when None.
        strategy: strategy name proposals carry.
        account_currency: currency of equity.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        bars: Mapping[InstrumentId, Sequence[Bar]],
        *,
        cash: Mapping[str, Decimal] | None = None,
        risk: RiskConfig | None = None,
        strategy: str = "llm",
        account_currency: str = "USD",
    ) -> None:
        history = BarHistory()
        for series in bars.values():
            history.extend(series)
        last_close = max(
            (b.ts + timedelta(seconds=b.interval) for s in bars.values() for b in s[-1:]),
            default=datetime.now().astimezone(),
        )
        self.world = FakeWorld(
            instruments={i.id: i for i in instruments},
            portfolio=Portfolio(account_currency, dict(cash or {account_currency: Decimal(100000)})),
            now=last_close,
        )
        self.bar_history = history
        start_equity = sum(self.world.portfolio.cash.values(), Decimal(0))
        self.world.equity_day_start = self.world.equity_peak = start_equity
        self._returns = _returns_window(bars)
        self.risk = RiskEngine(risk or RiskConfig())
        super().__init__(
            self.snapshot,
            self.risk,
            history,
            open_orders=lambda: list(self.world.open_orders),
            forecasts=self._forecast,
            strategy=strategy,
        )

    def _forecast(self, iid: InstrumentId, _bars: Sequence[Bar]) -> ForecastView | None:
        f = self.world.forecasts.get(iid)
        return ForecastView(iid, f.horizon_seconds, dict(f.quantiles), "fake") if f else None

    def snapshot(self) -> RiskSnapshot:
        """The risk snapshot of the world now (fresh each call)."""
        w = self.world
        market: dict[InstrumentId, MarketData] = {}
        for iid in w.instruments:
            last = self.bar_history.last(iid, 1)
            if last:
                b = last[0]
                market[iid] = MarketData(last=b.close, last_ts=b.ts + timedelta(seconds=b.interval))
        venues = {
            i.venue: VenueHealth(reconciled_at=w.now - timedelta(hours=1)) for i in w.instruments.values()
        }
        return snapshot_from_portfolio(
            w.portfolio,
            now=w.now,
            instruments=w.instruments,
            market=market,
            venues=venues,
            trading_state=w.state,
            equity_day_start=w.equity_day_start,
            equity_peak=w.equity_peak,
            returns=self._returns,
            forecasts=dict(w.forecasts),
        )

    def submit(self, intents: Sequence[OrderIntent] | None = None) -> list[RiskOutcome]:
        """Run ``intents`` (default: the queued proposals, which are then cleared) through the RiskEngine.

        Returns:
            One outcome per intent, in order (nothing is executed).
        """
        todo = list(self.take()[0] if intents is None else intents)
        return [self.risk.check(i, self.snapshot()) for i in todo]
