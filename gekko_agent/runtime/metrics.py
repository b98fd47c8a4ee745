"""Backtest and paper-run reports: fills, round trips, equity and every metric a person asks of a run.

Money stays ``Decimal``; ratios (returns, Sharpe, Sortino, drawdown, win rate, exposure, turnover)
are plain numbers. Every function here answers 0 where a metric is undefined (no returns, a flat
curve, zero starting equity) instead of dividing by zero.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from gekko_agent.domain import Fill, OrderSide
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.trades import RoundTrip, round_trips

__all__ = [
    "RunReport",
    "cagr",
    "exposure",
    "max_drawdown",
    "median_spacing",
    "report",
    "sharpe_ratio",
    "sortino_ratio",
    "turnover",
]

_YEAR_SECONDS = 365.25 * 24 * 3600


def max_drawdown(curve: Sequence[Decimal]) -> Decimal:
    """Largest fall from a running peak, as a fraction of that peak (0 for a rising curve)."""
    peak: Decimal | None = None
    worst = Decimal(0)
    for value in curve:
        if peak is None or value > peak:
            peak = value
        if peak > 0:
            worst = max(worst, (peak - value) / peak)
    return worst


def sharpe_ratio(curve: Sequence[Decimal], sample_seconds: float) -> float:
    """Annualized Sharpe of the curve's simple returns (risk-free 0); 0 when undefined."""
    if len(curve) < 3 or sample_seconds <= 0:
        return 0.0
    values = [float(v) for v in curve]
    rets = [b / a - 1.0 for a, b in itertools.pairwise(values) if a]
    n = len(rets)
    if n < 2:
        return 0.0
    mean = sum(rets) / n
    var = sum((r - mean) ** 2 for r in rets) / (n - 1)
    if var <= 0:
        return 0.0
    return mean / math.sqrt(var) * math.sqrt(_YEAR_SECONDS / sample_seconds)


def median_spacing(times: Sequence[datetime], default: float = 300.0) -> float:
    """Median gap between consecutive times in seconds (``default`` when it cannot be told).

    Ratios are annualized with it: an hourly-bar run marks its equity hourly, whatever the sampler asks.
    """
    gaps = sorted((b - a).total_seconds() for a, b in itertools.pairwise(times))
    middle = gaps[len(gaps) // 2] if gaps else 0.0
    return middle if middle > 0 else default


def sortino_ratio(curve: Sequence[float], sample_seconds: float) -> float:
    """Annualized Sortino ratio of simple returns (target 0); 0 when there is no downside."""
    rets = [b / a - 1.0 for a, b in itertools.pairwise(curve) if a]
    if len(rets) < 2 or sample_seconds <= 0:
        return 0.0
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / len(rets))
    if downside <= 0:
        return 0.0
    return (sum(rets) / len(rets)) / downside * math.sqrt(_YEAR_SECONDS / sample_seconds)


def cagr(start: float, final: float, seconds: float) -> float:
    """Compound annual growth over ``seconds``; inf when a short run's growth overflows, 0 when undefined."""
    years = seconds / _YEAR_SECONDS
    if years <= 0 or start <= 0 or final <= 0:
        return 0.0
    try:
        return float((final / start) ** (1.0 / years) - 1.0)
    except OverflowError:
        return math.inf


def exposure(fills: Sequence[Fill], start: datetime, end: datetime) -> float:
    """Share of [start, end] during which any instrument's position was not zero."""
    total = (end - start).total_seconds()
    if total <= 0:
        return 0.0
    positions: dict[str, Decimal] = {}
    in_market = 0.0
    since: datetime | None = None
    for f in fills:
        was_open = any(positions.values())
        positions[f.instrument_id] = positions.get(f.instrument_id, Decimal(0)) + (
            f.quantity if f.side is OrderSide.BUY else -f.quantity
        )
        now_open = any(positions.values())
        if now_open and not was_open:
            since = max(f.ts, start)
        elif was_open and not now_open and since is not None:
            in_market += max(0.0, (min(f.ts, end) - since).total_seconds())
            since = None
    if since is not None:
        in_market += max(0.0, (end - since).total_seconds())
    return min(1.0, in_market / total)


def turnover(fills: Sequence[Fill], curve: Sequence[float]) -> float:
    """Traded notional over mean equity (quote currencies at par with the account's); 0 without equity."""
    mean_eq = sum(curve) / len(curve) if curve else 0.0
    if mean_eq <= 0:
        return 0.0
    return sum(float(f.quantity * f.price) for f in fills) / mean_eq


