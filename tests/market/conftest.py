"""Fixtures for the market-data tests: one DuckDB cache per session, source rows read with csv."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from gekko_agent.market import BarCache, Dataset


@pytest.fixture(scope="session")
def market_cache(tmp_path_factory: pytest.TempPathFactory) -> BarCache:
    """A cache shared by the session so each bundled file is parsed once."""
    return BarCache(tmp_path_factory.mktemp("cache") / "market.duckdb")


def _source_rows(dataset: Dataset) -> list[list[str]]:
    with gzip.open(dataset.path, "rt", newline="") as fh:
        rows = [row for row in csv.reader(fh) if row]
    return rows[1:] if not rows[0][0][:1].isdigit() else rows


@pytest.fixture(scope="session")
def source_rows() -> Callable[[Dataset], list[list[str]]]:
    """Read a dataset's rows as text, exactly as written (header dropped when there is one)."""
    return _source_rows


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write ``text`` to ``tmp_path/name`` (gzip when the name ends in .gz) and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        data = text.encode()
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return path

    return write
