"""One LLM decision cycle over HTTP: real litellm against the scripted OpenAI-compatible server."""

from __future__ import annotations

import json
from decimal import Decimal

from gekko_agent.domain import encode
from gekko_agent.risk import Approved
from gekko_agent.runtime.wiring import MemoryJournal
from gekko_agent.testing.fake_context import FakeToolContext
from gekko_agent.testing.openai_server import Reply, ScriptedOpenAIServer, hold, propose, text, tool_call
from tests.agent.conftest import IID, BrainFactory, decisions, order


async def test_cycle_with_tool_calls_proposes_stamped_intents(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(
        tool_call("get_indicators", {"instrument_id": IID}),
        tool_call("check_order", {"order": order()}),
        propose(order(horizon_minutes=90)),
    )
    brain = make_brain()
    intents = await brain.decide(ctx, "bar BTC/USD@paper")
    assert len(intents) == 1, decisions(journal)[0].detail["reason"]
    intent = intents[0]
    assert (intent.instrument_id, intent.side, intent.quantity) == (IID, "buy", Decimal("0.1"))
    assert intent.strategy == "llm" and intent.confidence == Decimal("0.6")
    assert "horizon 90m" in intent.rationale
    [d] = decisions(journal)
    assert d.brain == "llm" and d.action == "propose_orders" and d.decision_id == intent.decision_id
    assert d.prompt_hash == brain.prompts.hash and len(d.prompt_hash) == 16
    assert [c["name"] for c in d.detail["tool_calls"]] == ["get_indicators", "check_order", "propose_orders"]
    assert [u["tool"] for u in d.detail["tool_outputs_used"]] == ["get_indicators", "check_order"]
    assert d.detail["intents"][0]["intent_id"] == intent.intent_id
    encode(d)  # journal-safe: no floats anywhere in the detail
    # the model saw the tool outputs as tool messages; of the trading tools only cancel_order is offered
    # (propose_orders is the loop's own final answer)
    sent = server.requests[-1]
    assert [m["role"] for m in sent["messages"]].count("tool") == 2
    offered = {t["function"]["name"] for t in sent["tools"]}
    assert {"propose_orders", "hold", "get_quote", "cancel_order"} <= offered
    assert [n for n in offered if n == "propose_orders"] == ["propose_orders"]
    assert isinstance(ctx.submit(intents)[0], Approved)


async def test_hold_returns_no_intents_and_journals_reason(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(hold("flat market"))
    assert await make_brain().decide(ctx, "timer") == []
    [d] = decisions(journal)
    assert (d.action, d.summary, d.detail["steps"]) == ("hold", "flat market", 1)


async def test_malformed_answers_become_tool_errors_then_hold(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(
        tool_call("propose_orders", '{"orders": [{"instrument_id": '),  # broken JSON
        tool_call("get_quote", {"symbol": IID}),  # wrong argument name
        text("I think we should buy some bitcoin."),  # no decision
    )
    assert await make_brain(max_invalid_answers=2).decide(ctx, "timer") == []
    [d] = decisions(journal)
    assert d.action == "hold" and d.detail["invalid_answers"] == 3
    assert "malformed model output 3 times" in d.detail["reason"]
    tool_msgs = [m for m in server.requests[1]["messages"] if m["role"] == "tool"]
    assert "not valid JSON" in tool_msgs[0]["content"]
    assert "unknown argument" in json.loads(server.requests[2]["messages"][-1]["content"])["error"]
    assert server.remaining == 0


async def test_invalid_order_fields_are_sent_back_then_corrected(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(propose(order(qty="-1")), propose(order(qty="0.2")))
    intents = await make_brain().decide(ctx, "timer")
    assert [i.quantity for i in intents] == [Decimal("0.2")]
    err = server.requests[1]["messages"][-1]
    assert err["role"] == "tool" and "greater than 0" in err["content"]
    assert decisions(journal)[0].detail["invalid_answers"] == 1


async def test_step_limit_ends_cycle_as_hold(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(*(tool_call("get_quote", {"instrument_id": IID}) for _ in range(3)))
    assert await make_brain(max_steps=3).decide(ctx, "timer") == []
    assert "step limit" in decisions(journal)[0].detail["reason"]


async def test_transient_errors_are_retried_then_succeed(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(Reply(status=503), Reply(status=429), hold())
    brain = make_brain()
    assert await brain.decide(ctx, "timer") == []
    assert decisions(journal)[0].summary == "nothing worth doing"
    assert brain.llm.retries == 2  # type: ignore[attr-defined]


async def test_model_failure_after_retries_holds_with_reason(
    server: ScriptedOpenAIServer, ctx: FakeToolContext, journal: MemoryJournal, make_brain: BrainFactory
) -> None:
    server.push(*(Reply(status=500) for _ in range(3)))
    assert await make_brain().decide(ctx, "timer") == []
    assert decisions(journal)[0].detail["reason"].startswith("model unavailable")
