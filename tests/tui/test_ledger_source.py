"""``gekko tui`` over a ledger file: read-only snapshots of what a headless run journaled."""

from __future__ import annotations

from pathlib import Path

from gekko_agent.config import load_config
from gekko_agent.ledger import Ledger
from gekko_agent.ops import OpsConfig
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.tui.app import GekkoApp
from gekko_agent.tui.ledger_source import LedgerSource
from tests.tui.conftest import END, ROOT, START


async def test_ledger_source_shows_state_decisions_and_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    with Ledger(path) as ledger:
        system = build_replay(load_config(ROOT / "agent.yaml"), ledger, start=START, end=END)
        await run_replay(system, start=START)
        system.trader.command_state("halt", ActorAuthority().human("ops", "cli"), "test")
        intents = system.trader.stats.intents
    assert OpsConfig().local_operator == "operator"
    source = LedgerSource(path)
    snap = source.snapshot()
    assert snap.read_only and snap.status.state == "halted"
    assert len(snap.decisions) == min(intents, 100)
    assert any("trading_state_changed" in line for line in snap.log)
    app = GekkoApp(source, poll=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4", "enter")
        await pilot.pause()
        await pilot.press("u", "y")
        await pilot.pause()
        assert app.latest is not None and app.latest.status.state == "halted"
