"""The approval queue: risk-approved orders that a human must confirm before they are sent.

Policy (agent.yaml ``approvals``): an order needs a person when its notional is above a threshold,
or when it comes from a brain listed in ``brains`` (e.g. ``llm``). Waiting orders expire after
``expire_seconds``. Approving does not bypass risk: the engine checks the intent again against the
snapshot *at approval time* and sends only what passes then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from gekko_agent.domain import ApprovalDecided, ApprovalRequested, Clock, Event, OrderIntent, new_id
from gekko_agent.errors import DataNotFound

__all__ = ["ApprovalConfig", "ApprovalQueue", "PendingApproval"]


class ApprovalConfig(BaseModel):
    """When an order waits for a human (the ``approvals:`` section of agent.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    above_notional: Decimal | None = Field(
        None,
        gt=0,
        description="Orders worth more than this (account currency) need a person; none: no limit.",
    )
    brains: list[str] = Field(
        default_factory=list, description="Brains whose every order needs a person, e.g. [llm]."
    )
    expire_seconds: int = Field(900, gt=0, description="Unanswered requests expire after this long.")
    confirm_above_notional: Decimal | None = Field(
        None, gt=0, description="Chat approvals above this notional ask for a second confirmation tap."
    )


class _Sink(Protocol):
    def append(self, event: Event) -> int: ...


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """One order waiting for a person.

    Attributes:
        approval_id: the id to approve or reject by.
        intent: what would be sent (after any risk resizing).
        notional: its value in the account currency when requested.
        reason: which policy rule asked for a person.
        brain: the brain that proposed it.
        requested_at: when it was queued.
        expires_at: when it expires.
    """

    approval_id: str
    intent: OrderIntent
    notional: Decimal
    reason: str
    brain: str
    requested_at: datetime
    expires_at: datetime


class ApprovalQueue:
    """Holds orders that need a human; every request and decision is journaled.

    Args:
        config: the policy.
        journal: event sink (the ledger).
        clock: engine clock.
    """

    def __init__(self, config: ApprovalConfig, journal: _Sink, clock: Clock) -> None:
        self.config = config
        self.journal = journal
        self.clock = clock
        self._pending: dict[str, PendingApproval] = {}

    def reason_for(self, notional: Decimal, brain: str) -> str | None:
        """Why an order of ``notional`` from ``brain`` needs a person, or None when it does not."""
        if brain in self.config.brains:
            return f"orders from the {brain} brain need a person"
        limit = self.config.above_notional
        if limit is not None and notional > limit:
            return f"notional {notional:,.2f} is above the approval threshold {limit:,.2f}"
        return None

    def request(self, intent: OrderIntent, notional: Decimal, brain: str, reason: str) -> PendingApproval:
        """Queue ``intent`` and journal the request."""
        now = self.clock.now()
        item = PendingApproval(
            approval_id=new_id("ap"),
            intent=intent,
            notional=notional,
            reason=reason,
            brain=brain,
            requested_at=now,
            expires_at=now + timedelta(seconds=self.config.expire_seconds),
        )
        self._pending[item.approval_id] = item
        self.journal.append(
            ApprovalRequested(
                ts=now,
                decision_id=intent.decision_id,
                approval_id=item.approval_id,
                intent=intent,
                reason=reason,
                expires_at=item.expires_at,
            )
        )
        return item

    def pending(self) -> list[PendingApproval]:
        """Requests still waiting, oldest first (expired ones are removed and journaled first)."""
        self.expire()
        return sorted(self._pending.values(), key=lambda p: p.requested_at)

    def get(self, approval_id: str) -> PendingApproval:
        """A waiting request; DataNotFound when unknown, decided or expired."""
        self.expire()
        try:
            return self._pending[approval_id]
        except KeyError:
            raise DataNotFound(
                f"no pending approval {approval_id!r} (see `approvals` for the list)"
            ) from None

    def decide(self, approval_id: str, approve: bool, actor: str, reason: str = "") -> PendingApproval:
        """Remove a request and journal who approved or rejected it."""
        item = self.get(approval_id)
        del self._pending[approval_id]
        self.journal.append(
            ApprovalDecided(
                ts=self.clock.now(),
                decision_id=item.intent.decision_id,
                approval_id=approval_id,
                decision="approved" if approve else "rejected",
                actor=actor,
                reason=reason,
            )
        )
        return item

    def expire(self) -> list[PendingApproval]:
        """Drop and journal requests past their expiry."""
        now = self.clock.now()
        gone = [p for p in self._pending.values() if p.expires_at <= now]
        for p in gone:
            del self._pending[p.approval_id]
            self.journal.append(
                ApprovalDecided(
                    ts=now,
                    decision_id=p.intent.decision_id,
                    approval_id=p.approval_id,
                    decision="expired",
                    actor="system",
                    reason=f"unanswered for {self.config.expire_seconds} s",
                )
            )
        return gone
