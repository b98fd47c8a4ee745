"""Pilot tests: every dashboard action against a paper engine, checked in the journal and the engine."""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.widgets import Static

from gekko_agent.domain import (
    ApprovalDecided,
    CommandIssued,
    OrderIntent,
    OrderSide,
    OrderType,
    Price,
    Quantity,
    TradingStateChanged,
)
from gekko_agent.tui.app import SCREENS_BY_KEY, GekkoApp
from gekko_agent.tui.widgets import ConfirmScreen
from tests.tui.conftest import Engine, FixedSource

SIZE = (120, 40)


def _commands(engine: Engine) -> list[CommandIssued]:
    return [e for e in engine.journal.events if isinstance(e, CommandIssued)]


async def test_navigate_every_screen_renders_engine_state(engine: Engine) -> None:
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        for key, (mode, _label) in SCREENS_BY_KEY.items():
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            assert app.screen.query_one("#facts").render()  # the headline is filled
        assert app.latest is not None
        assert app.latest.status.intents == engine.system.trader.stats.intents
        assert app.latest.decisions  # the replay made decisions, and the Agent screen has them


async def test_halt_with_confirmation_halts_and_journals(engine: Engine) -> None:
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "h")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert engine.system.trader.state.value == "halted"
        change = [e for e in engine.journal.events if isinstance(e, TradingStateChanged)][-1]
        assert change.actor == "operator@tui"
        assert _commands(engine)[-1].command == "halt"
        assert str(app.screen.query_one("#state", Static).render()) == "HALTED"


async def test_halt_declined_changes_nothing(engine: Engine) -> None:
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h", "n")
        await pilot.pause()
        assert engine.system.trader.state.value == "active"
        assert not _commands(engine)


async def test_resume_after_halt_returns_to_active(engine: Engine) -> None:
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h", "y")
        await pilot.pause()
        await pilot.press("7", "u", "y")
        await pilot.pause()
        assert engine.system.trader.state.value == "active"
        assert [c.command for c in _commands(engine)] == ["halt", "resume"]
        assert any("resume" in line for line in app.local_log)


def _intent(n: int) -> OrderIntent:
    return OrderIntent(
        f"i-tui-{n}",
        "BTC/USD@paper",
        OrderSide.BUY,
        Quantity(Decimal("0.01")),
        strategy="manual",
        rationale="t",
    )


async def test_approve_selected_order_sends_it(engine: Engine) -> None:
    item = engine.view.approvals.request(_intent(1), Decimal(200), "rules", "test policy")
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        decided = [e for e in engine.journal.events if isinstance(e, ApprovalDecided)]
        assert decided[-1].approval_id == item.approval_id and decided[-1].decision == "approved"
        assert engine.view.pending_approvals() == []
        assert "sent as gk-" in _commands(engine)[-1].outcome


async def test_reject_selected_order_drops_it(engine: Engine) -> None:
    item = engine.view.approvals.request(_intent(2), Decimal(200), "rules", "test policy")
    orders_before = len(engine.system.trader.execution.orders)
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "x", "y")
        await pilot.pause()
        decided = [e for e in engine.journal.events if isinstance(e, ApprovalDecided)][-1]
        assert decided.approval_id == item.approval_id and decided.decision == "rejected"
        assert engine.view.pending_approvals() == []
        assert len(engine.system.trader.execution.orders) == orders_before


async def test_cancel_selected_order_cancels_it(engine: Engine) -> None:
    trader = engine.system.trader
    last = trader.book.market["BTC/USD@paper"].last
    assert last is not None
    resting = OrderIntent(
        "i-tui-rest",
        "BTC/USD@paper",
        OrderSide.BUY,
        Quantity(Decimal("0.01")),
        order_type=OrderType.LIMIT,
        limit_price=Price((last * Decimal("0.98")).quantize(Decimal("0.01"))),
        strategy="manual",
        rationale="far below the market",
    )
    outcome = await trader.propose(resting)
    open_ids = [o.client_order_id for o in trader.execution.open_orders()]
    assert open_ids, outcome.explanation
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        await pilot.click("#orders-table")
        target = app.screen.selected_id()  # type: ignore[attr-defined]
        assert target in open_ids
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert str(trader.execution.orders[target].status) == "canceled"
        assert _commands(engine)[-1].command == f"cancel {target}"


def _detail(app: GekkoApp) -> str:
    content = app.screen.query_one("#detail", Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def test_drill_into_decision_shows_its_journal_trail(engine: Engine) -> None:
    newest = engine.system.trader.recent[-1][0]
    decision = newest.decision_id
    assert decision is not None
    order = next(
        o for o in engine.system.trader.execution.orders.values() if o.intent.intent_id == newest.intent_id
    )
    app = GekkoApp(engine.source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert app.screen.selected_id() == decision  # type: ignore[attr-defined]
        before = _detail(app)
        await pilot.press("enter")
        await pilot.pause()
        text = _detail(app)
    trail_rows = [
        f"agent_decided: rules decided propose_orders: {newest.strategy}:",
        f"intent_proposed: {newest.strategy} proposed",
        f"risk_evaluated: risk approved intent {newest.intent_id}",
        f"order_submitted: submitted {order.client_order_id} to paper",
    ]
    for row in trail_rows:  # rows of the ledger's decision trail, shown only in the drill view
        assert row in text and row not in before
    assert text.index(trail_rows[0]) > text.index("journal trail:")
    assert newest.rationale in text


async def test_read_only_source_refuses_commands() -> None:
    source = FixedSource()
    app = GekkoApp(source)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h", "y")
        await pilot.pause()
        assert app.latest is not None and app.latest.status.state == "active"
        assert not app.local_log


async def test_palette_lists_every_action() -> None:
    app = GekkoApp(FixedSource())
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
    for needed in ("Halt trading", "Resume trading", "Approve selected order", "Reject selected order"):
        assert needed in titles
    assert {"Cancel selected order", "Explain selected decision", "Show Risk", "Show Logs"} <= titles
