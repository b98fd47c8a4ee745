"""Agent cycle overhead, model time excluded: observation build + tool round trips (one over MCP stdio)
+ risk + journaling.

An in-process scripted model answers instantly (four turns: indicators, ``fx__echo`` on the fixture MCP
server over stdio, a dry-run risk check, propose_orders), so the figures are Gekko's own cost per
cycle. Prints median and p99 in ms.

Run: ``.venv/bin/python benchmarks/bench_agent.py [cycles]``
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from gekko_agent.agent.llm import LlmResponse, Message, ToolCall, Usage
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.mcp_client import McpToolHub
from gekko_agent.domain import AssetClass, Instrument
from gekko_agent.mcp.config import McpClientServerConfig
from gekko_agent.runtime.wiring import MemoryJournal
from gekko_agent.testing.fake_context import FakeToolContext, synthetic_bars
from gekko_agent.tools import builtin_registry

BTC = Instrument("BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001"))
ORDER = (
    '{"instrument_id": "BTC/USD@paper", "side": "buy", "quantity": "0.1", '
    '"rationale": "trend", "confidence": 0.6}'
)


FIXTURE = McpClientServerConfig(command=sys.executable, args=["-m", "gekko_agent.testing.mcp_fixture_server"])
CALLS = (
    ToolCall("c1", "get_indicators", '{"instrument_id": "BTC/USD@paper"}'),
    ToolCall("c2", "fx__echo", '{"text": "headline"}'),
    ToolCall("c3", "check_order", '{"order": ' + ORDER + "}"),
    ToolCall("c4", "propose_orders", '{"orders": [' + ORDER + "]}"),
)


class InstantModel:
    """Answers a fixed four-turn script with zero latency."""

    model = "instant"

    async def request(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> LlmResponse:
        turn = sum(1 for m in messages if m["role"] == "assistant")
        return LlmResponse(None, (CALLS[min(turn, len(CALLS) - 1)],), "tool_calls", Usage(100, 20))


async def main(cycles: int) -> None:
    bars = synthetic_bars(BTC.id, datetime(2023, 3, 1, tzinfo=UTC), 500)
    ctx = FakeToolContext([BTC], {BTC.id: bars})
    journal = MemoryJournal()
    brain = LlmBrain(InstantModel(), builtin_registry(), journal)
    times: list[float] = []
    async with McpToolHub({"fx": FIXTURE}) as hub:
        assert brain.add_tools(hub.tools()), hub.status["fx"].reason
        for i in range(cycles + 10):
            t0 = time.perf_counter()
            intents = await brain.decide(ctx, "bench")
            outcomes = ctx.submit(intents)
            dt = (time.perf_counter() - t0) * 1000
            assert outcomes
            assert brain.last is not None
            assert brain.last.steps == len(CALLS)
            if i >= 10:
                times.append(dt)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"agent cycle overhead (4 model turns, 3 tool calls of which 1 over MCP stdio, "
        f"1 risk check + submit, journal), {cycles} cycles"
    )
    print(f"  median {statistics.median(times):.2f} ms   p99 {p99:.2f} ms   max {times[-1]:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
