"""Backtest and paper-run reports: trades, equity, return, Sharpe, drawdown — Decimal money."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from gekko_agent.domain import Fill
from gekko_agent.runtime.trader import Trader

__all__ = ["RunReport", "max_drawdown", "report", "sharpe_ratio"]

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
    if len(curve) < 3:
        return 0.0
    values = [float(v) for v in curve]
    rets = [b / a - 1.0 for a, b in itertools.pairwise(values) if a]
    n = len(rets)
    mean = sum(rets) / n
    var = sum((r - mean) ** 2 for r in rets) / (n - 1)
    if var <= 0:
        return 0.0
    return mean / math.sqrt(var) * math.sqrt(_YEAR_SECONDS / sample_seconds)


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a run did.

    Attributes:
        trades: every fill, oldest first.
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
    """

    trades: tuple[Fill, ...]
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

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict; money as decimal strings."""
        return {
            "trades": [
                {
                    "ts": f.ts.isoformat(),
                    "instrument": f.instrument_id,
                    "side": str(f.side),
                    "quantity": str(f.quantity),
                    "price": str(f.price),
                    "fee": str(f.fee.amount),
                    "fee_currency": f.fee.currency,
                }
                for f in self.trades
            ],
            "start_equity": str(self.start_equity),
            "final_equity": str(self.final_equity),
            "total_return": str(self.total_return),
            "sharpe": round(self.sharpe, 4),
            "max_drawdown": str(self.max_drawdown),
            "bars": self.bars,
            "intents": self.intents,
            "approved": self.approved,
            "resized": self.resized,
            "denied": self.denied,
            "fees": str(self.fees),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def report(trader: Trader, fills: Sequence[Fill], first_trading: datetime | None = None) -> RunReport:
    """Summarize a finished run from the trader's equity curve and the fills it booked."""
    curve = [(t, v) for t, v in trader.equity.curve if first_trading is None or t >= first_trading]
    if trader.equity.now is not None and (not curve or curve[-1][1] != trader.equity.now):
        curve.append((trader.clock.now(), trader.equity.now))
    values = [v for _, v in curve]
    start_eq = values[0] if values else Decimal(0)
    final_eq = values[-1] if values else Decimal(0)
    book = trader.book
    fees = sum((f.fee.amount * book.rate(f.fee.currency) for f in fills), Decimal(0))
    s = trader.stats
    return RunReport(
        trades=tuple(fills),
        start_equity=start_eq,
        final_equity=final_eq,
        total_return=(final_eq / start_eq - 1) if start_eq else Decimal(0),
        sharpe=sharpe_ratio(values, trader.equity.sample_seconds),
        max_drawdown=max_drawdown(values),
        bars=s.bars,
        intents=s.intents,
        approved=s.approved,
        resized=s.resized,
        denied=s.denied,
        fees=fees,
        start=curve[0][0] if curve else None,
        end=curve[-1][0] if curve else None,
    )
