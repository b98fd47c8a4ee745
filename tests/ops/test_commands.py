from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import (
    ApprovalDecided,
    CommandIssued,
    OrderIntent,
    OrderSide,
    Quantity,
    TradingStateChanged,
)
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Reply, Role
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 18, tzinfo=UTC)
OPS = OpsConfig(
    users=[
        OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER),
        OpsUser(name="bob", channel="telegram", user_id="42", role=Role.VIEWER),
    ]
)


@pytest.fixture
async def service() -> tuple[CommandService, TraderView, MemoryJournal]:
    journal = MemoryJournal()
    system = build_replay(load_config(ROOT / "agent.yaml"), journal, start=START, end=END)
    await run_replay(system, start=START)
    queue = ApprovalQueue(ApprovalConfig(), journal, system.clock)
    view = TraderView(system.trader, queue, None, "paper")
    svc = CommandService(view, OPS, ActorAuthority(), journal.append, system.clock)
    return svc, view, journal


async def test_status_reports_state_brain_and_equity(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, _, journal = service
    reply = await svc.run("slack", "U1", "/status")
    assert reply.ok
    assert reply.title == "Gekko is ACTIVE"
    assert "brain rules" in reply.to_text()
    assert any(isinstance(e, CommandIssued) and e.actor == "alice" for e in journal.events)


async def test_viewer_cannot_halt_or_resume_by_default(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service

    def state() -> str:
        return view.trader.state.value

    for text in ("halt news looks bad", "resume"):
        refused = await svc.run("telegram", "42", text)
        assert not refused.ok and "viewer" in refused.title and "trader" in refused.title
    assert state() == "active"
    assert not any(isinstance(e, TradingStateChanged) for e in journal.events)
    audit = [e for e in journal.events if isinstance(e, CommandIssued)]
    assert [(a.actor, a.outcome.split(":")[0]) for a in audit] == [("bob", "refused"), ("bob", "refused")]
    assert (await svc.run("slack", "U1", "halt news looks bad")).ok
    assert state() == "halted"
    change = [e for e in journal.events if isinstance(e, TradingStateChanged)][-1]
    assert change.actor == "alice@slack" and change.reason == "news looks bad"
    assert (await svc.run("slack", "U1", "resume")).ok
    assert state() == "active"


async def test_viewers_may_halt_when_configured_but_never_resume(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service
    svc.config = OPS.model_copy(update={"viewers_may_halt": True})
    halted = await svc.run("telegram", "42", "halt news looks bad")
    assert halted.ok and view.trader.state.value == "halted"
    change = [e for e in journal.events if isinstance(e, TradingStateChanged)][-1]
    assert change.actor == "bob@telegram" and change.reason == "news looks bad"
    for text in ("resume", "flatten"):
        refused = await svc.run("telegram", "42", text)
        assert not refused.ok and "viewer" in refused.title
    assert view.trader.state.value == "halted"


def test_viewers_may_halt_is_off_unless_configured() -> None:
    assert OpsConfig().viewers_may_halt is False
    assert OpsConfig.model_validate({"viewers_may_halt": True}).viewers_may_halt is True


async def test_unknown_user_gets_refusal_and_audit_entry(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service
    reply = await svc.run("slack", "U999", "halt")
    assert not reply.ok and reply.title.startswith("Refused")
    assert view.trader.state.value == "active"
    audit = [e for e in journal.events if isinstance(e, CommandIssued)][-1]
    assert audit.actor == "slack:U999" and audit.outcome.startswith("refused")


@pytest.mark.parametrize(
    "text", ["", "   ", "help", "/help", "frobnicate", 'status "unclosed', "pnl fortnight", "x" * 5000]
)
async def test_unknown_user_gets_only_a_refusal_for_any_text(
    service: tuple[CommandService, TraderView, MemoryJournal], text: str
) -> None:
    svc, _, journal = service
    reply = await svc.run("telegram", "9999", text)
    assert reply == Reply("Refused: telegram user 9999 is not allowed to command Gekko.", ok=False)
    [audit] = [e for e in journal.events if isinstance(e, CommandIssued)]
    assert (audit.actor, audit.channel) == ("telegram:9999", "telegram")
    assert audit.command == text[:500] and audit.outcome.startswith("refused")


@pytest.mark.parametrize("text", ["frobnicate", "why", "approve", 'status "unclosed', "pnl fortnight"])
async def test_malformed_commands_get_a_helpful_reply(
    service: tuple[CommandService, TraderView, MemoryJournal], text: str
) -> None:
    svc, _, journal = service
    reply = await svc.run("slack", "U1", text)
    assert not reply.ok
    assert "\n" not in reply.title
    audit = [e for e in journal.events if isinstance(e, CommandIssued)][-1]  # journaled with who
    assert (audit.actor, audit.command, audit.outcome) == ("alice", text, reply.title)


async def test_approve_rechecks_risk_and_sends(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service
    intent = OrderIntent(
        "i-ap", "BTC/USD@paper", OrderSide.BUY, Quantity(Decimal("0.01")), strategy="manual", rationale="test"
    )
    item = view.approvals.request(intent, Decimal(200), "rules", "test policy")
    listed = await svc.run("slack", "U1", "approvals")
    assert item.approval_id in listed.to_text()
    assert (await svc.run("telegram", "42", f"approve {item.approval_id}")).ok is False
    reply = await svc.run("slack", "U1", f"approve {item.approval_id}")
    assert reply.ok and "sent as gk-" in reply.title
    assert any(isinstance(e, ApprovalDecided) and e.decision == "approved" for e in journal.events)
    assert view.pending_approvals() == []


async def test_positions_orders_pnl_and_risk_answer(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, _, _ = service
    for text in ("positions", "orders", "pnl total", "pnl today", "risk", "help"):
        reply = await svc.run("slack", "U1", text)
        assert reply.ok, (text, reply)
