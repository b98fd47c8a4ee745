"""The ops layer's :class:`~gekko_agent.ops.port.EngineView` over a running Trader.

Read-mostly: it reads the Trader's marks, portfolio, orders and risk state, the approval queue, and
the ledger (for ``why``). Its few actions go through the same doors as everything else: state changes
through the trading state machine with a HumanActor, approvals through a fresh risk check, cancels
through :meth:`Trader.cancel <gekko_agent.runtime.trader.Trader.cancel>` (the risk engine's cancel-rate
check, then the ExecutionEngine), limit changes through the Trader's
:class:`~gekko_agent.risk.governance.LimitGovernor` with a HumanActor
(:meth:`Trader.record_limits <gekko_agent.runtime.trader.Trader.record_limits>` installs what applies and
journals every step).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from gekko_agent.domain import Event, Fill, Order, OrderFilled, OrderStatus, OrderUpdated
from gekko_agent.errors import DataNotFound, InvalidInput, OrderNotFound, UserError
from gekko_agent.execution.approvals import ApprovalQueue, PendingApproval
from gekko_agent.ledger import Queryable, decision_trail, describe, order_trail
from gekko_agent.ops.port import Denial, EngineStatus, PositionRow
from gekko_agent.risk.governance import HumanActor, LimitDiff, LimitProposal
from gekko_agent.risk.outcomes import Denied, outcome_name, to_event
from gekko_agent.risk.reports import limit_usage, var_report
from gekko_agent.runtime.trader import Trader

__all__ = ["TraderView"]


def _line(event: Event) -> str:
    return f"{event.ts:%m-%d %H:%M} {event.kind}: {describe(event)}"


class TraderView:
    """Implements EngineView for one Trader.

    Args:
        trader: the running loop.
        approvals: the approval queue.
        ledger: where ``why`` looks (the writer or a reader).
        mode: ``paper``, ``live`` or ``backtest``, for display.
    """

    def __init__(self, trader: Trader, approvals: ApprovalQueue, ledger: Queryable | None, mode: str) -> None:
        self.trader = trader
        self.approvals = approvals
        self.ledger = ledger
        self.mode = mode

    def status(self) -> EngineStatus:
        """Headline facts."""
        t = self.trader
        eq = t.equity
        start = eq.curve[0][1] if eq.curve else None
        dd = (eq.peak - eq.now) / eq.peak if eq.peak and eq.now is not None else Decimal(0)
        try:
            gross = t.execution.portfolio.gross_exposure(t.book.marks(), t.book.rates())
        except DataNotFound:  # a missing mark or rate just means "unknown" on a status line
            gross = None
        venues = tuple(
            (name, "ok" if s.consecutive_errors == 0 else f"{s.consecutive_errors} errors")
            for name, s in t.execution.stats.items()
        )
        return EngineStatus(
            now=t.clock.now(),
            mode=self.mode,
            brain=t.brain.name,
            state=t.state.value,
            account_currency=t.execution.portfolio.account_currency,
            equity=eq.now,
            pnl_today=(eq.now - eq.day_start) if eq.now is not None and eq.day_start is not None else None,
            pnl_total=(eq.now - start) if eq.now is not None and start is not None else None,
            drawdown=dd,
            gross_exposure=gross,
            venues=venues,
            open_orders=len(t.execution.open_orders()),
            pending_approvals=len(self.approvals.pending()),
            intents=t.stats.intents,
            denied=t.stats.denied,
            fills=t.execution.fill_count,
        )

    def positions(self) -> list[PositionRow]:
        """Open positions with marks."""
        t = self.trader
        rows: list[PositionRow] = []
        for iid, pos in sorted(t.execution.portfolio.positions.items()):
            if not pos.quantity:
                continue
            md = t.book.market.get(iid)
            last = md.last if md is not None else None
            rows.append(
                PositionRow(
                    iid,
                    pos.quantity,
                    pos.avg_price,
                    last,
                    pos.unrealized_pnl(last) if last is not None else None,
                    pos.realized_pnl,
                )
            )
        return rows

    def open_orders(self) -> list[Order]:
        """Orders that may still fill."""
        return self.trader.execution.open_orders()

    def pending_approvals(self) -> list[PendingApproval]:
        """Orders waiting for a person."""
        return self.approvals.pending()

    def equity_curve(self) -> list[tuple[datetime, Decimal]]:
        """Sampled equity."""
        return list(self.trader.equity.curve)

    def risk_lines(self) -> list[str]:
        """Limit usage and VaR/ES now."""
        t = self.trader
        snap = t.snapshot()
        limits = t.risk.limits
        lines = [f"state {t.state.value.upper()}"]
        for u in limit_usage(snap, limits):
            if u.limit is None:
                continue
            used = "—" if u.used is None else f"{u.used:,.2f}"
            share = f" ({u.used / u.limit:.0%})" if u.used is not None and u.limit else ""
            lines.append(f"{u.name}: {used} / {u.limit:,.2f} {u.unit}{share}")
        var = var_report(snap, limits)
        if var is not None:
            lines.append(
                f"VaR {var.var:,.2f} (limit {limits.max_var:,.2f}) · "
                f"ES {var.es:,.2f} (limit {limits.max_es:,.2f})"
            )
        return lines

    def recent_denials(self, limit: int) -> list[Denial]:
        """Latest denied or resized intents."""
        out: list[Denial] = []
        for intent, outcome in self.trader.recent:
            verdict = outcome_name(outcome)
            if verdict == "approved":
                continue
            out.append(
                Denial(
                    intent.created_at,
                    f"{intent.side} {intent.quantity} {intent.instrument_id}",
                    verdict,
                    tuple(str(r) for r in outcome.reasons),
                    outcome.explanation,
                )
            )
        return out[-limit:]

    def trail(self, ident: str) -> list[str]:
        """Journal lines for a client order id or a decision id ("why did it buy?").

        An order's trail starts at the decision that proposed it (the brain's rationale, the intent,
        the risk answer) and goes on through its submission and updates; a decision's trail covers
        every order it became. Fills of one order after the first are summed up in one line, so the
        rationale still fits on a phone (so are its repeated ``partially_filled`` updates).
        """
        if self.ledger is None:
            return []
        try:
            stored = order_trail(self.ledger, ident)
        except DataNotFound:
            try:
                stored = decision_trail(self.ledger, ident)
            except DataNotFound:
                return []
        lines: list[str] = []
        more: dict[str, list[Fill]] = {}
        summary_at: dict[str, int] = {}
        partial: set[str] = set()
        for s in stored:
            e = s.event
            if isinstance(e, OrderUpdated) and e.status is OrderStatus.PARTIALLY_FILLED:
                if e.client_order_id in partial:  # the fill summary says how it went on
                    continue
                partial.add(e.client_order_id)
            if isinstance(e, OrderFilled):
                cid = e.fill.client_order_id
                if cid in summary_at:
                    more[cid].append(e.fill)
                    continue
                more[cid] = []
                lines.append(_line(e))
                summary_at[cid] = len(lines)
                lines.append("")
                continue
            lines.append(_line(e))
        for cid, at in summary_at.items():
            fills = more[cid]
            if fills:
                qty = sum((f.quantity for f in fills), Decimal(0))
                lines[at] = f"  … and {len(fills)} more fill(s) of {cid}, {qty:f} more"
        return [ln for ln in lines if ln]

    async def approve(self, approval_id: str, actor: HumanActor) -> str:
        """Re-check the waiting order against risk now, and send what passes."""
        t = self.trader
        item = self.approvals.decide(approval_id, True, str(actor))
        outcome = t.risk.check(item.intent, t.snapshot())
        t.journal.append(to_event(outcome, t.clock.now()))
        if isinstance(outcome, Denied):
            return f"approved by {actor}, but risk now denies it: {outcome.explanation}"
        order = await t.execution.submit(outcome.intent)
        return f"approved by {actor}; sent as {order.client_order_id} ({order.status})"

    async def reject(self, approval_id: str, actor: HumanActor, reason: str) -> None:
        """Drop a waiting order."""
        self.approvals.decide(approval_id, False, str(actor), reason)

    def set_state(self, command: str, actor: HumanActor, reason: str) -> str:
        """halt / reduce / flatten / resume."""
        if command not in ("halt", "reduce", "flatten", "resume"):
            raise InvalidInput(f"unknown state command {command!r}")
        self.trader.command_state(command, actor, reason)
        return self.trader.state.value

    async def cancel(self, client_order_id: str, actor: HumanActor) -> Order:
        """Cancel one of the engine's open orders through the Trader (the cancel-rate check).

        Raises:
            OrderNotFound: no such order in this session.
            UserError: risk denies the cancel now (the denial is journaled).
        """
        if client_order_id not in self.trader.execution.orders:
            raise OrderNotFound(f"no order {client_order_id} in this session (see `orders`)")
        done = await self.trader.cancel(client_order_id, str(actor))
        if done.order is None:
            raise UserError(f"risk denies the cancel: {done.decision.explanation}")
        return done.order

    def limits(self, prefix: str) -> list[tuple[str, str]]:
        """Risk limits in force by key path."""
        return self.trader.governor.entries(prefix)

    def pending_limits(self) -> list[LimitProposal]:
        """Limit changes waiting for people."""
        return self.trader.governor.pending()

    def limit_diff(self, key: str, value: str) -> LimitDiff:
        """What setting ``key`` to ``value`` would do (for the confirmation prompt)."""
        return self.trader.governor.diff(key, value)

    def change_limit(self, key: str, value: str, actor: HumanActor, reason: str) -> LimitProposal:
        """A person sets a limit: in force before the next risk check, or queued for a second approver."""
        t = self.trader
        proposal, events = t.governor.change(key, value, actor, reason, t.clock.now())
        t.record_limits(events)
        return proposal

    def approve_limit(self, proposal_id: str, actor: HumanActor) -> LimitProposal:
        """A person approves a waiting limit change; it applies once enough different people approved."""
        t = self.trader
        proposal, events = t.governor.approve(proposal_id, actor, t.clock.now())
        t.record_limits(events)
        return proposal

    def reject_limit(self, proposal_id: str, actor: HumanActor, reason: str) -> LimitProposal:
        """A person drops a waiting limit change."""
        t = self.trader
        proposal, events = t.governor.reject(proposal_id, actor, t.clock.now(), reason)
        t.record_limits(events)
        return proposal
