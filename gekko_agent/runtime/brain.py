"""What the Trader asks of whoever decides: the brain protocols.

A brain (the rules brain or the LLM agent) only proposes intents; the Trader runs each through the
risk engine, the approval queue and execution. The optional protocols below are capabilities the
Trader looks for with ``isinstance``: deciding on a timer, splitting bar handling into observe and
decide (the backtest's quiet-bar path), cancelling its own orders, offering forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from gekko_agent.agent.strategy import Observe, StrategyContext
from gekko_agent.domain import Bar, Fill, InstrumentId, OrderIntent
from gekko_agent.risk.snapshot import ForecastQuantiles

__all__ = ["Brain", "CancellingBrain", "CyclingBrain", "ForecastSource", "SteppedBrain"]


class Brain(Protocol):
    """Whatever decides: the rules brain or the LLM agent. It only proposes intents."""

    name: str

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Intents in response to a closed bar."""
        ...

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Intents in response to one of its fills."""
        ...


@runtime_checkable
class CyclingBrain(Protocol):
    """A brain that also decides on a timer (the LLM agent), awaited in the bar loop."""

    def due(self, now: datetime) -> bool:
        """True when a cycle should run now."""
        ...

    async def run_cycle(self, now: datetime) -> list[OrderIntent]:
        """One decision cycle; returns intents for the risk path."""
        ...


@runtime_checkable
class SteppedBrain(Protocol):
    """A brain whose bar handling splits into observe and decide (the rules brain; see
    :class:`~gekko_agent.agent.strategy.SteppedStrategy`)."""

    def stepped(self, iid: InstrumentId) -> bool:
        """True when every strategy on ``iid`` observes and decides apart."""
        ...

    def observer(self, iid: InstrumentId) -> Observe:
        """The fastest callable that folds a bar of ``iid`` in; True when :meth:`decide` may propose."""
        ...

    def decide(self, bar: Bar, ctx: StrategyContext) -> Sequence[OrderIntent]:
        """Intents for the bar just observed."""
        ...


@runtime_checkable
class CancellingBrain(Protocol):
    """A brain whose tools may ask to cancel its own orders (the LLM agent)."""

    def take_cancels(self) -> list[str]:
        """Client order ids the brain asked to cancel since the last call (cleared by the call)."""
        ...


@runtime_checkable
class ForecastSource(Protocol):
    """Forecast return quantiles per instrument for the risk snapshot (the forecast veto).

    A brain that forecasts may offer this itself; otherwise wiring builds one from the model
    registry (:class:`~gekko_agent.runtime.forecasts.ForecastBook`).
    """

    def observe(self, bar: Bar) -> None:
        """A bar closed."""
        ...

    def forecasts(self, now: datetime) -> Mapping[InstrumentId, ForecastQuantiles]:
        """The forecasts still valid at ``now``."""
        ...
