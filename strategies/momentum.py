"""``momentum``: time-series momentum as a Donchian channel breakout.

A close above the highest high of the previous ``lookback`` bars is a breakout: buy ``quantity``.
The long is closed when a close falls below the lowest low of the previous ``exit_lookback`` bars
(the shorter exit channel, Donchian's "turtle" rule). An optional momentum filter also asks that
the close be at least ``min_return_bps`` above the close ``lookback`` bars ago, so a breakout out of
a falling market is ignored.

Shorts mirror the rules (break below the low channel, cover above the exit high channel) and are
off by default: on spot the risk engine denies a sell that is not covered by holdings anyway, so
enable ``allow_short`` only for margin instruments (FX).

Signals are taken on a bar's close; with market orders the fill is at the next bar's open.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent, OrderSide

__all__ = ["Momentum", "Params", "create"]


class Params(BaseModel):
    """Parameters of momentum."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback: int = Field(60, ge=2, description="Bars in the entry channel (highest high / lowest low).")
    exit_lookback: int = Field(30, ge=1, description="Bars in the exit channel; at most `lookback`.")
    quantity: Decimal = Field(Decimal("0.1"), gt=0, description="Base units traded per entry.")
    min_return_bps: Decimal = Field(
        Decimal(0),
        ge=0,
        description="Momentum filter: the close must be this far (bps) beyond the close `lookback` bars ago.",
    )
    allow_short: bool = Field(
        False, description="Also sell breakdowns short (margin/FX only; spot cannot go short)."
    )

    @model_validator(mode="after")
    def _exit_within_entry(self) -> Params:
        if self.exit_lookback > self.lookback:
            raise ValueError("exit_lookback must not exceed lookback")
        return self


class _Channel:
    """Highs, lows and closes of the last ``lookback + 1`` bars (floats: indicator math, not money)."""

    def __init__(self, lookback: int) -> None:
        self.lookback = lookback
        self.highs: deque[float] = deque(maxlen=lookback + 1)
        self.lows: deque[float] = deque(maxlen=lookback + 1)
        self.closes: deque[float] = deque(maxlen=lookback + 1)

    def push(self, bar: Bar) -> bool:
        """Add a bar; True once the channel of the *previous* ``lookback`` bars is full."""
        self.highs.append(float(bar.high))
        self.lows.append(float(bar.low))
        self.closes.append(float(bar.close))
        return len(self.closes) > self.lookback

    def prior_high(self, n: int) -> float:
        """Highest high of the ``n`` bars before the current one."""
        return max(list(self.highs)[-n - 1 : -1])

    def prior_low(self, n: int) -> float:
        """Lowest low of the ``n`` bars before the current one."""
        return min(list(self.lows)[-n - 1 : -1])

    def momentum_bps(self) -> float:
        """Return of the current close over the close ``lookback`` bars ago, in bps."""
        first = self.closes[0]
        return (self.closes[-1] / first - 1.0) * 1e4 if first else 0.0


def _confidence(excess: float, width: float) -> Decimal:
    """0.5 for a bare breakout, rising with how far past the channel the close went (max 0.9)."""
    strength = excess / width if width > 0 else 0.0
    return Decimal(str(round(min(0.9, 0.5 + 2.0 * strength), 3)))


class Momentum:
    """Donchian breakout with an exit channel; long only unless ``allow_short``."""

    def __init__(self, name: str, instruments: tuple[InstrumentId, ...], params: Params) -> None:
        self.name = name
        self.instruments = instruments
        self.params = params
        self._channels = {iid: _Channel(params.lookback) for iid in instruments}

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Enter on a channel breakout, exit on the opposite exit-channel break."""
        ch = self._channels.get(bar.instrument_id)
        if ch is None or not ch.push(bar):
            return ()
        p = self.params
        iid = bar.instrument_id
        close = float(bar.close)
        held = ctx.position(iid)
        hi, lo = ch.prior_high(p.lookback), ch.prior_low(p.lookback)
        width = hi - lo
        mom = ch.momentum_bps()
        if held > 0 and close < ch.prior_low(p.exit_lookback):
            why = f"close {bar.close} fell below the {p.exit_lookback}-bar low; closing the long"
            return (ctx.intent(self.name, iid, OrderSide.SELL, held, why, Decimal("0.6")),)
        if held < 0 and close > ch.prior_high(p.exit_lookback):
            why = f"close {bar.close} rose above the {p.exit_lookback}-bar high; covering the short"
            return (ctx.intent(self.name, iid, OrderSide.BUY, -held, why, Decimal("0.6")),)
        if held <= 0 and close > hi and mom >= float(p.min_return_bps):
            why = (
                f"close {bar.close} broke above the {p.lookback}-bar high {hi:.2f} (momentum {mom:+.1f} bps)"
            )
            qty = p.quantity - held
            return (ctx.intent(self.name, iid, OrderSide.BUY, qty, why, _confidence(close - hi, width)),)
        if p.allow_short and held >= 0 and close < lo and -mom >= float(p.min_return_bps):
            why = (
                f"close {bar.close} broke below the {p.lookback}-bar low {lo:.2f} "
                f"(momentum {mom:+.1f} bps); selling short"
            )
            qty = p.quantity + held
            return (ctx.intent(self.name, iid, OrderSide.SELL, qty, why, _confidence(lo - close, width)),)
        return ()

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> Momentum:
    """Build the strategy (called by the loader with validated params)."""
    return Momentum(name, instruments, params)
