"""Backtest and paper mode over the same bars and seed give the same orders and fills."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gekko_agent.config import load_config
from gekko_agent.domain import OrderFilled, OrderSubmitted
from gekko_agent.ledger import Ledger, events
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 10, tzinfo=UTC)


async def test_paper_session_and_backtest_make_the_same_fills(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "agent.yaml")
    memory = MemoryJournal()
    backtest = build_replay(cfg, memory, start=START, end=END)
    await run_replay(backtest, start=START)
    with Ledger(tmp_path / "paper.duckdb") as ledger:
        paper = build_replay(cfg, ledger, start=START, end=END)
        await run_replay(paper, start=START, speed=1e12)
        stored = [s.event for s in events(ledger, kinds=["order_filled", "order_submitted"])]

    def key(evs: list[object]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for e in evs:
            if isinstance(e, OrderFilled):
                f = e.fill
                out.append(
                    ("fill", f.ts.isoformat(), f.instrument_id, str(f.side), str(f.quantity), str(f.price))
                )
            elif isinstance(e, OrderSubmitted):
                i = e.intent
                out.append(("order", e.ts.isoformat(), i.instrument_id, str(i.side), str(i.quantity)))
        return out

    expected = key(memory.events)
    assert expected, "the window should trade"
    assert key(stored) == expected
