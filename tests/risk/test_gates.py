"""Fatal gates and gates on new exposure: each denies (or cuts to the reducible part) with its code."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from gekko_agent.domain import OrderSide
from gekko_agent.risk import Approved, Denied, ReasonCode, Resized, RiskEngine, TradingState, VenueHealth

from .helpers import BTC, EURUSD, NOW, PRICES, D, intent, loose, market, snapshot, with_equity_marks


def _check(cfg_engine: RiskEngine, snap, it):  # type: ignore[no-untyped-def]
    return cfg_engine.check(it, with_equity_marks(snap, cfg_engine))


def test_allow_list_denies_unlisted_instrument() -> None:
    eng = RiskEngine(loose(allow_list={"instruments": ["ETH/*@binanceus"]}))
    out = _check(eng, snapshot(), intent("0.1"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.INSTRUMENT_NOT_ALLOWED,)
    assert out.trace[-1].verdict == "skip"


def test_allow_list_glob_admits_matching_instrument() -> None:
    eng = RiskEngine(loose(allow_list={"instruments": ["BTC/*@binanceus"]}))
    assert isinstance(_check(eng, snapshot(), intent("0.1")), Approved)


def test_unknown_instrument_is_denied() -> None:
    out = _check(RiskEngine(loose()), snapshot(), intent("1", iid="DOGE/USD@binanceus"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.INSTRUMENT_UNKNOWN,)


def test_halted_denies_even_a_reducing_order() -> None:
    snap = snapshot({BTC: D(1)}, trading_state=TradingState.HALTED)
    out = _check(RiskEngine(loose()), snap, intent("0.5", OrderSide.SELL))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.TRADING_HALTED,)


def test_missing_price_is_denied_even_with_the_check_disabled() -> None:
    snap = snapshot(market={BTC: market(PRICES[BTC])} | {BTC: dataclasses.replace(market(D(1)), last=None)})
    out = _check(RiskEngine(loose(market_data={"enabled": False})), snap, intent("0.1"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.PRICE_MISSING,)


def test_stale_price_is_denied() -> None:
    snap = snapshot(market={BTC: market(PRICES[BTC], NOW - timedelta(minutes=5))})
    assert _check(RiskEngine(loose()), snap, intent("0.1")).reasons == (ReasonCode.PRICE_STALE,)


def test_crossed_quote_is_denied() -> None:
    md = dataclasses.replace(market(PRICES[BTC]), bid=D(20010), ask=D(20000), quote_ts=NOW)
    assert _check(RiskEngine(loose()), snapshot(market={BTC: md}), intent("0.1")).reasons == (
        ReasonCode.QUOTE_CROSSED,
    )


def test_stale_quote_is_denied() -> None:
    md = dataclasses.replace(market(PRICES[BTC], spread=D(2)), quote_ts=NOW - timedelta(minutes=1))
    assert _check(RiskEngine(loose()), snapshot(market={BTC: md}), intent("0.1")).reasons == (
        ReasonCode.QUOTE_STALE,
    )


def test_required_quote_missing_is_denied() -> None:
    eng = RiskEngine(loose(market_data={"require_quote": True}))
    assert _check(eng, snapshot(), intent("0.1")).reasons == (ReasonCode.QUOTE_MISSING,)


def test_missing_conversion_rate_is_denied() -> None:
    snap = snapshot(rates={"EUR": D("1.06")})
    out = _check(RiskEngine(loose()), snap, intent("0.1", iid="BTC/USDC@binanceus"))
    assert out.reasons == (ReasonCode.RATE_MISSING,)


def test_off_tick_limit_price_is_denied() -> None:
    assert _check(RiskEngine(loose()), snapshot(), intent("0.1", price="20000.005")).reasons == (
        ReasonCode.OFF_TICK,
    )


def test_reducing_state_cuts_a_flip_to_flat() -> None:
    snap = snapshot({BTC: D("0.3")}, trading_state=TradingState.REDUCING)
    out = _check(RiskEngine(loose()), snap, intent("1", OrderSide.SELL))
    assert isinstance(out, Resized)
    assert out.intent.quantity == D("0.3")
    assert ReasonCode.TRADING_REDUCING in out.reasons


def test_reducing_state_denies_new_exposure() -> None:
    snap = snapshot({BTC: D("0.3")}, trading_state=TradingState.REDUCING)
    out = _check(RiskEngine(loose()), snap, intent("0.1"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.TRADING_REDUCING,)


def test_reducing_counts_open_sells_already_working() -> None:
    from gekko_agent.risk import OpenOrder

    snap = snapshot(
        {BTC: D("0.3")},
        trading_state=TradingState.REDUCING,
        open_orders=(OpenOrder("o1", BTC, OrderSide.SELL, D("0.2")),),
    )
    out = _check(RiskEngine(loose()), snap, intent("0.3", OrderSide.SELL))
    assert isinstance(out, Resized)
    assert out.intent.quantity == D("0.1")


def test_reduce_only_intent_cannot_open() -> None:
    out = _check(RiskEngine(loose()), snapshot(), intent("0.1", reduce_only=True))
    assert out.reasons == (ReasonCode.REDUCE_ONLY,)


def test_fx_weekend_denies_new_fx_exposure() -> None:
    saturday = datetime(2023, 3, 11, 12, tzinfo=UTC)
    snap = snapshot(now=saturday, market={EURUSD: market(PRICES[EURUSD], saturday)})
    out = _check(RiskEngine(loose()), snap, intent("1000", iid=EURUSD, price="1.06000"))
    assert ReasonCode.VENUE_SESSION_CLOSED in out.reasons
    assert isinstance(out, Denied)


def test_fx_weekend_still_allows_closing() -> None:
    saturday = datetime(2023, 3, 11, 12, tzinfo=UTC)
    snap = snapshot({EURUSD: D(1000)}, now=saturday, market={EURUSD: market(PRICES[EURUSD], saturday)})
    out = _check(RiskEngine(loose()), snap, intent("1000", OrderSide.SELL, iid=EURUSD, price="1.06000"))
    assert isinstance(out, Approved)


def test_weekly_maintenance_window_denies_new_exposure() -> None:
    eng = RiskEngine(loose(sessions={"maintenance": [{"venue": "binanceus", "weekly_start": "wed 11:30"}]}))
    assert _check(eng, snapshot(), intent("0.1")).reasons == (ReasonCode.VENUE_MAINTENANCE,)


def test_one_off_maintenance_window_outside_passes() -> None:
    window = {"venue": "binanceus", "starts_at": "2023-03-09T00:00:00Z", "ends_at": "2023-03-09T01:00:00Z"}
    eng = RiskEngine(loose(sessions={"maintenance": [window]}))
    assert isinstance(_check(eng, snapshot(), intent("0.1")), Approved)


def test_venue_circuit_breaker_denies_new_exposure() -> None:
    venues = {"binanceus": VenueHealth(3, NOW - timedelta(hours=1), NOW - timedelta(hours=2), NOW)}
    out = _check(RiskEngine(loose()), snapshot(venues=venues), intent("0.1"))
    assert out.reasons == (ReasonCode.VENUE_CIRCUIT_OPEN,)


def test_unreconciled_venue_denies_new_exposure() -> None:
    venues = {
        "binanceus": VenueHealth(
            1, NOW - timedelta(hours=1), NOW - timedelta(minutes=5), NOW - timedelta(minutes=30)
        )
    }
    out = _check(RiskEngine(loose()), snapshot(venues=venues), intent("0.1"))
    assert out.reasons == (ReasonCode.VENUE_NOT_RECONCILED,)


def test_unknown_venue_health_counts_as_unreconciled() -> None:
    out = _check(RiskEngine(loose()), snapshot(venues={}), intent("0.1"))
    assert out.reasons == (ReasonCode.VENUE_NOT_RECONCILED,)


def test_unvalued_portfolio_denies_new_exposure() -> None:
    snap = snapshot(cash={"USD": D(100_000), "GBP": D(5)})
    out = RiskEngine(loose()).check(intent("0.1"), snap)
    assert ReasonCode.PORTFOLIO_UNVALUED in out.reasons
    assert isinstance(out, Denied)


def test_daily_loss_breaker_denies_new_exposure() -> None:
    eng = RiskEngine(loose())
    snap = with_equity_marks(snapshot(), eng)
    snap = dataclasses.replace(snap, equity_day_start=D(104_000))
    out = eng.check(intent("0.1"), snap)
    assert out.reasons == (ReasonCode.DAILY_LOSS,)


def test_drawdown_breaker_denies_new_exposure_but_not_exits() -> None:
    eng = RiskEngine(loose())
    snap = with_equity_marks(snapshot({BTC: D(1)}), eng)
    snap = dataclasses.replace(snap, equity_peak=D(200_000))
    assert eng.check(intent("0.1"), snap).reasons == (ReasonCode.DRAWDOWN,)
    assert isinstance(eng.check(intent("1", OrderSide.SELL), snap), Approved)
