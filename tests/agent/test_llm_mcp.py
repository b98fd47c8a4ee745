"""The LLM brain uses the MCP servers named in agent.yaml: litellm to a scripted model, tools over stdio.

A server that never starts, or dies in the middle of a cycle, is journaled and the cycle carries on.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gekko_agent.agent.llm_trading import LlmTradingBrain
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AgentDecided, AlertRaised
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, tool_call
from tests.mcp.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 6, 30, tzinfo=UTC)  # one agent cycle (cycle_seconds is a day)
FIXTURE = ["-m", "gekko_agent.testing.mcp_fixture_server"]


def _stdio(*args: str) -> dict[str, Any]:
    return {"command": sys.executable, "args": list(args), "cwd": str(ROOT), "timeout_s": 20}


def _fixture_writing_pid(pidfile: Path) -> dict[str, Any]:
    code = (
        f"import os; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
        "from gekko_agent.testing.mcp_fixture_server import main; main([])"
    )
    return _stdio("-c", code)


def _config(api_base: str, servers: dict[str, Any]) -> GekkoConfig:
    data = load_config(ROOT / "agent.yaml").model_dump(mode="python")
    data["brain"] = {
        "kind": "llm",
        "cycle_seconds": 86_400,
        "llm": {"model": "openai/scripted", "api_base": api_base},
    }
    data["strategies"] = []
    data["mcp"] = {"servers": servers}
    return GekkoConfig.model_validate(data)


def _brain(system: System) -> LlmTradingBrain:
    brain = system.trader.brain
    assert isinstance(brain, LlmTradingBrain)
    return brain


def _offered(request: dict[str, Any]) -> set[str]:
    return {t["function"]["name"] for t in request.get("tools", [])}


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # exited, not yet reaped


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.slow
async def test_agent_calls_a_stdio_mcp_tool_and_closes_the_server(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    journal = MemoryJournal()
    with ScriptedOpenAIServer([tool_call("fx__echo", {"text": "hello over MCP"}), hold()]) as server:
        system = build_replay(
            _config(server.api_base, {"fx": _fixture_writing_pid(pidfile)}), journal, start=START, end=END
        )
        await run_replay(system, start=START)
        brain = _brain(system)
        await brain.close()
        requests = server.requests
    assert {"fx__echo", "fx__add", "fx__market_news"} <= _offered(requests[0])
    decided = [e for e in journal.events if isinstance(e, AgentDecided)]
    assert len(decided) == 1 and decided[0].action == "hold"
    calls = decided[0].detail["tool_calls"]
    assert calls[0]["name"] == "fx__echo" and calls[0]["ok"] is True
    reply = next(m for m in requests[1]["messages"] if m["role"] == "tool")["content"]
    assert reply.startswith('<untrusted_data source="fx__echo">') and "hello over MCP" in reply
    assert decided[0].detail["tool_outputs_used"][0]["trust"] == "untrusted"
    assert not [e for e in journal.events if isinstance(e, AlertRaised)]
    assert brain.mcp is not None and not brain.mcp.running
    assert _wait_gone(int(pidfile.read_text()))


@pytest.mark.slow
async def test_dead_mcp_servers_are_journaled_and_the_cycle_carries_on() -> None:
    servers = {
        "exits": _stdio("-c", "import sys; sys.exit(3)"),
        "nobody": {"url": f"http://127.0.0.1:{free_port()}/mcp", "timeout_s": 5},
        "fx": _stdio(*FIXTURE),
    }
    script = [
        tool_call("exits__echo", {"text": "anyone?"}),
        tool_call("fx__crash", {}),
        tool_call("fx__echo", {"text": "still there?"}),
        hold("the outside servers are gone"),
    ]
    journal = MemoryJournal()
    with ScriptedOpenAIServer(script) as server:
        system = build_replay(_config(server.api_base, servers), journal, start=START, end=END)
        await run_replay(system, start=START)
        await _brain(system).close()
        requests = server.requests
    offered = _offered(requests[0])
    assert "fx__echo" in offered and not any(n.startswith(("exits__", "nobody__")) for n in offered)
    decided = [e for e in journal.events if isinstance(e, AgentDecided)]
    assert [d.action for d in decided] == ["hold"]
    assert decided[0].detail["reason"] == "the outside servers are gone"
    results = {c["name"]: c for c in decided[0].detail["tool_calls"] if "ok" in c}
    assert "unknown tool 'exits__echo'" in results["exits__echo"]["error"]
    assert "died" in results["fx__crash"]["error"]
    assert "unavailable" in results["fx__echo"]["error"]
    alerts = {e.source: e for e in journal.events if isinstance(e, AlertRaised)}
    assert sorted(alerts) == ["mcp:exits", "mcp:fx", "mcp:nobody"]
    assert "could not start" in alerts["mcp:nobody"].message and "\n" not in alerts["mcp:nobody"].message
    assert alerts["mcp:fx"].ts == decided[0].ts  # engine time, like every other event of the cycle


def test_the_servers_close_when_the_event_loop_ends_without_close(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    journal = MemoryJournal()

    async def run(api_base: str) -> LlmTradingBrain:
        cfg = _config(api_base, {"fx": _fixture_writing_pid(pidfile)})
        system = build_replay(cfg, journal, start=START, end=END)
        await run_replay(system, start=START)
        brain = _brain(system)
        assert brain.mcp is not None and brain.mcp.running
        return brain  # no close(): the loop shutting down must stop the server

    with ScriptedOpenAIServer([hold()]) as server:
        brain = asyncio.run(run(server.api_base))
    assert brain.mcp is not None and not brain.mcp.running
    assert _wait_gone(int(pidfile.read_text()))
    assert os.getpid() != int(pidfile.read_text())
