"""Resume the Trader's risk memory from the ledger: trading state, breaker references, strategy owners.

A restart must not be a way out of a halt. :func:`restore_trader` reads what the last process
journaled and puts it back before the first bar:

* the **trading state** of the last ``TradingStateChanged`` (a kill switch or a breaker that moved
  the state to HALTED or REDUCING stays in force until a person resumes);
* the **breaker references** of the last ``EquityMarked`` (day-start equity and the equity peak), so
  the daily-loss and drawdown breakers keep measuring from where they were (``marks=False`` for a
  paper replay, which starts a fresh simulated account each run);
* which strategy holds each position (the last filled order per instrument), for the budget check;
* the **risk limits** people changed with ``limit`` commands (each journaled ``LimitChanged``,
  re-applied in order when the value in force is still the one it replaced; a key edited in
  agent.yaml since keeps the file's value);
* the **limit changes still waiting** for approval (``LimitChangeProposed`` not yet rejected or
  approved by enough people), with the approvals they had, under their ids; one that is no longer
  valid against the limits in force is dropped and reported.

What was restored is journaled as one ``AlertRaised`` (source ``restart``), so people see that a
process came back and in which state. Not restored: a flatten under way (HALTED → REDUCING until
flat) resumes as plain REDUCING, and breakers a person had acknowledged fire again if still tripped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from gekko_agent.domain import (
    AlertRaised,
    EquityMarked,
    Event,
    InstrumentId,
    LimitChanged,
    LimitChangeDecided,
    LimitChangeProposed,
    Order,
    TradingStateChanged,
)
from gekko_agent.ledger import Queryable, events
from gekko_agent.risk.snapshot import TradingState
from gekko_agent.runtime.trader import Trader

__all__ = ["Restored", "restore_trader"]

E = TypeVar("E", bound=Event)


@dataclass(frozen=True, slots=True)
class Restored:
    """What :func:`restore_trader` found.

    Attributes:
        state: the state the Trader starts in.
        state_change: the journaled change that set it (None: nothing journaled, ACTIVE).
        marks: the breaker references put back (None: none journaled or not asked for).
        limits: ``key=value`` of each journaled limit change re-applied.
        limits_skipped: why each other journaled limit change was not re-applied.
        pending: ids of the limit changes waiting for approval again.
        pending_dropped: why each other waiting limit change was dropped.
    """

    state: TradingState
    state_change: TradingStateChanged | None
    marks: EquityMarked | None
    limits: tuple[str, ...] = ()
    limits_skipped: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()
    pending_dropped: tuple[str, ...] = ()


def _last(source: Queryable, cls: type[E]) -> E | None:
    found = events(source, kinds=cls.kind, limit=1, newest=True)
    event = found[0].event if found else None
    return event if isinstance(event, cls) else None


def _owners(orders: Iterable[Order]) -> dict[InstrumentId, str]:
    out: dict[InstrumentId, str] = {}
    for order in orders:  # ledger order: the last filled order of an instrument wins
        if order.filled_quantity > 0:
            out[order.instrument_id] = order.intent.strategy
    return out


def restore_trader(
    trader: Trader, source: Queryable, *, marks: bool = True, orders: Iterable[Order] = ()
) -> Restored:
    """Put the journaled trading state (and, with ``marks``, breaker references) back into ``trader``.

    Args:
        trader: a Trader that has not seen a bar yet.
        source: the ledger the last process wrote.
        marks: also restore day-start equity and the peak (sessions whose portfolio resumes too).
        orders: the orders folded from the ledger (for the strategy that holds each position).
    """
    change = _last(source, TradingStateChanged)
    state = TradingState(change.new) if change is not None else TradingState.ACTIVE
    trader.restore_state(state)
    mark = _last(source, EquityMarked) if marks else None
    if mark is not None and mark.currency == trader.execution.portfolio.account_currency:
        trader.equity.restore(mark.ts, mark.equity, mark.day_start, mark.peak)
    else:
        mark = None
    trader.restore_owners(_owners(orders))
    journaled = [s.event for s in events(source, kinds=LimitChanged.kind)]
    limits, skipped = trader.governor.reapply(e for e in journaled if isinstance(e, LimitChanged))
    if limits:
        trader.risk.replace_limits(trader.governor.limits)
    asked = [
        s.event
        for s in events(source, kinds=(LimitChangeProposed.kind, LimitChangeDecided.kind))
        if isinstance(s.event, LimitChangeProposed | LimitChangeDecided)
    ]
    pending, dropped = trader.governor.restore_pending(asked)
    if change is not None or mark is not None or limits or skipped or pending or dropped:
        parts = [f"trading state {state.value.upper()}"]
        if change is not None:
            parts[0] += f" (set by {change.actor} at {change.ts:%Y-%m-%d %H:%M} UTC: {change.reason})"
        if mark is not None:
            parts.append(
                f"equity peak {mark.peak:,.2f} {mark.currency}, day start {mark.day_start:,.2f} "
                f"{mark.currency} ({mark.ts:%Y-%m-%d})"
            )
        if limits:
            parts.append("limits changed by people: " + ", ".join(limits))
        if skipped:
            parts.append("limit changes not re-applied: " + "; ".join(skipped))
        if pending:
            parts.append(
                "limit changes waiting for approval: "
                + ", ".join(
                    f"{p.proposal_id} {p.key} {p.old} -> {p.new} ({len(p.approvals)}/{p.needs})"
                    for p in pending
                )
            )
        if dropped:
            parts.append("waiting limit changes dropped: " + "; ".join(dropped))
        if state is not TradingState.ACTIVE:
            parts.append("only a person can resume")
        trader.journal.append(
            AlertRaised(
                ts=trader.clock.now(),
                level="info" if state is TradingState.ACTIVE else "warning",
                source="restart",
                message="resumed from the ledger: " + "; ".join(parts),
            )
        )
    return Restored(
        state,
        change,
        mark,
        tuple(limits),
        tuple(skipped),
        tuple(p.proposal_id for p in pending),
        tuple(dropped),
    )
