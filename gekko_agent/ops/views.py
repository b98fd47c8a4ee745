"""The read-only commands as replies: status, positions, orders, pnl, risk, why, approvals (the
limits replies live in :mod:`gekko_agent.ops.limits`).

Pure functions of an :class:`~gekko_agent.ops.port.EngineView`; the command layer answers with them and
the ``ask`` answerer (:mod:`gekko_agent.ops.ask`) reads the same text as the model's facts, so a person
and the model see one picture of the engine.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from gekko_agent.errors import UserError
from gekko_agent.ops.limits import limit_buttons, pending_limit_line
from gekko_agent.ops.port import EngineView
from gekko_agent.ops.replies import Button, Reply, Table

__all__ = [
    "PNL_PERIODS",
    "approvals_reply",
    "money",
    "orders_reply",
    "pnl_reply",
    "positions_reply",
    "risk_reply",
    "status_reply",
    "why_reply",
]

PNL_PERIODS = ("today", "total", "24h", "7d")


def money(v: Decimal | None) -> str:
    """``1,234.56``, or ``—`` when unknown."""
    return "—" if v is None else f"{v:,.2f}"


def status_reply(engine: EngineView) -> Reply:
    """State, brain, equity, PnL, exposure, venues, with a Halt or Resume button."""
    s = engine.status()
    lines = (
        f"{s.now:%Y-%m-%d %H:%M} UTC · {s.mode} · brain {s.brain}",
        f"equity {money(s.equity)} {s.account_currency} · today {money(s.pnl_today)} "
        f"· total {money(s.pnl_total)}",
        f"drawdown {s.drawdown:.2%} · gross exposure {money(s.gross_exposure)}",
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


def positions_reply(engine: EngineView) -> Reply:
    """Open positions as a phone-sized table."""
    rows = tuple(
        (p.instrument_id.split("@")[0], f"{p.quantity:f}", money(p.avg_price), money(p.unrealized))
        for p in engine.positions()
    )
    if not rows:
        return Reply("No open positions")
    return Reply(f"{len(rows)} position(s)", table=Table(("instrument", "qty", "avg", "uPnL"), rows))


def orders_reply(engine: EngineView) -> Reply:
    """Open orders with Cancel buttons for the first five."""
    orders = engine.open_orders()
    if not orders:
        return Reply("No open orders")
    rows = tuple(
        (o.client_order_id, o.instrument_id.split("@")[0], f"{o.side} {o.remaining:f}", str(o.status))
        for o in orders
    )
    buttons = tuple(
        Button(f"Cancel {o.client_order_id}", f"cancel {o.client_order_id}", danger=True) for o in orders[:5]
    )
    return Reply(
        f"{len(rows)} open order(s)", table=Table(("id", "instr", "side qty", "state"), rows), buttons=buttons
    )


def pnl_reply(engine: EngineView, args: list[str]) -> Reply:
    """Profit and loss over ``today``, ``total``, ``24h`` or ``7d``.

    Raises:
        UserError: an unknown period.
    """
    period = (args[0] if args else "today").lower()
    curve = engine.equity_curve()
    if period not in PNL_PERIODS:
        raise UserError(f"unknown period {period!r}; use {', '.join(PNL_PERIODS)}")
    if not curve:
        return Reply("No equity marks yet")
    end_ts, end = curve[-1]
    spans = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
    if period == "total":
        start = curve[0][1]
    elif period == "today":
        day = end_ts.replace(hour=0, minute=0, second=0, microsecond=0)
        start = next((v for t, v in curve if t >= day), end)
    else:
        since = end_ts - spans[period]
        start = next((v for t, v in curve if t >= since), curve[0][1])
    change = end - start
    pct = change / start if start else Decimal(0)
    return Reply(f"PnL {period}: {money(change)} ({pct:+.2%})", (f"equity {money(start)} → {money(end)}",))


def risk_reply(engine: EngineView) -> Reply:
    """Limits and their usage, VaR/ES and the latest denials."""
    denials = engine.recent_denials(5)
    lines = [
        *engine.risk_lines(),
        *(f"{d.verdict} {d.intent}: {', '.join(d.reasons)} — {d.explanation}" for d in denials),
    ]
    return Reply(f"Risk: {engine.status().state.upper()}", tuple(lines))


def why_reply(engine: EngineView, args: list[str]) -> Reply:
    """The journaled rationale of an order or a decision.

    Raises:
        UserError: no id given.
    """
    if not args:
        raise UserError("needs an order id or a decision id — usage: why <id>")
    lines = engine.trail(args[0])
    if not lines:
        return Reply(f"Nothing in the journal for {args[0]}", ok=False)
    return Reply(f"Why {args[0]}", tuple(lines[-12:]))


def approvals_reply(engine: EngineView, confirm_above: Decimal | None) -> Reply:
    """Orders and limit changes waiting for a person, with Approve (confirm when above the threshold, or
    when the limit change loosens risk) and Reject buttons."""
    items = engine.pending_approvals()
    limits = engine.pending_limits()
    if not items and not limits:
        return Reply("No orders waiting for approval")
    lines = [
        f"{p.approval_id}: {p.intent.side} {p.intent.quantity} {p.intent.instrument_id} "
        f"(~{money(p.notional)}) — {p.reason}; {p.intent.rationale}"
        for p in items
    ]
    buttons: list[Button] = []
    for p in items[:5]:
        big = confirm_above is not None and p.notional > confirm_above
        buttons += [
            Button(f"Approve {p.approval_id}", f"approve {p.approval_id}", confirm=big),
            Button(f"Reject {p.approval_id}", f"reject {p.approval_id}", danger=True),
        ]
    lines += [f"limit change {pending_limit_line(p)}" for p in limits]
    buttons += [b for p in limits[:5] for b in limit_buttons(p)]
    counts = [f"{len(items)} order(s)"] if items else []
    counts += [f"{len(limits)} limit change(s)"] if limits else []
    return Reply(" and ".join(counts) + " waiting", tuple(lines), buttons=tuple(buttons))
