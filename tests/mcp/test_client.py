"""The agent-side MCP client against the fixture server over stdio and HTTP, and servers that fail."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from gekko_agent.agent.mcp_client import McpToolHub
from gekko_agent.domain import AlertRaised, SimClock
from gekko_agent.mcp.config import McpClientServerConfig
from gekko_agent.testing.news_server import ADVERSARIAL_PHRASES
from gekko_agent.tools.registry import ToolRegistry, Trust
from tests.mcp.conftest import ROOT, TOKEN, free_port, http_process

FIXTURE = ["-m", "gekko_agent.testing.mcp_fixture_server"]
CLOCK = SimClock(datetime(2024, 1, 2, tzinfo=UTC))


def _stdio(*extra: str) -> McpClientServerConfig:
    return McpClientServerConfig(command=sys.executable, args=[*FIXTURE, *extra], cwd=ROOT, timeout_s=20)


@pytest.mark.slow
async def test_stdio_tools_are_namespaced_and_untrusted() -> None:
    async with McpToolHub({"fx": _stdio()}, clock=CLOCK) as hub:
        reg = ToolRegistry(hub.tools())
        assert reg.names() == ["fx__add", "fx__crash", "fx__echo", "fx__fail", "fx__market_news"]
        assert all(t.trust is Trust.UNTRUSTED and t.read_only for t in hub.tools())
        added = await reg.call("fx__add", None, '{"a": 2, "b": 40}')
        assert added.ok and added.content == {"server": "fx", "tool": "add", "text": "42"}
        news = await reg.call("fx__market_news", None, {})
        assert news.text().startswith('<untrusted_data source="fx__market_news">')
        assert ADVERSARIAL_PHRASES[0] in news.text()
        failed = await reg.call("fx__fail", None, {})
        assert not failed.ok and failed.error.startswith("fx__fail:")
        assert hub.status["fx"].state == "connected" and hub.alerts == []


@pytest.mark.slow
async def test_server_dying_mid_call_is_reported_once() -> None:
    seen: list[AlertRaised] = []
    async with McpToolHub({"fx": _stdio()}, alert=seen.append, clock=CLOCK) as hub:
        reg = ToolRegistry(hub.tools())
        crashed = await reg.call("fx__crash", None, {})
        assert not crashed.ok and "died" in crashed.error
        after = await reg.call("fx__echo", None, {"text": "still there?"})
        assert not after.ok and "unavailable" in after.error
    assert hub.status["fx"].state == "dead"
    assert [(a.source, a.level) for a in seen] == [("mcp:fx", "warning")]


@pytest.mark.slow
async def test_failing_servers_are_reported_and_others_still_work() -> None:
    servers = {
        "broken": _stdio("--die-on-start"),
        "missing": McpClientServerConfig(command="/nonexistent/gekko-mcp-server"),
        "down": McpClientServerConfig(url=f"http://127.0.0.1:{free_port()}/mcp", timeout_s=5),
        "off": McpClientServerConfig(command="/nonexistent", enabled=False),
        "fx": _stdio(),
    }
    async with McpToolHub(servers, clock=CLOCK) as hub:
        assert {n: s.state for n, s in hub.status.items()} == {
            "broken": "failed",
            "missing": "failed",
            "down": "failed",
            "off": "disabled",
            "fx": "connected",
        }
        assert "refusing to start" in hub.status["broken"].reason
        assert "\n" not in hub.status["down"].reason
        assert (await hub.call("fx", "echo", {"text": "ok"}))["text"] == "ok"
    assert sorted(a.source for a in hub.alerts) == ["mcp:broken", "mcp:down", "mcp:missing"]


@pytest.mark.slow
async def test_http_server_with_bearer_token(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("GEKKO_TEST_FIXTURE_TOKEN", TOKEN)
    args = [*FIXTURE, "--transport", "http", "--port", str(port), "--token", TOKEN]
    with http_process(args, port) as url:
        servers = {
            "web": McpClientServerConfig(
                url=url, bearer_token={"env": "GEKKO_TEST_FIXTURE_TOKEN"}, headers={"X-Trace": "1"}
            ),
            "anon": McpClientServerConfig(url=url, timeout_s=5),
        }
        async with McpToolHub(servers, clock=CLOCK) as hub:
            assert hub.status["web"].state == "connected"
            assert hub.status["anon"].state == "failed"
            reg = ToolRegistry(hub.tools())
            assert "web__echo" in reg and not any(n.startswith("anon__") for n in reg.names())
            echoed = await reg.call("web__echo", None, {"text": "over http"})
            assert echoed.ok and echoed.content["text"] == "over http"


async def test_tool_filter_limits_what_the_model_sees() -> None:
    cfg = McpClientServerConfig(command=sys.executable, args=FIXTURE, cwd=ROOT, tools=["echo"])
    async with McpToolHub({"fx": cfg}, clock=CLOCK) as hub:
        assert [t.name for t in hub.tools()] == ["fx__echo"]