def _ratio(value: float | Decimal) -> float | None:
    """A ratio for JSON: a number rounded to 6 places, None when not finite."""
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a run did.

    Attributes:
        fills: every fill, oldest first.
        start_equity: equity at the first mark.
        final_equity: equity at the last mark.
        total_return: final / start - 1.
        sharpe: annualized Sharpe of the sampled equity curve.
        max_drawdown: largest peak-to-trough fall, fraction.
        bars: bars processed.
        intents: intents proposed; approved / resized / denied by risk.
        fees: fees paid (account currency).
        start: first mark time.
        end: last mark time.
        cagr: total return compounded to a year (meaningless for runs of a few days).
        sortino: annualized Sortino of the sampled equity curve (downside deviation, target 0).
        exposure: share of the time any position was open.
        turnover: traded notional over mean equity.
    """

    fills: tuple[Fill, ...]
    start_equity: Decimal
    final_equity: Decimal
    total_return: Decimal
    sharpe: float
    max_drawdown: Decimal
    bars: int
    intents: int
    approved: int
    resized: int
    denied: int
    fees: Decimal
    start: datetime | None
    end: datetime | None
    cagr: float = 0.0
    sortino: float = 0.0
    exposure: float = 0.0
    turnover: float = 0.0

    @property
    def trades(self) -> list[RoundTrip]:
        """Closed round trips (flat to flat per instrument), in the order they closed."""
        return round_trips(self.fills)

    @property
    def win_rate(self) -> float:
        """Share of round trips with a positive net PnL (0 with none)."""
        trips = self.trades
        return sum(1 for t in trips if t.pnl > 0) / len(trips) if trips else 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict: money, prices and quantities as decimal strings; ratios as numbers.

        ``trades`` are the round trips, ``fills`` the individual executions.
        """
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "bars": self.bars,
            "start_equity": str(self.start_equity),
            "final_equity": str(self.final_equity),
            "fees": str(self.fees),
            "total_return": _ratio(self.total_return),
            "cagr": _ratio(self.cagr),
            "sharpe": _ratio(self.sharpe),
            "sortino": _ratio(self.sortino),
            "max_drawdown": _ratio(self.max_drawdown),
            "win_rate": _ratio(self.win_rate),
            "exposure": _ratio(self.exposure),
            "turnover": _ratio(self.turnover),
            "intents": self.intents,
            "approved": self.approved,
            "resized": self.resized,
            "denied": self.denied,
            "trades": [t.to_json() for t in self.trades],
            "fills": [
                {
                    "time": f.ts.isoformat(),
                    "instrument": f.instrument_id,
                    "side": str(f.side),
                    "quantity": str(f.quantity),
                    "price": str(f.price),
                    "fee": str(f.fee.amount),
                    "fee_currency": f.fee.currency,
                }
                for f in self.fills
            ],
        }


def report(trader: Trader, fills: Sequence[Fill], first_trading: datetime | None = None) -> RunReport:
    """Summarize a finished run from the trader's equity curve and the fills it booked."""
    curve = [(t, v) for t, v in trader.equity.curve if first_trading is None or t >= first_trading]
    if trader.equity.now is not None and (not curve or curve[-1][1] != trader.equity.now):
        curve.append((trader.clock.now(), trader.equity.now))
    values = [v for _, v in curve]
    floats = [float(v) for v in values]
    start_eq = values[0] if values else Decimal(0)
    final_eq = values[-1] if values else Decimal(0)
    start, end = (curve[0][0], curve[-1][0]) if curve else (None, None)
    seconds = (end - start).total_seconds() if start and end else 0.0
    sample = median_spacing([t for t, _ in curve], float(trader.equity.sample_seconds))
    book = trader.book
    fees = sum((f.fee.amount * book.rate(f.fee.currency) for f in fills), Decimal(0))
    s = trader.stats
    return RunReport(
        fills=tuple(fills),
        start_equity=start_eq,
        final_equity=final_eq,
        total_return=(final_eq / start_eq - 1) if start_eq else Decimal(0),
        sharpe=sharpe_ratio(values, sample),
        max_drawdown=max_drawdown(values),
        bars=s.bars,
        intents=s.intents,
        approved=s.approved,
        resized=s.resized,
        denied=s.denied,
        fees=fees,
        start=start,
        end=end,
        cagr=cagr(float(start_eq), float(final_eq), seconds),
        sortino=sortino_ratio(floats, sample),
        exposure=exposure(fills, start, end) if start and end else 0.0,
        turnover=turnover(fills, floats),
    )
