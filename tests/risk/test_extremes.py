"""Extreme magnitudes: ``check()`` always returns a value (fail closed), and the tool and CLI edges refuse
absurd numbers with one clear line."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gekko_agent.cli.main import app
from gekko_agent.domain import (
    AssetClass,
    Instrument,
    OrderIntent,
    OrderSide,
    OrderType,
    Position,
    Price,
    Quantity,
)
from gekko_agent.risk import Approved, Denied, ReasonCode, Resized, RiskEngine, Verdict
from gekko_agent.risk.bounds import MAX_PRICE, MAX_QUANTITY
from gekko_agent.risk.engine import CHECK_NAMES
from gekko_agent.risk.floor import div_floor, lot_floor
from gekko_agent.tools.registry import ToolError
from tools.orders import propose_orders

from .helpers import BTC, EURUSD, INSTRUMENTS, PRICES, D, loose, market, returns_window, snapshot

EXAMPLES = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENGINE = RiskEngine(loose())
SNAP = snapshot({BTC: D("0.5"), EURUSD: D(-20_000)})
RUNNER = CliRunner()


def _exact(coefficient: int, exponent: int) -> Decimal:
    """``coefficient × 10^exponent`` exactly (no context rounding)."""
    return Decimal(f"{coefficient}E{exponent}")


# positive Decimals from 1e-60 to 1e100 with up to 41 significant digits, plus named extremes
MAGNITUDES = st.one_of(
    st.builds(_exact, st.integers(1, 10**40), st.integers(-100, 60)),
    st.sampled_from(
        [
            D("Infinity"),
            D("1E+25"),
            D("1E+30"),
            D("1E-30"),
            D("1E-18"),
            MAX_QUANTITY,
            MAX_PRICE,
            D("0.1234567890123456789012345678901234567"),
            D("99999999999999.999999999999999999"),
        ]
    ),
)


def _intent(
    qty: Decimal, price: Decimal | None, iid: str = BTC, side: OrderSide = OrderSide.BUY
) -> OrderIntent:
    kind = OrderType.LIMIT if price is not None else OrderType.MARKET
    return OrderIntent("x-1", iid, side, Quantity(qty), kind, limit_price=Price(price) if price else None)


def _assert_value(out: object, it: OrderIntent) -> None:
    assert isinstance(out, Approved | Resized | Denied)
    if isinstance(out, Denied):
        assert out.reasons and out.explanation.startswith("Denied: ")
        assert len(out.trace) == len(CHECK_NAMES)
    else:
        assert 0 < out.quantity <= it.quantity <= MAX_QUANTITY


@EXAMPLES
@given(
    qty=MAGNITUDES,
    price=st.none() | MAGNITUDES,
    iid=st.sampled_from([BTC, EURUSD]),
    side=st.sampled_from(list(OrderSide)),
)
def test_check_returns_a_value_for_any_magnitude(
    qty: Decimal, price: Decimal | None, iid: str, side: OrderSide
) -> None:
    it = _intent(qty, price, iid, side)
    out = ENGINE.check(it, SNAP)
    _assert_value(out, it)
    absurd = not qty.is_finite() or qty > MAX_QUANTITY or (price is not None and price > MAX_PRICE)
    if absurd:
        assert isinstance(out, Denied) and out.reasons == (ReasonCode.INVALID_INTENT,)
    assert ENGINE.check(it, SNAP) == out  # deterministic, extreme or not


@FEWER
@given(
    position=st.builds(_exact, st.integers(1, 10**30), st.integers(-40, 40)),
    last=st.builds(_exact, st.integers(1, 10**30), st.integers(-40, 40)),
    cash=st.builds(_exact, st.integers(0, 10**30), st.integers(-10, 40)),
)
def test_check_returns_a_value_for_an_extreme_snapshot(
    position: Decimal, last: Decimal, cash: Decimal
) -> None:
    snap = snapshot(
        {BTC: position},
        cash={"USD": cash},
        market={**{iid: market(p) for iid, p in PRICES.items()}, BTC: market(last)},
        returns=returns_window(rows=120),
    )
    for it in (_intent(D("0.1"), None), _intent(D("0.1"), None, side=OrderSide.SELL)):
        out = RiskEngine(loose(var={"min_observations": 100})).check(it, snap)
        _assert_value(out, it)


def test_check_denies_quantity_above_the_maximum() -> None:
    out = ENGINE.check(_intent(D("1E+25"), None), SNAP)
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.INVALID_INTENT,)
    assert out.trace[0].name == "intent" and out.trace[0].verdict is Verdict.DENY
    assert "above the maximum" in out.explanation
    assert all(r.verdict is Verdict.SKIP for r in out.trace[1:])


@pytest.mark.parametrize(
    ("qty", "price", "words"),
    [
        ("1E+25", None, "quantity 1E+25 is above the maximum"),
        ("Infinity", None, "quantity Infinity is not a finite number"),
        ("0.0000000000000000001", None, "more than 18 decimal places"),
        ("0.1", "1E+30", "limit price 1E+30 is above the maximum"),
        ("0.1", "20000.0000000000000000001", "limit price"),
    ],
)
def test_check_denies_absurd_numbers_with_invalid_intent(qty: str, price: str | None, words: str) -> None:
    out = ENGINE.check(_intent(D(qty), D(price) if price else None), SNAP)
    assert isinstance(out, Denied) and out.reasons == (ReasonCode.INVALID_INTENT,)
    assert words in out.explanation


def test_check_turns_an_arithmetic_failure_into_a_denial() -> None:
    # a tick of 1e-30 puts the tick check's quotient (1e41) beyond the 40-digit context: the engine must
    # deny with arithmetic_error, naming the check, instead of raising decimal.DivisionImpossible
    fine = Instrument("BTC/USD", "binanceus", AssetClass.CRYPTO_SPOT, D("1E-30"), D("0.00001"))
    snap = dataclasses.replace(SNAP, instruments={**INSTRUMENTS, BTC: fine})
    it = _intent(D("0.1"), D("1E+11"))
    out = ENGINE.check(it, snap)
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.ARITHMETIC_ERROR,)
    failed = next(r for r in out.trace if r.verdict is Verdict.DENY)
    assert failed.name == "tick_size" and "InvalidOperation" in failed.detail
    assert [r.name for r in out.trace if r.verdict is Verdict.PASS][:2] == ["intent", "allow_list"]
    assert len(out.trace) == len(CHECK_NAMES)


def test_check_denies_when_the_snapshot_cannot_be_valued() -> None:
    huge = Position(BTC, "USD", AssetClass.CRYPTO_SPOT, D("1E+30"), PRICES[BTC])
    snap = dataclasses.replace(SNAP, positions={BTC: huge}, market={**SNAP.market, BTC: market(D("1E+30"))})
    out = ENGINE.check(_intent(D("0.1"), None), snap)  # VaR of 1e60 USD overflows the cent quantize
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.ARITHMETIC_ERROR,)
    failed = next(r for r in out.trace if r.verdict is Verdict.DENY)
    assert failed.name == "valuation" and "portfolio's valuation" in failed.detail


@EXAMPLES
@given(
    a=st.builds(_exact, st.integers(1, 10**36), st.integers(-30, 10)),
    b=st.builds(_exact, st.integers(1, 10**12), st.integers(-20, 5)),
    lot=st.sampled_from([D("0.00001"), D("0.001"), D(1), D("0.1"), D("0.000000000000000001")]),
)
def test_lot_floor_never_rounds_a_40_digit_cap_up(a: Decimal, b: Decimal, lot: Decimal) -> None:
    cap = div_floor(a, b)  # up to 40 significant digits, as the checks' caps
    try:
        q = lot_floor(cap, lot)
    except ArithmeticError:  # beyond 40 digits: the engine denies (tested above)
        return
    with localcontext() as exact:
        exact.prec = 120
        assert q <= cap
        assert cap - q < lot
        assert q % lot == 0


def test_lot_floor_keeps_a_cap_just_below_a_lot_boundary() -> None:
    cap = D("0.0" + "9" * 34)  # a 40-digit floor cap; the default 28-digit context would round it to 0.1
    assert lot_floor(cap, D("0.00001")) == D("0.09999")


def _order(**kw: Any) -> dict[str, Any]:
    base = {
        "instrument_id": BTC,
        "side": "buy",
        "quantity": "0.1",
        "rationale": "test",
        "confidence": "0.5",
    }
    return {"orders": [{**base, **kw}]}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"quantity": "1E+25"}, "less than or equal to 1E+15"),
        ({"quantity": "Infinity"}, "finite number"),
        ({"quantity": "0.0000000000000000001"}, "no more than 18 decimal places"),
        ({"quantity": "-1"}, "greater than 0"),
        ({"order_type": "limit", "limit_price": "1E+30"}, "less than or equal to 1E+12"),
        ({"order_type": "limit", "limit_price": "NaN"}, "finite number"),
    ],
)
def test_propose_orders_refuses_absurd_numbers_as_one_tool_error(fields: dict[str, str], words: str) -> None:
    with pytest.raises(ToolError) as err:
        propose_orders.validate(_order(**fields))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("propose_orders: invalid arguments: orders.0.")
    assert words in message


def test_propose_orders_accepts_the_largest_sane_numbers() -> None:
    args = propose_orders.validate(
        _order(quantity=str(MAX_QUANTITY), order_type="limit", limit_price="1E+12")
    )
    assert args["orders"][0].quantity == MAX_QUANTITY


@pytest.mark.parametrize(
    "extra",
    [["--qty", "1e25"], ["--qty", "0.1", "--price", "1e30"], ["--qty", "Infinity"], ["--qty", "1e-19"]],
)
def test_risk_check_cli_refuses_absurd_numbers_in_one_line(extra: list[str]) -> None:
    args = ["risk", "check", "--symbol", BTC, "--side", "buy", *extra]
    result = RUNNER.invoke(app, args, catch_exceptions=False)  # an unexpected exception fails the test
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gekko: error: --")
    assert result.stdout == ""


def test_check_cancel_answers_when_the_portfolio_cannot_be_valued() -> None:
    # quantity × price overflows Decimal's exponent range: the portfolio view itself cannot be built
    huge = Position(BTC, "USD", AssetClass.CRYPTO_SPOT, D("1E+600000"), PRICES[BTC])
    snap = dataclasses.replace(
        SNAP, positions={BTC: huge}, market={**SNAP.market, BTC: market(D("1E+600000"))}
    )
    engine = RiskEngine(loose())
    out = engine.check(_intent(D("0.1"), None), snap)  # orders fail closed...
    assert isinstance(out, Denied) and out.reasons == (ReasonCode.ARITHMETIC_ERROR,)
    assert "Overflow while computing the portfolio's valuation" in out.explanation
    assert engine.check_cancel(snap).allowed  # ...and exits stay possible
