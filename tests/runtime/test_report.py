"""The full report: round trips, metrics, and the files write_report produces from a real run."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.config import load_config
from gekko_agent.domain import Fill, Liquidity, Money, OrderFilled, OrderSide, Price, Quantity
from gekko_agent.errors import InvalidInput
from gekko_agent.runtime.backtest import backtest_config
from gekko_agent.runtime.metrics import (
    RunReport,
    cagr,
    median_spacing,
    report,
    sharpe_ratio,
    sortino_ratio,
    turnover,
)
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.report import analyze, prepare_report_dir, round_trips, summary_lines, write_report
from gekko_agent.runtime.report_html import drawdown_series
from gekko_agent.runtime.wiring import MemoryJournal, build_replay

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
IID = "X/USD@paper"


def _fill(minute: int, side: str, qty: str, price: str, fee: str = "0") -> Fill:
    return Fill(
        fill_id=f"f{minute}",
        client_order_id=f"c{minute}",
        venue_order_id=None,
        instrument_id=IID,
        side=OrderSide(side),
        quantity=Quantity(Decimal(qty)),
        price=Price(Decimal(price)),
        fee=Money(Decimal(fee), "USD"),
        liquidity=Liquidity.TAKER,
        ts=T0 + timedelta(minutes=minute),
    )


def _report(fills: list[Fill], start: str, final: str, minutes: int) -> RunReport:
    return RunReport(
        fills=tuple(fills),
        start_equity=Decimal(start),
        final_equity=Decimal(final),
        total_return=Decimal(final) / Decimal(start) - 1,
        sharpe=0.0,
        max_drawdown=Decimal(0),
        bars=minutes,
        intents=len(fills),
        approved=len(fills),
        resized=0,
        denied=0,
        fees=sum((f.fee.amount for f in fills), Decimal(0)),
        start=T0,
        end=T0 + timedelta(minutes=minutes),
    )


def test_round_trips_pair_partial_fills_and_split_a_flip() -> None:
    fills = [
        _fill(0, "buy", "1", "100", "0.1"),
        _fill(1, "buy", "1", "102", "0.1"),
        _fill(2, "sell", "2", "110", "0.2"),  # long 2 @ 101 → 110: +18 - 0.4
        _fill(3, "sell", "1", "110"),
        _fill(4, "buy", "3", "100", "0.3"),  # covers the short at 100 (+10 - 0.1), opens long 2
        _fill(5, "sell", "2", "99"),  # long 2 @ 100 → 99: -2 - 0.2
    ]
    trips = round_trips(fills)
    assert [(t.direction, t.quantity, t.entry_price, t.exit_price) for t in trips] == [
        ("long", Decimal(2), Decimal(101), Decimal(110)),
        ("short", Decimal(1), Decimal(110), Decimal(100)),
        ("long", Decimal(2), Decimal(100), Decimal(99)),
    ]
    assert [t.pnl for t in trips] == [Decimal("17.6"), Decimal("9.9"), Decimal("-2.2")]
    assert trips[0].return_pct == Decimal("17.6") / Decimal(202)


def test_metrics_win_rate_exposure_turnover_cagr_sortino() -> None:
    fills = [_fill(0, "buy", "1", "100"), _fill(30, "sell", "1", "110"), _fill(60, "buy", "1", "100")]
    values = ["1000", "1010", "990", "1005", "1020"]
    curve = [(T0 + timedelta(minutes=30 * i), Decimal(v)) for i, v in enumerate(values)]
    m, trips = analyze(_report(fills, "1000", "1020", 120), curve, sample_seconds=1800)
    assert m.round_trips == len(trips) == 1 and m.win_rate == 1.0
    assert m.exposure == pytest.approx((30 + 60) / 120)  # in market 0-30 and 60-120
    assert m.turnover == pytest.approx(310 / 1005)
    assert m.total_return == pytest.approx(0.02) and m.cagr > 1e6  # two hours at +2% compounds wildly
    assert m.sortino > 0 and m.max_drawdown == pytest.approx(20 / 1010)
    assert drawdown_series([1.0, 2.0, 1.5, 3.0]) == [0.0, 0.0, -0.25, 0.0]


def test_write_report_from_a_real_run_is_self_contained(tmp_path: Path) -> None:
    base = load_config(ROOT / "agent.yaml")
    cfg = backtest_config(
        base,
        strategy="sma_cross",
        symbol="BTC/USD",
        asset_class="crypto_spot",
        dataset="binanceus-btcusd-1m",
        fee_bps=Decimal(10),
        cash=Decimal(100000),
        params={},
    )
    start, end = datetime(2023, 3, 10, tzinfo=UTC), datetime(2023, 3, 11, tzinfo=UTC)
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=start, end=end)
    asyncio.run(run_replay(system, start=start))
    fills = [e.fill for e in journal.events if isinstance(e, OrderFilled)]
    result = report(system.trader, fills, first_trading=start)
    paths = write_report(result, system.trader, tmp_path / "out", title="sma_cross on BTC/USD")
    for png in (paths.equity_png, paths.drawdown_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths.html.read_text()
    assert page.count("data:image/png;base64,") == 2
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # no external assets
    metrics = json.loads(paths.metrics_json.read_text())["metrics"]
    assert metrics["fills"] == len(fills) and metrics["round_trips"] >= 1
    assert metrics["fees"] == pytest.approx(float(result.fees))
    rows = paths.trades_csv.read_text().splitlines()
    assert rows[0].startswith("instrument,direction") and len(rows) == metrics["round_trips"] + 1


def test_ratios_of_a_curve_without_returns_are_zero_not_a_division_error() -> None:
    zeros = [Decimal(0)] * 5
    assert sharpe_ratio(zeros, 300) == 0.0
    assert sharpe_ratio([Decimal(1), Decimal(2), Decimal(3)], 0) == 0.0
    assert sortino_ratio([0.0, 0.0, 0.0], 300) == 0.0
    assert sortino_ratio([], 300) == 0.0
    assert cagr(0.0, 100.0, 86400) == 0.0 and cagr(100.0, 110.0, 0) == 0.0
    assert turnover([], []) == 0.0 and turnover([_fill(0, "buy", "1", "100")], [0.0]) == 0.0


def test_median_spacing_follows_the_curve_not_the_sampler() -> None:
    hourly = [T0 + timedelta(hours=i) for i in range(5)]
    assert median_spacing(hourly, 300.0) == 3600.0
    assert median_spacing(hourly[:1], 300.0) == 300.0


def test_report_json_has_round_trips_as_trades_and_fills_apart() -> None:
    fills = [_fill(0, "buy", "1", "100", "0.1"), _fill(5, "sell", "1", "110", "0.11")]
    out = _report(fills, "1000", "1009.79", 10).to_json()
    assert len(out["fills"]) == 2 and len(out["trades"]) == 1
    trip = out["trades"][0]
    assert (trip["side"], trip["entry_price"], trip["exit_price"], trip["pnl"]) == (
        "long",
        "100",
        "110",
        "9.79",
    )
    assert isinstance(out["final_equity"], str) and isinstance(out["total_return"], float)


def test_summary_lines_name_every_metric_and_the_last_round_trips() -> None:
    fills = [
        _fill(2 * i + k, side, "1", str(100 + k)) for i in range(12) for k, side in enumerate(("buy", "sell"))
    ]
    text = "\n".join(summary_lines(_report(fills, "1000", "1012", 30), "t", max_trades=3))
    for label in (
        "total return",
        "CAGR",
        "Sharpe",
        "Sortino",
        "max drawdown",
        "win rate",
        "exposure",
        "turnover",
    ):
        assert label in text
    assert "the last 3 of 12" in text and text.count(" long  X/USD@paper") == 3


def test_prepare_report_dir_refuses_a_file(tmp_path: Path) -> None:
    file = tmp_path / "f"
    file.write_text("")
    with pytest.raises(InvalidInput, match="is a file"):
        prepare_report_dir(file)
    assert prepare_report_dir(tmp_path / "new" / "dir").is_dir()
