"""Helpers for the strategy tests: synthetic bars and a tiny position book."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gekko_agent.agent.strategy import Strategy, StrategyContext
from gekko_agent.domain import Bar, OrderIntent, OrderSide

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_bar(iid: str, i: int, close: float, spread: float = 0.5) -> Bar:
    """A 1-minute bar number ``i`` closing at ``close`` (open = close, range ± ``spread``)."""
    c = Decimal(str(close))
    s = Decimal(str(spread))
    return Bar(iid, T0 + timedelta(minutes=i), c, c + s, c - s, c, Decimal(10), 60)


def path(iid: str, closes: Iterable[float]) -> list[Bar]:
    """Consecutive 1-minute bars with the given closes."""
    return [make_bar(iid, i, c) for i, c in enumerate(closes)]


class Book:
    """Positions a strategy sees; intents fill immediately at the bar's close (unit tests only)."""

    def __init__(self, positions: dict[str, Decimal] | None = None) -> None:
        self.positions: dict[str, Decimal] = dict(positions or {})
        self.log: list[tuple[int, OrderIntent]] = []

    def ctx(self, now: datetime) -> StrategyContext:
        """A context with the current positions."""
        return StrategyContext(now=now, positions=dict(self.positions), cash={"USD": Decimal(10**6)})

    def feed(self, strategy: Strategy, bars: Iterable[Bar]) -> list[tuple[int, OrderIntent]]:
        """Run ``bars`` through ``strategy``; returns (bar index, intent) of every intent."""
        for i, bar in enumerate(bars):
            for intent in strategy.on_bar(bar, self.ctx(bar.ts)):
                sign = 1 if intent.side is OrderSide.BUY else -1
                iid = intent.instrument_id
                self.positions[iid] = self.positions.get(iid, Decimal(0)) + sign * intent.quantity
                self.log.append((i, intent))
        return self.log
