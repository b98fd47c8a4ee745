"""The pieces under the screens: the decision fold, the log window and the table's redraw pacing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from textual.app import App, ComposeResult
from textual.widgets import RichLog

from gekko_agent.domain import AgentDecided, IntentProposed, OrderIntent, OrderSide, Quantity, RiskEvaluated
from gekko_agent.tui.app import GekkoApp
from gekko_agent.tui.decisions import DecisionFeed, observation_summary
from gekko_agent.tui.logs import LogsScreen, appended
from gekko_agent.tui.tables import MIN_INTERVAL_S, Row, SortableTable
from tests.tui.conftest import FixedSource, fixed_snapshot

T0 = datetime(2023, 3, 9, tzinfo=UTC)


def _intent(n: int, decision: str | None) -> OrderIntent:
    return OrderIntent(
        f"i-{n}", "BTC/USD@paper", OrderSide.BUY, Quantity(Decimal("0.1")), strategy="s", decision_id=decision
    )


def test_decision_feed_keeps_the_newest_and_links_late_risk_answers() -> None:
    feed = DecisionFeed(keep=3)
    for n in range(5):
        feed.add(AgentDecided(ts=T0 + timedelta(minutes=n), decision_id=f"d-{n}", brain="llm", action="hold"))
    feed.add(IntentProposed(ts=T0, intent=_intent(9, None)))  # a lone intent is a decision of its own
    feed.add(RiskEvaluated(ts=T0, intent_id="i-9", outcome="denied", reasons=("max_notional",)))
    rows = feed.rows()
    assert [r.key for r in rows] == ["d-3", "d-4", "i-9"]
    assert rows[-1].intents[0].verdict == "denied" and rows[-1].outcome == "1 denied"
    assert rows[0].outcome == "hold" and feed.find("i-9") == rows[-1]


def test_observation_summary_reads_the_observation_json() -> None:
    content = (
        'Decision cycle.\n```json\n{"portfolio": {"equity": "100.5", "account_currency": "USD", '
        '"positions": [{}]}, "risk": {"state": "active"}, '
        '"markets": {"BTC/USD@paper": {"last": "22000"}}}\n```'
    )
    detail = {
        "trigger": "cycle",
        "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": content}],
    }
    assert (
        observation_summary(detail) == "cycle · equity 100.5 USD · state active · 1 position · BTC/USD 22000"
    )
    assert (
        observation_summary({"trigger": "bar", "messages": [{"role": "user", "content": "no json"}]}) == "bar"
    )


def test_appended_returns_only_the_lines_after_a_moved_window() -> None:
    shown = [f"l{i}" for i in range(10)]
    assert appended(shown, [*shown[3:], "l10", "l11"]) == ["l10", "l11"]
    assert appended([], ["a"]) == ["a"]
    assert appended(shown, shown) == []
    assert appended(shown, ["l0", "inserted", *shown[1:]]) is None  # not a moved window: rewrite


class _Table(App[None]):
    def compose(self) -> ComposeResult:
        yield SortableTable(("name", "value"), id="t")


def _rows(*names: str) -> list[Row]:
    return [Row(n, (n, str(i)), (n, float(i))) for i, n in enumerate(names)]


async def test_table_takes_new_rows_at_most_every_interval_keeping_the_latest() -> None:
    app = _Table()
    async with app.run_test() as pilot:
        table = app.query_one(SortableTable)
        table.set_rows(_rows("a"))
        assert [r.key for r in table.rows_shown] == ["a"]  # the first rows apply at once
        table.set_rows(_rows("a", "b"))
        table.set_rows(_rows("a", "b", "c"))
        assert [r.key for r in table.rows_shown] == ["a"] and table.row_count == 1
        await pilot.pause(MIN_INTERVAL_S + 0.2)
        assert [r.key for r in table.rows_shown] == ["a", "b", "c"] and table.row_count == 3
        table.action_sort_reverse()  # a person's sort applies at once
        assert [r.key for r in table.rows_shown] == ["c", "b", "a"]


async def test_logs_screen_appends_new_lines_without_rewriting() -> None:
    lines = [f"03-10 14:{i:02d} line {i}" for i in range(50)]
    snap = replace(fixed_snapshot(), log=lines)
    app = GekkoApp(FixedSource(snap))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        log = screen.query_one("#log", RichLog)
        assert len(log.lines) == 50
        screen.render_snapshot(replace(snap, log=[*lines[5:], "03-10 15:00 new one"]))  # the window moved
        await pilot.pause()
        assert len(log.lines) == 51  # one line written; a rewrite would leave 46
        assert "new one" in log.lines[-1].text
