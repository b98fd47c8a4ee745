"""What a tool may see and do: the :class:`ToolContext` port and the plain views it returns.

The context is a narrow, read-mostly view of the running engine. It answers questions (portfolio,
quotes, bars, risk state, a dry-run risk check, forecasts, own open orders) and accepts exactly two
actions, :meth:`ToolContext.propose` and :meth:`ToolContext.cancel_own`, which only *enqueue*
proposals for the engine: every proposal still goes through the RiskEngine. No tool ever holds a
venue client, a ledger writer or a way to change a limit or lift a halt.

Implementations: :class:`gekko_agent.agent.engine_context.TraderToolContext` (a running Trader) and
:class:`gekko_agent.testing.fake_context.FakeToolContext` (in memory, for tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from gekko_agent.domain import Bar, InstrumentId, OrderIntent

__all__ = [
    "ForecastView",
    "LimitView",
    "OpenOrderView",
    "PortfolioView",
    "PositionView",
    "QuoteView",
    "RiskStatusView",
    "ToolContext",
    "WhatIfView",
]


@dataclass(frozen=True, slots=True)
class PositionView:
    """One open position.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        quantity: signed base units.
        avg_price: average entry price.
        last: last price, when known.
        unrealized_pnl: at ``last``, quote currency, when known.
        realized_pnl: closed PnL, quote currency.
    """

    instrument_id: InstrumentId
    quantity: Decimal
    avg_price: Decimal
    last: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    realized_pnl: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PortfolioView:
    """The account now.

    Attributes:
        account_currency: currency of equity and PnL.
        equity: marked equity, when every position can be valued.
        cash: balance per currency.
        positions: open positions, sorted by instrument.
        realized_pnl: closed PnL in the account currency.
        unrealized_pnl: open PnL in the account currency.
        equity_day_start: equity at the start of the UTC day, when known.
    """

    account_currency: str
    equity: Decimal | None
    cash: Mapping[str, Decimal]
    positions: tuple[PositionView, ...] = ()
    realized_pnl: Decimal = Decimal(0)
    unrealized_pnl: Decimal = Decimal(0)
    equity_day_start: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuoteView:
    """Latest prices of one instrument (quote currency).

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        last: last trade or bar close.
        ts: time of ``last``.
        bid: best bid, when known.
        ask: best ask, when known.
    """

    instrument_id: InstrumentId
    last: Decimal | None
    ts: datetime | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LimitView:
    """Usage of one risk limit.

    Attributes:
        name: the limit.
        used: the current value, when measurable.
        limit: the limit, None when disabled.
        unit: currency, ``fraction``, ``x`` or ``count``.
    """

    name: str
    used: Decimal | None
    limit: Decimal | None
    unit: str

    @property
    def remaining(self) -> Decimal | None:
        """Headroom left (None when unlimited or unmeasurable)."""
        if self.used is None or self.limit is None:
            return None
        return self.limit - self.used


@dataclass(frozen=True, slots=True)
class RiskStatusView:
    """Trading state and limit headroom.

    Attributes:
        state: ``active``, ``reducing`` or ``halted``.
        limits: usage of each account-level limit.
        max_order_notional: the per-order notional cap, when enabled.
        allowed_instruments: instruments orders may name.
    """

    state: str
    limits: tuple[LimitView, ...] = ()
    max_order_notional: Decimal | None = None
    allowed_instruments: tuple[InstrumentId, ...] = ()


@dataclass(frozen=True, slots=True)
class WhatIfView:
    """A dry-run risk check of one intent (nothing is sent, nothing journaled).

    Attributes:
        outcome: ``approved``, ``resized`` or ``denied``.
        approved_quantity: what risk would allow.
        reasons: reason codes.
        explanation: one sentence.
    """

    outcome: str
    approved_quantity: Decimal
    reasons: tuple[str, ...] = ()
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class ForecastView:
    """Forecast return quantiles of one instrument.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        horizon_seconds: horizon the returns cover.
        quantiles: probability level → simple return over the horizon.
        model: the model that produced them.
    """

    instrument_id: InstrumentId
    horizon_seconds: int
    quantiles: Mapping[Decimal, Decimal] = field(default_factory=dict)
    model: str = ""


@dataclass(frozen=True, slots=True)
class OpenOrderView:
    """One of the agent's own resting orders.

    Attributes:
        order_id: client order id.
        instrument_id: ``SYMBOL@venue``.
        side: ``buy`` or ``sell``.
        remaining: unfilled base quantity.
        price: limit price, when any.
        strategy: who proposed it.
    """

    order_id: str
    instrument_id: InstrumentId
    side: str
    remaining: Decimal
    price: Decimal | None = None
    strategy: str = ""


@runtime_checkable
class ToolContext(Protocol):
    """The engine as tools see it. Every method is cheap and in-memory; none does venue I/O."""

    @property
    def now(self) -> datetime:
        """The engine clock's time (UTC)."""
        ...

    @property
    def strategy(self) -> str:
        """The brain's strategy name; proposals are stamped with it (budgets are per strategy)."""
        ...

    def instruments(self) -> Sequence[InstrumentId]:
        """Tradable instrument ids, sorted."""
        ...

    def portfolio(self) -> PortfolioView:
        """Equity, cash, positions and PnL."""
        ...

    def quote(self, instrument_id: InstrumentId) -> QuoteView:
        """Latest prices of ``instrument_id``.

        Raises:
            DataNotFound: unknown instrument.
        """
        ...

    def bars(self, instrument_id: InstrumentId, limit: int) -> Sequence[Bar]:
        """The last ``limit`` closed bars of ``instrument_id``, oldest first.

        Raises:
            DataNotFound: unknown instrument.
        """
        ...

    def risk_status(self) -> RiskStatusView:
        """Trading state and limit headroom."""
        ...

    def what_if(self, intent: OrderIntent) -> WhatIfView:
        """Dry-run the risk engine on ``intent`` against the current snapshot (no side effects)."""
        ...

    def forecast(self, instrument_id: InstrumentId) -> ForecastView | None:
        """Forecast quantiles of ``instrument_id``, or None when no model is loaded."""
        ...

    def open_orders(self) -> Sequence[OpenOrderView]:
        """The brain's own resting orders."""
        ...

    def propose(self, intents: Sequence[OrderIntent]) -> list[str]:
        """Enqueue intents for the engine (risk runs later); returns their intent ids."""
        ...

    def cancel_own(self, order_id: str) -> bool:
        """Enqueue a cancel of one of the brain's own orders; False when it is not one of them."""
        ...
