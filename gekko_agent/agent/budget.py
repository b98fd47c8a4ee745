"""Spending limits of the LLM brain: a daily token and dollar budget that stops the agent.

The :class:`DailyBudget` counts every model request's tokens and cost per UTC day (engine clock).
When either limit is reached the agent stops asking the model: each later cycle ends as ``hold``
until the next UTC day, and the moment it runs out is journaled once as an ``AlertRaised``
(``critical``, source ``agent``) so the dashboards and chat-ops alert a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from gekko_agent.agent.llm import Usage
from gekko_agent.domain import AlertRaised, Event

__all__ = ["BudgetStatus", "DailyBudget", "EventSink"]


class EventSink(Protocol):
    """Anything that journals events."""

    def append(self, event: Event) -> int:
        """Journal ``event``; returns its sequence number."""
        ...


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Today's spend against the limits.

    Attributes:
        day: the UTC day counted.
        tokens: tokens used today.
        cost_usd: dollars spent today.
        token_limit: tokens allowed per day.
        cost_limit_usd: dollars allowed per day.
        exhausted: why the agent is stopped, or "" while it may run.
    """

    day: date | None
    tokens: int
    cost_usd: Decimal
    token_limit: int
    cost_limit_usd: Decimal
    exhausted: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form for the journal (no floats)."""
        return {
            "day": self.day.isoformat() if self.day else None,
            "tokens": self.tokens,
            "cost_usd": str(self.cost_usd),
            "token_limit": self.token_limit,
            "cost_limit_usd": str(self.cost_limit_usd),
            "exhausted": self.exhausted,
        }


class DailyBudget:
    """Tokens and dollars per UTC day; journals one alert when a limit is reached.

    Args:
        token_limit: tokens per UTC day.
        cost_limit_usd: dollars per UTC day.
        journal: where the alert goes.
    """

    def __init__(self, token_limit: int, cost_limit_usd: Decimal, journal: EventSink) -> None:
        self.token_limit = token_limit
        self.cost_limit_usd = cost_limit_usd
        self.journal = journal
        self._day: date | None = None
        self._tokens = 0
        self._cost = Decimal(0)
        self._alerted = False

    def _roll(self, now: datetime) -> None:
        day = now.date()
        if day != self._day:
            self._day, self._tokens, self._cost, self._alerted = day, 0, Decimal(0), False

    def _reason(self) -> str:
        if self._tokens >= self.token_limit:
            return f"daily token budget spent ({self._tokens} of {self.token_limit} tokens)"
        if self._cost >= self.cost_limit_usd:
            return f"daily cost budget spent (${self._cost:.4f} of ${self.cost_limit_usd})"
        return ""

    def exhausted(self, now: datetime) -> str:
        """Why the agent must not call the model now ("" when it may)."""
        self._roll(now)
        return self._reason()

    def charge(self, usage: Usage, now: datetime) -> str:
        """Count one request; journals the alert the first time a limit is reached today.

        Returns:
            Why the budget is now spent, or "" when some remains.
        """
        self._roll(now)
        self._tokens += usage.total_tokens
        self._cost += usage.cost_usd
        reason = self._reason()
        if reason and not self._alerted:
            self._alerted = True
            self.journal.append(
                AlertRaised(ts=now, level="critical", source="agent", message=f"LLM agent stopped: {reason}")
            )
        return reason

    def status(self, now: datetime) -> BudgetStatus:
        """Today's spend."""
        self._roll(now)
        return BudgetStatus(
            self._day, self._tokens, self._cost, self.token_limit, self.cost_limit_usd, self._reason()
        )

    def restore(self, spent: Mapping[str, Any], now: datetime) -> None:
        """Carry today's spend over a restart (from a previous :meth:`BudgetStatus.to_json`).

        Args:
            spent: a status dict; ignored when its day is not today.
            now: engine time.
        """
        self._roll(now)
        if spent.get("day") == now.date().isoformat():
            self._tokens = int(spent.get("tokens", 0))
            self._cost = Decimal(str(spent.get("cost_usd", "0")))
