"""Gate regret: exact counterfactual PnL of blocked proposals, per-reason sums, CLI on a demo ledger."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gekko_agent.cli.report import app
from gekko_agent.config import load_config
from gekko_agent.domain import (
    AgentDecided,
    Event,
    IntentProposed,
    OrderIntent,
    OrderSide,
    OrderType,
    Quantity,
    RiskEvaluated,
)
from gekko_agent.errors import InvalidInput
from gekko_agent.ledger import Ledger
from gekko_agent.market.bararray import BarArray, to_ns
from gekko_agent.runtime.regret import blocked_proposals, score_regret
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay

ROOT = Path(__file__).resolve().parents[2]
IID = "BTC/USD@paper"
T0 = datetime(2023, 3, 11, 10, tzinfo=UTC)  # decisions happen at this bar close


def _bars(start_price: int = 100, minutes: int = 120) -> BarArray:
    """1-minute bars from T0 - 10 min: price rises 1 per bar from ``start_price`` at T0."""
    first = T0 - timedelta(minutes=10)
    n = minutes
    ts = np.array([to_ns(first + timedelta(minutes=k)) for k in range(n)], dtype=np.int64)
    opens = np.array([start_price + (k - 10) for k in range(n)], dtype=np.float64)
    closes = opens + 1
    return BarArray(
        IID, 60, ts, opens, np.maximum(opens, closes), np.minimum(opens, closes), closes, np.ones(n), 2, 2
    )


def _intent(intent_id: str, side: OrderSide, qty: str, strategy: str = "sma_cross") -> OrderIntent:
    return OrderIntent(
        intent_id=intent_id,
        instrument_id=IID,
        side=side,
        quantity=Quantity(Decimal(qty)),
        order_type=OrderType.MARKET,
        strategy=strategy,
        rationale="test",
        confidence=Decimal("0.5"),
        decision_id=f"dc-{intent_id}",
    )


def _journal(*rows: tuple[OrderIntent, str, tuple[str, ...], str]) -> list[Event]:
    out: list[Event] = []
    for intent, outcome, reasons, approved in rows:
        out.append(
            AgentDecided(ts=T0, decision_id=intent.decision_id, brain="rules", action="propose_orders")
        )
        out.append(IntentProposed(ts=T0, decision_id=intent.decision_id, intent=intent))
        out.append(
            RiskEvaluated(
                ts=T0,
                decision_id=intent.decision_id,
                intent_id=intent.intent_id,
                outcome=outcome,
                reasons=reasons,
                approved_quantity=Decimal(approved),
            )
        )
    return out


def test_denied_buy_before_rise_scores_exact_positive_regret() -> None:
    journal = _journal((_intent("i1", OrderSide.BUY, "2"), "denied", ("trading_reducing",), "0"))
    report = score_regret(blocked_proposals(journal), {IID: _bars()}, fee_bps={IID: Decimal(10)})
    (scored,) = report.proposals
    # entry: open of the bar opening at T0 = 100; exit: close of the bar closing at T0+60m = 159 + 1
    assert (scored.entry, scored.exit) == (Decimal("100.00"), Decimal("160.00"))
    assert scored.fees == Decimal("0.52")  # 10 bps × 2 × (100 + 160)
    assert scored.pnl == Decimal("119.48")  # 2 × 60 − 0.52
    assert report.totals[0].verdict == "cost"
    assert "cost 119.48 USD" in report.verdict()


def test_resized_scores_only_the_blocked_part() -> None:
    journal = _journal((_intent("i1", OrderSide.BUY, "3"), "resized", ("order_notional",), "1"))
    report = score_regret(
        blocked_proposals(journal), {IID: _bars()}, horizon=timedelta(minutes=30), fee_bps={IID: Decimal(0)}
    )
    (scored,) = report.proposals
    assert scored.proposal.blocked == Decimal(2)
    assert scored.pnl == Decimal("60.00")  # 2 × (130 − 100)
    assert scored.notional == Decimal("200.00")


def test_denied_sell_before_rise_shows_limits_saved_money() -> None:
    journal = _journal((_intent("i1", OrderSide.SELL, "1"), "denied", ("position_limit",), "0"))
    report = score_regret(blocked_proposals(journal), {IID: _bars()}, fee_bps={IID: Decimal(10)})
    assert report.proposals[0].pnl == Decimal("-60.26")  # −60 − 10 bps × (100 + 160)
    assert report.totals[0].verdict == "saved"
    assert "saved 60.26 USD" in report.verdict()


def test_rows_aggregate_per_reason_and_strategy_and_skip_approved() -> None:
    journal = _journal(
        (_intent("i1", OrderSide.BUY, "1"), "denied", ("trading_reducing",), "0"),
        (_intent("i2", OrderSide.BUY, "1", "llm"), "denied", ("trading_reducing", "var_limit"), "0"),
        (_intent("i3", OrderSide.BUY, "2"), "resized", ("var_limit",), "1"),
        (_intent("i4", OrderSide.BUY, "5"), "approved", (), "5"),
    )
    report = score_regret(blocked_proposals(journal), {IID: _bars()})
    reasons = {r.key: (r.count, r.pnl) for r in report.by_reason}
    assert reasons == {"trading_reducing": (2, Decimal("120.00")), "var_limit": (2, Decimal("120.00"))}
    strategies = {r.key: (r.count, r.blocked_notional) for r in report.by_strategy}
    assert strategies == {"sma_cross": (2, Decimal("200.00")), "llm": (1, Decimal("100.00"))}
    assert report.totals[0].count == 3 and report.totals[0].pnl == Decimal("180.00")


def test_horizon_past_the_data_is_counted_but_not_scored() -> None:
    journal = _journal((_intent("i1", OrderSide.BUY, "1"), "denied", ("drawdown",), "0"))
    report = score_regret(blocked_proposals(journal), {IID: _bars(minutes=40)})
    assert report.proposals[0].pnl is None and report.proposals[0].entry == Decimal("100.00")
    assert (report.totals[0].count, report.totals[0].scored, report.totals[0].pnl) == (1, 0, Decimal(0))


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped agent.yaml replayed headless over the USDC depeg day (the REDUCING breaker trips)."""
    path = tmp_path_factory.mktemp("regret") / "gekko.duckdb"
    cfg = load_config(ROOT / "agent.yaml")
    start, end = datetime(2023, 3, 11, tzinfo=UTC), datetime(2023, 3, 11, 16, tzinfo=UTC)
    with Ledger(path) as ledger:
        system = build_replay(cfg, ledger, start=start, end=end)
        asyncio.run(run_replay(system, start=start))
    return path


