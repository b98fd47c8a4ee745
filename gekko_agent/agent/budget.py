"""Spending limits of the LLM brain: a daily token and dollar budget that stops the agent.

The :class:`DailyBudget` counts every model request's tokens and cost per UTC day (engine clock).
When either limit is reached the agent stops asking the model: each later cycle ends as ``hold``
until the next UTC day, and the moment it runs out is journaled once as an ``AlertRaised``
(``critical``, source ``agent``) so the dashboards and chat-ops alert a person.

A restart does not reset the day: when the journal is a ledger (:meth:`DailyBudget.for_journal`), the
budget reads each day's spend back from the ledger's ``AgentDecided`` records the first time it
counts that day (:func:`ledger_spend`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

from gekko_agent.agent.llm import Usage
from gekko_agent.domain import AgentDecided, AlertRaised, Event
from gekko_agent.errors import GekkoError

__all__ = ["BudgetStatus", "DailyBudget", "EventSink", "SpendHistory", "SpendLedger", "ledger_spend"]

log = logging.getLogger(__name__)

SpendHistory = Callable[[date], Mapping[str, Any]]
"""Spend already recorded on a UTC day, as a :meth:`BudgetStatus.to_json`-like dict."""


class EventSink(Protocol):
    """Anything that journals events."""

    def append(self, event: Event) -> int:
        """Journal ``event``; returns its sequence number."""
        ...


@runtime_checkable
class SpendLedger(Protocol):
    """A journal that can be read back (the ledger): past spend is restored from it."""

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` run with ``params``."""
        ...


def ledger_spend(ledger: SpendLedger, brain: str = "llm") -> SpendHistory:
    """Today's spend as journaled: the sum of the usage of ``brain``'s ``AgentDecided`` records of a day.

    Shadow decisions (``detail.shadow``) are not counted: the shadow brain keeps its own budget.

    Args:
        ledger: the ledger (or a reader of it).
        brain: whose decisions count.
    """
    from gekko_agent.ledger import events

    def spent(day: date) -> dict[str, Any]:
        start = datetime.combine(day, time(), tzinfo=UTC)
        end = start + timedelta(days=1)
        tokens, cost = 0, Decimal(0)
        for stored in events(ledger, kinds=AgentDecided.kind, since=start):
            e = stored.event
            if not isinstance(e, AgentDecided) or e.ts >= end or e.brain != brain or e.detail.get("shadow"):
                continue
            usage = e.detail.get("usage") or {}
            try:
                tokens += int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
                cost += Decimal(str(usage.get("cost_usd", "0")))
            except (TypeError, ValueError, InvalidOperation):
                continue  # a malformed record counts nothing rather than stopping the agent
        return {"day": day.isoformat(), "tokens": tokens, "cost_usd": str(cost)}

    return spent


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
        history: spend already made on a day (read once per day, when that day is first counted);
            None starts every day from zero.
    """

    def __init__(
        self,
        token_limit: int,
        cost_limit_usd: Decimal,
        journal: EventSink,
        history: SpendHistory | None = None,
    ) -> None:
        self.token_limit = token_limit
        self.cost_limit_usd = cost_limit_usd
        self.journal = journal
        self.history = history
        self._day: date | None = None
        self._tokens = 0
        self._cost = Decimal(0)
        self._alerted = False

    @classmethod
    def for_journal(
        cls, token_limit: int, cost_limit_usd: Decimal, journal: EventSink, brain: str = "llm"
    ) -> DailyBudget:
        """A budget that, when ``journal`` is a ledger, carries each day's spend over a restart.

        Args:
            token_limit: tokens per UTC day.
            cost_limit_usd: dollars per UTC day.
            journal: the brain's journal; a :class:`SpendLedger` is read back with :func:`ledger_spend`.
            brain: whose journaled decisions count.
        """
        history = ledger_spend(journal, brain) if isinstance(journal, SpendLedger) else None
        return cls(token_limit, cost_limit_usd, journal, history)

    def _roll(self, now: datetime) -> None:
        day = now.date()
        if day != self._day:
            self._day, self._tokens, self._cost, self._alerted = day, 0, Decimal(0), False
            if self.history is not None:
                try:
                    self._apply(self.history(day))
                except GekkoError as exc:  # an unreadable ledger: say so, count from zero
                    log.warning("could not read today's LLM spend back from the ledger: %s", exc)
                self._alerted = bool(self._reason())  # spent before a restart: it was alerted then

    def _apply(self, spent: Mapping[str, Any]) -> None:
        self._tokens = int(spent.get("tokens", 0))
        self._cost = Decimal(str(spent.get("cost_usd", "0")))

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
            self._apply(spent)
