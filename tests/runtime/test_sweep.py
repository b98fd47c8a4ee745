"""Parameter sweeps: grid parsing, the numpy path for sma_cross, the event path in processes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.errors import InvalidInput
from gekko_agent.runtime.backtest import run_backtest
from gekko_agent.runtime.sweep import parse_grid, run_grid

ROOT = Path(__file__).resolve().parents[2]
DATASET = "binanceus-btcusd-1m"
START, END = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 10, 12, tzinfo=UTC)


def test_parse_grid_splits_values_and_rejects_garbage() -> None:
    want = {"fast": ["5", "10", "20"], "slow": ["30", "60"]}
    assert parse_grid(["fast=5,10,20", "slow=30,60"]) == want
    assert parse_grid(["fast=5,10,20 slow=30,60"]) == want
    for bad in ("fast", "=5", "fast="):
        with pytest.raises(InvalidInput):
            parse_grid([bad])


def test_numpy_path_covers_the_grid_and_flags_invalid_combinations() -> None:
    base = load_config(ROOT / "agent.yaml")
    grid = parse_grid(["fast=5,10,40", "slow=30,60"])
    results = run_grid(base, "sma_cross", DATASET, grid, start=START, end=END, vectorized=True)
    assert [r.params for r in results][:2] == [{"fast": "5", "slow": "30"}, {"fast": "5", "slow": "60"}]
    assert {r.path for r in results} == {"numpy"}
    bad = [r for r in results if r.error]
    assert [r.params for r in bad] == [{"fast": "40", "slow": "30"}]
    ok = [r for r in results if not r.error]
    assert all(r.metrics["fills"] > 0 and r.metrics["fees"] > 0 for r in ok)
    assert all(-0.1 < r.metrics["total_return"] < 0.1 for r in ok)


def test_event_path_runs_in_processes_and_matches_a_single_backtest() -> None:
    base = load_config(ROOT / "agent.yaml")
    grid = {"fast": ["5", "10"], "slow": ["30"]}
    results = run_grid(base, "sma_cross", DATASET, grid, start=START, end=END, workers=2)
    assert [r.path for r in results] == ["event", "event"]
    single = run_backtest(
        base, strategy="sma_cross", dataset=DATASET, start=START, end=END, params={"fast": "10", "slow": "30"}
    )
    assert results[1].metrics["final_equity"] == pytest.approx(float(single.final_equity))
    assert results[1].metrics["fills"] == len(single.fills)
    assert Decimal(str(results[0].metrics["fees"])) > 0
