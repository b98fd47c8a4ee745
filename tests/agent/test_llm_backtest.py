"""An agent backtest: record model answers once, then rerun identically with no model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.testing.openai_server import ScriptedOpenAIServer, hold, propose

ORDER = {
    "instrument_id": "BTC/USD@paper",
    "side": "buy",
    "quantity": "0.01",
    "rationale": "r",
    "confidence": 0.5,
}
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
    assert a["trades"] and a == b


def test_agent_backtest_replay_miss_holds_and_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, [*ARGS, "--model", "openai/scripted", "--replay", str(tmp_path / "empty")]
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
