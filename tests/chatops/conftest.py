"""A running paper engine behind the command layer, shared by the chat-ops tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import CommandIssued, OrderIntent, OrderSide, Quantity
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue, PendingApproval
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 8, tzinfo=UTC)
OPS = OpsConfig(
    users=[
        OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER),
        OpsUser(name="vic", channel="slack", user_id="U2", role=Role.VIEWER),
        OpsUser(name="tom", channel="telegram", user_id="42", role=Role.TRADER),
        OpsUser(name="bob", channel="telegram", user_id="43", role=Role.VIEWER),
    ]
)


@dataclass
class Engine:
    """The pieces a chat-ops test touches."""

    service: CommandService
    view: TraderView
    journal: MemoryJournal

    @property
    def state(self) -> str:
        return self.view.trader.state.value

    def commands(self) -> list[CommandIssued]:
        return [e for e in self.journal.events if isinstance(e, CommandIssued)]

    def request_approval(self, quantity: str = "0.01", notional: int = 200) -> PendingApproval:
        intent = OrderIntent(
            f"i-{len(self.journal.events)}",
            "BTC/USD@paper",
            OrderSide.BUY,
            Quantity(Decimal(quantity)),
            strategy="manual",
            rationale="test",
        )
        return self.view.approvals.request(intent, Decimal(notional), "rules", "test policy")


@pytest.fixture
async def engine() -> Engine:
    journal = MemoryJournal()
    system = build_replay(load_config(ROOT / "agent.yaml"), journal, start=START, end=END)
    await run_replay(system, start=START)
    queue = ApprovalQueue(ApprovalConfig(), journal, system.clock)
    view = TraderView(system.trader, queue, None, "paper")
    svc = CommandService(
        view, OPS, ActorAuthority(), journal.append, system.clock, confirm_above=Decimal(1000)
    )
    return Engine(svc, view, journal)
