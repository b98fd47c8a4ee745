"""The alert router: which events become messages, deduplication, rate limits, real Slack delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from slack_sdk.web.async_client import AsyncWebClient

from gekko_agent.domain import (
    AlertRaised,
    Fill,
    Liquidity,
    Money,
    OrderFilled,
    OrderSide,
    Price,
    Quantity,
    RiskEvaluated,
    TradingStateChanged,
)
from gekko_agent.ops.alerts import AlertingJournal, AlertRouter
from gekko_agent.ops.chat_config import AlertsConfig
from gekko_agent.ops.render import slack_blocks, slack_text
from gekko_agent.ops.replies import Reply
from gekko_agent.runtime.wiring import MemoryJournal
from gekko_agent.testing.slack_server import FakeSlack

T0 = datetime(2023, 3, 9, 12, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fill(order: str, n: int, ts: datetime = T0) -> OrderFilled:
    f = Fill(
        f"t-{order}-{n}",
        order,
        None,
        "BTC/USD@paper",
        OrderSide.BUY,
        Quantity(Decimal("0.01")),
        Price(Decimal(20000)),
        Money(Decimal("0.2"), "USD"),
        Liquidity.TAKER,
        ts,
    )
    return OrderFilled(ts=ts, fill=f)


def denial(reason: str) -> RiskEvaluated:
    return RiskEvaluated(ts=T0, intent_id="i-1", outcome="denied", reasons=(reason,), explanation="too big")


class Recorder:
    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def __call__(self, reply: Reply) -> None:
        self.replies.append(reply)


async def test_alerts_are_posted_to_slack_deduplicated_and_rate_limited() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

        async def to_slack(reply: Reply) -> None:
            await client.chat_postMessage(
                channel="C-ALERTS", text=slack_text(reply), blocks=slack_blocks(reply)
            )

        clock = Clock()
        router = AlertRouter([to_slack], AlertsConfig(per_minute=2, dedupe_seconds=60), monotonic=clock)
        journal = AlertingJournal(MemoryJournal(), router)
        journal.append(fill("gk-1", 1))
        assert await router.flush() == 1
        for n in (2, 3, 4):  # more partial fills of the same order inside the window
            journal.append(fill("gk-1", n))
        for reason in ("max_notional", "max_position", "max_var"):
            journal.append(denial(reason))
        assert await router.flush() == 1  # one token left this minute
        clock.now += 61
        assert await router.flush() == 2  # a minute later: two more, including the merged fills
        clock.now += 30
        assert await router.flush() == 1
        texts = [p["text"] for p in fake.sent()]
        assert texts[0] == "Filled buy 0.01 BTC/USD @ 20000"
        assert texts[1:3] == ["Risk denied: max_notional", "Risk denied: max_position"]
        assert "Filled buy 0.01 BTC/USD @ 20000 (×3)" in texts
        assert len(texts) == 5 and all(p["channel"] == "C-ALERTS" for p in fake.sent())


async def test_state_changes_and_venue_errors_are_alerts_with_buttons() -> None:
    sink = Recorder()
    router = AlertRouter([sink], AlertsConfig(), monotonic=Clock())
    router.on_event(
        TradingStateChanged(ts=T0, old="active", new="halted", reason="drawdown 5%", actor="risk")
    )
    router.on_event(AlertRaised(ts=T0, level="error", source="execution", message="binance: 502"))
    router.on_event(AlertRaised(ts=T0, level="warning", source="budget", message="daily token budget spent"))
    await router.flush()
    halted, venue, budget = sink.replies
    assert halted.title == "Trading ACTIVE → HALTED" and halted.buttons[0].command == "resume"
    assert venue.title == "execution error: binance: 502" and not venue.ok
    assert budget.title == "Agent budget exhausted"


async def test_alert_titles_come_from_the_alert_itself() -> None:
    sink = Recorder()
    router = AlertRouter([sink], AlertsConfig(), monotonic=Clock())
    long = "x" * 200
    for event in (
        AlertRaised(ts=T0, level="warning", source="agent", message="MCP server news timed out 3 times"),
        AlertRaised(
            ts=T0, level="critical", source="agent", message="LLM agent stopped: daily token budget spent"
        ),
        AlertRaised(ts=T0, level="error", source="reconcile:binance", message="not reconciled: 502\ndetail"),
        AlertRaised(ts=T0, level="error", source="execution", message=long),
        AlertRaised(ts=T0, level="info", source="venue", message=""),
    ):
        router.on_event(event)
    await router.flush()
    titles = [r.title for r in sink.replies]
    assert titles[:3] == [
        "agent warning: MCP server news timed out 3 times",
        "Agent budget exhausted",
        "reconcile:binance error: not reconciled: 502",
    ]
    assert titles[3].startswith("execution error: xxx") and len(titles[3]) == 90 and titles[3].endswith("…")
    assert titles[4] == "venue info"
    assert sink.replies[2].lines == ("not reconciled: 502\ndetail",)


async def test_a_breaker_trip_is_one_alert() -> None:
    sink = Recorder()
    router = AlertRouter([sink], AlertsConfig(dedupe_seconds=0), monotonic=Clock())
    trip = TradingStateChanged(
        ts=T0, old="active", new="halted", reason="daily loss 5.2% >= 5%", actor="risk"
    )
    journal = AlertingJournal(MemoryJournal(), router)
    journal.append(trip)  # what Trader._apply_breakers journals: the change, then an AlertRaised
    journal.append(AlertRaised(ts=T0, level="warning", source="risk", message=trip.reason))
    assert await router.flush() == 1
    [alert] = sink.replies
    assert alert.title == "Trading ACTIVE → HALTED" and alert.lines == ("daily loss 5.2% >= 5% (by risk)",)
    journal.append(AlertRaised(ts=T0, level="warning", source="risk", message="VaR model stale"))
    later = T0 + timedelta(minutes=5)  # a risk alert of its own, or a later one, still goes out
    journal.append(AlertRaised(ts=later, level="warning", source="risk", message=trip.reason))
    assert await router.flush() == 2
    assert [r.title for r in sink.replies[1:]] == [
        "risk warning: VaR model stale",
        "risk warning: daily loss 5.2% >= 5%",
    ]


async def test_daily_report_when_the_day_rolls_over() -> None:
    sink = Recorder()
    router = AlertRouter([sink], AlertsConfig(fills=False), summary=lambda: ["equity 100,000.00"])
    router.on_event(fill("gk-1", 1))
    router.on_event(denial("max_var"))
    router.on_event(fill("gk-2", 1, T0 + timedelta(days=1)))
    await router.flush()
    report = next(r for r in sink.replies if r.title.startswith("Daily report"))
    assert report.title == "Daily report 2023-03-09"
    assert report.lines[0].startswith("fills 1 · denials 1") and report.lines[-1] == "equity 100,000.00"


async def test_a_failing_sink_does_not_stop_the_others() -> None:
    sink = Recorder()

    async def broken(reply: Reply) -> None:
        raise ConnectionError("slack is down")

    router = AlertRouter([broken, sink], AlertsConfig())
    router.on_event(denial("max_var"))
    assert await router.flush() == 1 and len(sink.replies) == 1
