"""The Agent screen's data: journal events folded into one :class:`~.model.DecisionRow` per brain cycle.

Both sources use the same fold, so a decision reads the same in ``gekko demo`` and beside a headless
run: :class:`~gekko_agent.runtime.dashboard.TeeJournal` feeds it every event the engine journals, and
:class:`~.ledger_source.LedgerSource` feeds it the events it reads from the ledger.

What each event adds:

* ``agent_decided`` opens (or completes) the decision: brain, action, reason, the observation in one
  line, every tool call with its result, the intents the brain produced (not yet proposed);
* ``intent_proposed`` adds an intent (a lone intent without a decision id becomes its own row);
* ``risk_evaluated`` sets the intent's verdict, explanation and reason codes;
* ``approval_requested`` / ``approval_decided`` / ``order_submitted`` note what happened next.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from gekko_agent.domain import (
    AgentDecided,
    ApprovalDecided,
    ApprovalRequested,
    Event,
    IntentProposed,
    OrderIntent,
    OrderSubmitted,
    RiskEvaluated,
)
from gekko_agent.tui.model import DecisionRow, IntentRow, ToolCallRow

__all__ = ["DecisionFeed", "observation_summary", "tool_call_rows"]

_ACTIONS = {"propose_orders": "propose", "hold": "hold"}
_FINAL_TOOLS = frozenset(_ACTIONS)


def _intent_text(intent: OrderIntent) -> str:
    return f"{intent.side} {intent.quantity} {intent.instrument_id}"


def _short(value: object, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tool_call_rows(calls: object) -> tuple[ToolCallRow, ...]:
    """The ``tool_calls`` of an LLM decision's detail as rows (final answers have ``ok`` None)."""
    if not isinstance(calls, Sequence) or isinstance(calls, str):
        return ()
    rows: list[ToolCallRow] = []
    for call in calls:
        if not isinstance(call, Mapping):
            continue
        name = str(call.get("name", "?"))
        if name in _FINAL_TOOLS or "ok" not in call:
            rows.append(ToolCallRow(name, None, _short(call.get("arguments", ""))))
            continue
        ok = bool(call.get("ok"))
        detail = str(call.get("error") or "") if not ok else _short(call.get("arguments", ""))
        rows.append(ToolCallRow(name, ok, detail))
    return tuple(rows)


def _observation(messages: object) -> dict[str, Any] | None:
    """The JSON observation inside the first user message of a decision, if it has one."""
    if not isinstance(messages, Sequence):
        return None
    for message in messages:
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = str(message.get("content", ""))
        start = content.find("```json")
        end = content.find("```", start + 7)
        if start < 0 or end < 0:
            return None
        try:
            data = json.loads(content[start + 7 : end])
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None


def observation_summary(detail: Mapping[str, Any]) -> str:
    """One line of what a brain saw: the trigger, then equity, state, positions and last prices."""
    parts = [str(detail["trigger"])] if detail.get("trigger") else []
    obs = _observation(detail.get("messages"))
    if obs is not None:
        portfolio = obs.get("portfolio") or {}
        if portfolio.get("equity") is not None:
            parts.append(f"equity {portfolio['equity']} {portfolio.get('account_currency', '')}".rstrip())
        state = (obs.get("risk") or {}).get("state")
        if state:
            parts.append(f"state {state}")
        held = len(portfolio.get("positions") or ())
        parts.append(f"{held} position{'' if held == 1 else 's'}")
        for iid, market in sorted((obs.get("markets") or {}).items()):
            if isinstance(market, Mapping) and market.get("last") is not None:
                parts.append(f"{iid.split('@')[0]} {market['last']}")
    return " · ".join(parts)


@dataclass(slots=True)
class _Draft:
    at: datetime | None
    key: str
    brain: str = "?"
    action: str = "propose"
    reason: str = ""
    observation: str = ""
    tool_calls: tuple[ToolCallRow, ...] = ()
    model: str = ""
    steps: int = 0
    intents: dict[str, IntentRow] = field(default_factory=dict)
    row: DecisionRow | None = None  # cached until the draft changes

    def freeze(self) -> DecisionRow:
        if self.row is None:
            self.row = DecisionRow(
                self.at,
                self.key,
                self.brain,
                self.action,
                self.reason,
                self.observation,
                self.tool_calls,
                tuple(self.intents.values()),
                self.model,
                self.steps,
            )
        return self.row


