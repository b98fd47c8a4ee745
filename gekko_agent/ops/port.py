"""The narrow, read-mostly view of a running engine that the command layer uses.

Implemented at the composition root (:mod:`gekko_agent.runtime.ops_port`) over the Trader, the
approval queue and the ledger; the ops layer never reaches into engine internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from gekko_agent.domain import Order
from gekko_agent.execution.approvals import PendingApproval
from gekko_agent.risk.governance import HumanActor, LimitDiff, LimitProposal

__all__ = ["Denial", "EngineStatus", "EngineView", "PositionRow"]


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Headline facts for status screens and messages (money in the account currency)."""

    now: datetime
    mode: str
    brain: str
    state: str
    account_currency: str
    equity: Decimal | None
    pnl_today: Decimal | None
    pnl_total: Decimal | None
    drawdown: Decimal
    gross_exposure: Decimal | None
    venues: tuple[tuple[str, str], ...]
    open_orders: int
    pending_approvals: int
    intents: int
    denied: int
    fills: int


@dataclass(frozen=True, slots=True)
class PositionRow:
    """One open position."""

    instrument_id: str
    quantity: Decimal
    avg_price: Decimal
    last: Decimal | None
    unrealized: Decimal | None
    realized: Decimal


@dataclass(frozen=True, slots=True)
class Denial:
    """A recent risk denial or resize, for the risk screen."""

    at: datetime | None
    intent: str
    verdict: str
    reasons: tuple[str, ...]
    explanation: str


class EngineView(Protocol):
    """What commands may read and do."""

    def status(self) -> EngineStatus:
        """Headline facts."""
        ...

    def positions(self) -> list[PositionRow]:
        """Open positions."""
        ...

    def open_orders(self) -> list[Order]:
        """Orders that may still fill."""
        ...

    def pending_approvals(self) -> list[PendingApproval]:
        """Orders waiting for a person."""
        ...

    def equity_curve(self) -> list[tuple[datetime, Decimal]]:
        """Sampled equity, oldest first."""
        ...

    def risk_lines(self) -> list[str]:
        """One line per limit with its usage, plus VaR/ES now."""
        ...

    def recent_denials(self, limit: int) -> list[Denial]:
        """Latest denied or resized intents, newest last."""
        ...

    def trail(self, ident: str) -> list[str]:
        """Journal lines explaining an order (client id) or a decision (decision id)."""
        ...

    async def approve(self, approval_id: str, actor: HumanActor) -> str:
        """Re-check and send a waiting order; returns what happened, in one sentence."""
        ...

    async def reject(self, approval_id: str, actor: HumanActor, reason: str) -> None:
        """Drop a waiting order."""
        ...

    def set_state(self, command: str, actor: HumanActor, reason: str) -> str:
        """``halt``, ``reduce``, ``flatten`` or ``resume``; returns the new state."""
        ...

    async def cancel(self, client_order_id: str, actor: HumanActor) -> Order:
        """Cancel an open order."""
        ...

    def limits(self, prefix: str) -> list[tuple[str, str]]:
        """Risk limits in force as (key path, value text), those under ``prefix`` when given."""
        ...

    def pending_limits(self) -> list[LimitProposal]:
        """Limit changes waiting for people, oldest first."""
        ...

    def limit_diff(self, key: str, value: str) -> LimitDiff:
        """What setting ``key`` to ``value`` would do; changes nothing.

        Raises:
            InvalidInput: unknown key, or a value the ``risk:`` section refuses (names the key).
        """
        ...

    def change_limit(self, key: str, value: str, actor: HumanActor, reason: str) -> LimitProposal:
        """A person sets a limit: applied at once, or queued when it needs another approver.

        Raises:
            InvalidInput: unknown key, or a value the ``risk:`` section refuses (names the key).
        """
        ...

    def approve_limit(self, proposal_id: str, actor: HumanActor) -> LimitProposal:
        """Approve a waiting limit change; it applies once enough different people approved.

        Raises:
            InvalidInput: ``actor`` already approved it (asking counts as approving).
            DataNotFound: no such pending change.
        """
        ...

    def reject_limit(self, proposal_id: str, actor: HumanActor, reason: str) -> LimitProposal:
        """Drop a waiting limit change.

        Raises:
            DataNotFound: no such pending change.
        """
        ...
