"""The agent may only *propose* a limit change: it waits for people, and only a person applies it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.config import load_config
from gekko_agent.domain import LimitChanged, LimitChangeProposed
from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ops import CommandService, OpsConfig, OpsUser, Role
from gekko_agent.risk import LimitProposal
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.testing.fake_context import FakeToolContext
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, llm_agent_config, tool_call
from gekko_agent.tools import builtin_registry
from gekko_agent.tools.risk import LimitProposals, propose_limit_change
from tests.agent.conftest import BrainFactory, decisions

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 7, tzinfo=UTC)
OPS = OpsConfig(
    users=[
        OpsUser(name="alice", channel="slack", user_id="U1", role=Role.TRADER),
        OpsUser(name="tom", channel="telegram", user_id="42", role=Role.TRADER),
    ]
)
RAISE = {"key": "var.max_var", "value": "90000", "reason": "the book needs room"}  # agent.yaml: 20000


class EngineContext(TraderToolContext):
    """The running engine's tool context with the limit-proposal door (stamps the proposer itself)."""

    def propose_limit(self, key: str, value: str, reason: str) -> LimitProposal:
        return self.trader.propose_limit(key, value, f"agent:{self.strategy}", reason)


@pytest.fixture
async def system() -> System:
    system = build_replay(load_config(ROOT / "agent.yaml"), MemoryJournal(), start=START, end=END)
    await run_replay(system, start=START)
    return system


def _desk(system: System) -> CommandService:
    journal = system.journal
    view = TraderView(system.trader, ApprovalQueue(ApprovalConfig(), journal, system.clock), None, "paper")
    return CommandService(view, OPS, ActorAuthority(), journal.append, system.clock)


def _events(system: System) -> list[object]:
    assert isinstance(system.journal, MemoryJournal)
    return list(system.journal.events)


async def test_agent_proposal_waits_and_is_applied_only_by_people(system: System) -> None:
    trader = system.trader
    ctx = EngineContext(trader, BarHistory())
    assert isinstance(ctx, LimitProposals)
    result = await propose_limit_change.call(ctx, RAISE)
    assert result.ok, result.error
    assert result.content["proposal_id"] == "lim-1" and result.content["approvals_needed"] == 2
    assert "unchanged" in result.content["status"]
    assert trader.risk.limits.max_var == Decimal(20000)
    [asked] = [e for e in _events(system) if isinstance(e, LimitChangeProposed)]
    assert (asked.actor, asked.old, asked.new, asked.approvals) == ("agent:llm", "20000", "90000", ())
    desk = _desk(system)
    waiting = await desk.run("slack", "U1", "approvals")
    assert waiting.title == "1 limit change(s) waiting" and "by agent:llm" in waiting.lines[0]
    first = await desk.run("slack", "U1", "limit-approve lim-1")
    assert first.ok and first.title == "limit-approve lim-1: 1 of 2 approvals"
    assert trader.risk.limits.max_var == Decimal(20000)
    second = await desk.run("telegram", "42", "limit-approve lim-1")
    assert second.ok and second.title.endswith("in force now")
    assert trader.risk.limits.max_var == Decimal(90000)
    [changed] = [e for e in _events(system) if isinstance(e, LimitChanged)]
    assert changed.actor == "alice@slack+tom@telegram" and changed.reason == "the book needs room [lim-1]"


async def test_a_rejected_agent_proposal_never_applies(system: System) -> None:
    ctx = EngineContext(system.trader, BarHistory())
    await propose_limit_change.call(ctx, RAISE)
    desk = _desk(system)
    assert (await desk.run("slack", "U1", "limit-reject lim-1 no")).ok
    assert (await desk.run("telegram", "42", "limit-approve lim-1")).ok is False
    assert system.trader.risk.limits.max_var == Decimal(20000)
    assert system.trader.governor.pending() == []
    assert not [e for e in _events(system) if isinstance(e, LimitChanged)]


async def test_the_model_cannot_apply_its_own_proposal(
    system: System, server: ScriptedOpenAIServer, make_brain: BrainFactory, journal: MemoryJournal
) -> None:
    trader = system.trader
    ctx = EngineContext(trader, BarHistory())
    server.push(
        tool_call("propose_limit_change", RAISE),
        tool_call("propose_limit_change", {**RAISE, "approve": True, "actor": "alice@slack"}),
        tool_call("limit_approve", {"proposal_id": "lim-1"}),
        tool_call("approve_limit_change", {"proposal_id": "lim-1"}),
        hold("waiting for the desk"),
    )
    brain = make_brain()
    if "propose_limit_change" not in brain.registry:  # offered once the loop lists it among its trading tools
        brain.registry.add(propose_limit_change)
        brain.add_tools([])
    assert await brain.decide(ctx, "timer") == []
    [d] = decisions(journal)
    calls = [(c["name"], c.get("ok", True)) for c in d.detail["tool_calls"]]
    assert calls[:4] == [
        ("propose_limit_change", True),
        ("propose_limit_change", False),  # no `approve` or `actor` argument exists
        ("limit_approve", False),  # and no tool that approves
        ("approve_limit_change", False),
    ]
    offered = {t["function"]["name"] for t in server.requests[-1]["tools"]}
    assert {n for n in offered if "limit" in n or "approve" in n} == {"propose_limit_change"}
    assert trader.risk.limits.max_var == Decimal(20000)
    assert [(p.proposal_id, p.proposed_by, p.approvals) for p in trader.governor.pending()] == [
        ("lim-1", "agent:llm", ())
    ]
    assert not [e for e in _events(system) if isinstance(e, LimitChanged)]


async def test_a_context_without_the_proposal_door_refuses_in_one_line(ctx: FakeToolContext) -> None:
    result = await propose_limit_change.call(ctx, RAISE)
    assert not result.ok and result.error == "limit proposals are not taken in this session"


async def test_bad_proposals_come_back_to_the_model_as_one_line(system: System) -> None:
    ctx = EngineContext(system.trader, BarHistory())
    result = await propose_limit_change.call(ctx, {**RAISE, "key": "var.max_vaar"})
    assert not result.ok and "'var.max_vaar'" in result.error and "\n" not in result.error
    result = await propose_limit_change.call(ctx, {**RAISE, "value": "-1"})
    assert not result.ok and result.error.startswith("risk.var.max_var: ")
    assert system.trader.governor.pending() == []


def test_limit_proposal_is_a_trading_tool_not_a_read_tool() -> None:
    assert not propose_limit_change.read_only
    assert "propose_limit_change" not in builtin_registry(include_trading=False)


async def test_the_running_llm_brain_can_only_queue_a_proposal() -> None:
    with ScriptedOpenAIServer() as model:
        model.push(tool_call("propose_limit_change", RAISE), *[hold() for _ in range(3)])
        journal = MemoryJournal()
        system = build_replay(llm_agent_config(model.api_base), journal, start=START, end=END)
        await run_replay(system, start=START)
    asked = [e for e in journal.events if isinstance(e, LimitChangeProposed)]
    assert [(e.actor, e.new) for e in asked] == [("agent:llm", "90000")]
    assert not [e for e in journal.events if isinstance(e, LimitChanged)]
    assert system.trader.risk.limits.max_var == Decimal(20000)
    assert [p.proposal_id for p in system.trader.governor.pending()] == ["lim-1"]
