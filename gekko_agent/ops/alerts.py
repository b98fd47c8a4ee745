"""Push what a supervisor must know to the configured chats: the alert router.

:meth:`AlertRouter.on_event` is a journal sink: hook it beside the ledger and it turns events into
alerts. What it pushes:

* fills (``OrderFilled``; partial fills of one order merge),
* risk denials (``RiskEvaluated`` with outcome ``denied``),
* breaker trips and every trading state change (``TradingStateChanged``), with a Halt or Resume button;
  the ``AlertRaised`` (source ``risk``) the engine journals beside a trip, with the same time and
  reason, is the same news and is dropped, so a trip is one alert,
* orders waiting for a person (``ApprovalRequested``), with Approve and Reject buttons,
* engine alerts (``AlertRaised``), titled by their source, level and message (``execution error:
  binance: 502``); agent budget exhaustion (source ``agent`` or ``budget`` with a message about the
  budget, or ``AgentDecided`` with action ``budget_exhausted``) is titled "Agent budget exhausted",
* a daily report when the journal's clock crosses midnight UTC.

Alerts with the same key inside ``dedupe_seconds`` become one message with a count: the first goes
out at once, later ones are counted and sent as one summary when the window closes. Each sink gets at
most ``per_minute`` messages a minute; the rest wait in the queue (merged by key). :meth:`flush`
sends what is due; :meth:`run` flushes every ``flush_seconds`` until stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from gekko_agent.domain import (
    AgentDecided,
    AlertRaised,
    ApprovalRequested,
    Event,
    OrderFilled,
    RiskEvaluated,
    TradingStateChanged,
)
from gekko_agent.execution.engine import EventSink
from gekko_agent.ops.chat_config import AlertsConfig
from gekko_agent.ops.replies import Button, Reply

__all__ = ["Alert", "AlertRouter", "AlertSink", "AlertingJournal", "classify"]

log = logging.getLogger(__name__)

AlertSink = Callable[[Reply], Awaitable[None]]
"""Sends one alert to one medium (``TelegramChatops.send_alert``, ``SlackChatops.send_alert``)."""

BUDGET_SOURCES = frozenset({"agent", "budget"})
TITLE_LIMIT = 90


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell people.

    Attributes:
        key: alerts with equal keys are merged inside the dedupe window.
        reply: what to send (title, lines, buttons).
        count: how many alerts this message stands for.
    """

    key: str
    reply: Reply
    count: int = 1

    def message(self) -> Reply:
        """The reply to send, with ``(×N)`` when it stands for several alerts."""
        if self.count == 1:
            return self.reply
        return replace(self.reply, title=f"{self.reply.title} (×{self.count})")


def classify(event: Event, config: AlertsConfig) -> Alert | None:
    """The alert for ``event``, or None when it is not worth a message."""
    if isinstance(event, OrderFilled) and config.fills:
        f = event.fill
        title = f"Filled {f.side} {f.quantity} {f.instrument_id.split('@')[0]} @ {f.price}"
        return Alert(f"fill:{f.client_order_id}", Reply(title, (f"order {f.client_order_id} · fee {f.fee}",)))
    if isinstance(event, RiskEvaluated) and event.outcome == "denied" and config.denials:
        reasons = ", ".join(event.reasons) or "denied"
        return Alert(f"deny:{reasons}", Reply(f"Risk denied: {reasons}", (event.explanation,), ok=False))
    if isinstance(event, TradingStateChanged):
        button = (
            Button("Resume", "resume", confirm=True)
            if event.new == "halted"
            else Button("Halt", "halt", confirm=True, danger=True)
        )
        title = f"Trading {event.old.upper()} → {event.new.upper()}"
        return Alert(
            f"state:{event.new}", Reply(title, (f"{event.reason} (by {event.actor})",), buttons=(button,))
        )
    if isinstance(event, ApprovalRequested) and config.approvals:
        i, aid = event.intent, event.approval_id
        buttons = (
            Button(f"Approve {aid}", f"approve {aid}"),
            Button(f"Reject {aid}", f"reject {aid}", danger=True),
        )
        lines = (f"{i.side} {i.quantity} {i.instrument_id} — {event.reason}", i.rationale)
        return Alert(f"approval:{aid}", Reply(f"Waiting for approval: {aid}", lines, buttons=buttons))
    if isinstance(event, AlertRaised):
        if _is_budget(event):
            return Alert("alert:budget", Reply("Agent budget exhausted", (event.message,), ok=False))
        return Alert(
            f"alert:{event.source}:{event.message[:80]}", Reply(_title(event), (event.message,), ok=False)
        )
    if isinstance(event, AgentDecided) and event.action == "budget_exhausted":
        return Alert("alert:budget", Reply("Agent budget exhausted", (event.summary,), ok=False))
    return None


def _is_budget(event: AlertRaised) -> bool:
    return event.source in BUDGET_SOURCES and "budget" in event.message.lower()


def _title(event: AlertRaised) -> str:
    """``<source> <level>: <first line of the message>``, short enough for a notification."""
    head = f"{event.source} {event.level}"
    first = event.message.strip().splitlines()[0].strip() if event.message.strip() else ""
    if not first:
        return head
    title = f"{head}: {first}"
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


