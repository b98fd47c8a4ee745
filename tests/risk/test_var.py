"""VaR/ES against hand-computed values, against an independent numpy computation on real bundled data,
and the incremental return window against a direct covariance."""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

import numpy as np
import pytest

from gekko_agent.risk import RiskConfig, RiskLimits, RollingReturns, var_report
from gekko_agent.risk.var import historical_var_es, parametric_var_es, tail_count, to_money_up

from .helpers import BTC, ETH, INSTRUMENTS, NOW, D, market, snapshot

# two factors, ten rows: hand-checkable
R = [
    (0.01, 0.02),
    (-0.02, -0.01),
    (0.005, 0.0),
    (-0.03, -0.04),
    (0.0, 0.01),
    (0.015, -0.005),
    (-0.01, 0.0),
    (0.02, 0.03),
    (-0.005, -0.02),
    (0.0, 0.005),
]


def _small_snapshot():  # type: ignore[no-untyped-def]
    from gekko_agent.risk import ReturnWindow

    window = ReturnWindow.from_array((BTC, ETH), R, 60)
    # 0.5 BTC at 20,000 (10,000 USD) and 4 ETH at 1,500 (6,000 USD)
    return snapshot({BTC: D("0.5"), ETH: D(4)}, returns=window)


def _limits(method: str = "both", confidence: str = "0.8") -> RiskLimits:
    cfg = RiskConfig.model_validate(
        {
            "var": {
                "method": method,
                "confidence": confidence,
                "horizon_seconds": 60,
                "min_observations": 20,
                "lookback": 20,
            }
        }
    )
    return RiskLimits.from_config(cfg)


def test_tail_count_is_ceiling_of_tail_share() -> None:
    assert tail_count(10, 0.8) == 2
    assert tail_count(100, 0.99) == 1
    assert tail_count(1440, 0.99) == 15


def test_historical_var_es_matches_hand_computation() -> None:
    lim = RiskLimits.from_config(
        RiskConfig.model_validate(
            {"var": {"confidence": "0.8", "horizon_seconds": 60, "min_observations": 20}}
        )
    )
    # P&L per row = 10,000 r_btc + 6,000 r_eth; the two worst rows are 4 (-540) and 2 (-260)
    pnl = [10_000 * a + 6_000 * b for a, b in R]
    assert sorted(pnl)[:2] == pytest.approx([-540.0, -260.0])
    var, es = historical_var_es(np.array(pnl), 0.8)
    assert var == pytest.approx(260.0)
    assert es == pytest.approx(400.0)
    assert lim.var_confidence == Decimal("0.8")


def test_parametric_var_es_matches_hand_computation() -> None:
    pnl = [10_000 * a + 6_000 * b for a, b in R]
    mean = sum(pnl) / len(pnl)
    variance = sum((p - mean) ** 2 for p in pnl) / (len(pnl) - 1)
    z = NormalDist().inv_cdf(0.8)
    var, es = parametric_var_es(variance, 0.8)
    assert var == pytest.approx(z * math.sqrt(variance))
    assert es == pytest.approx(math.sqrt(variance) * NormalDist().pdf(z) / 0.2)


def test_var_report_on_small_portfolio_matches_hand_values() -> None:
    import dataclasses

    lim = dataclasses.replace(_limits(), var_min_obs=10)  # ten hand-made rows
    report = var_report(_small_snapshot(), lim)
    assert report is not None
    assert report.historical == (Decimal("260.00"), Decimal("400.00"))
    pnl = [10_000 * a + 6_000 * b for a, b in R]
    mean = sum(pnl) / len(pnl)
    sd = math.sqrt(sum((p - mean) ** 2 for p in pnl) / 9)
    assert report.parametric is not None
    assert report.parametric[0] == to_money_up(NormalDist().inv_cdf(0.8) * sd)


def test_to_money_up_never_rounds_down() -> None:
    assert to_money_up(1.001) == Decimal("1.01")
    assert to_money_up(1.0) == Decimal("1.00")
    assert to_money_up(-0.004) == Decimal("0.00")


def test_var_on_real_bundled_data_matches_numpy() -> None:
    from gekko_agent.market import load_bars

    bars = load_bars("binanceus-btcusd-1m", "2023-03-05", "2023-03-07", cache=None)
    close = np.asarray(bars.close)
    rets = close[1:] / close[:-1] - 1.0
    lookback = 1440
    rets = rets[-lookback:]
    rolling = RollingReturns((BTC,), lookback, 60)
    for r in rets:
        rolling.push([r])
    last = Decimal(repr(float(close[-1])))
    snap = snapshot(
        {BTC: D("0.5")},
        returns=rolling.window(),
        market={BTC: market(last, NOW)},
        instruments={BTC: INSTRUMENTS[BTC]},
    )
    cfg = RiskConfig.model_validate(
        {"var": {"confidence": "0.99", "horizon_seconds": 86400, "lookback": lookback}}
    )
    report = var_report(snap, RiskLimits.from_config(cfg))
    assert report is not None
    value = 0.5 * float(last)
    pnl = value * rets
    losses = np.sort(-pnl)[::-1]
    k = math.ceil(len(pnl) * 0.01)
    scale = math.sqrt(86400 / 60)
    hv, he = losses[k - 1] * scale, losses[:k].mean() * scale
    sd = np.std(pnl, ddof=1)
    pv = 2.3263478740408408 * sd * scale
    assert report.historical is not None
    assert report.parametric is not None
    assert float(report.historical[0]) == pytest.approx(hv, abs=0.011)
    assert float(report.historical[1]) == pytest.approx(he, abs=0.011)
    assert float(report.parametric[0]) == pytest.approx(pv, abs=0.011)
    assert report.var == max(report.historical[0], report.parametric[0])


def test_rolling_returns_covariance_matches_numpy_after_wraparound() -> None:
    rng = np.random.default_rng(3)
    data = rng.standard_normal((300, 3)) * 0.01
    rolling = RollingReturns(("a", "b", "c"), 100, 60)
    for row in data:
        rolling.push(row)
    window = rolling.window()
    assert window.observations == 100
    np.testing.assert_allclose(window.cov, np.cov(data[-100:], rowvar=False), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(window.returns, data[-100:])
