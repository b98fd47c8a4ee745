from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gekko_agent.ledger import open_reader

ROOT = Path(__file__).resolve().parents[2]


def test_demo_headless_trades_and_journals_everything(tmp_path: Path) -> None:
    cfg = tmp_path / "agent.yaml"
    text = (ROOT / "agent.yaml").read_text()
    text = text.replace('end: "2023-03-14T00:00:00+00:00"', 'end: "2023-03-10T06:00:00+00:00"')
    text = text.replace('start: "2023-03-09T00:00:00+00:00"', 'start: "2023-03-09T12:00:00+00:00"')
    cfg.write_text(text)
    ledger = tmp_path / "demo.duckdb"
    env = {**os.environ, "COLUMNS": "120"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gekko_agent",
            "demo",
            "--config",
            str(cfg),
            "--headless",
            "--speed",
            "1e9",
            "--ledger",
            str(ledger),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "done: equity" in result.stdout
    with open_reader(ledger) as reader:
        kinds = dict(reader.fetch("SELECT kind, count(*) FROM events GROUP BY kind"))
    assert kinds.get("intent_proposed", 0) > 0
    assert kinds.get("risk_evaluated") == kinds.get("intent_proposed")
    assert kinds.get("agent_decided", 0) > 0
