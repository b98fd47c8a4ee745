"""Domain events: the facts the ledger journals, named in the past tense.

Every event is a frozen dataclass with a ``kind`` (its table name in the journal) and a
``schema_version``. :func:`encode` turns one into JSON-safe data (Decimals as strings, never
floats) and :func:`decode` rebuilds it exactly, so a ledger replay gives back equal objects.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Union

from gekko_agent.domain.money import Money
from gekko_agent.domain.orders import Fill, OrderIntent, OrderStatus
from gekko_agent.errors import InvalidInput

__all__ = [
    "EVENT_TYPES",
    "AgentDecided",
    "AlertRaised",
    "ApprovalDecided",
    "ApprovalRequested",
    "BalancesObserved",
    "CommandIssued",
    "EquityMarked",
    "Event",
    "IntentProposed",
    "LimitChangeDecided",
    "LimitChangeProposed",
    "LimitChanged",
    "OrderFilled",
    "OrderSubmitted",
    "OrderUpdated",
    "ReconciliationCompleted",
    "RiskEvaluated",
    "TradingStateChanged",
    "decode",
    "encode",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every journaled event.

    Attributes:
        ts: when it happened (engine clock, UTC).
        decision_id: the agent decision it belongs to, when any ("why did it buy?").
    """

    kind: ClassVar[str] = "event"
    schema_version: ClassVar[int] = 1
    ts: datetime
    decision_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentProposed(Event):
    """A brain proposed an order."""

    kind: ClassVar[str] = "intent_proposed"
    intent: OrderIntent


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskEvaluated(Event):
    """The risk engine answered an intent.

    Attributes:
        intent_id: the intent checked.
        outcome: ``approved``, ``resized`` or ``denied``.
        reasons: machine-readable reason codes.
        explanation: one sentence for humans.
        approved_quantity: the quantity allowed (0 when denied).
    """

    kind: ClassVar[str] = "risk_evaluated"
    intent_id: str
    outcome: str
    reasons: tuple[str, ...] = ()
    explanation: str = ""
    approved_quantity: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(Event):
    """An approved order was handed to a venue (before its answer)."""

    kind: ClassVar[str] = "order_submitted"
    client_order_id: str
    venue: str
    intent: OrderIntent


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(Event):
    """An order changed state."""

    kind: ClassVar[str] = "order_updated"
    client_order_id: str
    status: OrderStatus
    venue_order_id: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    """A fill was received from a venue."""

    kind: ClassVar[str] = "order_filled"
    fill: Fill


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancesObserved(Event):
    """Balances as a venue reported them."""

    kind: ClassVar[str] = "balances_observed"
    venue: str
    balances: tuple[Money, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentDecided(Event):
    """One brain cycle ended (the full record lives in ``detail``)."""

    kind: ClassVar[str] = "agent_decided"
    brain: str
    action: str
    summary: str = ""
    prompt_hash: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRaised(Event):
    """Something a person should know."""

    kind: ClassVar[str] = "alert_raised"
    level: str
    source: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged(Event):
    """ACTIVE / REDUCING / HALTED changed."""

    kind: ClassVar[str] = "trading_state_changed"
    old: str
    new: str
    reason: str
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EquityMarked(Event):
    """The equity references the loss breakers measure from, journaled so a restart keeps them.

    Attributes:
        currency: the account currency of the amounts.
        equity: equity at ``ts``.
        day_start: equity at the first mark of the UTC day of ``ts`` (the daily-loss reference).
        peak: the highest equity seen (the drawdown reference).
    """

    kind: ClassVar[str] = "equity_marked"
    currency: str
    equity: Decimal
    day_start: Decimal
    peak: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitChanged(Event):
    """A human changed a risk limit."""

    kind: ClassVar[str] = "limit_changed"
    key: str
    old: str
    new: str
    actor: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitChangeProposed(Event):
    """A risk limit change was asked for and waits for people to approve it.

    Attributes:
        proposal_id: id people approve or reject by (``lim-<n>``).
        key: dotted path in the ``risk:`` section, e.g. ``order.max_notional``.
        old: the value in force when asked (YAML text).
        new: the value asked for (YAML text).
        actor: who asked: a person (``alice@slack``) or the agent (``agent:llm``).
        reason: why, in the asker's words.
        loosening: True when the change relaxes risk.
        needs: distinct people who must approve.
        approvals: people who approved so far (a person who asks counts as one).
    """

    kind: ClassVar[str] = "limit_change_proposed"
    proposal_id: str
    key: str
    old: str
    new: str
    actor: str
    reason: str = ""
    loosening: bool = True
    needs: int = 1
    approvals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitChangeDecided(Event):
    """A person approved or rejected a waiting limit change (``LimitChanged`` follows once it applies).

    Attributes:
        proposal_id: the proposal.
        key: the limit's dotted path.
        old: the value in force at the decision (YAML text).
        new: the value asked for (YAML text).
        decision: ``approved`` or ``rejected``.
        actor: who decided (``bob@telegram``).
        reason: free text.
        approvals: people who approved so far, this one included.
        needs: distinct people who must approve.
    """

    kind: ClassVar[str] = "limit_change_decided"
    proposal_id: str
    key: str
    old: str
    new: str
    decision: str
    actor: str
    reason: str = ""
    approvals: tuple[str, ...] = ()
    needs: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationCompleted(Event):
    """Ledger and venue were compared."""

    kind: ClassVar[str] = "reconciliation_completed"
    venue: str
    differences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandIssued(Event):
    """A person (or agent) issued an ops command."""

    kind: ClassVar[str] = "command_issued"
    actor: str
    channel: str
    command: str
    outcome: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequested(Event):
    """A risk-approved order waits for a human before it may be sent.

    Attributes:
        approval_id: id people approve or reject by.
        intent: the (possibly resized) intent that would be sent.
        reason: why a human is needed (policy rule).
        expires_at: when it expires unanswered.
    """

    kind: ClassVar[str] = "approval_requested"
    approval_id: str
    intent: OrderIntent
    reason: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalDecided(Event):
    """A waiting order was approved, rejected or expired.

    Attributes:
        approval_id: the request.
        decision: ``approved``, ``rejected`` or ``expired``.
        actor: who decided (``system`` for expiry).
        reason: free text.
    """

    kind: ClassVar[str] = "approval_decided"
    approval_id: str
    decision: str
    actor: str
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        IntentProposed,
        RiskEvaluated,
        OrderSubmitted,
        OrderUpdated,
        OrderFilled,
        BalancesObserved,
        AgentDecided,
        AlertRaised,
        TradingStateChanged,
        EquityMarked,
        LimitChanged,
        LimitChangeProposed,
        LimitChangeDecided,
        ReconciliationCompleted,
        CommandIssued,
        ApprovalRequested,
        ApprovalDecided,
    )
}


