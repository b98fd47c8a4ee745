from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gekko_agent.domain import (
    TERMINAL_STATES,
    Fill,
    Liquidity,
    Money,
    Order,
    OrderIntent,
    OrderSide,
    OrderStatus,
    OrderType,
    Price,
    Quantity,
)
from gekko_agent.errors import IllegalTransition, InvalidInput

T0 = datetime(2023, 3, 1, tzinfo=UTC)


def _intent(qty: str = "1", side: OrderSide = OrderSide.BUY) -> OrderIntent:
    return OrderIntent("i1", "BTC/USD@paper", side, Quantity(Decimal(qty)))


def _fill(fid: str, qty: str, price: str = "20000", side: OrderSide = OrderSide.BUY) -> Fill:
    return Fill(
        fid,
        "c1",
        "v1",
        "BTC/USD@paper",
        side,
        Quantity(Decimal(qty)),
        Price(Decimal(price)),
        Money.of("1", "USD"),
        Liquidity.TAKER,
        T0,
    )


def test_limit_intent_without_price_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="limit_price"):
        OrderIntent("i", "BTC/USD@paper", OrderSide.BUY, Quantity(Decimal(1)), OrderType.LIMIT)


def test_intent_with_float_quantity_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        OrderIntent("i", "BTC/USD@paper", OrderSide.BUY, 1.5)  # type: ignore[arg-type]


def test_fills_accumulate_to_filled_with_vwap() -> None:
    o = Order("c1", _intent("1")).transition(OrderStatus.SUBMITTED, T0).transition(OrderStatus.ACCEPTED, T0)
    o = o.apply_fill(_fill("f1", "0.25", "20000"))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    o = o.apply_fill(_fill("f2", "0.75", "20400"))
    assert o.status is OrderStatus.FILLED
    assert o.avg_fill_price == Decimal("20300")
    assert o.remaining == 0


def test_repeated_fill_id_changes_nothing() -> None:
    o = Order("c1", _intent("1")).transition(OrderStatus.SUBMITTED, T0)
    o1 = o.apply_fill(_fill("f1", "0.5"))
    assert o1.apply_fill(_fill("f1", "0.5")) is o1


def test_overfill_raises() -> None:
    o = Order("c1", _intent("1")).transition(OrderStatus.SUBMITTED, T0)
    with pytest.raises(IllegalTransition):
        o.apply_fill(_fill("f1", "1.5"))


def test_fill_after_cancel_raises() -> None:
    o = Order("c1", _intent("1")).transition(OrderStatus.SUBMITTED, T0).transition(OrderStatus.CANCELED, T0)
    with pytest.raises(IllegalTransition):
        o.apply_fill(_fill("f1", "0.5"))


def test_filled_without_quantity_raises() -> None:
    o = Order("c1", _intent("1")).transition(OrderStatus.SUBMITTED, T0)
    with pytest.raises(IllegalTransition):
        o.transition(OrderStatus.FILLED, T0)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(list(OrderStatus)), max_size=8))
def test_random_transitions_never_leave_a_terminal_state(path: list[OrderStatus]) -> None:
    order = Order("c1", _intent("1"))
    for to in path:
        before = order
        try:
            order = order.transition(to, T0)
        except IllegalTransition:
            assert order is before
            continue
        assert before.status not in TERMINAL_STATES


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=10))
def test_fill_sequences_never_exceed_quantity(chunks: list[int]) -> None:
    order = Order("c1", _intent("10")).transition(OrderStatus.SUBMITTED, T0)
    for n, c in enumerate(chunks):
        try:
            order = order.apply_fill(_fill(f"f{n}", str(Decimal(c) / 100)))
        except IllegalTransition:
            break
        assert order.filled_quantity <= order.quantity
    assert (order.status is OrderStatus.FILLED) == (order.filled_quantity == order.quantity)
