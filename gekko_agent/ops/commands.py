"""The one command layer that the TUI, Slack, Telegram and the CLI all call.

``CommandService.run(channel, user_id, text)`` first identifies who is asking: a user not configured
on that channel gets one refusal and an audit entry whatever they sent (garbage, an empty line, an
unknown command or ``help`` alike), and nothing else. For a configured user it then parses the command
line, checks their role allows it, executes it against an :class:`~gekko_agent.ops.port.EngineView`,
journals it (who, where, what, outcome) and returns a transport-neutral
:class:`~gekko_agent.ops.replies.Reply`. Bad input from a configured user gets a helpful one-line reply,
and is journaled too.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from gekko_agent.domain import Clock, CommandIssued, Event
from gekko_agent.errors import GekkoError, UserError
from gekko_agent.ops.auth import OpsConfig, Principal, Unauthorized, command_name, identify, permit
from gekko_agent.ops.limits import (
    LIMIT_USAGE,
    approve_limit_reply,
    change_limit_reply,
    limits_reply,
    reject_limit_reply,
)
from gekko_agent.ops.port import EngineView
from gekko_agent.ops.replies import Reply
from gekko_agent.ops.views import (
    approvals_reply,
    orders_reply,
    pnl_reply,
    positions_reply,
    risk_reply,
    status_reply,
    why_reply,
)
from gekko_agent.risk.governance import ActorAuthority

__all__ = ["HELP", "Answer", "Answerer", "CommandService"]

HELP: dict[str, str] = {
    "status": "state, brain, equity, PnL, exposure, venues",
    "positions": "open positions with PnL",
    "orders": "open orders (cancel buttons)",
    "pnl": "pnl [today|total|24h|7d] — profit and loss over a period",
    "risk": "limits and their usage, VaR/ES, recent denials",
    "limits": "limits [section] — every risk limit in force by key, and changes waiting",
    "why": "why <order-id|decision-id> — the journaled rationale",
    "approvals": "orders and limit changes waiting for a person",
    "approve": "approve <approval-id> — re-check and send (trader)",
    "reject": "reject <approval-id> [reason] — drop it (trader)",
    "cancel": "cancel <order-id> (trader)",
    "limit": f"{LIMIT_USAGE} (trader; loosening may need a second trader)",
    "limit-approve": "limit-approve <lim-id> — approve a waiting limit change (trader; not your own)",
    "limit-reject": "limit-reject <lim-id> [reason] — drop a waiting limit change (trader)",
    "halt": "halt [reason] — stop all new orders now (trader; viewers too if ops.viewers_may_halt)",
    "flatten": "flatten [reason] — from HALTED, allow only exposure-reducing orders until flat (trader)",
    "resume": "resume [reason] — back to ACTIVE (trader)",
    "ask": "ask <question> — answered by the LLM from read-only data, when a model is configured",
    "help": "this list",
}
AUDIT_TEXT_LIMIT = 500
"""Characters of a command line kept in the journal (a stranger's paste is cut, not stored whole)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What an answerer says to ``ask``.

    Attributes:
        text: the model's answer (``ok``), or why there is none, in Gekko's own words (not ``ok``).
        model: the model that answered ("" when none was asked).
        ok: False when no model text is shown (budget spent, answer withheld, no answer).
    """

    text: str
    model: str = ""
    ok: bool = True


class Answerer(Protocol):
    """Answers a question about the engine from read-only data (``ask``)."""

    async def answer(self, question: str) -> Answer:
        """Answer ``question``; never acts on the engine.

        Raises:
            GekkoError: the model could not be reached.
        """
        ...


class CommandService:
    """Identifies, parses, authorizes, runs and journals ops commands.

    Args:
        engine: the engine view.
        config: users and roles.
        authority: mints HumanActor values for state changes and approvals.
        journal: event sink for the audit trail.
        clock: engine clock.
        ask: optional answerer for ``ask`` (None: no model configured), e.g.
            :class:`~gekko_agent.ops.ask.LlmAnswerer`.
        confirm_above: approvals above this notional ask for a confirmation tap.
    """

    def __init__(
        self,
        engine: EngineView,
        config: OpsConfig,
        authority: ActorAuthority,
        journal: Callable[[Event], int],
        clock: Clock,
        ask: Answerer | None = None,
        confirm_above: Decimal | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.authority = authority
        self._append = journal
        self.clock = clock
        self.answerer = ask
        self.confirm_above = confirm_above

    async def run(self, channel: str, user_id: str, text: str) -> Reply:
        """Run one command line from ``user_id`` on ``channel``."""
        try:
            who = identify(self.config, channel, user_id)
        except Unauthorized as exc:  # a stranger learns nothing: no help, no parse errors
            return self._refuse(f"{channel}:{user_id}", channel, text, exc)
        try:
            words = shlex.split(text.strip().lstrip("/"))
        except ValueError as exc:
            return self._note(who, text, Reply(f"Could not read that command: {exc}. Try `help`.", ok=False))
        if not words:
            return self._note(who, text, self._help())
        name, args = command_name(words[0]), words[1:]
        if name not in HELP:
            return self._note(who, text, Reply(f"Unknown command `{name}`. Try `help`.", ok=False))
        try:
            permit(self.config, who, name)
        except Unauthorized as exc:
            return self._refuse(who.name, channel, text, exc)
        try:
            reply = await self._dispatch(name, args, who)
        except UserError as exc:
            reply = Reply(f"{name}: {exc}", ok=False)
        except GekkoError as exc:
            reply = Reply(f"{name} failed: {exc}", ok=False)
        return self._note(who, text, reply)

    def _refuse(self, actor: str, channel: str, text: str, exc: Unauthorized) -> Reply:
        self._journal(actor, channel, text, f"refused: {exc}")
        return Reply(f"Refused: {exc}.", ok=False)

    def _note(self, who: Principal, text: str, reply: Reply) -> Reply:
        self._journal(who.name, who.channel, text, reply.title)
        return reply

    def _journal(self, actor: str, channel: str, command: str, outcome: str) -> None:
        self._append(
            CommandIssued(
                ts=self.clock.now(),
                actor=actor,
                channel=channel,
                command=command[:AUDIT_TEXT_LIMIT],
                outcome=outcome[:200],
            )
        )

    async def _dispatch(self, name: str, args: list[str], who: Principal) -> Reply:
        engine = self.engine
        simple: dict[str, Callable[[list[str]], Reply]] = {
            "status": lambda a: status_reply(engine),
            "positions": lambda a: positions_reply(engine),
            "orders": lambda a: orders_reply(engine),
            "pnl": lambda a: pnl_reply(engine, a),
            "risk": lambda a: risk_reply(engine),
            "limits": lambda a: limits_reply(engine, a),
            "why": lambda a: why_reply(engine, a),
            "approvals": lambda a: approvals_reply(engine, self.confirm_above),
            "help": lambda a: self._help(),
        }
        if name in simple:
            return simple[name](args)
        if name in ("halt", "flatten", "resume", "reduce"):
            reason = " ".join(args) or f"{name} by {who.name}"
            state = engine.set_state(name, who.actor(self.authority), reason)
            return Reply(
                f"{name}: trading state is now {state.upper()}", (f"by {who.name} via {who.channel}",)
            )
        if name == "ask":
            return await self._answer(" ".join(args))
        if name == "limit":
            return change_limit_reply(engine, args, who.actor(self.authority))
        if not args:
            raise UserError(f"needs an id — usage: {HELP[name]}")
        if name == "limit-approve":
            return approve_limit_reply(engine, args[0], who.actor(self.authority))
        if name == "limit-reject":
            return reject_limit_reply(engine, args, who.actor(self.authority))
        if name == "approve":
            outcome = await engine.approve(args[0], who.actor(self.authority))
            return Reply(f"approve {args[0]}: {outcome}")
        if name == "reject":
            await engine.reject(args[0], who.actor(self.authority), " ".join(args[1:]) or "rejected")
            return Reply(f"reject {args[0]}: dropped")
        order = await engine.cancel(args[0], who.actor(self.authority))
        return Reply(f"cancel {args[0]}: {order.status}")

    def _help(self) -> Reply:
        return Reply("Gekko commands", tuple(f"{k} — {v}" for k, v in HELP.items()))

    async def _answer(self, question: str) -> Reply:
        if not question:
            raise UserError("usage: ask <question>")
        if self.answerer is None:
            return Reply("No model is configured; `ask` needs brain.llm in agent.yaml.", ok=False)
        answer = await self.answerer.answer(question)
        if not answer.ok:
            return Reply(f"ask: {answer.text}", ok=False)
        footer = (
            f"— model-generated by {answer.model or 'the LLM'} from read-only data; it may be wrong, "
            "and it cannot place, cancel or approve orders."
        )
        return Reply("Answer (model-generated)", (*answer.text.splitlines(), footer))
