"""A :class:`~gekko_agent.tools.context.ToolContext` over a running engine, read-only.

:class:`SnapshotToolContext` answers every question from a :class:`~gekko_agent.risk.RiskSnapshot`
(taken fresh per call), a :class:`BarHistory` and an optional forecast source; its two actions only
queue proposals and cancels in :attr:`proposals` / :attr:`cancels` for the engine to take.
:class:`TraderToolContext` is that view over a :class:`~gekko_agent.runtime.trader.Trader` (it reads
``trader.snapshot()``, ``trader.risk``, ``trader.execution.open_orders()``; it never calls a venue).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from gekko_agent.domain import Bar, InstrumentId, OrderIntent
from gekko_agent.errors import DataNotFound, UserError
from gekko_agent.risk import Denied, RiskEngine, RiskSnapshot, limit_usage
from gekko_agent.risk.governance import LimitProposal
from gekko_agent.risk.outcomes import outcome_name
from gekko_agent.tools.context import (
    ForecastView,
    LimitView,
    OpenOrderView,
    PortfolioView,
    PositionView,
    QuoteView,
    RiskStatusView,
    WhatIfView,
)

if TYPE_CHECKING:
    from gekko_agent.runtime.trader import Trader

__all__ = ["BarHistory", "ForecastSource", "SnapshotToolContext", "TraderToolContext", "forecaster_source"]

ForecastSource = Callable[[InstrumentId, Sequence[Bar]], ForecastView | None]
"""Given an instrument and its recent bars, forecast quantiles (or None)."""


class BarHistory:
    """The last ``maxlen`` closed bars per instrument (feed it every bar the engine sees).

    Args:
        maxlen: bars kept per instrument.
    """

    def __init__(self, maxlen: int = 500) -> None:
        self.maxlen = maxlen
        self._bars: dict[InstrumentId, deque[Bar]] = {}

    def on_bar(self, bar: Bar) -> None:
        """Keep ``bar``."""
        q = self._bars.get(bar.instrument_id)
        if q is None:
            q = self._bars[bar.instrument_id] = deque(maxlen=self.maxlen)
        q.append(bar)

    def extend(self, bars: Iterable[Bar]) -> None:
        """Keep several bars, oldest first."""
        for b in bars:
            self.on_bar(b)

    def last(self, instrument_id: InstrumentId, limit: int) -> list[Bar]:
        """The last ``limit`` bars of ``instrument_id`` (empty when none were seen)."""
        q = self._bars.get(instrument_id)
        if not q or limit <= 0:
            return []
        n = min(limit, len(q))
        return [q[i] for i in range(len(q) - n, len(q))]


class SnapshotToolContext:
    """ToolContext from a snapshot function, the risk engine, bar history and forecasts.

    Args:
        snapshot: returns the current risk snapshot.
        risk: the engine's RiskEngine (used only for dry-run checks and limit usage).
        history: recent bars.
        open_orders: the resting orders (all of them; only this strategy's are shown).
        forecasts: optional forecast source.
        strategy: the strategy name proposals carry.
    """

    def __init__(
        self,
        snapshot: Callable[[], RiskSnapshot],
        risk: RiskEngine,
        history: BarHistory,
        *,
        open_orders: Callable[[], Sequence[OpenOrderView]] = tuple,
        forecasts: ForecastSource | None = None,
        strategy: str = "llm",
    ) -> None:
        self._snapshot = snapshot
        self._risk = risk
        self._history = history
        self._open_orders = open_orders
        self._forecasts = forecasts
        self._strategy = strategy
        self.proposals: list[OrderIntent] = []
        self.cancels: list[str] = []

    @property
    def now(self) -> datetime:
        """Engine time of a fresh snapshot."""
        return self._snapshot().now

    @property
    def strategy(self) -> str:
        """Strategy name stamped on proposals."""
        return self._strategy

    def instruments(self) -> list[InstrumentId]:
        """Tradable instrument ids, sorted."""
        return sorted(self._snapshot().instruments)

    def _known(self, snap: RiskSnapshot, iid: InstrumentId) -> None:
        if iid not in snap.instruments:
            known = ", ".join(sorted(snap.instruments))
            raise DataNotFound(f"unknown instrument {iid!r}; known: {known}")

    def portfolio(self) -> PortfolioView:
        """Equity, cash, positions and PnL from the snapshot (marked at last prices)."""
        snap = self._snapshot()
        view = self._risk.view(snap)
        positions: list[PositionView] = []
        realized = unrealized = Decimal(0)
        for iid, pos in sorted(snap.positions.items()):
            md = snap.market.get(iid)
            last = md.last if md is not None else None
            upnl = pos.unrealized_pnl(last) if last is not None else None
            rate = view.rate(pos.quote) or Decimal(0)
            realized += pos.realized_pnl * rate
            unrealized += (upnl or Decimal(0)) * rate
            positions.append(PositionView(iid, pos.quantity, pos.avg_price, last, upnl, pos.realized_pnl))
        return PortfolioView(
            account_currency=snap.account_currency,
            equity=view.equity,
            cash=dict(snap.cash),
            positions=tuple(positions),
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            equity_day_start=snap.equity_day_start,
        )

    def quote(self, instrument_id: InstrumentId) -> QuoteView:
        """Last, bid and ask of ``instrument_id``."""
        snap = self._snapshot()
        self._known(snap, instrument_id)
        md = snap.market.get(instrument_id)
        if md is None:
            return QuoteView(instrument_id, None)
        return QuoteView(instrument_id, md.last, md.last_ts, md.bid, md.ask)

    def bars(self, instrument_id: InstrumentId, limit: int) -> list[Bar]:
        """The last ``limit`` bars of ``instrument_id``."""
        self._known(self._snapshot(), instrument_id)
        return self._history.last(instrument_id, limit)

    def risk_status(self) -> RiskStatusView:
        """Trading state and limit usage."""
        snap = self._snapshot()
        limits = self._risk.limits
        usage = limit_usage(snap, limits, self._risk.view(snap))
        allowed = tuple(
            sorted(iid for iid in snap.instruments if limits.allow_all or not limits.allow_enabled)
            or sorted(limits.allow_exact)
        )
        return RiskStatusView(
            state=str(snap.trading_state),
            limits=tuple(LimitView(u.name, u.used, u.limit, u.unit) for u in usage),
            max_order_notional=limits.order_max_notional if limits.order_max_notional else None,
            allowed_instruments=allowed,
        )

    def what_if(self, intent: OrderIntent) -> WhatIfView:
        """Dry-run the risk engine (pure; nothing journaled or sent)."""
        out = self._risk.check(intent, self._snapshot())
        qty = Decimal(0) if isinstance(out, Denied) else out.intent.quantity
        return WhatIfView(outcome_name(out), qty, tuple(str(r) for r in out.reasons), out.explanation)

    def forecast(self, instrument_id: InstrumentId) -> ForecastView | None:
        """Forecast from the configured source, or None."""
        self._known(self._snapshot(), instrument_id)
        if self._forecasts is None:
            return None
        return self._forecasts(instrument_id, self._history.last(instrument_id, self._history.maxlen))

    def open_orders(self) -> list[OpenOrderView]:
        """This strategy's resting orders."""
        return [o for o in self._open_orders() if o.strategy == self._strategy]

    def propose(self, intents: Sequence[OrderIntent]) -> list[str]:
        """Queue intents for the engine; returns their ids."""
        self.proposals.extend(intents)
        return [i.intent_id for i in intents]

    def cancel_own(self, order_id: str) -> bool:
        """Queue a cancel when ``order_id`` is one of this strategy's open orders."""
        if not any(o.order_id == order_id for o in self.open_orders()):
            return False
        self.cancels.append(order_id)
        return True

    def take(self) -> tuple[list[OrderIntent], list[str]]:
        """Hand the queued proposals and cancels to the engine and clear them."""
        out = (self.proposals, self.cancels)
        self.proposals, self.cancels = [], []
        return out


class TraderToolContext(SnapshotToolContext):
    """The ToolContext over a running Trader (read-only; proposals are queued, never sent).

    Args:
        trader: the running Trader.
        history: bars the engine has seen (feed it from the Trader's bar loop).
        forecasts: optional forecast source.
        strategy: the strategy name proposals carry.
    """

    def __init__(
        self,
        trader: Trader,
        history: BarHistory,
        *,
        forecasts: ForecastSource | None = None,
        strategy: str = "llm",
    ) -> None:
        def open_orders() -> list[OpenOrderView]:
            return [
                OpenOrderView(
                    o.client_order_id,
                    o.instrument_id,
                    str(o.side),
                    o.remaining,
                    o.intent.limit_price,
                    o.intent.strategy,
                )
                for o in trader.execution.open_orders()
            ]

        super().__init__(
            trader.snapshot,
            trader.risk,
            history,
            open_orders=open_orders,
            forecasts=forecasts,
            strategy=strategy,
        )
        self.trader = trader

    def propose_limit(self, key: str, value: str, reason: str) -> LimitProposal:
        """Queue a limit change for people to decide, stamped ``agent:<strategy>``; changes nothing
        (the door :func:`~gekko_agent.tools.risk.propose_limit_change` uses)."""
        return self.trader.propose_limit(key, value, f"agent:{self.strategy}", reason)


def forecaster_source(forecaster: object, horizon_seconds: int, model: str) -> ForecastSource:
    """A :data:`ForecastSource` from a :class:`~gekko_agent.forecast.Forecaster`-like object.

    Args:
        forecaster: anything with ``quantiles(BarArray) -> dict[Decimal, Decimal]``.
        horizon_seconds: the model's horizon.
        model: its name, for the view.
    """
    import numpy as np

    from gekko_agent.market.bararray import BarArray

    quantiles: Callable[[BarArray], Mapping[Decimal, Decimal]] = getattr(forecaster, "quantiles")  # noqa: B009

    def source(iid: InstrumentId, bars: Sequence[Bar]) -> ForecastView | None:
        if not bars:
            return None
        cols = [[float(getattr(b, k)) for b in bars] for k in ("open", "high", "low", "close", "volume")]
        ts = np.array([int(b.ts.timestamp()) * 1_000_000_000 for b in bars], dtype=np.int64)
        o, h, lo, c, v = (np.array(col, dtype=np.float64) for col in cols)
        arr = BarArray(iid, bars[-1].interval, ts, o, h, lo, c, v)
        try:
            q = quantiles(arr)
        except UserError:
            return None
        return ForecastView(iid, horizon_seconds, dict(q), model)

    return source
