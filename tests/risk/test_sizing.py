"""Checks that resize: each cuts to the largest quantity within its limit, rounded down to the lot."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from gekko_agent.domain import OrderSide
from gekko_agent.risk import Approved, Denied, OpenOrder, ReasonCode, Resized, RiskEngine, TradingState

from .helpers import BTC, ETH, EURUSD, NOW, PRICES, D, intent, loose, market, snapshot, with_equity_marks


def _run(cfg, snap, it):  # type: ignore[no-untyped-def]
    eng = RiskEngine(cfg)
    return eng.check(it, with_equity_marks(snap, eng))


def test_order_notional_resizes_to_limit() -> None:
    out = _run(loose(order={"max_notional": 2000}), snapshot(), intent("1", price="20000.00"))
    assert isinstance(out, Resized)
    assert out.intent.quantity == D("0.1")
    assert out.reasons == (ReasonCode.ORDER_NOTIONAL,)
    assert out.explanation.startswith("Resized from 1 to 0.10000")


def test_order_quantity_resizes_to_limit() -> None:
    out = _run(loose(order={"max_quantity": {BTC: "0.25"}}), snapshot(), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.25")
    assert out.reasons == (ReasonCode.ORDER_QUANTITY,)


def test_lot_size_rounds_down() -> None:
    out = _run(loose(), snapshot(), intent("0.123456", price="20000.00"))
    assert isinstance(out, Resized)
    assert out.intent.quantity == D("0.12345")
    assert out.reasons == (ReasonCode.LOT_SIZE,)


def test_min_notional_denies_tiny_order() -> None:
    out = _run(loose(), snapshot(), intent("0.0001", price="20000.00"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.MIN_NOTIONAL,)


def test_resize_below_min_notional_is_denied() -> None:
    out = _run(loose(order={"max_notional": 5}), snapshot(), intent("1", price="20000.00"))
    assert isinstance(out, Denied)
    assert set(out.reasons) == {ReasonCode.ORDER_NOTIONAL, ReasonCode.MIN_NOTIONAL}


def test_price_band_denies_fat_finger_vs_last() -> None:
    out = _run(loose(), snapshot(), intent("0.1", price="22000.00"))
    assert out.reasons == (ReasonCode.PRICE_BAND_LAST,)


def test_price_band_denies_buy_far_through_ask() -> None:
    snap = snapshot(market={BTC: market(D(20000), spread=D(2)), ETH: market(PRICES[ETH])})
    out = _run(loose(price_band={"max_deviation_from_quote": "0.01"}), snap, intent("0.1", price="20300.00"))
    assert out.reasons == (ReasonCode.PRICE_BAND_QUOTE,)


def test_price_band_denies_market_order_on_wide_spread() -> None:
    snap = snapshot(market={BTC: market(D(20000), spread=D(400))})
    assert _run(loose(), snap, intent("0.1")).reasons == (ReasonCode.SPREAD_TOO_WIDE,)


def test_position_limit_counts_existing_position() -> None:
    out = _run(loose(position={"max_notional": 30000}), snapshot({BTC: D(1)}), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.5")
    assert out.reasons == (ReasonCode.POSITION_LIMIT,)


def test_position_limit_counts_open_orders_on_the_same_side() -> None:
    opens = (OpenOrder("o1", BTC, OrderSide.BUY, D("0.4"), D(20000)),)
    out = _run(
        loose(position={"max_notional": 30000}),
        snapshot({BTC: D(1)}, open_orders=opens),
        intent("1", price="20000.00"),
    )
    assert out.intent.quantity == D("0.1")


def test_position_quantity_limit_resizes() -> None:
    out = _run(loose(position={"max_quantity": {BTC: "0.3"}}), snapshot(), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.3")


def test_gross_exposure_venue_resizes() -> None:
    cfg = loose(exposure={"max_gross_per_venue": 25000})
    out = _run(cfg, snapshot({ETH: D(10)}), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.5")
    assert out.reasons == (ReasonCode.GROSS_EXPOSURE_VENUE,)


def test_net_exposure_account_resizes() -> None:
    cfg = loose(exposure={"max_net_account": 16000})
    out = _run(cfg, snapshot({ETH: D(10)}), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.05")
    assert out.reasons == (ReasonCode.NET_EXPOSURE_ACCOUNT,)


def test_gross_exposure_account_allows_reducing_when_already_breached() -> None:
    cfg = loose(exposure={"max_gross_account": 1000})
    out = _run(cfg, snapshot({ETH: D(10)}), intent("5", OrderSide.SELL, iid=ETH, price="1500.00"))
    assert isinstance(out, Approved)


def test_net_exposure_venue_resizes_a_short_fx_side() -> None:
    cfg = loose(exposure={"max_net_per_venue": 10600})
    out = _run(cfg, snapshot(), intent("20000", OrderSide.SELL, iid=EURUSD, price="1.06000"))
    assert out.intent.quantity == D(10000)
    assert out.reasons == (ReasonCode.NET_EXPOSURE_VENUE,)


def test_leverage_resizes_against_equity() -> None:
    out = _run(loose(leverage={"max_leverage": "0.1"}), snapshot(), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.5")
    assert out.reasons == (ReasonCode.LEVERAGE,)


def test_funding_resizes_spot_buy_to_cash_with_fees() -> None:
    out = _run(
        loose(cash={"fee_rate": "0.001"}), snapshot(cash={"USD": D(10010)}), intent("1", price="20000.00")
    )
    assert out.intent.quantity == D("0.5")
    assert out.reasons == (ReasonCode.INSUFFICIENT_CASH,)


def test_funding_reserves_cash_for_open_buys() -> None:
    opens = (OpenOrder("o1", ETH, OrderSide.BUY, D(2), D(1500)),)
    out = _run(
        loose(cash={"fee_rate": "0"}),
        snapshot(cash={"USD": D(13000)}, open_orders=opens),
        intent("1", price="20000.00"),
    )
    assert out.intent.quantity == D("0.5")


def test_funding_denies_spot_sell_without_holdings() -> None:
    out = _run(loose(), snapshot(), intent("0.1", OrderSide.SELL, price="20000.00"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.INSUFFICIENT_HOLDINGS,)


def test_funding_resizes_fx_to_free_margin() -> None:
    cfg = loose(cash={"margin_buffer": "0.5"})
    out = _run(cfg, snapshot(cash={"USD": D(1000)}), intent("100000", iid=EURUSD, price="1.06000"))
    assert out.reasons == (ReasonCode.INSUFFICIENT_MARGIN,)
    assert out.intent.quantity == D(9433)  # 500 USD margin x 20 leverage / 1.06 USD per EUR


def test_strategy_budget_counts_usage() -> None:
    cfg = loose(budgets={"budgets": {"momo": 5000}})
    snap = snapshot(strategy_usage={"momo": D(3000)})
    out = _run(cfg, snap, intent("1", price="20000.00", strategy="momo"))
    assert out.intent.quantity == D("0.1")
    assert out.reasons == (ReasonCode.STRATEGY_BUDGET,)


def test_submit_rate_denies_beyond_window_count() -> None:
    times = tuple(NOW - timedelta(seconds=s) for s in range(1, 11))
    out = _run(loose(), snapshot(submit_times=times), intent("0.1"))
    assert out.reasons == (ReasonCode.SUBMIT_RATE,)


def test_submit_rate_forgets_old_submits() -> None:
    times = tuple(NOW - timedelta(seconds=61 + s) for s in range(20))
    assert isinstance(_run(loose(), snapshot(submit_times=times), intent("0.1")), Approved)


def test_cancel_rate_limits_cancels_only_when_active() -> None:
    eng = RiskEngine(loose())
    times = tuple(NOW - timedelta(seconds=s) for s in range(1, 21))
    snap = snapshot(cancel_times=times)
    decision = eng.check_cancel(snap)
    assert not decision.allowed
    assert decision.reason is ReasonCode.CANCEL_RATE
    assert eng.check_cancel(dataclasses.replace(snap, trading_state=TradingState.HALTED)).allowed
