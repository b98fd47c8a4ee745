"""Chat-ops beside the running engine: Telegram and Slack over the one command layer, alerts from the ledger.

:class:`ChatopsHub` is what ``gekko run`` (when agent.yaml has a ``chatops:`` section) and
``gekko chatops serve`` start next to the Trader they run:

* an :class:`~gekko_agent.ops.alerts.AlertRouter` that sees every journaled event (the engine's ledger
  is wrapped in an :class:`~gekko_agent.runtime.journal.ObservedLedger` that hands it each event);
* a :class:`~gekko_agent.ops.CommandService` over a :class:`~gekko_agent.runtime.ops_port.TraderView`
  of the real Trader and the real ledger, so every ``CommandIssued`` is durable in DuckDB and ``why``
  answers from the journal;
* the Telegram bot and/or the Slack app, their secrets read from their SecretRef when built and never
  printed.

Build order: the hub first (the ledger wrapper needs its alert hook before the engine is wired), then
the engine over the wrapped ledger, then :meth:`ChatopsHub.attach` to the engine's Trader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gekko_agent.domain import Event
from gekko_agent.errors import InvalidInput
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ledger import Queryable, events
from gekko_agent.ops import CommandService, EngineView, OpsConfig
from gekko_agent.ops.alerts import AlertRouter, AlertSink
from gekko_agent.ops.chat_config import ChatopsConfig
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.journal import WritableLedger
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.trader import Trader

if TYPE_CHECKING:
    from gekko_agent.config.model import LlmConfig
    from gekko_agent.ops.commands import Answerer
    from gekko_agent.ops.slack import SlackChatops
    from gekko_agent.ops.telegram import TelegramChatops

__all__ = ["ChatopsHub", "ChatopsSelection", "model_answerer", "status_line"]

ASK_DECISIONS = 8  # recent agent decisions ``ask`` shows the model


@dataclass(frozen=True, slots=True)
class ChatopsSelection:
    """Which chat-ops to run and with whom.

    Attributes:
        ops: the people and their roles (``ops:``).
        chat: the transports and alert routing (``chatops:``).
        telegram: serve Telegram.
        slack: serve Slack.
    """

    ops: OpsConfig
    chat: ChatopsConfig
    telegram: bool
    slack: bool

    @classmethod
    def every_configured(cls, ops: OpsConfig, chat: ChatopsConfig) -> ChatopsSelection:
        """Every transport that has a section."""
        return cls(ops, chat, chat.telegram is not None, chat.slack is not None)

    def check(self) -> None:
        """Raises InvalidInput when a chosen transport has no section, or none is chosen."""
        if self.telegram and self.chat.telegram is None:
            raise InvalidInput("--telegram: agent.yaml has no chatops.telegram section")
        if self.slack and self.chat.slack is None:
            raise InvalidInput("--slack: agent.yaml has no chatops.slack section")
        if not self.telegram and not self.slack:
            raise InvalidInput("chatops has neither a telegram nor a slack section; nothing to serve")

    @property
    def names(self) -> str:
        """``Telegram and Slack``, ``Telegram`` …"""
        return " and ".join(n for n, on in (("Telegram", self.telegram), ("Slack", self.slack)) if on)


def model_answerer(
    trader: Trader,
    view: EngineView,
    ledger: Queryable,
    llm: LlmConfig | None,
    environ: Mapping[str, str] | None = None,
) -> Answerer | None:
    """The answerer of ``ask``: the LLM brain's own model and daily budget when it decides, else a
    provider for ``brain.llm`` when one is configured, else None (``ask`` then says so).

    The answerer sees the read-only engine view and the latest agent decisions in ``ledger``.
    """
    from gekko_agent.agent.llm_trading import LlmTradingBrain
    from gekko_agent.ops.ask import LlmAnswerer, decisions_from

    recent = decisions_from(
        lambda: [s.event for s in events(ledger, kinds="agent_decided", limit=ASK_DECISIONS, newest=True)]
    )
    brain = trader.brain
    if isinstance(brain, LlmTradingBrain):
        agent = brain.brain
        return LlmAnswerer(agent.llm, view, trader.clock, budget=agent.budget, decisions=recent)
    if llm is None:
        return None
    from gekko_agent.agent.litellm_provider import LiteLlmProvider

    provider = LiteLlmProvider.from_config(llm, environ=environ)
    return LlmAnswerer(provider, view, trader.clock, decisions=recent)


def status_line(view: EngineView) -> str:
    """Equity and state in one line (the daily report's summary)."""
    s = view.status()
    equity = "—" if s.equity is None else f"{s.equity:,.2f} {s.account_currency}"
    return f"equity {equity} · state {s.state.upper()}"


class ChatopsHub:
    """The chat-ops of one engine (see the module docstring), built in two steps.

    Create it first and hand :meth:`on_event` to the engine's ledger (an
    :class:`~gekko_agent.runtime.journal.ObservedLedger`), so alerts see every event from the start;
    then :meth:`attach` it to the wired Trader; then :meth:`start` and, at the end, :meth:`stop`.

    Args:
        selection: which transports, people and alerts.
    """

    def __init__(self, selection: ChatopsSelection) -> None:
        selection.check()
        self.selection = selection
        self.router = AlertRouter([], selection.chat.alerts, summary=self._summary)
        self.view: TraderView | None = None
        self.service: CommandService | None = None
        self.transports: list[TelegramChatops | SlackChatops] = []
        self._started: list[TelegramChatops | SlackChatops] = []
        self._stop = asyncio.Event()
        self._alerts: asyncio.Task[None] | None = None

    def _summary(self) -> tuple[str, ...]:
        return (status_line(self.view),) if self.view is not None else ()

    def on_event(self, event: Event) -> None:
        """Journal hook: queue the event's alert, if it is worth one (never raises)."""
        self.router.on_event(event)

    def attach(
        self,
        trader: Trader,
        ledger: WritableLedger,
        *,
        mode: str,
        environ: Mapping[str, str] | None = None,
        answerer: Answerer | None = None,
        llm: LlmConfig | None = None,
    ) -> CommandService:
        """Wire the command layer and the chosen transports over ``trader``; returns the command layer.

        Args:
            trader: the running Trader.
            ledger: the journal the engine writes (commands are journaled here, ``why`` reads it).
            mode: ``paper`` or ``live``, for display.
            environ: where secrets are read (default: the process environment).
            answerer: answers ``ask`` (None: :func:`model_answerer` builds one when a model is
                configured, else ``ask`` says no model is configured).
            llm: agent.yaml's ``brain.llm``, for ``ask`` when the rules brain decides.

        Raises:
            ConfigError: a secret cannot be read.
        """
        from gekko_agent.ops.slack import SlackChatops
        from gekko_agent.ops.telegram import TelegramChatops

        chat = self.selection.chat
        approvals = trader.approvals or ApprovalQueue(ApprovalConfig(), ledger, trader.clock)
        source: Queryable = ledger
        self.view = view = TraderView(trader, approvals, source, mode)
        if answerer is None:
            answerer = model_answerer(trader, view, source, llm, environ)
        self.service = service = CommandService(
            view,
            self.selection.ops,
            ActorAuthority(trader.governor.config.governance.operators),
            ledger.append,
            trader.clock,
            ask=answerer,
            confirm_above=chat.confirm_above,
        )
        sinks: list[AlertSink] = []
        if self.selection.telegram and chat.telegram is not None:
            tc = chat.telegram
            hook = (
                tc.webhook_secret.resolve("agent.yaml", "chatops.telegram.webhook_secret", environ)
                if tc.webhook_secret
                else None
            )
            bot = TelegramChatops(
                service,
                tc,
                token=tc.token.resolve("agent.yaml", "chatops.telegram.token", environ).get_secret_value(),
                webhook_secret=hook.get_secret_value() if hook else None,
                confirm_ttl_seconds=chat.confirm_ttl_seconds,
            )
            self.transports.append(bot)
            sinks.append(bot.send_alert)
        if self.selection.slack and chat.slack is not None:
            sc = chat.slack
            app = SlackChatops(
                service,
                sc,
                bot_token=sc.bot_token.resolve(
                    "agent.yaml", "chatops.slack.bot_token", environ
                ).get_secret_value(),
                signing_secret=sc.signing_secret.resolve(
                    "agent.yaml", "chatops.slack.signing_secret", environ
                ).get_secret_value(),
                confirm_ttl_seconds=chat.confirm_ttl_seconds,
            )
            self.transports.append(app)
            sinks.append(app.send_alert)
        self.router.sinks.extend(sinks)
        return service

    async def start(self) -> None:
        """Start the alert flusher and the transports."""
        self._alerts = asyncio.create_task(self.router.run(self._stop))
        for transport in self.transports:
            await transport.start()
            self._started.append(transport)

    async def stop(self) -> None:
        """Send what is queued, then stop the transports (in reverse order)."""
        self._stop.set()
        if self._alerts is not None:
            await self._alerts
            self._alerts = None
        while self._started:
            await self._started.pop().stop()
