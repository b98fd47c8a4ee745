"""`gekko run` with ``mcp.serve.beside_engine``: the official MCP client over HTTP against the live engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import IntentProposed, RiskEvaluated
from gekko_agent.ledger import Ledger, events
from gekko_agent.runtime.headless import run_configured
from tests.mcp.conftest import ROOT, TOKEN, free_port

START = datetime(2023, 3, 9, 6, tzinfo=UTC)
ENV = {"GEKKO_TEST_MCP_TOKEN": TOKEN}
ORDER = {
    "instrument_id": "BTC/USD@paper",
    "side": "buy",
    "quantity": "0.001",
    "rationale": "mcp test",
    "confidence": "0.5",
}
TRADING_TOOLS = {"propose_orders", "cancel_order", "get_proposal"}


def _config(path: Path, port: int, *, trading: bool) -> GekkoConfig:
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    serve = {
        "beside_engine": True,
        "enabled_trading": trading,
        "port": port,
        "token": {"env": "GEKKO_TEST_MCP_TOKEN"},
    }
    mcp = {**data.get("mcp", {}), "serve": serve}
    return GekkoConfig.model_validate({**data, "ledger": {"path": str(path)}, "mcp": mcp})


@asynccontextmanager
async def _running(cfg: GekkoConfig, port: int, *, hours: int, speed: float) -> AsyncIterator[str]:
    """Run the engine (lingering after its data) until the block ends; yield the MCP URL."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_configured(
            cfg,
            start=START,
            end=START + timedelta(hours=hours),
            speed=speed,
            stop=stop,
            install_signals=False,
            linger=True,
            environ=ENV,
            echo=lambda _: None,
        )
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        async with httpx.AsyncClient() as raw:
            for _ in range(600):
                if task.done():
                    task.result()
                    raise AssertionError("the engine stopped before serving MCP")
                try:
                    await raw.get(url, timeout=0.5)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@asynccontextmanager
async def _client(url: str) -> AsyncIterator[Client]:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    info = types.Implementation(name="tester", version="1")
    async with (
        httpx2.AsyncClient(headers=bearer) as http,
        Client(streamable_http_client(url, http_client=http), client_info=info) as client,
    ):
        yield client


def _text(res: types.CallToolResult) -> str:
    first = res.content[0]
    assert isinstance(first, types.TextContent)
    return first.text


def _result(res: types.CallToolResult) -> Any:
    assert not res.is_error, res.content
    assert res.structured_content is not None
    return res.structured_content["result"]


async def _settled(client: Client, proposal_id: str) -> dict[str, Any]:
    for _ in range(200):
        status: dict[str, Any] = _result(await client.call_tool("get_proposal", {"proposal_id": proposal_id}))
        if status["state"] != "queued":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{proposal_id} was never taken by the engine")


@pytest.mark.slow
async def test_run_serves_live_engine_and_proposals_take_the_one_path(tmp_path: Path) -> None:
    port, ledger_path = free_port(), tmp_path / "gekko.duckdb"
    cfg = _config(ledger_path, port, trading=True)
    async with _running(cfg, port, hours=4, speed=3600) as url, _client(url) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= TRADING_TOOLS | {"get_portfolio", "get_quote"}
        first = _result(await client.call_tool("get_quote", {"instrument_id": "BTC/USD@paper"}))
        await asyncio.sleep(1.0)
        second = _result(await client.call_tool("get_quote", {"instrument_id": "BTC/USD@paper"}))
        assert second["ts"] > first["ts"], "read tools follow the replay as it advances"
        bars = _result(await client.call_tool("get_bars", {"instrument_id": "BTC/USD@paper", "limit": 5}))
        assert len(bars["rows"]) == 5

        queued = _result(await client.call_tool("propose_orders", {"orders": [ORDER]}))
        assert queued["status"] == "queued" and "not placed" in queued["note"]
        (small,) = queued["proposal_ids"]
        done = await _settled(client, small)
        assert done["proposer"] == "mcp:tester"
        assert done["risk_outcome"] in {"approved", "resized"}
        assert done["state"] in {"sent_to_venue", "awaiting_approval"}

        big = {**ORDER, "quantity": "1000"}
        (huge,) = _result(await client.call_tool("propose_orders", {"orders": [big]}))["proposal_ids"]
        verdict = await _settled(client, huge)
        assert verdict["risk_outcome"] in {"denied", "resized"} and verdict["reasons"]
        assert Decimal(str(verdict["quantity"])) < 1000
        assert verdict["state"] != "sent_to_venue" or verdict["risk_outcome"] == "resized"

        missing = await client.call_tool("get_proposal", {"proposal_id": "in_nope"})
        assert missing.is_error

    with Ledger(ledger_path) as ledger:
        proposed = [
            e.event
            for e in events(ledger, kinds="intent_proposed")
            if isinstance(e.event, IntentProposed) and e.event.intent.strategy == "mcp:tester"
        ]
        assert {p.intent.intent_id for p in proposed} == {small, huge}
        checked = {
            e.event.intent_id: e.event
            for e in events(ledger, kinds="risk_evaluated")
            if isinstance(e.event, RiskEvaluated)
        }
        assert checked[huge].outcome in {"denied", "resized"}
        assert checked[small].outcome == done["risk_outcome"]


@pytest.mark.slow
async def test_run_without_trading_lists_read_tools_only_behind_the_token(tmp_path: Path) -> None:
    port = free_port()
    cfg = _config(tmp_path / "gekko.duckdb", port, trading=False)
    async with _running(cfg, port, hours=1, speed=1e9) as url:
        async with httpx.AsyncClient() as raw:
            anonymous = await raw.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert anonymous.status_code == 401
            wrong = await raw.post(url, headers={"Authorization": "Bearer wrong-token-0123456789"}, json={})
            assert wrong.status_code == 401
        async with _client(url) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert "get_portfolio" in names and not names & TRADING_TOOLS
            refused = await client.call_tool("propose_orders", {"orders": [ORDER]})
            assert refused.is_error and "trading tools are disabled" in _text(refused)
            portfolio = _result(await client.call_tool("get_portfolio", {}))
            assert portfolio["account_currency"]
