from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gekko_agent.domain import (
    AlertRaised,
    AssetClass,
    Money,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderUpdated,
)
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.ledger import (
    MEMORY,
    Ledger,
    decision_trail,
    equity,
    events,
    fills,
    order_trail,
    orders,
    portfolio,
    positions,
)

if TYPE_CHECKING:
    from conftest import Samples

D = Decimal


@pytest.fixture
def book(samples: Samples) -> Iterator[Ledger]:
    """dec-1 buys 0.5 BTC in two fills; dec-2 sells 0.1 BTC; a canceled and a partial order."""
    with Ledger(MEMORY) as ledger:
        ledger.append_many(samples.order_story())
        ledger.append_many(samples.order_story("dec-2", "gk-2", "int-2"))
        sell = samples.intent("int-3", "dec-3", side=OrderSide.SELL, qty="0.1")
        ledger.append_many(
            [
                OrderSubmitted(ts=samples.at(10), client_order_id="gk-3", venue="paper", intent=sell),
                OrderFilled(
                    ts=samples.at(11),
                    fill=samples.fill("gk-3-f1", "0.1", "21000", "gk-3", side=OrderSide.SELL, fee="1"),
                ),
                OrderSubmitted(
                    ts=samples.at(12),
                    client_order_id="gk-4",
                    venue="paper",
                    intent=samples.intent("i4", None),
                ),
                OrderUpdated(
                    ts=samples.at(13), client_order_id="gk-4", status=OrderStatus.CANCELED, reason="user"
                ),
                OrderSubmitted(
                    ts=samples.at(14),
                    client_order_id="gk-5",
                    venue="paper",
                    intent=samples.intent("i5", None),
                ),
                OrderFilled(ts=samples.at(15), fill=samples.fill("gk-5-f1", "0.1", "20000", "gk-5", fee="0")),
                AlertRaised(ts=samples.at(16), level="info", source="test", message="done"),
            ]
        )
        yield ledger


def test_events_filters_by_kind_decision_and_time(book: Ledger, samples: Samples) -> None:
    assert [s.seq for s in events(book, kinds="order_filled")] == [6, 7, 13, 14, 16, 20]
    assert {s.kind for s in events(book, kinds=["alert_raised", "order_updated"])} == {
        "alert_raised",
        "order_updated",
    }
    assert all(s.event.decision_id in (None, "dec-2") for s in events(book, decision_id="dec-2"))
    assert [s.seq for s in events(book, decision_id="dec-2")] == [8, 9, 11]
    assert [s.seq for s in events(book, since=samples.at(15))] == [20, 21]
    assert [s.seq for s in events(book, client_order_id="gk-4")] == [17, 18]


def test_events_limit_newest_returns_latest_oldest_first(book: Ledger) -> None:
    assert [s.seq for s in events(book, limit=3, newest=True)] == [19, 20, 21]
    assert [s.seq for s in events(book, limit=2)] == [1, 2]
    assert [s.seq for s in events(book, after_seq=19)] == [20, 21]


def test_events_unknown_kind_or_bad_limit_raises_invalid_input(book: Ledger) -> None:
    with pytest.raises(InvalidInput, match="unknown event kind"):
        events(book, kinds="order_exploded")
    with pytest.raises(InvalidInput, match="limit"):
        events(book, limit=0)


def test_orders_fold_current_state(book: Ledger) -> None:
    state = orders(book)
    assert list(state) == ["gk-1", "gk-2", "gk-3", "gk-4", "gk-5"]
    first = state["gk-1"]
    assert first.status is OrderStatus.FILLED
    assert first.filled_quantity == D("0.5")
    assert first.avg_fill_price == D("20006")
    assert first.venue_order_id == "v-1"
    assert first.fill_ids == {"gk-1-f1", "gk-1-f2"}
    assert first.fees == (Money.of("1.25", "USD"), Money.of("1.25", "USD"))
    assert state["gk-3"].status is OrderStatus.FILLED
    assert state["gk-4"].status is OrderStatus.CANCELED
    assert state["gk-4"].reason == "user"
    assert state["gk-5"].status is OrderStatus.PARTIALLY_FILLED
    assert list(orders(book, open_only=True)) == ["gk-5"]


def test_positions_and_equity_replay_fills_in_decimal(book: Ledger) -> None:
    held = positions(book)
    btc = held["BTC/USD@paper"]
    # bought 0.5 + 0.5 at avg 20006, sold 0.1 at 21000 (realizes 99.4), bought 0.1 at 20000
    assert btc.quantity == D("1.0")
    assert btc.avg_price == D("20005.4")
    assert btc.realized_pnl == D("99.4")
    assert btc.fees == D("6")
    book_value = equity(book, {"BTC/USD@paper": D("21000")}, starting_cash=[Money.of("30000", "USD")])
    cash = D("30000") - D("10003") * 2 - D("2000") + D("2100") - D("6")
    assert book_value == cash + D("1.0") * D("21000")
    assert isinstance(book_value, Decimal)


def test_portfolio_uses_instrument_terms_for_fx(samples: Samples) -> None:
    with Ledger(MEMORY) as ledger:
        ledger.append(
            OrderFilled(
                ts=samples.t0, fill=samples.fill("fx-1", "1000", "1.1000", "o", "EUR/USD@oanda", fee="0")
            )
        )
        terms = {"EUR/USD@oanda": ("USD", AssetClass.FX)}
        pf = portfolio(ledger, instruments=terms, starting_cash=[Money.of("500", "USD")])
        assert pf.cash == {"USD": D("500")}  # FX moves no cash on entry
        assert equity(
            ledger, {"EUR/USD@oanda": D("1.1010")}, instruments=terms, starting_cash=[Money.of("500", "USD")]
        ) == D("501.0000")
        spot = portfolio(ledger)  # without terms the id's quote is used and it counts as spot
        assert spot.cash == {"USD": D("-1100.0000")}


def test_equity_without_mark_raises_data_not_found(book: Ledger) -> None:
    with pytest.raises(DataNotFound, match="mark"):
        equity(book, {})


def test_fills_are_journal_ordered_fill_objects(book: Ledger) -> None:
    got = fills(book, instrument_id="BTC/USD@paper")
    assert [f.fill_id for f in got] == ["gk-1-f1", "gk-1-f2", "gk-2-f1", "gk-2-f2", "gk-3-f1", "gk-5-f1"]


def test_decision_trail_links_risk_orders_and_fills(book: Ledger) -> None:
    trail = decision_trail(book, "dec-1")
    assert [s.kind for s in trail] == [
        "agent_decided",
        "intent_proposed",
        "risk_evaluated",
        "order_submitted",
        "order_updated",
        "order_filled",
        "order_filled",
    ]
    assert [s.seq for s in trail] == list(range(1, 8))
    assert [s.kind for s in decision_trail(book, "dec-1", kinds="order_filled")] == ["order_filled"] * 2


def test_decision_trail_unknown_raises_data_not_found(book: Ledger) -> None:
    with pytest.raises(DataNotFound, match="dec-404"):
        decision_trail(book, "dec-404")


def test_order_trail_includes_its_decision_intent_and_risk(book: Ledger) -> None:
    trail = order_trail(book, "gk-2")
    assert [s.seq for s in trail] == list(range(8, 15))
    assert trail[0].kind == "agent_decided"
    with pytest.raises(DataNotFound):
        order_trail(book, "gk-404")
