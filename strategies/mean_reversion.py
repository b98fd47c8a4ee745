"""``mean_reversion``: z-score / Bollinger band reversion.

Over the last ``window`` closes (the current one included) the z-score is
``(close - mean) / std``; the Bollinger bands are ``mean ± entry_z · std``. A close below the lower
band (``z < -entry_z``) buys ``quantity``; the long is closed once the close reverts to
``z >= -exit_z`` (``exit_z = 0``: back to the mean). A ``stop_z`` bails out of a long whose close
keeps falling (``z < -stop_z``), so a trend does not bleed the position forever.

Shorts mirror the rules above the upper band and are off by default: spot cannot go short (the
risk engine denies an uncovered sell), so enable ``allow_short`` only on margin instruments (FX).

Signals are taken on a bar's close; with market orders the fill is at the next bar's open.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.agent.strategy import StrategyContext, observe_then_decide
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent, OrderSide

__all__ = ["MeanReversion", "Params", "create", "zscore"]


class Params(BaseModel):
    """Parameters of mean_reversion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(60, ge=3, description="Closes in the rolling mean and standard deviation.")
    entry_z: float = Field(2.0, gt=0, description="Enter when the close is this many deviations out.")
    exit_z: float = Field(0.0, ge=0, description="Exit once the close is back within this many deviations.")
    stop_z: float | None = Field(
        None, gt=0, description="Stop out when the close runs this many deviations further (None: no stop)."
    )
    quantity: Decimal = Field(Decimal("0.1"), gt=0, description="Base units traded per entry.")
    min_std_bps: float = Field(
        0.0, ge=0, description="Skip signals while the deviation is below this share of the mean (bps)."
    )
    allow_short: bool = Field(
        False, description="Also sell above the upper band (margin/FX only; spot cannot go short)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Params:
        if self.exit_z >= self.entry_z:
            raise ValueError("exit_z must be smaller than entry_z")
        if self.stop_z is not None and self.stop_z <= self.entry_z:
            raise ValueError("stop_z must be larger than entry_z")
        return self


def zscore(values: Sequence[float]) -> tuple[float, float, float]:
    """``(z of the last value, mean, sample standard deviation)``; z is 0 when the values are flat.

    The sums are taken around the first value (shifted data) so large prices keep their precision.
    """
    n = len(values)
    ref = values[0]
    dev = [v - ref for v in values]
    mean_dev = math.fsum(dev) / n
    var = math.fsum((d - mean_dev) ** 2 for d in dev) / (n - 1)
    std = math.sqrt(var) if var > 0 else 0.0
    z = (dev[-1] - mean_dev) / std if std > 0 else 0.0
    return z, ref + mean_dev, std


def _confidence(z: float, entry_z: float) -> Decimal:
    """0.5 at the band, rising with how far past it the close is (max 0.9)."""
    return Decimal(str(round(min(0.9, 0.5 + 0.2 * (abs(z) - entry_z)), 3)))


class MeanReversion:
    """Buy the lower band, sell the reversion; short the upper band only when allowed (stepped)."""

    def __init__(self, name: str, instruments: tuple[InstrumentId, ...], params: Params) -> None:
        self.name = name
        self.instruments = instruments
        self.params = params
        self._closes: dict[InstrumentId, deque[float]] = {
            iid: deque(maxlen=params.window) for iid in instruments
        }
        self._readings: dict[InstrumentId, tuple[float, float, float] | None] = {}

    def _move(self, z: float, held: Decimal) -> str | None:
        """Which rule ``z`` triggers with ``held``: exit_long, stop_long, cover, stop_short, buy, short."""
        p = self.params
        if held > 0:
            if z >= -p.exit_z:
                return "exit_long"
            if p.stop_z is not None and z < -p.stop_z:
                return "stop_long"
            return None
        if held < 0:
            if z <= p.exit_z:
                return "cover"
            if p.stop_z is not None and z > p.stop_z:
                return "stop_short"
            return None
        if z < -p.entry_z and (p.stop_z is None or z >= -p.stop_z):
            return "buy"
        if p.allow_short and z > p.entry_z and (p.stop_z is None or z <= p.stop_z):
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
        """Add the close; True when the z-score fires a rule with ``held``."""
        closes = self._closes.get(iid)
        if closes is None:
            return False
        closes.append(close)
        p = self.params
        self._readings[iid] = None
        if len(closes) < p.window:
            return False
        z, mean, std = zscore(closes)
        if mean <= 0 or std / mean * 1e4 < p.min_std_bps:
            return False
        self._readings[iid] = (z, mean, std)
        return self._move(z, held) is not None

    def decide(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Trade the band crossing of the bar just observed."""
        iid = bar.instrument_id
        reading = self._readings.get(iid)
        if reading is None:
            return ()
        z, mean, std = reading
        p = self.params
        held = ctx.position(iid)
        stats = f"z {z:+.2f} (mean {mean:.2f}, std {std:.2f} over {p.window} bars)"
        move = self._move(z, held)
        if move == "exit_long":
            why = f"close {bar.close} reverted, {stats}; closing the long"
            return (ctx.intent(self.name, iid, OrderSide.SELL, held, why, Decimal("0.6")),)
        if move == "stop_long":
            why = f"close {bar.close} kept falling, {stats}; stopping out of the long"
            return (ctx.intent(self.name, iid, OrderSide.SELL, held, why, Decimal("0.7")),)
        if move == "cover":
            why = f"close {bar.close} reverted, {stats}; covering the short"
            return (ctx.intent(self.name, iid, OrderSide.BUY, -held, why, Decimal("0.6")),)
        if move == "stop_short":
            why = f"close {bar.close} kept rising, {stats}; stopping out of the short"
            return (ctx.intent(self.name, iid, OrderSide.BUY, -held, why, Decimal("0.7")),)
        if move == "buy":
            why = f"close {bar.close} below the lower Bollinger band, {stats}"
            return (ctx.intent(self.name, iid, OrderSide.BUY, p.quantity, why, _confidence(z, p.entry_z)),)
        if move == "short":
            why = f"close {bar.close} above the upper Bollinger band, {stats}; selling short"
            return (ctx.intent(self.name, iid, OrderSide.SELL, p.quantity, why, _confidence(z, p.entry_z)),)
        return ()

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Trade the band crossings of the rolling z-score."""
        if bar.instrument_id not in self._closes:
            return ()
        return observe_then_decide(self, bar, ctx)

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> MeanReversion:
    """Build the strategy (called by the loader with validated params)."""
    return MeanReversion(name, instruments, params)
