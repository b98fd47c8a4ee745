"""One line of plain text per journaled event, for people (``gekko ledger journal``, chat-ops, logs).

Amounts print as their exact decimal strings; nothing is rounded through a float. Registered secrets
(:mod:`gekko_agent.secrets`) are masked in every line, also for events that never went through the
ledger (the TUI's live log).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gekko_agent.domain.clock import ensure_utc
from gekko_agent.domain.events import (
    AgentDecided,
    AlertRaised,
    BalancesObserved,
    CommandIssued,
    Event,
    IntentProposed,
    LimitChanged,
    LimitChangeDecided,
    LimitChangeProposed,
    OrderFilled,
    OrderSubmitted,
    OrderUpdated,
    ReconciliationCompleted,
    RiskEvaluated,
    TradingStateChanged,
    encode,
)
from gekko_agent.domain.orders import OrderIntent
from gekko_agent.ledger.rows import StoredEvent
from gekko_agent.secrets import scrub

__all__ = ["describe", "journal_line", "journal_record"]


def _num(value: Decimal) -> str:
    return f"{value:f}"


def _intent(intent: OrderIntent) -> str:
    price = f" @ {_num(intent.limit_price)}" if intent.limit_price is not None else ""
    stop = f" stop {_num(intent.stop_price)}" if intent.stop_price is not None else ""
    return (
        f"{intent.side.value} {_num(intent.quantity)} {intent.instrument_id} "
        f"{intent.order_type.value}{price}{stop}"
    )


def _intent_proposed(e: IntentProposed) -> str:
    why = f" — {e.intent.rationale}" if e.intent.rationale else ""
    return f"{e.intent.strategy} proposed {_intent(e.intent)} (intent {e.intent.intent_id}){why}"


def _risk(e: RiskEvaluated) -> str:
    reasons = f" [{', '.join(e.reasons)}]" if e.reasons else ""
    qty = f" qty {_num(e.approved_quantity)}" if e.outcome != "denied" else ""
    why = f": {e.explanation}" if e.explanation else ""
    return f"risk {e.outcome} intent {e.intent_id}{qty}{reasons}{why}"


def _submitted(e: OrderSubmitted) -> str:
    return f"submitted {e.client_order_id} to {e.venue}: {_intent(e.intent)}"


def _updated(e: OrderUpdated) -> str:
    venue_id = f" (venue id {e.venue_order_id})" if e.venue_order_id else ""
    why = f": {e.reason}" if e.reason else ""
    return f"order {e.client_order_id} {e.status.value}{venue_id}{why}"


def _filled(e: OrderFilled) -> str:
    f = e.fill
    return (
        f"filled {f.side.value} {_num(f.quantity)} {f.instrument_id} @ {_num(f.price)} "
        f"fee {f.fee} ({f.liquidity.value}, fill {f.fill_id}, order {f.client_order_id})"
    )


def _balances(e: BalancesObserved) -> str:
    held = ", ".join(str(m) for m in e.balances) or "none"
    return f"balances at {e.venue}: {held}"


def _decided(e: AgentDecided) -> str:
    summary = f": {e.summary}" if e.summary else ""
    return f"{e.brain} decided {e.action}{summary}"


def _alert(e: AlertRaised) -> str:
    return f"{e.level.upper()} alert from {e.source}: {e.message}"


def _state(e: TradingStateChanged) -> str:
    return f"trading state {e.old} → {e.new} by {e.actor}: {e.reason}"


def _limit(e: LimitChanged) -> str:
    why = f": {e.reason}" if e.reason else ""
    return f"limit {e.key} {e.old} → {e.new} by {e.actor}{why}"


def _limit_proposed(e: LimitChangeProposed) -> str:
    kind = "loosening" if e.loosening else "tightening"
    why = f": {e.reason}" if e.reason else ""
    return (
        f"{e.actor} proposed limit {e.key} {e.old} → {e.new} ({e.proposal_id}, {kind}, "
        f"{len(e.approvals)} of {e.needs} approvals){why}"
    )


def _limit_decided(e: LimitChangeDecided) -> str:
    count = f", {len(e.approvals)} of {e.needs} approvals" if e.decision == "approved" else ""
    why = f": {e.reason}" if e.reason else ""
    return f"{e.actor} {e.decision} limit {e.key} {e.old} → {e.new} ({e.proposal_id}{count}){why}"


def _reconciled(e: ReconciliationCompleted) -> str:
    if not e.differences:
        return f"reconciled {e.venue}: no differences"
    return f"reconciled {e.venue}: {len(e.differences)} difference(s): {'; '.join(e.differences)}"


def _command(e: CommandIssued) -> str:
    outcome = f" → {e.outcome}" if e.outcome else ""
    return f"{e.actor} via {e.channel}: {e.command}{outcome}"


_DESCRIBERS: dict[type[Event], Callable[[Any], str]] = {
    IntentProposed: _intent_proposed,
    RiskEvaluated: _risk,
    OrderSubmitted: _submitted,
    OrderUpdated: _updated,
    OrderFilled: _filled,
    BalancesObserved: _balances,
    AgentDecided: _decided,
    AlertRaised: _alert,
    TradingStateChanged: _state,
    LimitChanged: _limit,
    LimitChangeProposed: _limit_proposed,
    LimitChangeDecided: _limit_decided,
    ReconciliationCompleted: _reconciled,
    CommandIssued: _command,
}


def describe(event: Event) -> str:
    """A sentence about ``event`` (an unknown event type lists its fields)."""
    describer = _DESCRIBERS.get(type(event))
    if describer is not None:
        return scrub(describer(event))
    fields = encode(event)
    fields.pop("ts", None)
    fields.pop("decision_id", None)
    return scrub(", ".join(f"{k}={v}" for k, v in fields.items()))


def journal_line(stored: StoredEvent) -> str:
    """``#seq time kind [decision] sentence`` on one line."""
    event = stored.event
    ts = ensure_utc(event.ts).strftime("%Y-%m-%dT%H:%M:%SZ")
    decision = f" [{event.decision_id}]" if event.decision_id else ""
    text = describe(event).replace("\n", " ")
    return f"#{stored.seq} {ts} {event.kind:<24}{decision} {text}"


def journal_record(stored: StoredEvent) -> dict[str, Any]:
    """A JSON-safe record: seq, kind, schema version and the encoded event."""
    return {
        "seq": stored.seq,
        "kind": stored.kind,
        "schema_version": stored.schema_version,
        "event": encode(stored.event),
    }
