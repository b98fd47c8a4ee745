"""Shadow mode: a second brain trades on paper beside the deciding brain, on the same feed.

The shadow is a whole second :class:`~gekko_agent.runtime.wiring.System` built from the same
agent.yaml (same instruments, risk limits, venue seeds and starting cash) with only the brain
swapped: its intents pass the *same* RiskEngine configuration against its *own* portfolio,
ExecutionEngine and PaperVenue, so nothing it proposes can reach the deciding account.

Its events go to a :class:`ShadowSink`, which keeps all of them in memory and forwards only the
decision record to the real journal, marked so no query mistakes it for the real account:

- ``AgentDecided``: ``brain`` becomes ``shadow:<brain>`` and ``detail["shadow"]`` is True;
- ``IntentProposed`` / ``RiskEvaluated``: the intent id and strategy get a ``shadow:`` prefix.

Orders, fills, balances, alerts and trading-state changes of the shadow never reach the real
journal, so positions, equity and reconciliation read from the ledger are the deciding brain's
alone. :func:`~gekko_agent.runtime.regret.score_regret` then scores the shadow's denials too (its
strategies and brain carry the prefix).

:func:`run_with_shadow` steps both systems bar by bar: for each bar the deciding system goes first,
exactly as :func:`~gekko_agent.runtime.replay.run_replay` would run it alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gekko_agent.config import GekkoConfig
from gekko_agent.domain import AgentDecided, Bar, Event, IntentProposed, OrderIntent, RiskEvaluated
from gekko_agent.execution.engine import EventSink
from gekko_agent.runtime.wiring import System, build_replay
from gekko_agent.venues.paper import PaperVenue

__all__ = ["SHADOW_PREFIX", "ShadowSink", "build_shadow", "is_shadow", "run_with_shadow", "shadow_config"]

SHADOW_PREFIX = "shadow:"
"""Marks the shadow's brain name, strategies and intent ids in the real journal."""


def is_shadow(event: Event) -> bool:
    """True for a decision record the shadow forwarded (see the module docstring)."""
    if isinstance(event, AgentDecided):
        return bool(event.detail.get("shadow")) or event.brain.startswith(SHADOW_PREFIX)
    if isinstance(event, IntentProposed):
        return event.intent.intent_id.startswith(SHADOW_PREFIX)
    if isinstance(event, RiskEvaluated):
        return event.intent_id.startswith(SHADOW_PREFIX)
    return False


def _mark(value: str) -> str:
    return value if value.startswith(SHADOW_PREFIX) else SHADOW_PREFIX + value


def _mark_intent(intent: OrderIntent) -> OrderIntent:
    return dataclasses.replace(intent, intent_id=_mark(intent.intent_id), strategy=_mark(intent.strategy))


class ShadowSink:
    """The shadow system's journal: keeps every event, forwards the marked decision record.

    Args:
        real: the deciding system's journal (ledger or memory).
    """

    def __init__(self, real: EventSink) -> None:
        self.real = real
        self.events: list[Event] = []

    def append(self, event: Event) -> int:
        """Keep ``event``; forward a marked copy when it is a decision, intent or risk answer."""
        self.events.append(event)
        marked = self._marked(event)
        if marked is not None:
            self.real.append(marked)
        return len(self.events)

    @staticmethod
    def _marked(event: Event) -> Event | None:
        if isinstance(event, AgentDecided):
            detail: dict[str, Any] = {**event.detail, "shadow": True}
            if isinstance(detail.get("intents"), list):
                detail["intents"] = [_mark(str(i)) for i in detail["intents"]]
            return dataclasses.replace(event, brain=_mark(event.brain), detail=detail)
        if isinstance(event, IntentProposed):
            return dataclasses.replace(event, intent=_mark_intent(event.intent))
        if isinstance(event, RiskEvaluated):
            return dataclasses.replace(event, intent_id=_mark(event.intent_id))
        return None


def shadow_config(
    cfg: GekkoConfig, brain: dict[str, Any], strategies: list[dict[str, Any]] | None = None
) -> GekkoConfig:
    """``cfg`` with its brain section replaced (everything else, risk and venues included, kept).

    Args:
        cfg: the deciding system's config.
        brain: the shadow's ``brain`` section, e.g. ``{"kind": "llm", "llm": {...}}``.
        strategies: the shadow's strategies (rules brain); None keeps them, an LLM shadow ignores them.
    """
    data = cfg.model_dump(mode="python")
    data["brain"] = brain
    if strategies is not None:
        data["strategies"] = strategies
    return GekkoConfig.model_validate(data)


def build_shadow(
    main: System,
    cfg: GekkoConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    record: Path | None = None,
    replay: Path | None = None,
) -> System:
    """Wire the shadow system over the deciding system's bars, journaling through a :class:`ShadowSink`.

    Args:
        main: the deciding system (its feed's bars are reused, not reloaded).
        cfg: the shadow's config (see :func:`shadow_config`).
        start: first bar that may trade (as given to the deciding system).
        end: stop before this time.
        record: with an LLM shadow, store every model exchange in this folder.
        replay: with an LLM shadow, answer from recorded exchanges instead of a model.
    """
    sink = ShadowSink(main.journal)
    return build_replay(
        cfg, sink, start=start, end=end, bars=dict(main.feed.arrays), record=record, replay=replay
    )


async def _step(
    system: System, venues: dict[str, PaperVenue], bar: Bar, close_ts: datetime, trading: bool
) -> None:
    """One bar for one system, as :func:`~gekko_agent.runtime.replay.run_replay` runs it."""
    system.clock.advance_to(close_ts)
    venue = venues.get(bar.instrument_id.rpartition("@")[2])
    if venue is not None:
        fills = venue.on_bar(bar)
        if fills:
            await system.trader.on_fills(fills)
    await system.trader.on_bar(bar, decide=trading)


async def run_with_shadow(
    main: System,
    shadow: System,
    *,
    start: datetime | None = None,
    on_bar: Callable[[Bar], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Replay every bar of ``main``'s feed through both systems; returns the number of bars.

    The deciding system sees each bar first and exactly as it would alone: the shadow shares no
    portfolio, venue, clock or RNG with it.

    Args:
        main: the deciding system.
        shadow: from :func:`build_shadow`.
        start: bars closing before this only warm up (no orders) in both systems.
        on_bar: called after each bar.
        should_stop: polled between bars; True ends the run early.
    """
    main_venues = {v.name: v for v in main.paper_venues}
    shadow_venues = {v.name: v for v in shadow.paper_venues}
    count = 0
    for bar in main.feed:
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        trading = start is None or close_ts > start
        await _step(main, main_venues, bar, close_ts, trading)
        await _step(shadow, shadow_venues, bar, close_ts, trading)
        count += 1
        if on_bar is not None:
            on_bar(bar)
        if count % 2048 == 0:
            await asyncio.sleep(0)
        if should_stop is not None and should_stop():
            break
    return count
