"""What the risk engine sees: one frozen :class:`RiskSnapshot`, built by the caller.

The engine reads nothing else (no clock, no venue, no ledger), so the same snapshot always gives the same
answer. Anything missing or stale in it makes the checks that need it fail closed.

Conventions:

* ``rates[c]`` is account-currency units per unit of currency ``c`` (the account currency needs none);
* prices are in the instrument's quote currency;
* ``returns`` holds simple returns per *risk factor*, sampled every ``interval_seconds``: a factor named
  by an instrument id is that instrument's price expressed in the account currency, a factor named by a
  currency code is that currency's value in the account currency (e.g. ``USDC`` during a depeg).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from gekko_agent.domain import Instrument, InstrumentId, Order, OrderSide, Portfolio, Position
from gekko_agent.errors import InvalidInput

__all__ = [
    "ForecastQuantiles",
    "MarketData",
    "OpenOrder",
    "ReturnWindow",
    "RiskSnapshot",
    "TradingState",
    "VenueHealth",
    "snapshot_from_portfolio",
]

FloatArray = npt.NDArray[np.float64]


class TradingState(StrEnum):
    """ACTIVE trades normally; REDUCING only shrinks exposure; HALTED sends nothing but cancels."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class MarketData:
    """Latest market data of one instrument (prices in its quote currency).

    Attributes:
        last: last trade price.
        last_ts: time of that trade (or of the bar it closed).
        bid: best bid, when a quote is known.
        ask: best ask, when a quote is known.
        quote_ts: time of the quote.
    """

    last: Decimal | None = None
    last_ts: datetime | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    quote_ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class VenueHealth:
    """Health of one venue connection, as the execution engine tracks it.

    Attributes:
        consecutive_errors: venue errors since the last success.
        connected_at: last start or reconnect.
        last_error_at: last venue error.
        reconciled_at: last completed reconciliation of this venue.
    """

    consecutive_errors: int = 0
    connected_at: datetime | None = None
    last_error_at: datetime | None = None
    reconciled_at: datetime | None = None

    @property
    def reconciled(self) -> bool:
        """True when a reconciliation completed after the last start, reconnect and error."""
        if self.reconciled_at is None:
            return False
        marks = [t for t in (self.connected_at, self.last_error_at) if t is not None]
        return all(self.reconciled_at >= t for t in marks)


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order resting at a venue (its remaining quantity may still fill).

    Attributes:
        order_id: client order id.
        instrument_id: ``SYMBOL@venue``.
        side: buy or sell.
        remaining: unfilled base units.
        price: limit price, if any (cash reservations use the last price otherwise).
        strategy: strategy that placed it.
    """

    order_id: str
    instrument_id: InstrumentId
    side: OrderSide
    remaining: Decimal
    price: Decimal | None = None
    strategy: str = "manual"

    @classmethod
    def of(cls, order: Order) -> OpenOrder:
        """The resting part of ``order``, as the risk checks see it."""
        return cls(
            order.client_order_id,
            order.instrument_id,
            order.side,
            order.remaining,
            order.intent.limit_price,
            order.intent.strategy,
        )


@dataclass(frozen=True, slots=True)
class ForecastQuantiles:
    """Forecast return quantiles of one instrument, e.g. ``{0.05: -0.031, 0.5: 0.002, 0.95: 0.029}``.

    Attributes:
        quantiles: probability level → forecast simple return over the horizon.
        horizon_seconds: the horizon the returns cover.
    """

    quantiles: Mapping[Decimal, Decimal]
    horizon_seconds: int = 3600

    def lower(self, level: Decimal) -> Decimal | None:
        """Return at the largest level <= ``level`` (at least as adverse for a long), if any."""
        levels = [q for q in self.quantiles if q <= level]
        return self.quantiles[max(levels)] if levels else None

    def upper(self, level: Decimal) -> Decimal | None:
        """Return at the smallest level >= ``1 - level`` (at least as adverse for a short), if any."""
        levels = [q for q in self.quantiles if q >= 1 - level]
        return self.quantiles[min(levels)] if levels else None


@dataclass(frozen=True, slots=True)
class ReturnWindow:
    """A window of factor returns (T rows × N factors), read-only, with its moments when known.

    Build it with :class:`~gekko_agent.risk.var.RollingReturns` (incremental moments) or
    :meth:`from_array`.

    Attributes:
        factors: factor names (instrument ids or currency codes), one per column.
        returns: T × N simple returns, oldest first.
        interval_seconds: sampling interval of the returns.
        cov: N × N covariance of the columns (sample, ddof=1).
        version: bumps whenever the window changes (cache key for the engine).
    """

    factors: tuple[str, ...]
    returns: FloatArray
    interval_seconds: int
    cov: FloatArray
    version: int = 0
    index: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.returns.ndim != 2 or self.returns.shape[1] != len(self.factors):
            raise InvalidInput("returns must be T x N with one column per factor")
        if not self.index:
            object.__setattr__(self, "index", MappingProxyType({f: i for i, f in enumerate(self.factors)}))

    @classmethod
    def from_array(
        cls, factors: Iterable[str], returns: Any, interval_seconds: int, version: int = 0
    ) -> ReturnWindow:
        """Build from a T × N array, computing the covariance directly."""
        arr = np.array(returns, dtype=np.float64, copy=True, ndmin=2)
        arr.setflags(write=False)
        names = tuple(factors)
        cov = np.cov(arr, rowvar=False, ddof=1) if arr.shape[0] > 1 else np.zeros((len(names), len(names)))
        cov = np.atleast_2d(np.asarray(cov, dtype=np.float64))
        cov.setflags(write=False)
        return cls(names, arr, interval_seconds, cov, version)

    @property
    def observations(self) -> int:
        """Number of rows."""
        return int(self.returns.shape[0])


def _ro(m: Mapping[Any, Any] | None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """Everything the checks need, at one instant. Mappings are copied read-only on construction.

    Attributes:
        now: the instant of the snapshot (engine clock, UTC); every age is measured from it.
        account_currency: currency of equity and money limits.
        cash: balance per currency.
        positions: position per instrument id.
        instruments: tradable instruments by id (anything not here is unknown and denied).
        market: latest market data per instrument id.
        rates: account-currency units per unit of each other currency.
        equity_day_start: equity at the start of the UTC day (account currency).
        equity_peak: highest equity seen (account currency).
        open_orders: orders resting at venues.
        submit_times: times of recent order submits, oldest first.
        cancel_times: times of recent cancels, oldest first.
        venues: health per venue name (a venue not here is treated as unreconciled).
        trading_state: ACTIVE, REDUCING or HALTED.
        strategy_usage: capital each strategy has committed (account currency).
        returns: factor return window for VaR/ES and sigma stress shocks.
        forecasts: forecast quantiles per instrument id.
    """

    now: datetime
    account_currency: str
    cash: Mapping[str, Decimal]
    positions: Mapping[InstrumentId, Position]
    instruments: Mapping[InstrumentId, Instrument]
    market: Mapping[InstrumentId, MarketData]
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    equity_day_start: Decimal | None = None
    equity_peak: Decimal | None = None
    open_orders: tuple[OpenOrder, ...] = ()
    submit_times: tuple[datetime, ...] = ()
    cancel_times: tuple[datetime, ...] = ()
    venues: Mapping[str, VenueHealth] = field(default_factory=dict)
    trading_state: TradingState = TradingState.ACTIVE
    strategy_usage: Mapping[str, Decimal] = field(default_factory=dict)
    returns: ReturnWindow | None = None
    forecasts: Mapping[InstrumentId, ForecastQuantiles] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise InvalidInput("snapshot time must be timezone-aware (UTC)")
        for name in (
            "cash",
            "positions",
            "instruments",
            "market",
            "rates",
            "venues",
            "strategy_usage",
            "forecasts",
        ):
            object.__setattr__(self, name, _ro(getattr(self, name)))
        object.__setattr__(self, "open_orders", tuple(self.open_orders))
        object.__setattr__(self, "submit_times", tuple(sorted(self.submit_times)))
        object.__setattr__(self, "cancel_times", tuple(sorted(self.cancel_times)))


def snapshot_from_portfolio(
    portfolio: Portfolio,
    *,
    now: datetime,
    instruments: Mapping[InstrumentId, Instrument],
    market: Mapping[InstrumentId, MarketData],
    **kwargs: Any,
) -> RiskSnapshot:
    """Build a snapshot from a :class:`~gekko_agent.domain.Portfolio` plus the rest (keyword arguments).

    Closed (flat) positions are left out.
    """
    positions = {iid: p for iid, p in portfolio.positions.items() if p.quantity}
    return RiskSnapshot(
        now=now,
        account_currency=portfolio.account_currency,
        cash=dict(portfolio.cash),
        positions=positions,
        instruments=instruments,
        market=market,
        **kwargs,
    )
