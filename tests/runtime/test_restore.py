"""A restart resumes the trading state and the breakers' references from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import (
    AlertRaised,
    EquityMarked,
    OrderIntent,
    OrderSide,
    Quantity,
    TradingStateChanged,
)
from gekko_agent.ledger import Ledger, events
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.risk.outcomes import Denied, ReasonCode
from gekko_agent.risk.snapshot import TradingState
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.restore import restore_trader
from gekko_agent.runtime.trader import MARK_STEP
from gekko_agent.runtime.wiring import MemoryJournal, System, build_replay

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 22, tzinfo=UTC)
END = datetime(2023, 3, 10, 2, tzinfo=UTC)  # crosses midnight: a new day start is journaled
IID = "BTC/USD@paper"


def _cfg() -> GekkoConfig:
    return load_config(ROOT / "agent.yaml")


def _buy(qty: str = "0.01") -> OrderIntent:
    return OrderIntent("i-restart", IID, OrderSide.BUY, Quantity(Decimal(qty)), strategy="manual")


async def _run(ledger: Ledger, start: datetime = START, end: datetime = END) -> System:
    system = build_replay(_cfg(), ledger, start=start, end=end)
    await run_replay(system, start=start)
    return system


async def test_restart_from_the_same_ledger_stays_halted_and_denies_orders(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    with Ledger(path) as ledger:
        first = await _run(ledger)
        actor = ActorAuthority().human("alice", "telegram")
        first.trader.command_state("halt", actor, "kill switch")
        assert first.trader.state is TradingState.HALTED
    with Ledger(path) as ledger:  # a new process: a fresh Trader over the same ledger
        second = build_replay(_cfg(), ledger, start=END, end=END + timedelta(hours=1))
        assert second.trader.state is TradingState.ACTIVE  # what it was before the fix
        restored = restore_trader(second.trader, ledger, marks=False)
        assert restored.state is TradingState.HALTED and second.trader.state is TradingState.HALTED
        assert restored.state_change is not None and restored.state_change.actor == "alice@telegram"
        await run_replay(second, start=END)
        outcome = await second.trader.propose(_buy())
        assert isinstance(outcome, Denied) and ReasonCode.TRADING_HALTED in outcome.reasons
        assert second.trader.stats.orders == 0
        (alert,) = [s.event for s in events(ledger, kinds="alert_raised") if s.event.source == "restart"]
        assert isinstance(alert, AlertRaised) and "HALTED" in alert.message and alert.level == "warning"


async def test_equity_marks_are_journaled_and_restored_exactly_after_a_clean_stop(tmp_path: Path) -> None:
    with Ledger(tmp_path / "gekko.duckdb") as ledger:
        system = await _run(ledger)
        eq = system.trader.equity
        marks = [s.event for s in events(ledger, kinds="equity_marked")]
        days = {m.ts.date() for m in marks if isinstance(m, EquityMarked)}
        assert {START.date(), END.date()} <= days  # each UTC day's start is journaled when it begins
        assert eq.peak is not None and eq.day_start is not None
        last = marks[-1]
        assert isinstance(last, EquityMarked)
        assert last.peak * (1 + MARK_STEP) >= eq.peak  # a crash loses at most one step of the peak
        assert last.day_start == eq.day_start
        system.trader.mark_equity()  # what a clean stop does
        fresh = build_replay(_cfg(), ledger, start=END, end=END)
        restored = restore_trader(fresh.trader, ledger)
        assert restored.marks is not None
        assert (fresh.trader.equity.peak, fresh.trader.equity.day_start) == (eq.peak, eq.day_start)


async def test_breakers_measure_from_the_restored_references(tmp_path: Path) -> None:
    """A drawdown that began before the restart still trips the breaker after it."""
    with Ledger(tmp_path / "gekko.duckdb") as ledger:
        probe = await _run(ledger, START, START + timedelta(minutes=30))
        equity = probe.trader.equity.now
        assert equity is not None
        # the last process saw equity 20 % higher today: the drawdown halt level (12 %) is passed
        ledger.append(
            EquityMarked(
                ts=START + timedelta(minutes=30),
                currency="USD",
                equity=equity,
                day_start=equity * Decimal("1.2"),
                peak=equity * Decimal("1.2"),
            )
        )
        window = (START + timedelta(minutes=30), START + timedelta(minutes=40))
        fresh = build_replay(_cfg(), MemoryJournal(), start=window[0], end=window[1])
        await run_replay(fresh, start=window[0])
        assert fresh.trader.state is TradingState.ACTIVE  # a start without the references forgets it
        resumed = build_replay(_cfg(), ledger, start=window[0], end=window[1])
        restore_trader(resumed.trader, ledger)
        await run_replay(resumed, start=window[0])
        assert resumed.trader.state is TradingState.HALTED
        trips = [
            s.event
            for s in events(ledger, kinds="trading_state_changed")
            if isinstance(s.event, TradingStateChanged) and s.event.actor.startswith("breaker:")
        ]
        assert trips and trips[-1].new == "halted"


async def test_restart_keeps_limits_people_changed_unless_agent_yaml_changed_them_since(
    tmp_path: Path,
) -> None:
    path = tmp_path / "gekko.duckdb"
    alice = ActorAuthority().human("alice", "slack")
    with Ledger(path) as ledger:
        first = build_replay(_cfg(), ledger, start=START, end=START)
        trader = first.trader
        _, done = trader.governor.change("order.max_notional", "900", alice, "tighten", START)
        trader.record_limits(done)
        _, done = trader.governor.change("position.max_notional", "30000", alice, "tighten", START)
        trader.record_limits(done)
    data = _cfg().model_dump(mode="python")
    data["risk"]["position"]["max_notional"] = Decimal(20000)  # someone edited agent.yaml since
    edited = GekkoConfig.model_validate(data)
    with Ledger(path) as ledger:
        second = build_replay(edited, ledger, start=END, end=END)
        assert second.trader.risk.limits.config.order.max_notional == Decimal(15000)  # before restore
        restored = restore_trader(second.trader, ledger, marks=False)
        assert restored.limits == ("order.max_notional=900",)
        assert len(restored.limits_skipped) == 1 and "agent.yaml has 20000" in restored.limits_skipped[0]
        config = second.trader.risk.limits.config
        assert config.order.max_notional == Decimal(900)  # the person's tightening survived
        assert config.position.max_notional == Decimal(20000)  # the file's later edit wins
        (alert,) = [s.event for s in events(ledger, kinds="alert_raised") if "limits changed" in str(s.event)]
        assert isinstance(alert, AlertRaised) and "order.max_notional=900" in alert.message


async def test_restart_keeps_limit_changes_waiting_for_a_second_approver(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    ops = ActorAuthority(["alice", "bob"])
    with Ledger(path) as ledger:
        trader = build_replay(_cfg(), ledger, start=START, end=START).trader
        waiting, done = trader.governor.change(
            "order.max_notional", "20000", ops.human("alice", "slack"), "", START
        )
        trader.record_limits(done)
    with Ledger(path) as ledger:
        second = build_replay(_cfg(), ledger, start=END, end=END).trader
        assert second.governor.pending() == []  # before restore
        restored = restore_trader(second, ledger, marks=False)
        assert restored.pending == (waiting.proposal_id,) and restored.pending_dropped == ()
        (alert,) = [
            s.event for s in events(ledger, kinds="alert_raised") if "waiting for approval" in str(s.event)
        ]
        assert isinstance(alert, AlertRaised)
        assert f"{waiting.proposal_id} order.max_notional 15000 -> 20000 (1/2)" in alert.message
        _, done = second.governor.approve(waiting.proposal_id, ops.human("bob", "telegram"), END)
        second.record_limits(done)
        assert second.risk.limits.config.order.max_notional == Decimal(20000)
