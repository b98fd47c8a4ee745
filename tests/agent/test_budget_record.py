"""Daily budget stops the agent (also across a restart); record/replay reproduces a decision with no model."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gekko_agent.agent.litellm_provider import LiteLlmProvider
from gekko_agent.agent.llm import ReplayMiss
from gekko_agent.agent.llm_trading import build_llm_trading_brain
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.record import RecordingLlm, ReplayLlm
from gekko_agent.agent.settings import AgentSettings
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AgentDecided, AlertRaised
from gekko_agent.ledger import Ledger, events
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


def _spent(ts: datetime, brain: str, tokens: int, **detail: object) -> AgentDecided:
    usage = {"prompt_tokens": tokens, "completion_tokens": 0, "cost_usd": "0"}
    return AgentDecided(ts=ts, brain=brain, action="hold", detail={"usage": usage, **detail})


async def test_restart_restores_todays_spend_from_the_ledger(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, tmp_path: Path
) -> None:
    settings = AgentSettings(daily_token_budget=200)
    now = ctx.now
    with Ledger(tmp_path / "ledger.duckdb") as ledger:
        ledger.append(_spent(now - timedelta(days=1), "llm", 10_000))  # yesterday: nothing carried over
        ledger.append(_spent(now, "shadow:llm", 10_000, shadow=True))  # the shadow has its own budget
        server.push(hold(), hold())
        llm = LiteLlmProvider("openai/scripted", api_base=server.api_base, max_retries=0)
        first = LlmBrain(llm, builtin_registry(), ledger, settings)
        assert first.budget.status(now).tokens == 0
        await first.decide(ctx, "before the restart")  # 120 tokens
        await first.decide(ctx, "still before")  # 240 tokens: spent, alerted once
        assert len(server.requests) == 2
        restarted = LlmBrain(llm, builtin_registry(), ledger, settings)
        assert restarted.budget.status(now).tokens == 240
        assert await restarted.decide(ctx, "after the restart") == []
        assert len(server.requests) == 2  # the restarted agent never asked the model
        stored = [e.event for e in events(ledger)]
    last = stored[-1]
    assert isinstance(last, AgentDecided) and last.detail["steps"] == 0
    assert last.detail["reason"] == "agent stopped: daily token budget spent (240 of 200 tokens)"
    assert len([e for e in stored if isinstance(e, AlertRaised)]) == 1  # not alerted again after restart


def test_the_trading_brain_built_on_a_ledger_restores_and_a_memory_journal_does_not(
    tmp_path: Path,
) -> None:
    data = load_config(Path(__file__).resolve().parents[2] / "agent.yaml").model_dump(mode="python")
    data["brain"] = {"kind": "llm", "llm": {"model": "openai/scripted", "api_base": "http://127.0.0.1:9/v1"}}
    cfg = GekkoConfig.model_validate(data)
    with Ledger(tmp_path / "ledger.duckdb") as ledger:
        assert build_llm_trading_brain(cfg, ledger).brain.budget.history is not None
    assert build_llm_trading_brain(cfg, MemoryJournal()).brain.budget.history is None


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
