"""Standalone `gekko mcp serve`: a snapshot of a paper replay, not an engine; its trading tools refuse."""

from __future__ import annotations

import sys
from pathlib import Path

import mcp_types as types
import pytest
import yaml
from mcp import Client, StdioServerParameters

from gekko_agent.mcp.snapshot import REFUSAL
from tests.mcp.conftest import ROOT

ORDER = {
    "instrument_id": "BTC/USD@paper",
    "side": "buy",
    "quantity": "0.001",
    "rationale": "test",
    "confidence": "0.5",
}


def _text(res: types.CallToolResult) -> str:
    first = res.content[0]
    assert isinstance(first, types.TextContent)
    return first.text


@pytest.mark.slow
async def test_standalone_serve_says_snapshot_and_refuses_trading(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "agent.yaml").read_text(encoding="utf-8"))
    data["mcp"] = {**(data.get("mcp") or {}), "serve": {"enabled_trading": True}}
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "gekko_agent.mcp", "serve", "--config", str(config)], cwd=ROOT
    )
    async with Client(params) as client:
        assert client.instructions is not None and "SNAPSHOT" in client.instructions
        listing = {t.name: t for t in (await client.list_tools()).tools}
        assert {"propose_orders", "cancel_order"} <= set(listing)
        assert "not a live engine" in (listing["get_portfolio"].description or "")
        quote = await client.call_tool("get_quote", {"instrument_id": "BTC/USD@paper"})
        assert not quote.is_error and quote.structured_content is not None
        refused = await client.call_tool("propose_orders", {"orders": [ORDER]})
        assert refused.is_error and REFUSAL in _text(refused)
        assert "gekko run" in REFUSAL and "nothing was queued" in REFUSAL
        cancel = await client.call_tool("cancel_order", {"order_id": "o-1"})
        assert cancel.is_error and "snapshot" in _text(cancel)