class DecisionFeed:
    """Folds journal events into the latest ``keep`` decisions (cheap per event; see the module doc).

    Args:
        keep: decisions kept (the oldest are dropped).
    """

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self._drafts: OrderedDict[str, _Draft] = OrderedDict()
        self._by_intent: dict[str, str] = {}
        self._by_approval: dict[str, str] = {}

    def rows(self) -> list[DecisionRow]:
        """The decisions, oldest first."""
        return [d.freeze() for d in self._drafts.values()]

    def find(self, key: str) -> DecisionRow | None:
        """A decision by its key, or the decision an intent id belongs to."""
        draft = self._drafts.get(key) or self._drafts.get(self._by_intent.get(key, ""))
        return None if draft is None else draft.freeze()

    def add(self, event: Event) -> None:
        """Fold one journaled event in (events of other kinds are ignored)."""
        if isinstance(event, AgentDecided):
            self._decided(event)
        elif isinstance(event, IntentProposed):
            self._proposed(event)
        elif isinstance(event, RiskEvaluated):
            self._intent(
                event.intent_id,
                verdict=event.outcome,
                explanation=event.explanation,
                reasons=tuple(event.reasons),
            )
        elif isinstance(event, ApprovalRequested):
            self._by_approval[event.approval_id] = event.intent.intent_id
            self._intent(event.intent.intent_id, note=f"waits for a person ({event.approval_id})")
        elif isinstance(event, ApprovalDecided):
            intent_id = self._by_approval.pop(event.approval_id, "")
            self._intent(intent_id, note=f"{event.decision} by {event.actor}")
        elif isinstance(event, OrderSubmitted):
            self._intent(
                event.intent.intent_id,
                note=f"sent as {event.client_order_id}",
                order_id=event.client_order_id,
            )

    def _draft(self, key: str, at: datetime | None) -> _Draft:
        draft = self._drafts.get(key)
        if draft is None:
            draft = self._drafts[key] = _Draft(at, key)
            while len(self._drafts) > self.keep:
                _key, old = self._drafts.popitem(last=False)
                for intent_id in old.intents:
                    self._by_intent.pop(intent_id, None)
        draft.row = None
        return draft

    def _decided(self, event: AgentDecided) -> None:
        detail = event.detail
        draft = self._draft(event.decision_id or f"decision@{event.ts.isoformat()}", event.ts)
        draft.at = event.ts
        draft.brain = event.brain
        draft.action = _ACTIONS.get(event.action, event.action)
        draft.reason = str(detail.get("reason") or event.summary)
        draft.observation = observation_summary(detail)
        draft.tool_calls = tool_call_rows(detail.get("tool_calls"))
        draft.model = str(detail.get("model") or "")
        draft.steps = int(detail.get("steps") or 0)
        for item in detail.get("intents") or ():
            if isinstance(item, Mapping):  # an LLM decision keeps each intent whole
                intent_id = str(item.get("intent_id", ""))
                text = f"{item.get('side', '')} {item.get('quantity', '')} {item.get('instrument_id', '')}"
                rationale = str(item.get("rationale") or "")
            else:  # the rules brain keeps the ids
                intent_id, text, rationale = str(item), "", ""
            if intent_id and intent_id not in draft.intents:
                draft.intents[intent_id] = IntentRow(intent_id, text.strip(), "not proposed", rationale)
                self._by_intent[intent_id] = draft.key

    def _proposed(self, event: IntentProposed) -> None:
        intent = event.intent
        key = intent.decision_id or intent.intent_id
        draft = self._draft(key, intent.created_at or event.ts)
        if not draft.reason:  # no agent_decided (yet): the intent speaks for itself
            draft.brain, draft.reason = intent.strategy, intent.rationale
        known = draft.intents.get(intent.intent_id)
        draft.intents[intent.intent_id] = IntentRow(
            intent.intent_id,
            _intent_text(intent),
            "pending",
            intent.rationale or (known.rationale if known else ""),
        )
        self._by_intent[intent.intent_id] = key

    def _intent(self, intent_id: str, **changes: Any) -> None:
        key = self._by_intent.get(intent_id)
        draft = self._drafts.get(key or "")
        if draft is None or intent_id not in draft.intents:
            return
        draft.row = None
        draft.intents[intent_id] = replace(draft.intents[intent_id], **changes)
