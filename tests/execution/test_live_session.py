"""The venue-backed session and ``gekko reconcile`` against the loopback Binance simulator:
secrets from the environment, reconcile before exposure, resume from the ledger after a restart
(open orders, the trading state and the breakers' references)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from gekko_agent.cli.reconcile import reconcile
from gekko_agent.config import GekkoConfig
from gekko_agent.domain import (
    AlertRaised,
    EquityMarked,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
)
from gekko_agent.ledger import Ledger, events
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.risk.outcomes import Denied, ReasonCode
from gekko_agent.risk.snapshot import TradingState
from gekko_agent.runtime.live import LiveSession
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim

IID = "BTC/USD@binanceus"
ENV = {"SIM_KEY": binance_sim.API_KEY, "SIM_SECRET": binance_sim.API_SECRET}


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


def config(url: str, ledger: Path) -> dict[str, object]:
    return {
        "mode": "live",
        "venues": {
            "binanceus": {
                "kind": "ccxt",
                "exchange": "binanceus",
                "api_key": {"env": "SIM_KEY"},
                "secret": {"env": "SIM_SECRET"},
                "api_url": url,
                "timeout_ms": 2000,
            }
        },
        "instruments": [{"symbol": "BTC/USD", "venue": "binanceus", "min_notional": "10"}],
        "ledger": {"path": str(ledger)},
    }


async def test_session_reconciles_then_resumes_open_orders(sim: RunningSimulator, tmp_path: Path) -> None:
    cfg = GekkoConfig.model_validate(config(sim.url, tmp_path / "l.duckdb"))
    with Ledger(tmp_path / "l.duckdb") as ledger:
        session = LiveSession(cfg, ledger, environ=ENV)
        assert session.engine.stats["binanceus"].reconciled_at is None
        (report,) = await session.reconcile()
        assert report.clean
        assert session.engine.stats["binanceus"].reconciled_at is not None
        resting = OrderIntent(
            "i-1", IID, OrderSide.BUY, Quantity(Decimal("0.01")), OrderType.LIMIT, Price(Decimal(20000))
        )
        order = await session.engine.submit(resting)
        assert order.status is OrderStatus.ACCEPTED
        await session.close()
        restarted = LiveSession(cfg, ledger, environ=ENV)
        assert [o.client_order_id for o in restarted.engine.open_orders()] == [order.client_order_id]
        assert restarted.engine.portfolio.cash["USD"] == Decimal(100_000)
        (again,) = await restarted.reconcile()
        assert again.clean, again.differences
        await restarted.close()
        assert len(events(ledger, kinds="reconciliation_completed")) == 2


def test_cli_reconcile_prints_report_and_journals(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(config(sim.url, tmp_path / "cli.duckdb")))
    app = typer.Typer()
    app.command()(reconcile)
    result = CliRunner().invoke(app, ["--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [r["venue"] for r in payload["reports"]] == ["binanceus"]
    assert binance_sim.API_SECRET not in result.output
    with Ledger(tmp_path / "cli.duckdb") as ledger:
        assert len(events(ledger, kinds="reconciliation_completed")) == 1


async def test_restart_keeps_a_halt_and_denies_new_orders(sim: RunningSimulator, tmp_path: Path) -> None:
    cfg = GekkoConfig.model_validate(config(sim.url, tmp_path / "l.duckdb"))
    with Ledger(tmp_path / "l.duckdb") as ledger:
        session = LiveSession(cfg, ledger, environ=ENV)
        await session.reconcile()
        session.trader.command_state("halt", ActorAuthority().human("alice", "slack"), "kill switch")
        await session.close()
        restarted = LiveSession(cfg, ledger, environ=ENV)
        assert restarted.trader.state is TradingState.HALTED
        assert restarted.restored.state_change is not None
        assert restarted.restored.state_change.reason == "kill switch"
        await restarted.reconcile()
        intent = OrderIntent("i-2", IID, OrderSide.BUY, Quantity(Decimal("0.01")), strategy="manual")
        outcome = await restarted.trader.propose(intent)
        await restarted.close()
        assert isinstance(outcome, Denied) and ReasonCode.TRADING_HALTED in outcome.reasons
        assert not events(ledger, kinds="order_submitted")
        alerts = [s.event for s in events(ledger, kinds="alert_raised")]
        assert any(
            isinstance(a, AlertRaised) and a.source == "restart" and "HALTED" in a.message for a in alerts
        )


async def test_restart_restores_the_breaker_references(sim: RunningSimulator, tmp_path: Path) -> None:
    cfg = GekkoConfig.model_validate(config(sim.url, tmp_path / "l.duckdb"))
    at = datetime.now(UTC) - timedelta(minutes=5)
    with Ledger(tmp_path / "l.duckdb") as ledger:
        ledger.append(
            EquityMarked(
                ts=at,
                currency="USD",
                equity=Decimal(95_000),
                day_start=Decimal(99_000),
                peak=Decimal(120_000),
            )
        )
        session = LiveSession(cfg, ledger, environ=ENV)
        await session.close()
        eq = session.trader.equity
        assert (eq.peak, eq.day_start) == (Decimal(120_000), Decimal(99_000))
        assert session.restored.marks is not None and eq.not_before == at
