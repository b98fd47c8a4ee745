"""``gekko risk`` commands on bundled data (through the Typer app, in process)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gekko_agent.cli.risk import app
from gekko_agent.errors import InvalidInput

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
