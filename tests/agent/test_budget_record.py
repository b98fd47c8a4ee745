"""Daily budget stops the agent; record/replay reproduces a decision with no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from gekko_agent.agent.litellm_provider import LiteLlmProvider
from gekko_agent.agent.llm import ReplayMiss
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.record import RecordingLlm, ReplayLlm
from gekko_agent.domain import AlertRaised
from gekko_agent.runtime.wiring import MemoryJournal
from gekko_agent.testing.fake_context import FakeToolContext
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, propose, tool_call
from gekko_agent.tools import builtin_registry
from tests.agent.conftest import IID, BrainFactory, decisions, order


async def test_budget_exhaustion_stops_agent_and_alerts_once(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(
        tool_call("get_quote", {"instrument_id": IID}), tool_call("get_quote", {"instrument_id": IID})
    )
    brain = make_brain(daily_token_budget=200)
    assert await brain.decide(ctx, "first") == []
    assert await brain.decide(ctx, "second") == []
    assert len(server.requests) == 2  # the second cycle never called the model
    alerts = [e for e in journal.events if isinstance(e, AlertRaised)]
    assert len(alerts) == 1 and alerts[0].level == "critical" and "token budget" in alerts[0].message
    first, second = decisions(journal)
    assert first.action == second.action == "hold"
    assert "agent stopped" in first.detail["reason"] and second.detail["steps"] == 0
    assert second.detail["budget"]["tokens"] == 240


async def test_record_then_replay_reproduces_decision_without_server(
    ctx: FakeToolContext, tmp_path: Path
) -> None:
    script = [tool_call("get_indicators", {"instrument_id": IID}), propose(order(qty="0.2"))]
    with ScriptedOpenAIServer(script) as server:
        live = LiteLlmProvider("openai/scripted", api_base=server.api_base, max_retries=0)
        j1 = MemoryJournal()
        recorded = await LlmBrain(RecordingLlm(live, tmp_path), builtin_registry(), j1).decide(ctx, "t")
    assert recorded and sum(1 for _ in tmp_path.iterdir()) == 2  # noqa: ASYNC240
    j2 = MemoryJournal()
    replayed = await LlmBrain(ReplayLlm(tmp_path), builtin_registry(), j2).decide(ctx, "t")
    key = [(i.instrument_id, i.side, i.quantity, i.rationale) for i in recorded]
    assert key == [(i.instrument_id, i.side, i.quantity, i.rationale) for i in replayed]
    d1, d2 = decisions(j1)[0], decisions(j2)[0]
    assert d1.detail["messages"] == d2.detail["messages"] and d1.prompt_hash == d2.prompt_hash


async def test_replay_miss_is_a_clear_error_and_the_cycle_holds(ctx: FakeToolContext, tmp_path: Path) -> None:
    replay = ReplayLlm(tmp_path)
    with pytest.raises(ReplayMiss, match="no recorded model answer"):
        await replay.request([{"role": "user", "content": "hi"}], [])
    journal = MemoryJournal()
    assert await LlmBrain(replay, builtin_registry(), journal).decide(ctx, "t") == []
    assert "no recorded model answer" in decisions(journal)[0].detail["reason"]
    with pytest.raises(ReplayMiss, match="does not exist"):
        ReplayLlm(tmp_path / "missing")


async def test_hold_cost_is_priced_from_settings(server: ScriptedOpenAIServer, ctx: FakeToolContext) -> None:
    from gekko_agent.agent.settings import TokenPrice

    server.push(hold())
    price = TokenPrice(input_per_mtok=1000, output_per_mtok=2000)  # type: ignore[arg-type]
    llm = LiteLlmProvider("openai/scripted", api_base=server.api_base, price=price)
    resp = await llm.request([{"role": "user", "content": "hi"}], [])
    assert str(resp.usage.cost_usd) == "0.14"