@dataclass
class _Day:
    day: date
    fills: int = 0
    denials: int = 0
    approvals: int = 0
    state_changes: int = 0
    alerts: int = 0


class AlertRouter:
    """Turns journal events into rate-limited, deduplicated messages on every sink.

    Args:
        sinks: where alerts go (one per medium).
        config: which alerts, rate limit and dedupe window.
        summary: optional extra lines for the daily report (e.g. equity and PnL from ``status``).
        monotonic: time source for the window and the rate limit (tests pass their own).
    """

    def __init__(
        self,
        sinks: Sequence[AlertSink],
        config: AlertsConfig,
        summary: Callable[[], Sequence[str]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sinks = list(sinks)
        self.config = config
        self._summary = summary
        self._now = monotonic
        self._queue: dict[str, Alert] = {}
        self._held: dict[str, Alert] = {}
        self._sent_at: dict[str, float] = {}
        self._tokens = float(config.per_minute)
        self._refilled = monotonic()
        self._day: _Day | None = None
        self._changes: deque[tuple[datetime, str]] = deque(maxlen=32)
        self.sent = 0
        """Messages sent so far (per sink counted once)."""

    def on_event(self, event: Event) -> None:
        """Journal hook: classify ``event`` and queue its alert (never raises, never blocks)."""
        try:
            if self._echoes_a_state_change(event):
                return
            self._count_day(event)
            alert = classify(event, self.config)
        except Exception as exc:  # an alert must never break journaling
            log.warning("alert classification failed for %s: %s", event.kind, exc)
            return
        if alert is not None:
            self.push(alert)

    def _echoes_a_state_change(self, event: Event) -> bool:
        """True for the risk ``AlertRaised`` journaled beside a breaker trip (same time, same reason)."""
        if isinstance(event, TradingStateChanged):
            self._changes.append((event.ts, event.reason))
            return False
        return (
            isinstance(event, AlertRaised)
            and event.source == "risk"
            and (event.ts, event.message) in self._changes
        )

    def push(self, alert: Alert) -> None:
        """Queue ``alert``, merging it with a queued or recently sent one of the same key."""
        key = alert.key
        if key in self._queue:
            self._queue[key] = replace(alert, count=self._queue[key].count + alert.count)
        elif key in self._held or self._now() - self._sent_at.get(key, -1e18) < self.config.dedupe_seconds:
            held = self._held.get(key)
            self._held[key] = replace(alert, count=(held.count if held else 0) + alert.count)
        else:
            self._queue[key] = alert

    async def flush(self) -> int:
        """Send what the rate limit allows, oldest first; returns the number of messages sent."""
        now = self._now()
        for key in [k for k in self._held if now - self._sent_at.get(k, -1e18) >= self.config.dedupe_seconds]:
            self._queue.setdefault(key, self._held.pop(key))
        self._tokens = min(
            float(self.config.per_minute), self._tokens + (now - self._refilled) * self.config.per_minute / 60
        )
        self._refilled = now
        sent = 0
        while self._queue and self._tokens >= 1:
            key = next(iter(self._queue))
            alert = self._queue.pop(key)
            self._tokens -= 1
            self._sent_at[key] = now
            for sink in self.sinks:
                try:
                    await sink(alert.message())
                except Exception as exc:  # a chat outage must never stop the engine or other sinks
                    log.warning("alert sink failed: %s", exc)
            sent += 1
        self.sent += sent
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``flush_seconds`` until ``stop`` is set, then flush once more."""
        while not stop.is_set():
            await self.flush()
            try:
                await asyncio.wait_for(stop.wait(), self.config.flush_seconds)
            except TimeoutError:
                continue
        await self.flush()

    def _count_day(self, event: Event) -> None:
        if not self.config.daily_report:
            return
        today = event.ts.date()
        day = self._day
        if day is None:
            self._day = _Day(today)
            day = self._day
        elif today > day.day:
            self.push(Alert(f"daily:{day.day}", self._report(day)))
            self._day = day = _Day(today)
        if isinstance(event, OrderFilled):
            day.fills += 1
        elif isinstance(event, RiskEvaluated) and event.outcome == "denied":
            day.denials += 1
        elif isinstance(event, ApprovalRequested):
            day.approvals += 1
        elif isinstance(event, TradingStateChanged):
            day.state_changes += 1
        elif isinstance(event, AlertRaised):
            day.alerts += 1

    def _report(self, day: _Day) -> Reply:
        lines = [
            f"fills {day.fills} · denials {day.denials} · approvals asked {day.approvals}",
            f"state changes {day.state_changes} · engine alerts {day.alerts}",
        ]
        if self._summary is not None:
            lines += list(self._summary())
        return Reply(f"Daily report {day.day:%Y-%m-%d}", tuple(lines))


class AlertingJournal:
    """An event sink that journals to ``sink`` first, then hands the event to ``router``.

    Args:
        sink: the ledger (or any event sink); it stays the durable record.
        router: the alert router.
    """

    def __init__(self, sink: EventSink, router: AlertRouter) -> None:
        self.sink = sink
        self.router = router

    def append(self, event: Event) -> int:
        """Journal ``event``, then queue its alert; returns the sink's sequence number."""
        seq = self.sink.append(event)
        self.router.on_event(event)
        return seq
