"""``ml_forecast``: trade on the torch forecaster's return quantiles, long only.

The strategy loads a model from the registry (``gekko forecast train`` puts it there; nothing is
trained at run time) and, each time a bar of the model's interval closes, asks it for the quantiles
of the simple return over the model's horizon.

* **Enter** (when flat) if the median beats the round-trip cost (``min_edge``) and the lower quantile
  (``entry_level``, default 0.25) is no worse than ``-max_downside``.
* **Exit** (when long) if the median falls below ``exit_edge`` (default 0: the forecast turned).

Confidence is the forecast probability of a positive return, read off the quantiles by linear
interpolation. Bars shorter than the model's interval (1-minute bars for a 5-minute model) are
buffered and resampled; the model is asked only when a model-interval bar has just closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gekko_agent.agent.strategy import StrategyContext
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent, OrderSide
from gekko_agent.errors import ConfigError, DataNotFound, InvalidInput
from gekko_agent.forecast import DEFAULT_MODEL, DEFAULT_REGISTRY, Forecaster
from gekko_agent.market import BarArray, format_interval, to_ns

__all__ = ["MlForecast", "Params", "create", "prob_up"]

_NS = 1_000_000_000


class Params(BaseModel):
    """Parameters of ml_forecast."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model: str = Field(DEFAULT_MODEL, description="Registered model name (see `gekko forecast train`).")
    version: int | None = Field(None, ge=1, description="Model version; None loads the latest.")
    registry: str = Field(str(DEFAULT_REGISTRY), description="Model registry directory.")
    quantity: Decimal = Field(Decimal("0.1"), gt=0, description="Base units bought on each entry.")
    entry_level: Decimal = Field(
        Decimal("0.25"), gt=0, lt=Decimal("0.5"), description="Lower quantile checked against max_downside."
    )
    min_edge: Decimal = Field(
        Decimal("0.002"), ge=0, description="Median return needed to enter (covers fees and slippage)."
    )
    max_downside: Decimal = Field(
        Decimal("0.01"), gt=0, description="Entry needs the entry_level quantile above -max_downside."
    )
    exit_edge: Decimal = Field(Decimal(0), description="Exit a long when the median falls below this.")


def prob_up(quantiles: Mapping[Decimal, Decimal]) -> Decimal:
    """Probability of a positive return implied by the quantiles (linear between levels, clamped).

    Args:
        quantiles: probability level → return, any order.

    Returns:
        ``1 - F(0)`` rounded to 2 decimals, where ``F`` is the quantile function inverted by linear
        interpolation; outside the given levels it is clamped to the extreme levels.
    """
    points = sorted(quantiles.items())
    levels = [float(q) for q, _ in points]
    values = [float(r) for _, r in points]
    if values[0] >= values[-1]:  # a point forecast: all levels at one value
        below = levels[0] if values[0] > 0 else levels[-1]
    else:  # the level at which the quantile function crosses zero; np.interp clamps at the ends
        below = float(np.interp(0.0, values, levels))
    return Decimal(f"{1.0 - below:.2f}")


class _Window:
    """The recent bars of one instrument, enough for one forecast at the model's interval."""

    def __init__(self, keep: int) -> None:
        self.bars: deque[Bar] = deque(maxlen=keep)

    def array(self, iid: InstrumentId, interval: int) -> BarArray:
        bars = self.bars
        return BarArray(
            instrument_id=iid,
            interval=interval,
            ts=np.fromiter((to_ns(b.ts) for b in bars), dtype=np.int64, count=len(bars)),
            open=np.fromiter((float(b.open) for b in bars), dtype=np.float64, count=len(bars)),
            high=np.fromiter((float(b.high) for b in bars), dtype=np.float64, count=len(bars)),
            low=np.fromiter((float(b.low) for b in bars), dtype=np.float64, count=len(bars)),
            close=np.fromiter((float(b.close) for b in bars), dtype=np.float64, count=len(bars)),
            volume=np.fromiter((float(b.volume) for b in bars), dtype=np.float64, count=len(bars)),
        )


class MlForecast:
    """Long-only strategy on forecast quantiles.

    Attributes:
        forecaster: the loaded model.
        last_forecast: latest quantiles per instrument (for the risk snapshot and the dashboard).
    """

    def __init__(
        self, name: str, instruments: tuple[InstrumentId, ...], params: Params, forecaster: Forecaster
    ) -> None:
        self.name = name
        self.instruments = instruments
        self.params = params
        self.forecaster = forecaster
        self.last_forecast: dict[InstrumentId, dict[Decimal, Decimal]] = {}
        self._windows: dict[InstrumentId, _Window] = {}

    def _window(self, bar: Bar) -> _Window:
        window = self._windows.get(bar.instrument_id)
        if window is None:
            model_interval = self.forecaster.meta.interval
            if bar.interval > model_interval or model_interval % bar.interval:
                raise ConfigError(
                    "agent.yaml",
                    f"strategies.{self.name}.params.model",
                    f"model {self.params.model!r} forecasts from {format_interval(model_interval)} bars; "
                    f"{format_interval(bar.interval)} bars of {bar.instrument_id} cannot feed it",
                )
            ratio = model_interval // bar.interval
            window = self._windows[bar.instrument_id] = _Window((self.forecaster.min_bars + 1) * ratio)
        return window

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Buffer the bar; when a model-interval bar closes, forecast and maybe enter or exit."""
        if bar.instrument_id not in self.instruments:
            return ()
        window = self._window(bar)
        window.bars.append(bar)
        model_interval = self.forecaster.meta.interval
        if (to_ns(bar.ts) + bar.interval * _NS) % (model_interval * _NS):
            return ()
        try:
            q = self.forecaster.quantiles(window.array(bar.instrument_id, bar.interval))
        except InvalidInput:
            return ()  # still warming up
        self.last_forecast[bar.instrument_id] = q
        return self._decide(bar, ctx, q)

    def _decide(self, bar: Bar, ctx: StrategyContext, q: dict[Decimal, Decimal]) -> Sequence[OrderIntent]:
        p = self.params
        median = q.get(Decimal("0.5"))
        lows = [lvl for lvl in q if lvl <= p.entry_level]
        if median is None or not lows:
            return ()
        level = max(lows)
        held = ctx.position(bar.instrument_id)
        horizon = format_interval(self.forecaster.horizon_seconds)
        confidence = prob_up(q)
        if held <= 0 and median >= p.min_edge and q[level] >= -p.max_downside:
            why = (
                f"forecast {horizon} median {median:+.4%} beats cost {p.min_edge:.4%}; "
                f"q{level} {q[level]:+.4%} within downside {p.max_downside:.4%}"
            )
            return (ctx.intent(self.name, bar.instrument_id, OrderSide.BUY, p.quantity, why, confidence),)
        if held > 0 and median < p.exit_edge:
            why = f"forecast {horizon} median {median:+.4%} fell below {p.exit_edge:.4%}; closing the long"
            return (ctx.intent(self.name, bar.instrument_id, OrderSide.SELL, held, why, 1 - confidence),)
        return ()

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Nothing to do on fills."""
        return ()


def create(name: str, instruments: tuple[InstrumentId, ...], params: Params) -> MlForecast:
    """Load the model named in ``params`` and build the strategy.

    Raises:
        ConfigError: no such model or version in the registry (the message says how to train one).
    """
    try:
        forecaster = Forecaster.from_registry(params.model, params.version, Path(params.registry))
    except DataNotFound as exc:
        raise ConfigError("agent.yaml", f"strategies.{name}.params.model", str(exc)) from None
    return MlForecast(name, instruments, params, forecaster)
