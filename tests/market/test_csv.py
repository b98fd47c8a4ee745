"""load_csv on user files: accepted layouts, and one-line errors naming file and line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market import load_csv

WriteCsv = Callable[[str, str], Path]


def test_load_csv_reads_header_in_any_case_and_order(write_csv: WriteCsv) -> None:
    path = write_csv(
        "eurusd.csv",
        "Date,VOLUME,Close,Low,High,Open,Trades\n"
        "2024-01-02T00:00:00Z,1200,1.10450,1.10400,1.10480,1.10420,7\n"
        "2024-01-02T01:00:00Z,900,1.10500,1.10430,1.10520,1.10450,5\n",
    )
    bars = load_csv(path, instrument="EUR/USD@oanda", cache=None)
    assert len(bars) == 2
    assert bars.interval == 3600
    first = bars[0]
    assert first.instrument_id == "EUR/USD@oanda"
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("1.10420"), Decimal("1.10480"), Decimal("1.10400"), Decimal("1.10450"), Decimal("1200"),
    )  # fmt: skip
    assert first.ts == datetime(2024, 1, 2, tzinfo=UTC)


def test_load_csv_reads_headerless_unix_milliseconds_gzip(write_csv: WriteCsv) -> None:
    path = write_csv("btc.csv.gz", "1677628800000,10,12,9,11,1.5\n1677628860000,11,13,10,12,2.25\n")
    bars = load_csv(path, cache=None)
    assert bars.instrument_id == "btc@csv"
    assert bars.start == datetime(2023, 3, 1, tzinfo=UTC)
    assert bars.interval == 60
    assert bars[1].volume == Decimal("2.25")


def test_load_csv_reverses_newest_first_semicolon_file(write_csv: WriteCsv) -> None:
    path = write_csv(
        "desc.csv",
        "timestamp;open;high;low;close;volume\n1677628860;11;13;10;12;2\n1677628800;10;12;9;11;1\n",
    )
    bars = load_csv(path, cache=None)
    assert bars.close.tolist() == [11, 12]


def test_load_csv_reads_day_first_dukascopy_times(write_csv: WriteCsv) -> None:
    path = write_csv(
        "duka.csv",
        "Gmt time,Open,High,Low,Close,Volume\n"
        "02.01.2017 00:00:00.000,1.05283,1.05283,1.05268,1.05281,131399993.9\n"
        "02.01.2017 01:00:00.000,1.05282,1.05286,1.05225,1.0524,273940002.4\n",
    )
    bars = load_csv(path, interval="1h", cache=None)
    assert bars.start == datetime(2017, 1, 2, tzinfo=UTC)
    assert bars[1].close == Decimal("1.0524")


def test_load_csv_window_cuts_by_time(write_csv: WriteCsv) -> None:
    rows = "".join(f"2024-01-01T00:0{m}:00,1,1,1,1,1\n" for m in range(5))
    bars = load_csv(write_csv("w.csv", "time,open,high,low,close,volume\n" + rows), start="2024-01-01T00:01",
                    end="2024-01-01T00:03", cache=None)  # fmt: skip
    assert len(bars) == 2


HEADER = "time,open,high,low,close,volume\n"
GOOD = "2024-01-01T00:00:00Z,10,12,9,11,1\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HEADER + GOOD + "2024-01-01T00:01:00Z,10,abc,9,11,1\n", "line 3: high is 'abc', not a number"),
        (
            HEADER + GOOD + "2024-01-01T00:01:00Z,10,10.5,9,11,1\n",
            "line 3: high 10.5 is below open 10.0 or close 11.0",
        ),
        (HEADER + GOOD + "2024-01-01T00:01:00Z,10,12,10.5,11,1\n", "line 3: low 10.5 is above open"),
        (HEADER + GOOD + "2024-01-01T00:01:00Z,10,12,9,11,-1\n", "line 3: volume -1.0 is negative"),
        (HEADER + GOOD + "2024-01-01T00:01:00Z,0,12,0,11,1\n", "line 3: prices must be above zero"),
        (HEADER + GOOD + GOOD, "line 3: time '2024-01-01T00:00:00Z' is not after the previous row's"),
        (HEADER + GOOD + "yesterday,10,12,9,11,1\n", "line 3: time 'yesterday' is not like"),
        (HEADER + GOOD + "2024-01-01T00:01:00Z,10,12\n", "line 3: expected at least 6 fields, found 3"),
        (HEADER + GOOD + "2024-01-01T00:01:00Z,10,nan,9,11,1\n", "line 3: high nan is not a finite number"),
        ("time,open,high,low,close\n" + GOOD, "line 1: no volume column"),
        ("price,amount\n1,2\n", "line 1: no header naming time, open, high, low, close, volume"),
        (HEADER, "no data rows"),
        (HEADER + GOOD, "cannot infer the bar interval from a single row"),
        (HEADER + GOOD, "--interval SECONDS"),
        (
            HEADER + "2023.03.01,10,12,9,11,1\n2023.03.02,10,12,9,11,1\n",
            "line 2: time '2023.03.01' is not a time Gekko reads; accepted: ISO 8601",
        ),
    ],
)
def test_load_csv_bad_file_raises_one_line_invalid_input(
    write_csv: WriteCsv, body: str, message: str
) -> None:
    path = write_csv("bad.csv", body)
    with pytest.raises(InvalidInput) as caught:
        load_csv(path, cache=None)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    assert message in text


def test_load_csv_not_a_csv_raises_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(InvalidInput, match="not a readable CSV file"):
        load_csv(path, cache=None)


def test_load_csv_missing_file_raises_data_not_found(tmp_path: Path) -> None:
    with pytest.raises(DataNotFound, match="no such file"):
        load_csv(tmp_path / "nope.csv", cache=None)


def test_load_csv_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a directory, not a CSV file"):
        load_csv(tmp_path, cache=None)