def _enc(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (frozenset, set)):
        return sorted(_enc(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [_enc(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _enc(v) for k, v in value.items()}
    if isinstance(value, float):
        raise InvalidInput("events carry no floats; use Decimal")
    return value


def encode(event: Event) -> dict[str, Any]:
    """JSON-safe dict of ``event``'s fields (without ``kind``)."""
    return {f.name: _enc(getattr(event, f.name)) for f in dataclasses.fields(event)}


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _dec(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _dec(args[0], value)
    if tp is Any:
        return value
    if tp is Decimal or getattr(tp, "__supertype__", None) is Decimal:
        return Decimal(value)
    if tp is datetime:
        return datetime.fromisoformat(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{k: _dec(hints[k], v) for k, v in value.items()})
    if origin is tuple:
        inner = typing.get_args(tp)[0]
        return tuple(_dec(inner, v) for v in value)
    if origin is frozenset:
        inner = typing.get_args(tp)[0]
        return frozenset(_dec(inner, v) for v in value)
    return value


def decode(kind: str, payload: dict[str, Any]) -> Event:
    """Rebuild an event from :func:`encode`'s output."""
    try:
        cls = EVENT_TYPES[kind]
    except KeyError:
        raise InvalidInput(f"unknown event kind {kind!r}") from None
    hints = _hints(cls)
    return cls(**{k: _dec(hints[k], v) for k, v in payload.items() if k in hints})
