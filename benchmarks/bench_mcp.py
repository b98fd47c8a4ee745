"""Benchmark of tool round trips over MCP stdio: Gekko's own server and the agent-side client.

Launches ``python -m gekko_agent.mcp serve`` (over the fixture ToolContext) and measures, with the
official MCP client, the wall time of ``get_quote``, ``get_risk_status`` and ``sentiment_score`` calls;
then measures ``McpToolHub`` (the agent's client) calling the fixture server's ``echo`` through the tool
registry (namespacing, untrusted envelope included). Prints connect time and median / p99 ms per call.

    .venv/bin/python benchmarks/bench_mcp.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

from gekko_agent.agent.mcp_client import McpToolHub
from gekko_agent.mcp.config import McpClientServerConfig
from gekko_agent.tools.registry import ToolRegistry

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = "gekko_agent.testing.mcp_fixture_server:fixture_tool_context"


def _row(label: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{label:<34} median {statistics.median(ms):7.3f} ms   p99 {p99:7.3f} ms   n={len(ms)}"


async def _time(n: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    for _ in range(min(20, n)):
        await call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t0)
    return out


async def bench(calls: int) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "gekko_agent.mcp", "serve", "--context", CONTEXT], cwd=ROOT
    )
    t0 = time.perf_counter()
    async with Client(params) as client:
        print(f"{'gekko server: start + handshake':<34} {1000 * (time.perf_counter() - t0):9.1f} ms")
        cases: dict[str, tuple[str, dict[str, Any]]] = {
            "get_quote": ("get_quote", {"instrument_id": "BTC/USD@paper"}),
            "get_risk_status": ("get_risk_status", {}),
            "sentiment_score (headline)": ("sentiment_score", {"text": "Bitcoin rallies as inflows surge"}),
        }
        for label, (name, args) in cases.items():
            samples = await _time(calls, lambda name=name, args=args: client.call_tool(name, args))
            print(_row(f"gekko server: {label}", samples))
    cfg = McpClientServerConfig(command=sys.executable, args=["-m", "gekko_agent.testing.mcp_fixture_server"])
    t0 = time.perf_counter()
    async with McpToolHub({"fx": cfg}) as hub:
        print(f"{'agent client: start + list':<34} {1000 * (time.perf_counter() - t0):9.1f} ms")
        reg = ToolRegistry(hub.tools())
        samples = await _time(calls, lambda: reg.call("fx__echo", None, {"text": "ping"}))
        print(_row("agent client: fx__echo via registry", samples))


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300)
    asyncio.run(bench(parser.parse_args().calls))


if __name__ == "__main__":
    main()