def _cli(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["regret", *args, "--config", str(ROOT / "agent.yaml")])
    return result.exit_code, result.output, result.exception


def test_cli_reports_demo_ledger_per_reason_as_json(demo_ledger: Path) -> None:
    code, out, exc = _cli("--ledger", str(demo_ledger), "--horizon", "60m", "--json")
    assert code == 0, exc
    data = json.loads(out)
    reasons = {r["key"]: r for r in data["by_reason"]}
    assert reasons["trading_reducing"]["count"] > 0
    assert reasons["trading_reducing"]["scored"] == reasons["trading_reducing"]["count"]
    assert all(p["side"] == "buy" and p["pnl"] is not None for p in data["proposals"])
    assert sum(Decimal(p["pnl"]) for p in data["proposals"]) == Decimal(data["totals"][0]["pnl"])
    assert data["verdict"].startswith("The limits ")


def test_cli_prints_table_and_verdict(demo_ledger: Path) -> None:
    code, out, exc = _cli("--ledger", str(demo_ledger))
    assert code == 0, exc
    assert "trading_reducing" in out and "sma_cross" in out
    assert out.strip().splitlines()[-1].startswith("The limits ")


def test_cli_bad_horizon_raises_one_line_invalid_input(demo_ledger: Path) -> None:
    code, _out, exc = _cli("--ledger", str(demo_ledger), "--horizon", "soon")
    assert code != 0 and isinstance(exc, InvalidInput)
