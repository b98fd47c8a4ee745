"""The LLM brain inside the Trader: litellm over HTTP to a scripted server, intents through risk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gekko_agent.domain import AgentDecided, OrderSubmitted, RiskEvaluated
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, llm_agent_config, propose

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 12, tzinfo=UTC)


def _order(qty: str) -> dict[str, object]:
    return {
        "instrument_id": "BTC/USD@paper",
        "side": "buy",
        "quantity": qty,
        "rationale": "test",
        "confidence": 0.5,
    }


async def test_llm_cycles_propose_through_risk_and_reach_the_venue(server: ScriptedOpenAIServer) -> None:
    server.push(propose(_order("0.01")), propose(_order("50")), *[hold() for _ in range(10)])
    journal = MemoryJournal()
    system = build_replay(llm_agent_config(server.api_base), journal, start=START, end=END)
    await run_replay(system, start=START)
    decided = [e for e in journal.events if isinstance(e, AgentDecided)]
    assert system.trader.brain.name == "llm"
    assert len(decided) >= 5 and all(d.brain == "llm" for d in decided)
    verdicts = [e.outcome for e in journal.events if isinstance(e, RiskEvaluated)]
    assert verdicts[0] == "approved"
    assert verdicts[1] in ("resized", "denied")  # 50 BTC is far beyond every limit
    submitted = [e for e in journal.events if isinstance(e, OrderSubmitted)]
    assert all(e.intent.quantity < 1 for e in submitted[1:])  # max order notional 15,000 at ~20,000 USD/BTC
    assert submitted[0].decision_id == decided[0].decision_id


async def test_model_cancels_only_its_own_resting_order_and_the_trader_risk_checks_it(
    server: ScriptedOpenAIServer,
) -> None:
    from decimal import Decimal

    from gekko_agent.agent.llm_trading import LlmTradingBrain
    from gekko_agent.domain.orders import OrderStatus
    from gekko_agent.testing.openai_server import tool_call

    server.push(*[hold() for _ in range(6)])
    journal = MemoryJournal()
    system = build_replay(llm_agent_config(server.api_base), journal, start=START, end=END)
    await run_replay(system, start=START)
    trader, brain = system.trader, system.trader.brain
    assert isinstance(brain, LlmTradingBrain)
    assert server.remaining == 0  # one hold per hourly cycle of the replay, none left over
    below = (trader.book.marks()["BTC/USD@paper"] * Decimal("0.995")).quantize(Decimal("0.01"))
    resting = {**_order("0.01"), "order_type": "limit", "limit_price": str(below)}
    server.push(propose(resting))
    for intent in await brain.run_cycle(system.clock.now()):
        await trader.propose(intent)
    (order,) = trader.execution.open_orders()
    cid = order.client_order_id
    server.push(
        tool_call("cancel_order", {"order_id": "gk-not-mine"}),
        tool_call("cancel_order", {"order_id": cid}),
        hold("cancel the stale bid"),
    )
    assert await brain.run_cycle(system.clock.now()) == []
    assert brain.take_cancels() == [cid]  # the foreign id was refused by the tool
    assert brain.take_cancels() == []
    outcome = await trader.cancel(cid, brain.name)
    assert outcome.order is not None and outcome.order.status is OrderStatus.CANCELED
    last = [e for e in journal.events if isinstance(e, AgentDecided)][-1]
    assert [c["name"] for c in last.detail["tool_calls"]] == ["cancel_order", "cancel_order", "hold"]
