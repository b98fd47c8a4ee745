"""``gekko run`` on the headless scheduler: jobs fire, SIGTERM stops it cleanly, a halt survives a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import AlertRaised, RiskEvaluated, TradingStateChanged
from gekko_agent.ledger import Ledger, events
from gekko_agent.runtime.headless import effective_schedule, run_configured
from gekko_agent.runtime.scheduler import JobSchedule
from gekko_agent.testing.sim import RunningSimulator, running_simulator
from gekko_agent.testing.sim import binance as binance_sim

ROOT = Path(__file__).resolve().parents[2]
ENV = {"SIM_KEY": binance_sim.API_KEY, "SIM_SECRET": binance_sim.API_SECRET}
FAST = {"forecast_refresh": None, "daily_report": {"every_seconds": 0.4}}


def _alerts(ledger: Ledger, source: str) -> list[AlertRaised]:
    found = [s.event for s in events(ledger, kinds="alert_raised")]
    return [a for a in found if isinstance(a, AlertRaised) and a.source == source]


def test_agent_cycle_follows_the_schedule_else_brain_cycle_seconds() -> None:
    cfg = GekkoConfig.model_validate({"brain": {"cycle_seconds": 15}})
    assert effective_schedule(cfg).agent_cycle == JobSchedule(every_seconds=15)
    cron = {"agent_cycle": {"cron": "*/5 * * * *"}}
    cfg = GekkoConfig.model_validate({"brain": {"cycle_seconds": 15}, "schedule": cron})
    assert effective_schedule(cfg).agent_cycle == JobSchedule(cron="*/5 * * * *")


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator("binance") as running:
        yield running


async def test_venue_session_runs_cycles_reconciles_and_reports_on_schedule(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    cfg = GekkoConfig.model_validate(
        {
            "mode": "live",
            "venues": {
                "binanceus": {
                    "kind": "ccxt",
                    "exchange": "binanceus",
                    "api_key": {"env": "SIM_KEY"},
                    "secret": {"env": "SIM_SECRET"},
                    "api_url": sim.url,
                    "timeout_ms": 2000,
                }
            },
            "instruments": [{"symbol": "BTC/USD", "venue": "binanceus", "min_notional": "10"}],
            "ledger": {"path": str(tmp_path / "live.duckdb")},
            "schedule": {**FAST, "agent_cycle": {"every_seconds": 0.2}, "reconcile": {"every_seconds": 0.3}},
        }
    )
    lines: list[str] = []
    stop = asyncio.Event()

    def echo(line: str) -> None:
        lines.append(line)
        if sum("state=active" in ln for ln in lines) >= 8:  # the first step, then 7 agent cycles
            stop.set()

    run = run_configured(
        cfg, start=None, end=None, speed=None, stop=stop, install_signals=False, environ=ENV, echo=echo
    )
    await asyncio.wait_for(run, 120)
    with Ledger(tmp_path / "live.duckdb") as ledger:
        assert len(events(ledger, kinds="reconciliation_completed")) >= 3  # at start, then every 0.3 s
        assert len(_alerts(ledger, "report")) >= 2  # every 0.4 s
        (stopped,) = _alerts(ledger, "runtime")
        assert "live stopped" in stopped.message
    assert any(ln.startswith("daily report: state ACTIVE") for ln in lines)


async def test_replay_restarted_after_a_halt_stays_halted(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    start = datetime(2023, 3, 9, 6, tzinfo=UTC)
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    cfg = GekkoConfig.model_validate({**data, "schedule": FAST, "ledger": {"path": str(path)}})
    with Ledger(path) as ledger:  # what `halt` from chat-ops journaled in the last process
        ledger.append(
            TradingStateChanged(
                ts=start, old="active", new="halted", reason="kill switch", actor="alice@telegram"
            )
        )
    await run_configured(
        cfg,
        start=start,
        end=start + timedelta(hours=6),
        speed=None,
        install_signals=False,
        echo=lambda _: None,
    )
    with Ledger(path) as ledger:
        (restart,) = _alerts(ledger, "restart")
        assert "HALTED" in restart.message and "alice@telegram" in restart.message
        answers = [s.event for s in events(ledger, kinds="risk_evaluated")]
        assert answers, "the strategy should have proposed orders in six hours"
        assert all(isinstance(a, RiskEvaluated) and a.outcome == "denied" for a in answers)
        assert all("trading_halted" in a.reasons for a in answers if isinstance(a, RiskEvaluated))
        assert not events(ledger, kinds="order_submitted")
        (stopped,) = _alerts(ledger, "runtime")
        assert "reached the end of its data" in stopped.message


async def test_second_run_on_one_ledger_keeps_every_fill_of_both(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    start = datetime(2023, 3, 9, 6, tzinfo=UTC)
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    cfg = GekkoConfig.model_validate({**data, "schedule": FAST, "ledger": {"path": str(path)}})
    counts: list[tuple[int, int]] = []
    for _ in range(2):
        await run_configured(
            cfg, start=start, end=start + timedelta(hours=6), speed=None, install_signals=False, echo=print
        )
        with Ledger(path) as ledger:
            fills = [s.event for s in events(ledger, kinds="order_filled")]
            counts.append((len(events(ledger, kinds="order_submitted")), len(fills)))
    (orders1, fills1), (orders2, fills2) = counts
    assert orders1 > 0 and fills1 > 0, "the strategy should trade in six hours"
    assert orders2 == 2 * orders1  # the same replay again: the same orders again
    assert fills2 == 2 * fills1  # and none of its fills dropped as a duplicate of the first run's


class _Lines:
    """Collects a subprocess's stdout lines in a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def close(self, proc: subprocess.Popen[str]) -> None:
        self._thread.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()

    def wait_for(self, needle: str, proc: subprocess.Popen[str], within: float) -> None:
        deadline = time.monotonic() + within
        while not any(needle in ln for ln in self.lines):
            assert proc.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_stops_gekko_run_cleanly_with_the_ledger_intact(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "agent.yaml").read_text())
    data["ledger"] = {"path": str(tmp_path / "gekko.duckdb")}
    data["schedule"] = FAST
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(yaml.safe_dump(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gekko_agent", "run", "--config", str(cfg), "--speed", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    out = _Lines(proc)
    try:
        out.wait_for("daily report", proc, within=90)
        out.wait_for("daily report", proc, within=5)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close(proc)
    assert code == 0, "".join(out.lines)
    with Ledger(tmp_path / "gekko.duckdb") as ledger:  # opens: not corrupt, not locked
        assert _alerts(ledger, "report")
        (stopped,) = _alerts(ledger, "runtime")
        assert "paper stopped" in stopped.message
        assert events(ledger, kinds="equity_marked")
