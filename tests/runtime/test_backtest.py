from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.config import load_config
from gekko_agent.domain import IntentProposed, OrderSubmitted, RiskEvaluated
from gekko_agent.runtime.backtest import backtest_config, run_backtest
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 10, tzinfo=UTC)
END = datetime(2023, 3, 12, tzinfo=UTC)


def _csv(tmp_path: Path, closes: list[float]) -> Path:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for i, c in enumerate(closes):
        ts = datetime(2024, 1, 1, tzinfo=UTC).timestamp() + 60 * i
        lines.append(f"{int(ts)},{c},{c + 0.5},{c - 0.5},{c},1000")
    path = tmp_path / "bars.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_backtest_on_bundled_data_is_deterministic() -> None:
    base = load_config(ROOT / "agent.yaml")
    a = run_backtest(base, strategy="sma_cross", dataset="binanceus-btcusd-1m", start=START, end=END)
    b = run_backtest(base, strategy="sma_cross", dataset="binanceus-btcusd-1m", start=START, end=END)
    assert a.to_json() == b.to_json()
    assert a.fills and a.intents >= a.approved + a.resized
    assert isinstance(a.final_equity, Decimal)


async def test_every_submitted_order_was_approved_by_risk_first() -> None:
    base = load_config(ROOT / "agent.yaml")
    cfg = backtest_config(
        base,
        strategy="sma_cross",
        symbol="BTC/USDC",
        asset_class="crypto_spot",
        dataset="binanceus-btcusdc-1m",
        fee_bps=Decimal(10),
        cash=Decimal(100000),
        params={},
    )
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=START, end=END)
    await run_replay(system, start=START)
    verdicts: dict[str, str] = {}
    proposed: dict[str, object] = {}
    submitted = 0
    for event in journal.events:
        if isinstance(event, IntentProposed):
            proposed[event.intent.intent_id] = event
        elif isinstance(event, RiskEvaluated):
            assert event.intent_id in proposed
            verdicts[event.intent_id] = event.outcome
        elif isinstance(event, OrderSubmitted):
            submitted += 1
            assert verdicts[event.intent.intent_id] in ("approved", "resized")
            assert event.decision_id is not None
    assert submitted > 0


def test_sma_cross_buys_on_cross_up_and_sells_on_cross_down(tmp_path: Path) -> None:
    closes = [100.0] * 200 + [100.0 + i for i in range(1, 60)] + [158.0 - 2 * i for i in range(1, 60)]
    base = load_config(ROOT / "agent.yaml")
    result = run_backtest(base, strategy="sma_cross", csv=_csv(tmp_path, closes), params={"quantity": "1"})
    sides = [t.side.value for t in result.fills]
    assert sides and sides[0] == "buy" and sides[-1] == "sell"
    bought = sum(t.quantity for t in result.fills if t.side.value == "buy")
    sold = sum(t.quantity for t in result.fills if t.side.value == "sell")
    assert bought == sold


def test_backtest_cli_json_has_the_documented_keys() -> None:
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--strategy",
            "sma_cross",
            "--data",
            "binanceus-btcusd-1m",
            "--from",
            "2023-03-10",
            "--to",
            "2023-03-11",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    for key in ("trades", "final_equity", "total_return", "sharpe", "max_drawdown"):
        assert key in out
    Decimal(out["final_equity"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--strategy", "nope", "--data", "binanceus-btcusd-1m"], "no strategy 'nope'"),
        (["--strategy", "sma_cross", "--data", "nowhere"], "nowhere"),
        (["--strategy", "sma_cross"], "exactly one of --data"),
        (["--strategy", "sma_cross", "--data", "binanceus-btcusd-1m", "--from", "soon"], "--from"),
        (
            ["--strategy", "sma_cross", "--data", "binanceus-btcusd-1m", "-p", "fast=50"],
            "fast must be smaller",
        ),
        (["--strategy", "sma_cross", "--data", "binanceus-btcusd-1m", "-p", "fats=5"], "unknown parameter"),
    ],
)
def test_backtest_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, ["backtest", *args])
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
