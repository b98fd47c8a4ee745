"""``gekko backtest`` at its edge: every bad input is one line and exit 2 before anything runs;
the report (plain and ``--json``) carries every metric and the round trips; several datasets,
CSV intervals and FX sizes work as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gekko_agent.cli.main import app

DATA = ["--data", "binanceus-btcusd-1m"]
DAY = ["--from", "2023-03-10", "--to", "2023-03-11"]


def _invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["backtest", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _one_line_error(args: list[str], *needles: str) -> str:
    code, out, err = _invoke(args)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def _csv(path: Path, rows: int, stamp: str = "unix") -> Path:
    lines = ["Date,Open,High,Low,Close,Volume"]
    for i in range(rows):
        ts = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp()) + 60 * i
        c = 100 + (i % 7)
        lines.append(f"{ts if stamp == 'unix' else stamp},{c},{c + 1},{c - 1},{c},1000")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (["--cash", "0"], ("--cash", "above zero")),
        (["--cash", "1e20"], ("--cash", "above")),
        (["--fees", "-1"], ("--fees",)),
        (["--fees", "5000"], ("--fees", "1000")),
        (
            ["--from", "2023-03-12", "--to", "2023-03-10"],
            ("--from 2023-03-12 must be before --to 2023-03-10",),
        ),
        (["--from", "2023-03-10", "--to", "2023-03-10"], ("must be before",)),
        (
            ["--from", "2024-01-01"],
            ("no bars of binanceus-btcusd-1m", "2023-03-01 00:00 to 2023-03-22 00:00"),
        ),
        (["--to", "2022-01-01"], ("no bars of binanceus-btcusd-1m", "runs from 2023-03-01")),
        (["--interval", "60"], ("--interval is for --csv",)),
    ],
)
def test_backtest_bad_numbers_and_windows_exit_2_in_one_line(
    extra: list[str], needles: tuple[str, ...]
) -> None:
    _one_line_error(["--strategy", "sma_cross", *DATA, *extra], *needles)


def test_backtest_report_into_a_file_fails_before_running(tmp_path: Path) -> None:
    file = tmp_path / "taken"
    file.write_text("x")
    _one_line_error(
        ["--strategy", "sma_cross", *DATA, *DAY, "--report", str(file)], "is a file, not a folder"
    )
    _one_line_error(["--strategy", "sma_cross", *DATA, *DAY, "--report", str(file / "sub")], "under a file")


def test_backtest_report_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    code, stdout, err = _invoke(["--strategy", "sma_cross", *DATA, *DAY, "--report", str(out)])
    assert code == 0, stdout + err
    assert (out / "report.html").is_file() and (out / "metrics.json").is_file()


def test_arbitrage_on_one_instrument_names_the_strategy_and_the_problem() -> None:
    _one_line_error(
        ["--strategy", "arbitrage", *DATA, *DAY], "strategy 'arbitrage'", "exactly two instruments"
    )


def test_arbitrage_backtests_on_two_datasets_through_the_depeg() -> None:
    args = ["--strategy", "arbitrage", "--data", "binanceus-btcusd-1m", "--data", "binanceus-btcusdc-1m"]
    code, out, err = _invoke([*args, "--from", "2023-03-10", "--to", "2023-03-14", "--json"])
    assert code == 0, out + err
    report = json.loads(out)
    instruments = {f["instrument"] for f in report["fills"]}
    assert instruments == {"BTC/USD@paper", "BTC/USDC@paper"}
    depeg = [f for f in report["fills"] if f["time"].startswith("2023-03-11")]
    sides = {(f["instrument"], f["side"]): Decimal(f["price"]) for f in depeg}
    rich, cheap = sides[("BTC/USDC@paper", "sell")], sides[("BTC/USD@paper", "buy")]
    assert rich / cheap - 1 > Decimal("0.02")  # sold the rich USDC leg, bought the cheap USD one
    assert report["denied"] == 0


def test_data_takes_comma_separated_names_and_refuses_one_twice() -> None:
    _one_line_error(["--strategy", "sma_cross", "--data", "binanceus-btcusd-1m,binanceus-btcusd-1m"], "twice")


def test_user_strategy_with_a_syntax_error_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "strategies").mkdir()
    bad = tmp_path / "strategies" / "broken.py"
    bad.write_text("from pydantic import BaseModel\n\nclass Params(BaseModel:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    _one_line_error(["--strategy", "broken", *DATA, *DAY], f"{bad}: line 3: syntax error")


def test_user_strategy_that_raises_on_import_names_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "strategies").mkdir()
    bad = tmp_path / "strategies" / "oops.py"
    bad.write_text("X = 1\nY = undefined_name\n")
    monkeypatch.chdir(tmp_path)
    _one_line_error(["--strategy", "oops", *DATA, *DAY], f"{bad}: line 2: NameError")


def test_csv_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    _one_line_error(["--strategy", "sma_cross", "--csv", str(tmp_path)], "is a directory")


def test_csv_single_row_points_to_the_interval_option_which_works(tmp_path: Path) -> None:
    path = _csv(tmp_path / "one.csv", 1)
    _one_line_error(["--strategy", "sma_cross", "--csv", str(path)], "--interval SECONDS")
    code, out, err = _invoke(["--strategy", "sma_cross", "--csv", str(path), "--interval", "60", "--json"])
    assert code == 0, out + err
    assert json.loads(out)["bars"] == 1


def test_csv_unreadable_time_lists_the_accepted_formats(tmp_path: Path) -> None:
    path = _csv(tmp_path / "dots.csv", 3, stamp="2023.03.01")
    err = _one_line_error(["--strategy", "sma_cross", "--csv", str(path)], "'2023.03.01'", "ISO 8601")
    assert "is not like '2023.03.01'" not in err


def test_grid_where_every_combination_fails_exits_2_with_the_reasons() -> None:
    grid = ["--grid", "fast=40,50 slow=30", "--vectorized"]
    _one_line_error(
        ["--strategy", "sma_cross", *DATA, *DAY, *grid], "all 2 combinations failed", "fast must be"
    )


def test_grid_runs_on_a_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bars.csv", 400)
    args = ["--strategy", "sma_cross", "--csv", str(path), "--grid", "fast=5,40 slow=30", "--vectorized"]
    code, out, err = _invoke([*args, "--json"])
    assert code == 0, out + err
    rows = json.loads(out)
    assert [bool(r["error"]) for r in rows] == [False, True]
    assert rows[0]["metrics"]["fills"] > 0


def test_grid_refuses_report(tmp_path: Path) -> None:
    args = ["--strategy", "sma_cross", *DATA, "--grid", "fast=5", "--report", str(tmp_path)]
    _one_line_error(args, "--report", "--grid")


def test_plain_report_shows_every_metric_and_the_round_trips() -> None:
    code, out, err = _invoke(["--strategy", "sma_cross", *DATA, *DAY])
    assert code == 0, out + err
    for label in (
        "total return",
        "CAGR",
        "Sharpe",
        "Sortino",
        "max drawdown",
        "win rate",
        "exposure",
        "turnover",
        "fees",
        "round trips",
        "parameters: fast=10 slow=30 quantity=0.5",
    ):
        assert label in out, out
    assert " long  BTC/USD@paper  2023-03-10" in out


def test_json_trades_are_round_trips_and_numbers_are_typed_consistently() -> None:
    code, out, err = _invoke(["--strategy", "sma_cross", *DATA, *DAY, "--json"])
    assert code == 0, out + err
    report = json.loads(out)
    trips, fills = report["trades"], report["fills"]
    assert 0 < len(trips) < len(fills)
    assert set(trips[0]) == {
        "instrument",
        "side",
        "entry_time",
        "exit_time",
        "quantity",
        "entry_price",
        "exit_price",
        "fees",
        "pnl",
        "return",
    }
    for key in ("quantity", "entry_price", "exit_price", "fees", "pnl"):
        Decimal(trips[0][key])  # money, prices, quantities: decimal strings
    assert sum(Decimal(f["quantity"]) for f in fills if f["side"] == "buy") >= sum(
        Decimal(t["quantity"]) for t in trips
    )
    for key in ("start_equity", "final_equity", "fees"):
        assert isinstance(report[key], str)
        Decimal(report[key])
    ratios = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "win_rate", "exposure", "turnover")
    for key in ratios:
        assert isinstance(report[key], float | int), key


def test_fx_backtest_trades_with_an_fx_sized_default() -> None:
    code, out, err = _invoke(
        ["--strategy", "sma_cross", "--data", "oanda-eurusd-1h", "--to", "2017-03-01", "--json"]
    )
    assert code == 0, out + err
    report = json.loads(out)
    assert report["fills"] and report["approved"] > report["denied"]
    assert {Decimal(f["quantity"]) for f in report["fills"]} == {Decimal(10000)}


def test_every_bar_gives_the_same_backtest_as_the_quiet_path() -> None:
    code, quiet, err = _invoke(["--strategy", "sma_cross", *DATA, *DAY, "--json"])
    assert code == 0, err
    code, every, err = _invoke(["--strategy", "sma_cross", *DATA, *DAY, "--json", "--every-bar"])
    assert code == 0, err
    assert json.loads(quiet)["fills"]
    assert json.loads(quiet) == json.loads(every)
