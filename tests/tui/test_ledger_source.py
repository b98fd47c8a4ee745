"""``gekko tui`` beside a headless run: every screen rebuilt from the ledger a real paper run wrote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from gekko_agent.cli.tui import ledger_source
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import EquityMarked, LimitChanged, OrderIntent, OrderSide, Quantity
from gekko_agent.ledger import Ledger, events
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.tui.app import GekkoApp
from gekko_agent.tui.ledger_book import LedgerBook
from gekko_agent.tui.ledger_source import LedgerSource
from tests.tui.conftest import END, ROOT, START

CFG = load_config(ROOT / "agent.yaml")


def _with_approvals(cfg: GekkoConfig, above: str) -> GekkoConfig:
    data = cfg.model_dump(mode="python")
    data["approvals"] = {"above_notional": above, "expire_seconds": 900}
    return GekkoConfig.model_validate(data)


async def test_ledger_source_rebuilds_equity_positions_and_risk_as_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    with Ledger(path) as ledger:
        system = build_replay(CFG, ledger, start=START, end=END)
        await run_replay(system, start=START)
    trader = system.trader
    source = ledger_source(CFG, path)
    snap = source.snapshot()
    book = source.book
    assert book is not None
    # the curve is the engine's, sample for sample, up to the last journaled event
    engine_curve = dict(trader.equity.curve)
    assert len(book.equity.curve) > 300
    assert all(engine_curve[ts] == value for ts, value in book.equity.curve)
    assert book.portfolio.cash == trader.execution.portfolio.cash
    held = {p.instrument_id: p.quantity for p in snap.positions}
    engine_held = {i: p.quantity for i, p in trader.execution.portfolio.positions.items() if p.quantity}
    assert held == engine_held and all(p.last is not None for p in snap.positions)
    s = snap.status
    assert s.mode == "paper" and s.brain == "rules" and s.account_currency == "USD"
    assert s.equity == book.equity.now and s.equity is not None
    assert s.pnl_total == s.equity - trader.equity.curve[0][1]
    assert s.pnl_today is not None and s.gross_exposure is not None
    assert (s.fills, s.intents) == (trader.execution.fill_count, trader.stats.intents)
    assert s.venues == (("paper", "ok"),)
    assert len(snap.curve) == len(book.equity.curve)
    limits = {row.name: row for row in snap.limits}
    assert limits["gross exposure (account)"].used == s.gross_exposure
    assert limits["drawdown"].used is not None and limits["VaR"].used is not None
    assert snap.risk is not None and snap.risk.var > 0 and snap.risk.max_var == Decimal("20000")
    daily = next(b for b in snap.breakers if b.name == "daily loss")
    day_start = book.equity.day_start
    assert day_start is not None and daily.value == (day_start - s.equity) / day_start
    assert [b.name for b in snap.breakers] == ["daily loss", "drawdown", "venue paper"]


async def test_ledger_source_rebuilds_approvals_state_limits_and_denials(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    cfg = _with_approvals(CFG, "5000")  # every 0.5 BTC order (about 11,000 USD) waits for a person
    with Ledger(path) as ledger:
        system = build_replay(cfg, ledger, start=START, end=END)
        await run_replay(system, start=START)
        trader = system.trader
        queue = trader.approvals
        assert queue is not None
        queue.pending()  # expires (and journals) what waited too long, as a running process would
        iid = "BTC/USD@paper"
        notional = Decimal("0.2") * trader.book.value_in_account(iid)
        intents = [
            OrderIntent(f"i-wait-{n}", iid, OrderSide.BUY, Quantity(Decimal("0.2")), strategy="manual")
            for n in range(2)
        ]
        waiting = queue.request(intents[0], notional, "rules", "test policy")
        dropped = queue.request(intents[1], notional, "rules", "test policy")
        queue.decide(dropped.approval_id, False, "ops@cli", "no")
        big = OrderIntent("i-big", iid, OrderSide.BUY, Quantity(Decimal("50")), strategy="manual")
        outcome = await trader.propose(big)
        source = ledger_source(cfg, path)
        first = source.snapshot()
        pending = {p.approval_id: p for p in queue.pending()}  # the resized big order waits too
        shown = {a.approval_id: a for a in first.approvals}
        assert shown.keys() == pending.keys() and waiting.approval_id in shown
        assert dropped.approval_id not in shown and first.status.pending_approvals == len(pending)
        assert all(
            shown[k].notional == p.notional and shown[k].intent == p.intent for k, p in pending.items()
        )
        assert first.status.state == "active"
        denial = first.denials[-1]
        assert denial.intent == "buy 50 BTC/USD@paper"
        assert denial.reasons == tuple(str(r) for r in outcome.reasons) and denial.reasons
        big_row = next(d for d in first.decisions if d.key == "i-big")
        assert big_row.intents[0].verdict == denial.verdict and big_row.brain == "manual"
        # the process goes on writing: a limit change and a halt; the next refresh folds in just those
        seq = source.seq
        ledger.append(LimitChanged(ts=END, key="var.max_var", old="20000", new="15000", actor="ops"))
        trader.command_state("halt", ActorAuthority().human("ops", "cli"), "test")
        second = source.snapshot()
    assert source.seq == seq + 2
    assert second.status.state == "halted"
    assert second.risk is not None and second.risk.max_var == Decimal("15000")
    assert next(r for r in second.limits if r.name == "VaR").limit == Decimal("15000")
    assert any("trading_state_changed" in line and "halted" in line for line in second.log)
    assert second.read_only and second.source.startswith("ledger")


async def test_ledger_source_starts_over_when_the_ledger_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    with Ledger(path) as ledger:
        short = build_replay(CFG, ledger, start=START, end=START + timedelta(hours=1))
        await run_replay(short, start=START)
    source = LedgerSource(path, LedgerBook.from_config(CFG))
    before = source.snapshot()
    assert before.decisions and before.status.intents == short.trader.stats.intents
    path.unlink()
    with Ledger(path) as ledger:  # a new run in a new file, longer than the first
        ledger.append(LimitChanged(ts=START, key="var.max_var", old="20000", new="15000", actor="ops"))
        longer = build_replay(CFG, ledger, start=START, end=END)
        await run_replay(longer, start=START)
    after = source.snapshot()
    assert after.status.intents == longer.trader.stats.intents
    assert {d.key for d in after.decisions}.isdisjoint(d.key for d in before.decisions)
    assert source.book is not None and source.book.limits.max_var == Decimal("15000")
    assert source.book.portfolio.cash == longer.trader.execution.portfolio.cash


async def test_ledger_dashboard_is_read_only_and_drills_into_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    with Ledger(path) as ledger:
        system = build_replay(CFG, ledger, start=START, end=END)
        await run_replay(system, start=START)
        system.trader.command_state("halt", ActorAuthority().human("ops", "cli"), "test")
    app = GekkoApp(ledger_source(CFG, path), poll=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4", "enter")  # newest decision first
        await pilot.pause()
        content = app.screen.query_one("#detail", Static).content
        text = content.plain if isinstance(content, Text) else str(content)
        assert "journal trail:" in text and "risk_evaluated: risk approved" in text
        assert "order_submitted: submitted gk-" in text
        await pilot.press("u", "y")
        await pilot.pause()
        assert app.latest is not None and app.latest.status.state == "halted"
        assert app.latest.status.equity is not None and app.latest.curve


async def test_ledger_source_without_prices_takes_the_journaled_equity_marks(tmp_path: Path) -> None:
    path = tmp_path / "run.duckdb"
    with Ledger(path) as ledger:
        system = build_replay(CFG, ledger, start=START, end=END)
        await run_replay(system, start=START)
        marked = [s.event for s in events(ledger, kinds="equity_marked")]
    assert marked
    source = LedgerSource(path, LedgerBook.from_config(CFG, prices=None))
    snap = source.snapshot()
    book = source.book
    assert book is not None and book.portfolio.cash == system.trader.execution.portfolio.cash
    last = marked[-1]
    assert isinstance(last, EquityMarked)
    # fills alone cannot value USDC and USDT: equity and the breaker references are the engine's own
    assert (book.equity.day_start, book.equity.peak) == (last.day_start, last.peak)
    assert snap.status.equity == last.equity
    journaled = {(e.ts, e.equity) for e in marked if isinstance(e, EquityMarked)}
    assert snap.curve and set(snap.curve) <= journaled  # the curve is the engine's own marks
