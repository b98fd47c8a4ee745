"""Stress, forecast and VaR/ES checks inside ``check()``."""

from __future__ import annotations

from gekko_agent.domain import OrderSide
from gekko_agent.risk import Approved, Denied, ForecastQuantiles, ReasonCode, Resized, RiskEngine

from .helpers import BTC, BTCUSDC, D, intent, loose, snapshot, with_equity_marks

CRASH = [{"name": "crash", "asset_class_shocks": {"crypto_spot": "-0.2"}}]


def _run(cfg, snap, it):  # type: ignore[no-untyped-def]
    eng = RiskEngine(cfg)
    return eng.check(it, with_equity_marks(snap, eng))


def test_stress_resizes_to_the_max_loss() -> None:
    cfg = loose(stress={"max_loss": 5000, "scenarios": CRASH})
    out = _run(cfg, snapshot({BTC: D(1)}), intent("1", price="20000.00"))
    assert isinstance(out, Resized)
    assert out.intent.quantity == D("0.25")
    assert out.reasons == (ReasonCode.STRESS_LOSS,)


def test_stress_currency_shock_counts_stablecoin_cash() -> None:
    depeg = [{"name": "depeg", "currency_shocks": {"USDC": "-0.1"}}]
    cfg = loose(stress={"max_loss": 4000, "scenarios": depeg})
    snap = snapshot(cash={"USD": D(10_000), "USDC": D(50_000)})
    # already 5,000 over a 4,000 limit: buying BTC with USDC shrinks USDC cash, so it passes
    assert isinstance(_run(cfg, snap, intent("1", iid=BTCUSDC, price="20010.00")), Approved)
    # selling USDC-quoted BTC for more USDC would make it worse
    snap2 = snapshot({BTCUSDC: D(1)}, cash={"USD": D(10_000), "USDC": D(50_000)})
    out = _run(cfg, snap2, intent("1", OrderSide.SELL, iid=BTCUSDC, price="20010.00"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.STRESS_LOSS,)


def test_stress_sigma_shock_needs_history() -> None:
    cfg = loose(stress={"scenarios": [{"name": "fx", "sigma_shocks": {"fx": 5}}]})
    out = _run(cfg, snapshot(returns=None), intent("1000", iid="EUR/USD@oanda", price="1.06000"))
    assert ReasonCode.STRESS_DATA_MISSING in out.reasons


def test_forecast_resizes_to_quantile_loss_budget() -> None:
    cfg = loose(forecast={"enabled": True, "max_loss": 100, "quantile": "0.05"})
    fc = {BTC: ForecastQuantiles({D("0.05"): D("-0.01"), D("0.95"): D("0.01")})}
    out = _run(cfg, snapshot(forecasts=fc), intent("1", price="20000.00"))
    assert out.intent.quantity == D("0.5")
    assert out.reasons == (ReasonCode.FORECAST_VETO,)


def test_forecast_missing_denies_when_required() -> None:
    cfg = loose(forecast={"enabled": True, "require_forecast": True})
    assert _run(cfg, snapshot(), intent("0.1")).reasons == (ReasonCode.FORECAST_MISSING,)


def test_forecast_missing_passes_when_optional() -> None:
    cfg = loose(forecast={"enabled": True})
    assert isinstance(_run(cfg, snapshot(), intent("0.1")), Approved)


def test_var_limit_denies_a_large_buy() -> None:
    cfg = loose(var={"max_var": 1000, "max_es": 10**9})
    out = _run(cfg, snapshot(), intent("1", price="20000.00"))
    assert isinstance(out, Denied)
    assert out.reasons == (ReasonCode.VAR_LIMIT,)
    assert isinstance(_run(cfg, snapshot(), intent("0.05", price="20000.00")), Approved)


def test_es_limit_denies_a_large_buy() -> None:
    cfg = loose(var={"max_var": 10**9, "max_es": 1000})
    assert _run(cfg, snapshot(), intent("1", price="20000.00")).reasons == (ReasonCode.ES_LIMIT,)


def test_var_allows_reducing_a_position_over_the_limit() -> None:
    cfg = loose(var={"max_var": 10})
    assert isinstance(
        _run(cfg, snapshot({BTC: D(1)}), intent("0.5", OrderSide.SELL, price="20000.00")), Approved
    )


def test_var_missing_history_denies_new_exposure() -> None:
    out = _run(loose(), snapshot(returns=None), intent("0.1"))
    assert out.reasons == (ReasonCode.VAR_DATA_MISSING,)


def test_var_too_short_history_denies_new_exposure() -> None:
    from .helpers import returns_window

    out = _run(loose(), snapshot(returns=returns_window(rows=50)), intent("0.1"))
    assert out.reasons == (ReasonCode.VAR_DATA_MISSING,)
