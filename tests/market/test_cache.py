"""The DuckDB cache: hits after a first load, invalidation when the file changes, graceful fallback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gekko_agent.market import BarCache, is_cached, load_csv

WriteCsv = Callable[[str, str], Path]
HEADER = "time,open,high,low,close,volume\n"
ROWS = "2024-01-01T00:00:00Z,10,12,9,11,1\n2024-01-01T00:01:00Z,11,13,10,12,2\n"


def test_load_csv_second_load_hits_cache(write_csv: WriteCsv, tmp_path: Path) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    cache = BarCache(tmp_path / "c" / "market.duckdb")
    assert not is_cached(path, cache)
    first = load_csv(path, cache=cache)
    assert is_cached(path, cache)
    entry = cache.lookup(path)
    assert entry is not None
    assert entry.rows == 2
    second = load_csv(path, instrument="BTC/USD@x", cache=cache)
    assert second.instrument_id == "BTC/USD@x"
    assert second.close.tolist() == first.close.tolist()
    assert (second.price_decimals, second.volume_decimals) == (first.price_decimals, first.volume_decimals)


def test_load_csv_same_size_and_mtime_reads_cache_not_file(write_csv: WriteCsv, tmp_path: Path) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    cache = BarCache(tmp_path / "market.duckdb")
    load_csv(path, cache=cache)
    stat = path.stat()
    path.write_text(HEADER + ROWS.replace("10,12,2\n", "10,12,3\n"))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_csv(path, cache=cache).volume.tolist() == [1, 2]  # served from the cache


def test_load_csv_after_file_changes_parses_again(write_csv: WriteCsv, tmp_path: Path) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    cache = BarCache(tmp_path / "market.duckdb")
    load_csv(path, cache=cache)
    with path.open("a") as fh:
        fh.write("2024-01-01T00:02:00Z,12,14,11,13,3\n")
    assert not is_cached(path, cache)
    assert len(load_csv(path, cache=cache)) == 3
    assert is_cached(path, cache)


def test_load_csv_same_size_new_mtime_parses_again(write_csv: WriteCsv, tmp_path: Path) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    cache = BarCache(tmp_path / "market.duckdb")
    load_csv(path, cache=cache)
    stat = path.stat()
    path.write_text(HEADER + ROWS.replace("10,12,2\n", "10,12,3\n"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_csv(path, cache=cache).volume.tolist() == [1, 3]


def test_load_csv_without_cache_writes_no_file(write_csv: WriteCsv, tmp_path: Path) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    load_csv(path, cache=None)
    assert not list(tmp_path.rglob("*.duckdb"))


def test_unusable_cache_path_falls_back_to_parsing(
    write_csv: WriteCsv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_csv("a.csv", HEADER + ROWS)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    bars = load_csv(path, cache=blocker / "market.duckdb")
    assert len(bars) == 2
    assert "loading without it" in caplog.text


def test_cache_entries_and_clear_report_counts(write_csv: WriteCsv, tmp_path: Path) -> None:
    cache = BarCache(tmp_path / "market.duckdb")
    load_csv(write_csv("a.csv", HEADER + ROWS), cache=cache)
    load_csv(write_csv("b.csv", HEADER + ROWS), cache=cache)
    assert [Path(e.key).name for e in cache.entries()] == ["a.csv", "b.csv"]
    assert cache.clear() == 2
    assert cache.entries() == []
