"""The rules brain: runs the configured strategies and journals each decision it makes.

With no LLM configured this is who decides; every screen and log names it (``rules``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Protocol

from gekko_agent.agent.strategy import Observe, SteppedStrategy, Strategy, StrategyContext
from gekko_agent.domain import AgentDecided, Bar, Event, Fill, InstrumentId, OrderIntent, new_id

__all__ = ["RulesBrain"]


class _Sink(Protocol):
    def append(self, event: Event) -> int: ...


class RulesBrain:
    """Dispatches bars and fills to the strategies trading that instrument.

    Each bar that produces intents is one decision: the intents carry its ``decision_id`` and an
    ``AgentDecided`` event with the strategies' rationales is journaled, so "why did it buy?" is a
    ledger query.

    Args:
        strategies: the strategies to run.
        journal: where decisions are journaled (anything with ``append(event)``).
    """

    name = "rules"

    def __init__(self, strategies: Sequence[Strategy], journal: _Sink) -> None:
        self.strategies = tuple(strategies)
        self.journal = journal
        self._by_instrument: dict[InstrumentId, list[Strategy]] = {}
        for s in self.strategies:
            for iid in s.instruments:
                self._by_instrument.setdefault(iid, []).append(s)
        self._stepped: dict[InstrumentId, list[SteppedStrategy]] = {
            iid: [s for s in group if isinstance(s, SteppedStrategy)]
            for iid, group in self._by_instrument.items()
        }

    def _decide(
        self, intents: list[OrderIntent], ctx: StrategyContext, trigger: Callable[[], str]
    ) -> list[OrderIntent]:
        if not intents:
            return intents
        decision = new_id("dc")
        stamped = [dataclasses.replace(i, decision_id=decision) for i in intents]
        summary = "; ".join(
            f"{i.strategy}: {i.side} {i.quantity} {i.instrument_id} — {i.rationale}" for i in stamped
        )
        self.journal.append(
            AgentDecided(
                ts=ctx.now,
                decision_id=decision,
                brain=self.name,
                action="propose_orders",
                summary=summary,
                detail={"trigger": trigger(), "intents": [i.intent_id for i in stamped]},
            )
        )
        return stamped

    def on_bar(self, bar: Bar, ctx: StrategyContext) -> list[OrderIntent]:
        """Ask every strategy on ``bar.instrument_id``."""
        intents: list[OrderIntent] = []
        for s in self._by_instrument.get(bar.instrument_id, ()):
            intents.extend(s.on_bar(bar, ctx))
        return self._decide(intents, ctx, lambda: f"bar {bar.instrument_id} {bar.ts.isoformat()}")

    def stepped(self, iid: InstrumentId) -> bool:
        """True when every strategy on ``iid`` is a :class:`SteppedStrategy` (observe, then decide)."""
        return len(self._stepped.get(iid, ())) == len(self._by_instrument.get(iid, ()))

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
        """Fold a bar of ``iid`` into every strategy on it; True when any may propose for it.

        Only for instruments where :meth:`stepped` holds; the bar's decision is then :meth:`decide`.
        """
        wants = False
        for s in self._stepped.get(iid, ()):
            if s.observe(iid, open_, high, low, close, volume, held):
                wants = True
        return wants

    def observer(self, iid: InstrumentId) -> Observe:
        """:meth:`observe` for ``iid``; the strategy's own method when it is the only one there."""
        group = self._stepped.get(iid, [])
        return group[0].observe if len(group) == 1 else self.observe

    def decide(self, bar: Bar, ctx: StrategyContext) -> list[OrderIntent]:
        """``on_bar`` for a bar :meth:`observe` has already folded in: the strategies only decide."""
        intents: list[OrderIntent] = []
        for s in self._stepped.get(bar.instrument_id, ()):
            intents.extend(s.decide(bar, ctx))
        return self._decide(intents, ctx, lambda: f"bar {bar.instrument_id} {bar.ts.isoformat()}")

    def on_fill(self, fill: Fill, ctx: StrategyContext) -> list[OrderIntent]:
        """Tell the strategies on the fill's instrument."""
        intents: list[OrderIntent] = []
        for s in self._by_instrument.get(fill.instrument_id, ()):
            intents.extend(s.on_fill(fill, ctx))
        return self._decide(intents, ctx, lambda: f"fill {fill.fill_id}")
