"""``gekko risk`` commands on bundled data (through the Typer app, in process)."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from gekko_agent.cli.main import app as main_app
from gekko_agent.cli.risk import app, dry_run_snapshot
from gekko_agent.errors import InvalidInput
from gekko_agent.market import load_bars
from gekko_agent.risk import stress_report, var_report

from .helpers import EURUSD

runner = CliRunner()


def test_check_prints_each_check_and_the_verdict() -> None:
    result = runner.invoke(app, ["check", "--symbol", "BTC/USD@binanceus", "--side", "buy", "--qty", "0.1"])
    assert result.exit_code == 0, result.output
    for name in ("allow_list", "order_notional", "var_es", "APPROVED"):
        assert name in result.output


def test_check_shows_a_fat_finger_denial() -> None:
    args = ["check", "--symbol", "BTC/USD@binanceus", "--side", "buy", "--qty", "0.1", "--price", "99999"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "DENIED" in result.output
    assert "price_band_last" in result.output


def test_check_rejects_a_bad_side() -> None:
    result = runner.invoke(app, ["check", "--symbol", "BTC/USD@binanceus", "--side", "hold", "--qty", "1"])
    assert isinstance(result.exception, InvalidInput)


def test_var_reports_both_methods() -> None:
    result = runner.invoke(app, ["var", "--position", "BTC/USD@binanceus=0.5", "--cash", "100000"])
    assert result.exit_code == 0, result.output
    assert "historical" in result.output
    assert "parametric" in result.output


def test_stress_reports_each_scenario() -> None:
    result = runner.invoke(app, ["stress", "--position", "BTC/USD@binanceus=0.5", "--cash", "100000"])
    assert result.exit_code == 0, result.output
    assert "crypto -20%" in result.output


def test_status_shows_state_and_usage() -> None:
    result = runner.invoke(app, ["status", "--position", "BTC/USD@binanceus=0.5"])
    assert result.exit_code == 0, result.output
    assert "ACTIVE" in result.output
    assert "gross exposure" in result.output


@pytest.mark.parametrize("spec", ["BTC/USD@binanceus", "DOGE/USD@binanceus=1"])
def test_var_rejects_bad_positions(spec: str) -> None:
    result = runner.invoke(app, ["var", "--position", spec])
    assert isinstance(result.exception, InvalidInput)


# --- through the top-level app, as `gekko risk …` runs -------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = str(ROOT / "agent.yaml")


def _gekko(*args: str) -> Result:
    """Run ``gekko risk …``; catch_exceptions=False lets any unexpected exception fail the test."""
    return runner.invoke(main_app, ["risk", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["check", "--symbol", "BTC/USD@paper", "--side", "buy", "--qty", "0.1"],
            ["strategy_budget", "APPROVED"],
        ),
        (["status"], ["ACTIVE", "worst stress loss", "VaR"]),
        (["var", "--position", "BTC/USDT@paper=0.5"], ["historical", "parametric"]),
        (["stress", "--position", "BTC/USDC@paper=0.5"], ["crypto -20%", "stablecoin depeg -10%"]),
    ],
)
def test_risk_commands_work_with_the_shipped_config(args: list[str], expected: list[str]) -> None:
    result = _gekko(*args, "--config", SHIPPED)
    assert result.exit_code == 0, result.output
    for word in expected:
        assert word in result.stdout
    assert "n/a" not in result.stdout  # every figure computed: paper instruments found their bundled data


def test_shipped_config_snapshot_values_stablecoin_cash() -> None:
    snap, _ = dry_run_snapshot(Path(SHIPPED), None, [], ["BTC/USD@paper"], "active")
    assert snap.returns is not None and snap.returns.interval_seconds == 60
    assert set(snap.returns.factors) >= {"BTC/USD@paper", "USDC", "USDT"}  # cash currencies are risk factors
    assert {"USDC", "USDT"} <= set(snap.rates)


def test_non_overlapping_histories_are_refused_in_one_line() -> None:
    result = _gekko("var", "--position", "EUR/USD@oanda=1000", "--position", "BTC/USD@binanceus=1")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "do not overlap in time" in lines[0]
    assert "EUR/USD@oanda 2017-01-01" in lines[0] and "BTC/USD@binanceus 2023-03-01" in lines[0]


# --- hand computations on the hourly EUR/USD data -------------------------------------------------------

EUR_QTY = Decimal(10_000)


def _eurusd_hand() -> tuple[float, float]:
    """(last close, σ of hourly returns over the default 1,440-return lookback), from the raw file."""
    bars = load_bars("oanda-eurusd-1h", cache=None)
    closes = np.asarray(bars.close)[-1441:]
    returns = closes[1:] / closes[:-1] - 1
    return float(closes[-1]), float(np.std(returns, ddof=1))


def test_fx_returns_use_the_hourly_bar_spacing() -> None:
    snap, limits = dry_run_snapshot(None, "100000", [f"{EURUSD}={EUR_QTY}"], [], "active")
    assert snap.returns is not None
    assert snap.returns.interval_seconds == 3600
    last, sigma = _eurusd_hand()
    report = var_report(snap, limits)
    assert report is not None and report.parametric is not None
    z = NormalDist().inv_cdf(0.99)
    hand = z * sigma * math.sqrt(86_400 / 3_600) * float(EUR_QTY) * last
    assert float(report.parametric[0]) == pytest.approx(hand, abs=0.011)
    assert float(report.parametric[0]) < hand * 2  # with 60 s it was sqrt(60) ≈ 7.7 times larger


def test_fx_five_sigma_stress_matches_a_hand_computation() -> None:
    snap, limits = dry_run_snapshot(None, "100000", [f"{EURUSD}={EUR_QTY}"], [], "active")
    legs = dict(stress_report(snap, limits) or [])
    last, sigma = _eurusd_hand()
    # long EUR/USD bought at the mark: a -5σ daily move loses qty × last × 5 × σ_hour × √24 USD
    hand = float(EUR_QTY) * last * 5 * sigma * math.sqrt(24)
    assert float(legs["fx 5 sigma (-)"]) == pytest.approx(hand, rel=1e-9)
    assert float(legs["fx 5 sigma (+)"]) == pytest.approx(-hand, rel=1e-9)
    assert 200 < hand < 260  # about 2.3 % of 10,000 EUR: a plausible 5σ day, not 7.7 times that
