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
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.agent.strategy import StrategyContext, observe_then_decide
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

    def push(self, high: float, low: float, close: float) -> bool:
        """Add a bar; True once the channel of the *previous* ``lookback`` bars is full."""
        self.highs.append(high)
        self.lows.append(low)
        self.closes.append(close)
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


@dataclass(frozen=True, slots=True)
class _Reading:
    """The channel as of the bar just observed: close, entry channel, exit channel, momentum (bps)."""

    close: float
    high: float
    low: float
    exit_high: float
    exit_low: float
    momentum: float


class Momentum:
    """Donchian breakout with an exit channel; long only unless ``allow_short`` (a stepped strategy)."""

    def __init__(self, name: str, instruments: tuple[InstrumentId, ...], params: Params) -> None:
        self.name = name
        self.instruments = instruments
        self.params = params
        self._channels = {iid: _Channel(params.lookback) for iid in instruments}
        self._readings: dict[InstrumentId, _Reading | None] = {}
        self._min_bps = float(params.min_return_bps)

    def _move(self, r: _Reading, held: Decimal) -> str | None:
        """Which rule ``r`` triggers with ``held``: exit_long, cover, buy, short; None for none."""
        p = self.params
        if held > 0 and r.close < r.exit_low:
            return "exit_long"
        if held < 0 and r.close > r.exit_high:
            return "cover"
        if held <= 0 and r.close > r.high and r.momentum >= self._min_bps:
            return "buy"
        if p.allow_short and held >= 0 and r.close < r.low and -r.momentum >= self._min_bps:
            return "short"
        return None

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
        """Push the bar into the channel; True when a rule fires with ``held``."""
        ch = self._channels.get(iid)
        if ch is None:
            return False
        if not ch.push(high, low, close):
            self._readings[iid] = None
            return False
        p = self.params
        r = _Reading(
            close,
            ch.prior_high(p.lookback),
            ch.prior_low(p.lookback),
            ch.prior_high(p.exit_lookback),
            ch.prior_low(p.exit_lookback),
            ch.momentum_bps(),
        )
        self._readings[iid] = r
        return self._move(r, held) is not None

    def decide(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Enter on a channel breakout, exit on the opposite exit-channel break (bar just observed)."""
        iid = bar.instrument_id
        r = self._readings.get(iid)
        if r is None:
            return ()
        p = self.params
        held = ctx.position(iid)
        move = self._move(r, held)
        width = r.high - r.low
        if move == "exit_long":
            why = f"close {bar.close} fell below the {p.exit_lookback}-bar low; closing the long"
            return (ctx.intent(self.name, iid, OrderSide.SELL, held, why, Decimal("0.6")),)
        if move == "cover":
            why = f"close {bar.close} rose above the {p.exit_lookback}-bar high; covering the short"
            return (ctx.intent(self.name, iid, OrderSide.BUY, -held, why, Decimal("0.6")),)
        if move == "buy":
            why = (
                f"close {bar.close} broke above the {p.lookback}-bar high {r.high:.2f}"
                f" (momentum {r.momentum:+.1f} bps)"
            )
            qty = p.quantity - held
            conf = _confidence(r.close - r.high, width)
            return (ctx.intent(self.name, iid, OrderSide.BUY, qty, why, conf),)
        if move == "short":
            why = (
                f"close {bar.close} broke below the {p.lookback}-bar low {r.low:.2f} "
                f"(momentum {r.momentum:+.1f} bps); selling short"
            )
            qty = p.quantity + held
            conf = _confidence(r.low - r.close, width)
            return (ctx.intent(self.name, iid, OrderSide.SELL, qty, why, conf),)
        return ()

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Enter on a channel breakout, exit on the opposite exit-channel break."""
        if bar.instrument_id not in self._channels:
            return ()
        return observe_then_decide(self, bar, ctx)

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> Momentum:
    """Build the strategy (called by the loader with validated params)."""
    return Momentum(name, instruments, params)
