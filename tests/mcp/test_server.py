"""Gekko's MCP server, driven by the official MCP client over stdio, HTTP and in process."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from gekko_agent.errors import ConfigError
from gekko_agent.mcp.config import McpConfig, McpServerConfig, load_section
from gekko_agent.mcp.server import StaticTokenVerifier, build_server, server_registry
from gekko_agent.testing.mcp_fixture_server import fixture_tool_context
from tests.mcp.conftest import CONTEXT, ROOT, TOKEN, free_port, http_process

READ_TOOLS = {
    "get_quote",
    "get_portfolio",
    "get_risk_status",
    "check_order",
    "list_open_orders",
    "sentiment_score",
}
TRADING_TOOLS = {"propose_orders", "cancel_order"}
ORDER = {
    "instrument_id": "BTC/USD@paper",
    "side": "buy",
    "quantity": "0.01",
    "rationale": "test",
    "confidence": "0.5",
}


@pytest.mark.slow
async def test_stdio_lists_read_tools_and_calls_them() -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "gekko_agent.mcp", "serve", "--context", CONTEXT], cwd=ROOT
    )
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert names >= READ_TOOLS and not names & TRADING_TOOLS
        quote = await client.call_tool("get_quote", {"instrument_id": "BTC/USD@paper"})
        assert not quote.is_error
        assert quote.structured_content["result"]["instrument_id"] == "BTC/USD@paper"
        denied = await client.call_tool("propose_orders", {"orders": [ORDER]})
        assert denied.is_error and "trading tools are disabled" in denied.content[0].text


async def test_in_process_trading_tools_only_enqueue() -> None:
    ctx = fixture_tool_context()
    server = build_server(server_registry(), lambda: ctx, enable_trading=True)
    async with Client(server) as client:
        listing = (await client.list_tools()).tools
        names = {t.name for t in listing}
        assert names >= TRADING_TOOLS
        propose = next(t for t in listing if t.name == "propose_orders")
        assert propose.annotations is not None and propose.annotations.read_only_hint is False
        big = {**ORDER, "quantity": "1000"}
        result = await client.call_tool("propose_orders", {"orders": [big]})
        assert not result.is_error
        queued = result.structured_content["result"]["queued_for_risk_check"]
        assert len(queued) == 1
    # nothing was executed: the proposal waits in the queue, and risk refuses its size
    outcomes = ctx.submit()
    assert len(outcomes) == 1
    assert type(outcomes[0]).__name__ in {"Denied", "Resized"}
    assert getattr(outcomes[0], "quantity", Decimal(0)) < Decimal(1000)


async def test_bad_arguments_come_back_as_tool_errors() -> None:
    ctx = fixture_tool_context()
    async with Client(build_server(server_registry(), lambda: ctx)) as client:
        result = await client.call_tool("get_quote", {"instrument_id": "DOGE/USD@paper"})
        assert result.is_error
        result = await client.call_tool("get_bars", {"instrument_id": "BTC/USD@paper", "bogus": 1})
        assert result.is_error and "unknown argument" in result.content[0].text


@pytest.mark.slow
async def test_http_requires_bearer_token(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "agent.yaml"
    config.write_text(f"mcp:\n  serve:\n    port: {port}\n    token: {{env: GEKKO_TEST_MCP_TOKEN}}\n")
    args = [
        "-m",
        "gekko_agent.mcp",
        "serve",
        "--transport",
        "http",
        "--config",
        str(config),
        "--context",
        CONTEXT,
    ]
    with http_process(args, port, {"GEKKO_TEST_MCP_TOKEN": TOKEN}) as url:
        async with httpx.AsyncClient() as raw:
            anonymous = await raw.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert anonymous.status_code == 401
            wrong = await raw.post(url, headers={"Authorization": "Bearer nope"}, json={})
            assert wrong.status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            httpx2.AsyncClient(headers=bearer) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            names = {t.name for t in (await client.list_tools()).tools}
            assert names >= READ_TOOLS and not names & TRADING_TOOLS
            risk = await client.call_tool("get_risk_status", {})
            assert risk.structured_content["result"]["state"] == "active"


def test_http_without_token_refuses_to_start(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gekko_agent.cli.mcp import app

    config = tmp_path / "agent.yaml"
    config.write_text("mcp:\n  serve: {transport: http}\n")
    result = CliRunner().invoke(app, ["serve", "--config", str(config), "--context", CONTEXT])
    assert result.exit_code == 2
    assert "mcp.serve.token" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--host", "0.0.0.0"], "gekko: error: --host 0.0.0.0: host '0.0.0.0' is not loopback"),
        (["--port", "0"], "gekko: error: --port 0: Input should be greater than or equal to 1"),
        (["--port", "70000"], "gekko: error: --port 70000: Input should be less than or equal to 65535"),
    ],
)
def test_bad_host_or_port_flag_is_one_line_naming_the_flag_exit_2(
    tmp_path: Path, flags: list[str], expected: str
) -> None:
    from typer.testing import CliRunner

    from gekko_agent.cli.main import app

    config = tmp_path / "agent.yaml"
    config.write_text("mcp:\n  serve: {transport: stdio}\n")
    args = ["mcp", "serve", "--transport", "http", *flags, "--config", str(config), "--context", CONTEXT]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # no ValidationError escaped
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(expected)
    assert "ValidationError" not in result.output and "Traceback" not in result.output


def test_config_keeps_http_on_loopback_and_checks_sections(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not loopback"):
        McpServerConfig(host="0.0.0.0")
    assert McpServerConfig(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    bad = tmp_path / "agent.yaml"
    bad.write_text("mcp:\n  serve: {enabled_trading: maybe}\n")
    with pytest.raises(ConfigError, match=r"mcp\.serve\.enabled_trading"):
        load_section(bad, "mcp", McpConfig)
    with pytest.raises(ValueError, match="exactly one"):
        McpConfig.model_validate({"servers": {"x": {}}})
    with pytest.raises(ValueError, match="single '_'"):
        McpConfig.model_validate({"servers": {"a__b": {"url": "http://127.0.0.1:1/mcp"}}})


async def test_token_verifier_is_exact() -> None:
    verifier = StaticTokenVerifier(TOKEN)
    assert await verifier.verify_token(TOKEN) is not None
    assert await verifier.verify_token(TOKEN[:-1]) is None
    with pytest.raises(ValueError, match="16"):
        StaticTokenVerifier("short")
