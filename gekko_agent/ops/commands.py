"""The one command layer that the TUI, Slack, Telegram and the CLI all call.

``CommandService.run(channel, user_id, text)`` parses a command line, checks who may run it,
executes it against an :class:`~gekko_agent.ops.port.EngineView`, journals it (who, where, what,
outcome) and returns a transport-neutral :class:`~gekko_agent.ops.replies.Reply`. Bad input gets a
helpful one-line reply; unauthorized attempts get a refusal and an audit entry, nothing else.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

from gekko_agent.domain import Clock, CommandIssued, Event
from gekko_agent.errors import GekkoError, UserError
from gekko_agent.ops.auth import OpsConfig, Principal, Unauthorized, authorize
from gekko_agent.ops.port import EngineView
from gekko_agent.ops.replies import Button, Reply, Table
from gekko_agent.risk.governance import ActorAuthority

__all__ = ["HELP", "CommandService"]

HELP: dict[str, str] = {
    "status": "state, brain, equity, PnL, exposure, venues",
    "positions": "open positions with PnL",
    "orders": "open orders (cancel buttons)",
    "pnl": "pnl [today|total|24h|7d] — profit and loss over a period",
    "risk": "limits and their usage, VaR/ES, recent denials",
    "why": "why <order-id|decision-id> — the journaled rationale",
    "approvals": "orders waiting for a person",
    "approve": "approve <approval-id> — re-check and send (trader)",
    "reject": "reject <approval-id> [reason] — drop it (trader)",
    "cancel": "cancel <order-id> (trader)",
    "halt": "halt [reason] — stop all new orders now (anyone configured)",
    "flatten": "flatten [reason] — from HALTED, allow only exposure-reducing orders until flat (trader)",
    "resume": "resume [reason] — back to ACTIVE (trader)",
    "ask": "ask <question> — answered by the LLM from read-only tools, when a model is configured",
    "help": "this list",
}


def _money(v: Decimal | None) -> str:
    return "—" if v is None else f"{v:,.2f}"


class CommandService:
    """Parses, authorizes, runs and journals ops commands.

    Args:
        engine: the engine view.
        config: users and roles.
        authority: mints HumanActor values for state changes and approvals.
        journal: event sink for the audit trail.
        clock: engine clock.
        ask: optional LLM answerer for ``ask`` (None: no model configured).
        confirm_above: approvals above this notional ask for a confirmation tap.
    """

    def __init__(
        self,
        engine: EngineView,
        config: OpsConfig,
        authority: ActorAuthority,
        journal: Callable[[Event], int],
        clock: Clock,
        ask: Callable[[str], Awaitable[str]] | None = None,
        confirm_above: Decimal | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.authority = authority
        self._append = journal
        self.clock = clock
        self._ask = ask
        self.confirm_above = confirm_above

    async def run(self, channel: str, user_id: str, text: str) -> Reply:
        """Run one command line from ``user_id`` on ``channel``."""
        try:
            words = shlex.split(text.strip().lstrip("/"))
        except ValueError as exc:
            return Reply(f"Could not read that command: {exc}. Try `help`.", ok=False)
        if not words:
            return self._help()
        name, args = words[0].lower().split("@")[0], words[1:]
        if name not in HELP:
            return Reply(f"Unknown command `{name}`. Try `help`.", ok=False)
        try:
            who = authorize(self.config, channel, user_id, name)
        except Unauthorized as exc:
            self._journal(f"{channel}:{user_id}", channel, text, f"refused: {exc}")
            return Reply(f"Refused: {exc}.", ok=False)
        try:
            reply = await self._dispatch(name, args, who)
        except UserError as exc:
            reply = Reply(f"{name}: {exc}", ok=False)
        except GekkoError as exc:
            reply = Reply(f"{name} failed: {exc}", ok=False)
        self._journal(who.name, channel, text, reply.title)
        return reply

    def _journal(self, actor: str, channel: str, command: str, outcome: str) -> None:
        self._append(
            CommandIssued(
                ts=self.clock.now(), actor=actor, channel=channel, command=command, outcome=outcome[:200]
            )
        )

    async def _dispatch(self, name: str, args: list[str], who: Principal) -> Reply:
        simple: dict[str, Callable[[list[str]], Reply]] = {
            "status": lambda a: self._status(),
            "positions": lambda a: self._positions(),
            "orders": lambda a: self._orders(),
            "pnl": self._pnl,
            "risk": lambda a: self._risk(),
            "why": self._why,
            "approvals": lambda a: self._approvals(),
            "help": lambda a: self._help(),
        }
        if name in simple:
            return simple[name](args)
        if name in ("halt", "flatten", "resume", "reduce"):
            reason = " ".join(args) or f"{name} by {who.name}"
            state = self.engine.set_state(name, who.actor(self.authority), reason)
            return Reply(
                f"{name}: trading state is now {state.upper()}", (f"by {who.name} via {who.channel}",)
            )
        if name == "ask":
            return await self._answer(" ".join(args))
        if not args:
            raise UserError(f"needs an id — usage: {HELP[name]}")
        if name == "approve":
            outcome = await self.engine.approve(args[0], who.actor(self.authority))
            return Reply(f"approve {args[0]}: {outcome}")
        if name == "reject":
            await self.engine.reject(args[0], who.actor(self.authority), " ".join(args[1:]) or "rejected")
            return Reply(f"reject {args[0]}: dropped")
        order = await self.engine.cancel(args[0], who.actor(self.authority))
        return Reply(f"cancel {args[0]}: {order.status}")

    def _help(self) -> Reply:
        return Reply("Gekko commands", tuple(f"{k} — {v}" for k, v in HELP.items()))

    def _status(self) -> Reply:
        s = self.engine.status()
        lines = (
            f"{s.now:%Y-%m-%d %H:%M} UTC · {s.mode} · brain {s.brain}",
            f"equity {_money(s.equity)} {s.account_currency} · today {_money(s.pnl_today)} "
            f"· total {_money(s.pnl_total)}",
            f"drawdown {s.drawdown:.2%} · gross exposure {_money(s.gross_exposure)}",
            "venues: " + ", ".join(f"{n} {h}" for n, h in s.venues),
            f"open orders {s.open_orders} · waiting approvals {s.pending_approvals} · "
            f"intents {s.intents} (denied {s.denied}) · fills {s.fills}",
        )
        buttons = (
            (Button("Halt", "halt", confirm=True, danger=True),)
            if s.state != "halted"
            else (Button("Resume", "resume", confirm=True),)
        )
        return Reply(f"Gekko is {s.state.upper()}", lines, buttons=buttons)

    def _positions(self) -> Reply:
        rows = tuple(
            (p.instrument_id.split("@")[0], f"{p.quantity:f}", _money(p.avg_price), _money(p.unrealized))
            for p in self.engine.positions()
        )
        if not rows:
            return Reply("No open positions")
        return Reply(f"{len(rows)} position(s)", table=Table(("instrument", "qty", "avg", "uPnL"), rows))

    def _orders(self) -> Reply:
        orders = self.engine.open_orders()
        if not orders:
            return Reply("No open orders")
        rows = tuple(
            (o.client_order_id, o.instrument_id.split("@")[0], f"{o.side} {o.remaining:f}", str(o.status))
            for o in orders
        )
        buttons = tuple(
            Button(f"Cancel {o.client_order_id}", f"cancel {o.client_order_id}", danger=True)
            for o in orders[:5]
        )
        return Reply(
            f"{len(rows)} open order(s)",
            table=Table(("id", "instr", "side qty", "state"), rows),
            buttons=buttons,
        )

    def _pnl(self, args: list[str]) -> Reply:
        period = (args[0] if args else "today").lower()
        curve = self.engine.equity_curve()
        if not curve:
            return Reply("No equity marks yet")
        end_ts, end = curve[-1]
        spans = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
        if period == "total":
            start = curve[0][1]
        elif period == "today":
            day = end_ts.replace(hour=0, minute=0, second=0, microsecond=0)
            start = next((v for t, v in curve if t >= day), end)
        elif period in spans:
            since = end_ts - spans[period]
            start = next((v for t, v in curve if t >= since), curve[0][1])
        else:
            raise UserError(f"unknown period {period!r}; use today, total, 24h or 7d")
        change = end - start
        pct = change / start if start else Decimal(0)
        return Reply(
            f"PnL {period}: {_money(change)} ({pct:+.2%})", (f"equity {_money(start)} → {_money(end)}",)
        )

    def _risk(self) -> Reply:
        denials = self.engine.recent_denials(5)
        lines = [
            *self.engine.risk_lines(),
            *(f"{d.verdict} {d.intent}: {', '.join(d.reasons)} — {d.explanation}" for d in denials),
        ]
        return Reply(f"Risk: {self.engine.status().state.upper()}", tuple(lines))

    def _why(self, args: list[str]) -> Reply:
        if not args:
            raise UserError("needs an order id or a decision id — usage: why <id>")
        lines = self.engine.trail(args[0])
        if not lines:
            return Reply(f"Nothing in the journal for {args[0]}", ok=False)
        return Reply(f"Why {args[0]}", tuple(lines[-12:]))

    def _approvals(self) -> Reply:
        items = self.engine.pending_approvals()
        if not items:
            return Reply("No orders waiting for approval")
        lines = tuple(
            f"{p.approval_id}: {p.intent.side} {p.intent.quantity} {p.intent.instrument_id} "
            f"(~{_money(p.notional)}) — {p.reason}; {p.intent.rationale}"
            for p in items
        )
        limit = self.confirm_above
        buttons: list[Button] = []
        for p in items[:5]:
            big = limit is not None and p.notional > limit
            buttons += [
                Button(f"Approve {p.approval_id}", f"approve {p.approval_id}", confirm=big),
                Button(f"Reject {p.approval_id}", f"reject {p.approval_id}", danger=True),
            ]
        return Reply(f"{len(items)} order(s) waiting", lines, buttons=tuple(buttons))

    async def _answer(self, question: str) -> Reply:
        if not question:
            raise UserError("usage: ask <question>")
        if self._ask is None:
            return Reply("No model is configured; `ask` needs brain.llm in agent.yaml.", ok=False)
        return Reply("Answer", (await self._ask(question),))
