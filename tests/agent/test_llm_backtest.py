"""An agent backtest: record model answers once, then rerun identically with no model."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AgentDecided
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, propose

ORDER = {
    "instrument_id": "BTC/USD@paper",
    "side": "buy",
    "quantity": "0.01",
    "rationale": "r",
    "confidence": 0.5,
}
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 10, tzinfo=UTC)
ARGS = [
    "backtest",
    "--brain",
    "llm",
    "--data",
    "binanceus-btcusd-1m",
    "--from",
    "2023-03-09T06:00",
    "--to",
    "2023-03-09T10:00",
    "--json",
]


def _config(tmp_path: Path) -> list[str]:
    """The shipped agent.yaml with one agent cycle per simulated hour."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "agent.yaml").read_text().replace("cycle_seconds: 60", "cycle_seconds: 3600")
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return ["--config", str(path)]


def test_agent_backtest_replays_identically_without_a_model(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    with ScriptedOpenAIServer() as server:
        server.push(propose(ORDER), *[hold() for _ in range(6)])
        args = [*ARGS, *_config(tmp_path), "--model", "openai/scripted", "--api-base", server.api_base]
        args += ["--record", str(rec)]
        first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(
        app, [*ARGS, *_config(tmp_path), "--model", "openai/scripted", "--replay", str(rec)]
    )
    assert again.exit_code == 0, again.output
    a, b = json.loads(first.stdout), json.loads(again.stdout)
    assert a["fills"] and a == b


def test_agent_backtest_replay_miss_holds_and_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        app, [*ARGS, *_config(tmp_path), "--model", "openai/scripted", "--replay", str(empty)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["intents"] == 0  # every cycle held
    # the same wiring the backtest runs, with its journal in hand: each cycle journals why it held
    data = load_config(tmp_path / "agent.yaml").model_dump(mode="python")
    data["brain"] = {"kind": "llm", "cycle_seconds": 3600, "llm": {"model": "openai/scripted"}}
    data["strategies"] = []
    cfg = GekkoConfig.model_validate(data)
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=START, end=END, replay=empty)
    asyncio.run(run_replay(system, start=START))
    decided = [e for e in journal.events if isinstance(e, AgentDecided)]
    assert len(decided) == 4 and all(d.action == "hold" and d.detail["steps"] == 1 for d in decided)
    for d in decided:
        reason = d.detail["reason"]
        assert reason.startswith("model unavailable: no recorded model answer for request ")
        assert f"in {empty}" in reason and reason.endswith("record it first with --record")
        assert d.summary == reason


def test_agent_backtest_replay_from_a_missing_directory_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = CliRunner().invoke(app, [*ARGS, "--model", "openai/scripted", "--replay", str(missing)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"gekko: error: replay directory {missing} does not exist"
    assert "Traceback" not in result.output
