"""``gekko data`` through typer's CliRunner (the root CLI maps UserError to one line and exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gekko_agent.cli.data import app
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market import DATASETS, BarCache

runner = CliRunner()
WIDE = {"COLUMNS": "220", "NO_COLOR": "1"}


def test_data_list_prints_every_dataset_with_source() -> None:
    result = runner.invoke(app, ["list"], env=WIDE)
    assert result.exit_code == 0, result.output
    for ds in DATASETS:
        assert ds.name in result.output
        assert ds.instrument_id in result.output
        assert f"{ds.rows:,}" in result.output
    assert "cl8550-crypto/iaqf_analysis" in result.output
    assert "gym-anytrading" in result.output


def test_data_show_resampled_window_prints_summary_and_tail(market_cache: BarCache) -> None:
    args = ["show", "binanceus-btcusd-1m", "--from", "2023-03-10", "--to", "2023-03-11", "--resample", "1h"]
    result = runner.invoke(app, [*args, "--tail", "3", "--cache", str(market_cache.path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "BTC/USD@binanceus  1m → 1h  24 bars" in result.output
    assert "2023-03-10 00:00 → 2023-03-10 23:00 UTC" in result.output
    assert "2023-03-10 21:00" in result.output
    assert "2023-03-10 23:00" in result.output
    assert "2023-03-10 20:00 " not in result.output  # only the last 3 rows in the table
    assert "missing bars 0" in result.output


def test_data_show_csv_path_without_cache(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("time,open,high,low,close,volume\n1700000000,1,2,0.5,1.5,10\n1700000060,1.5,2,1,1.25,5\n")
    result = runner.invoke(app, ["show", str(path), "--no-cache"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "mine@csv  1m  2 bars" in result.output
    assert "1.25" in result.output
    assert not list(tmp_path.rglob("*.duckdb"))


def test_data_show_unknown_name_raises_data_not_found() -> None:
    result = runner.invoke(app, ["show", "binanceus-dogeusd-1m", "--no-cache"])
    assert isinstance(result.exception, DataNotFound)
    assert "gekko data list" in str(result.exception)


def test_data_show_bad_resample_raises_invalid_input(market_cache: BarCache) -> None:
    args = ["show", "oanda-eurusd-1h", "--resample", "5m", "--cache", str(market_cache.path)]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidInput)


def test_data_show_bad_time_raises_invalid_input(market_cache: BarCache) -> None:
    args = ["show", "oanda-eurusd-1h", "--from", "last tuesday", "--cache", str(market_cache.path)]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidInput)
    assert "ISO 8601" in str(result.exception)


def test_data_cache_lists_and_clears_entries(tmp_path: Path) -> None:
    cache = tmp_path / "m.duckdb"
    assert "empty" in runner.invoke(app, ["cache", "--cache", str(cache)]).output
    runner.invoke(app, ["show", "oanda-eurusd-1h", "--tail", "0", "--cache", str(cache)])
    listed = runner.invoke(app, ["cache", "--cache", str(cache)], env=WIDE).output
    assert "fresh" in listed
    assert "6,225 bars" in listed
    assert "cleared 1 entry" in runner.invoke(app, ["cache", "--cache", str(cache), "--clear"]).output


def test_data_cli_import_loads_neither_numpy_nor_duckdb() -> None:
    code = "import sys, gekko_agent.cli.data; print(sorted({'numpy', 'duckdb'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
