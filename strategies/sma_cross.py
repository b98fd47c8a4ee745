"""``sma_cross``: the classic reference strategy, long only.

Buy when the fast simple moving average of closes crosses above the slow one; sell the whole
position when it crosses back below. Defaults: fast 10, slow 30 bars.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.agent.strategy import StrategyContext, observe_then_decide
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent, OrderSide

__all__ = ["Params", "SmaCross", "create"]


class Params(BaseModel):
    """Parameters of sma_cross."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fast: int = Field(10, ge=1, description="Bars in the fast average.")
    slow: int = Field(30, ge=2, description="Bars in the slow average.")
    quantity: Decimal = Field(Decimal("0.1"), gt=0, description="Base units bought on each entry.")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Params:
        if self.fast >= self.slow:
            raise ValueError("fast must be smaller than slow")
        return self


class _Averages:
    """Running sums of the last ``fast`` and ``slow`` closes (float: indicator math, not money)."""

    def __init__(self, fast: int, slow: int) -> None:
        self.fast, self.slow = fast, slow
        self.window: deque[float] = deque(maxlen=slow)
        self.sum_fast = self.sum_slow = 0.0
        self.prev_diff: float | None = None

    def push(self, close: float) -> tuple[float | None, float | None]:
        """Add a close; return (previous fast-slow difference, current difference) once warm."""
        w = self.window
        if len(w) == self.slow:
            self.sum_slow -= w[0]
        if len(w) >= self.fast:
            self.sum_fast -= w[-self.fast]
        w.append(close)
        self.sum_fast += close
        self.sum_slow += close
        if len(w) < self.slow:
            return None, None
        diff = self.sum_fast / self.fast - self.sum_slow / self.slow
        prev, self.prev_diff = self.prev_diff, diff
        return prev, diff


class SmaCross:
    """Long-only moving-average crossover (a :class:`SteppedStrategy`: observe, then decide)."""

    def __init__(self, name: str, instruments: tuple[InstrumentId, ...], params: Params) -> None:
        self.name = name
        self.instruments = instruments
        self.params = params
        self._avg = {iid: _Averages(params.fast, params.slow) for iid in instruments}
        self._last: dict[InstrumentId, tuple[float | None, float | None]] = {}

    def observe(
        self,
        iid: InstrumentId,
        open_: float,
        high: float,
        low: float,
        close: float,
        volume: float,
        held: Decimal,
    ) -> bool:
        """Push the close; True on a cross that ``held`` lets it trade (up while flat, down while long)."""
        avg = self._avg.get(iid)
        if avg is None:
            return False
        prev, diff = self._last[iid] = avg.push(close)
        if prev is None or diff is None:
            return False
        return (prev <= 0 < diff and held <= 0) or (prev >= 0 > diff and held > 0)

    def decide(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Enter on a cross above, exit on a cross below (the cross :meth:`observe` just saw)."""
        prev, diff = self._last.get(bar.instrument_id, (None, None))
        if prev is None or diff is None:
            return ()
        held = ctx.position(bar.instrument_id)
        p = self.params
        if prev <= 0 < diff and held <= 0:
            why = f"SMA{p.fast} crossed above SMA{p.slow} at {bar.close}"
            return (ctx.intent(self.name, bar.instrument_id, OrderSide.BUY, p.quantity, why, Decimal("0.6")),)
        if prev >= 0 > diff and held > 0:
            why = f"SMA{p.fast} crossed below SMA{p.slow} at {bar.close}; closing the long"
            return (ctx.intent(self.name, bar.instrument_id, OrderSide.SELL, held, why, Decimal("0.6")),)
        return ()

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Enter on a cross above, exit on a cross below."""
        if bar.instrument_id not in self._avg:
            return ()
        return observe_then_decide(self, bar, ctx)

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> SmaCross:
    """Build the strategy (called by the loader with validated params)."""
    return SmaCross(name, instruments, params)
