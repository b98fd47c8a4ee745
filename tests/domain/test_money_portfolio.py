from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gekko_agent.domain import (
    AssetClass,
    Fill,
    Instrument,
    Liquidity,
    Money,
    OrderSide,
    Portfolio,
    Price,
    Quantity,
    canonical_symbol,
    to_decimal,
    venue_symbol,
)
from gekko_agent.errors import DataNotFound, InvalidInput

T0 = datetime(2023, 3, 1, tzinfo=UTC)
D = Decimal


def _fill(
    fid: str, side: OrderSide, qty: str, price: str, fee: str = "0", iid: str = "BTC/USD@paper"
) -> Fill:
    quote = iid.split("@")[0].split("/")[1]
    return Fill(
        fid,
        "c",
        None,
        iid,
        side,
        Quantity(D(qty)),
        Price(D(price)),
        Money.of(fee, quote),
        Liquidity.TAKER,
        T0,
    )


def test_float_is_refused_as_money() -> None:
    with pytest.raises(InvalidInput, match="float"):
        to_decimal(0.1)  # type: ignore[arg-type]


def test_money_refuses_mixed_currencies() -> None:
    with pytest.raises(InvalidInput, match="USD with EUR"):
        Money.of("1", "USD") + Money.of("1", "EUR")


def test_instrument_rounds_quantity_down_to_lot() -> None:
    inst = Instrument("BTC/USD", "binanceus", AssetClass.CRYPTO_SPOT, D("0.01"), D("0.0001"))
    assert inst.round_quantity(D("0.123456")) == D("0.1234")
    assert inst.round_price(D("20000.005"), "down") == D("20000.00")
    assert inst.venue_symbol == "BTCUSD"


@pytest.mark.parametrize(
    ("symbol", "venue", "spelled"),
    [("BTC/USD", "binanceus", "BTCUSD"), ("BTC/USD", "coinbase", "BTC-USD"), ("EUR/USD", "oanda", "EUR_USD")],
)
def test_venue_symbols_round_trip(symbol: str, venue: str, spelled: str) -> None:
    assert venue_symbol(symbol, venue) == spelled
    assert canonical_symbol(spelled, venue) == symbol


def test_spot_round_trip_books_pnl_and_fees() -> None:
    p = Portfolio(cash={"USD": D(100000)})
    p.apply_fill(_fill("f1", OrderSide.BUY, "2", "20000", "40"), "USD", AssetClass.CRYPTO_SPOT)
    assert p.cash["USD"] == D(100000) - D(40000) - D(40)
    realized = p.apply_fill(_fill("f2", OrderSide.SELL, "1", "21000", "21"), "USD", AssetClass.CRYPTO_SPOT)
    assert realized == D(1000)
    assert p.equity({"BTC/USD@paper": D(22000)}, {}) == D(100000) - D(61) + D(1000) + D(2000)
    assert p.positions["BTC/USD@paper"].avg_price == D(20000)


def test_fx_fill_moves_only_pnl_into_cash() -> None:
    p = Portfolio(cash={"USD": D(10000)})
    iid = "EUR/USD@oanda"
    p.apply_fill(_fill("f1", OrderSide.SELL, "10000", "1.1000", iid=iid), "USD", AssetClass.FX)
    assert p.cash["USD"] == D(10000)
    p.apply_fill(_fill("f2", OrderSide.BUY, "10000", "1.0950", iid=iid), "USD", AssetClass.FX)
    assert p.cash["USD"] == D(10000) + D("50.0000")


def test_equity_without_rate_fails_closed() -> None:
    p = Portfolio(cash={"USDC": D(100)})
    with pytest.raises(DataNotFound, match="USDC"):
        p.equity({}, {})


def test_replayed_fill_is_ignored() -> None:
    p = Portfolio(cash={"USD": D(1000)})
    f = _fill("f1", OrderSide.BUY, "0.01", "20000")
    p.apply_fill(f, "USD", AssetClass.CRYPTO_SPOT)
    p.apply_fill(f, "USD", AssetClass.CRYPTO_SPOT)
    assert p.positions[f.instrument_id].quantity == D("0.01")


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 500), st.integers(15000, 30000)),
        min_size=1,
        max_size=12,
    ),
    st.integers(15000, 30000),
)
def test_equity_equals_cash_plus_pnl_without_fees(trades: list[tuple[bool, int, int]], mark: int) -> None:
    """Conservation: equity = start + realized + unrealized when there are no fees.

    Average prices divide, so the decomposition may differ in the 28th significant digit.
    """
    p = Portfolio(cash={"USD": D(10**9)})
    for n, (buy, qty, px) in enumerate(trades):
        side = OrderSide.BUY if buy else OrderSide.SELL
        p.apply_fill(_fill(f"f{n}", side, str(D(qty) / 100), str(px)), "USD", AssetClass.CRYPTO_SPOT)
    marks = {"BTC/USD@paper": D(mark)}
    expected = D(10**9) + p.realized_pnl({}) + p.unrealized_pnl(marks, {})
    assert abs(p.equity(marks, {}) - expected) < D("1e-12")
