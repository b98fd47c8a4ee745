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
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
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


async def test_viewer_may_halt_but_not_resume(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service
    halted = await svc.run("telegram", "42", "halt news looks bad")
    assert halted.ok and view.trader.state.value == "halted"
    change = [e for e in journal.events if isinstance(e, TradingStateChanged)][-1]
    assert change.actor == "bob@telegram" and change.reason == "news looks bad"
    refused = await svc.run("telegram", "42", "resume")
    assert not refused.ok and "viewer" in refused.title
    assert view.trader.state.value == "halted"
    assert (await svc.run("slack", "U1", "resume")).ok
    assert view.trader.state.value == "active"


async def test_unknown_user_gets_refusal_and_audit_entry(
    service: tuple[CommandService, TraderView, MemoryJournal],
) -> None:
    svc, view, journal = service
    reply = await svc.run("slack", "U999", "halt")
    assert not reply.ok and reply.title.startswith("Refused")
    assert view.trader.state.value == "active"
    audit = [e for e in journal.events if isinstance(e, CommandIssued)][-1]
    assert audit.actor == "slack:U999" and audit.outcome.startswith("refused")


@pytest.mark.parametrize("text", ["frobnicate", "why", "approve", 'status "unclosed', "pnl fortnight"])
async def test_malformed_commands_get_a_helpful_reply(
    service: tuple[CommandService, TraderView, MemoryJournal], text: str
) -> None:
    svc, _, _ = service
    reply = await svc.run("slack", "U1", text)
    assert not reply.ok
    assert "\n" not in reply.title


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
