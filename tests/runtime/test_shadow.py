"""Shadow mode: a scripted LLM brain trades on paper beside the rules brain without touching its account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import (
    AgentDecided,
    Event,
    Fill,
    IntentProposed,
    OrderFilled,
    OrderSubmitted,
    RiskEvaluated,
)
from gekko_agent.runtime.regret import blocked_proposals
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.shadow import ShadowSink, build_shadow, is_shadow, run_with_shadow, shadow_config
from gekko_agent.runtime.wiring import MemoryJournal, build_replay
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, propose

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 12, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as s:
        yield s


def _order(qty: str) -> dict[str, object]:
    return {
        "instrument_id": "BTC/USD@paper",
        "side": "buy",
        "quantity": qty,
        "rationale": "t",
        "confidence": 0.5,
    }


def _fills(events: list[Event]) -> list[tuple[object, ...]]:
    def key(f: Fill) -> tuple[object, ...]:
        return (f.ts, f.instrument_id, f.side, f.quantity, f.price, f.fee)

    return [key(e.fill) for e in events if isinstance(e, OrderFilled)]


async def test_shadow_llm_leaves_real_fills_identical_and_is_journaled_marked(
    server: ScriptedOpenAIServer,
) -> None:
    server.push(propose(_order("0.01")), propose(_order("50")), *[hold() for _ in range(10)])
    cfg = load_config(ROOT / "agent.yaml")

    alone = MemoryJournal()
    solo = build_replay(cfg, alone, start=START, end=END)
    await run_replay(solo, start=START)

    journal = MemoryJournal()
    main = build_replay(cfg, journal, start=START, end=END)
    llm = {
        "kind": "llm",
        "cycle_seconds": 3600,
        "llm": {"model": "openai/scripted", "api_base": server.api_base},
    }
    shadow = build_shadow(main, shadow_config(cfg, llm, strategies=[]), start=START, end=END)
    await run_with_shadow(main, shadow, start=START)

    # the deciding account traded exactly as it did alone
    assert _fills(alone.events) and _fills(journal.events) == _fills(alone.events)
    real = [e for e in journal.events if not is_shadow(e)]
    assert [type(e) for e in real] == [type(e) for e in alone.events]
    assert main.trader.execution.portfolio.cash == solo.trader.execution.portfolio.cash

    # the shadow's decisions reach the journal, marked; its orders reach only its own venue
    decided = [e for e in journal.events if isinstance(e, AgentDecided) and is_shadow(e)]
    assert len(decided) >= 5 and all(d.brain == "shadow:llm" and d.detail["shadow"] is True for d in decided)
    proposed = [e.intent for e in journal.events if isinstance(e, IntentProposed) and is_shadow(e)]
    assert [i.quantity for i in proposed][:2] == [Decimal("0.01"), Decimal(50)]
    assert all(i.intent_id.startswith("shadow:") and i.strategy.startswith("shadow:") for i in proposed)
    verdicts = [e.outcome for e in journal.events if isinstance(e, RiskEvaluated) and is_shadow(e)]
    assert verdicts[0] == "approved" and verdicts[1] in ("resized", "denied")
    assert all(
        not e.intent.strategy.startswith("shadow:") for e in journal.events if isinstance(e, OrderSubmitted)
    )

    assert isinstance(shadow.journal, ShadowSink)
    own = [e for e in shadow.journal.events if isinstance(e, OrderSubmitted)]
    real_orders = {e.client_order_id for e in journal.events if isinstance(e, OrderSubmitted)}
    assert own and not {e.client_order_id for e in own} & real_orders
    assert shadow.trader.execution.portfolio is not main.trader.execution.portfolio
    assert shadow.trader.stats.orders == len(own)

    # the shadow's blocked proposal is scored as the shadow's
    blocked = [b for b in blocked_proposals(journal.events) if b.brain == "shadow:llm"]
    assert blocked and all(b.intent.strategy.startswith("shadow:") for b in blocked)
    assert blocked[0].blocked == Decimal(50) - next(
        e.approved_quantity
        for e in journal.events
        if isinstance(e, RiskEvaluated) and e.intent_id == proposed[1].intent_id
    )
