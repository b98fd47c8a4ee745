"""News reaches the LLM brain in the Trader only as untrusted data, and cannot move limits or state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AgentDecided, LimitChanged, OrderSubmitted, TradingStateChanged
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay
from gekko_agent.testing.news_server import serve_news
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, tool_call

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 8, tzinfo=UTC)


async def test_adversarial_news_is_enveloped_and_changes_nothing(tmp_path: Path) -> None:
    with serve_news() as news, ScriptedOpenAIServer() as model:
        data = load_config(ROOT / "agent.yaml").model_dump(mode="python")
        data["brain"] = {
            "kind": "llm",
            "cycle_seconds": 3600,
            "llm": {"model": "openai/scripted", "api_base": model.api_base},
        }
        data["strategies"] = []
        data["research"] = {
            "cache_dir": tmp_path / "cache",
            "sources": [{"name": "wire", "url": f"{news.base_url}/feeds/adversarial.rss"}],
        }
        cfg = GekkoConfig.model_validate(data)
        model.push(tool_call("news_headlines", {}), *[hold() for _ in range(6)])
        journal = MemoryJournal()
        system = build_replay(cfg, journal, start=START, end=END)
        await run_replay(system, start=START)
    first = next(e for e in journal.events if isinstance(e, AgentDecided))
    used = first.detail["tool_outputs_used"]
    assert [u["trust"] for u in used if u["tool"] == "news_headlines"] == ["untrusted"]
    replies = [m["content"] for m in first.detail["messages"] if m.get("name") == "news_headlines"]
    assert replies and all("untrusted" in r.lower() for r in replies)
    assert not [
        e for e in journal.events if isinstance(e, (OrderSubmitted, LimitChanged, TradingStateChanged))
    ]
    assert system.trader.state.value == "active"
