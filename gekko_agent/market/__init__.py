"""Market data: bundled real bars, any OHLCV CSV, a DuckDB cache, resampling.

Public API::

    list_datasets() / get_dataset(name)      the catalog of bundled data (Dataset)
    load_bars(name, start=None, end=None)    a bundled dataset as a BarArray
    load_csv(path, ...)                      any OHLCV CSV file (plain or gzip) as a BarArray
    resample(bars, "5m" | "15m" | "1h" | "1d")
    fetch_history(venue, iid, interval, start, end, store)   venue OHLCV into the DuckDB store
    load_fetched(iid, interval, start, end)  fetched bars as a BarArray
    BarArray.to_bars()                       domain Bars with Decimal prices

numpy is imported here; duckdb only when the cache is first used.
"""

from __future__ import annotations

from gekko_agent.market.bararray import BarArray, TimeLike, format_ts, to_ns
from gekko_agent.market.cache import DEFAULT_CACHE, BarCache, CacheEntry
from gekko_agent.market.catalog import DATASETS, Dataset, data_dir, get_dataset, list_datasets
from gekko_agent.market.csvparse import ProgressFn, parse_csv
from gekko_agent.market.fetched import FetchedBarStore, FetchedSeries
from gekko_agent.market.history import FetchReport, fetch_history, load_fetched
from gekko_agent.market.loader import is_cached, load_bars, load_csv, load_dataset
from gekko_agent.market.resample import INTERVALS, format_interval, parse_interval, resample

__all__ = [
    "DATASETS",
    "DEFAULT_CACHE",
    "INTERVALS",
    "BarArray",
    "BarCache",
    "CacheEntry",
    "Dataset",
    "FetchReport",
    "FetchedBarStore",
    "FetchedSeries",
    "ProgressFn",
    "TimeLike",
    "data_dir",
    "fetch_history",
    "format_interval",
    "format_ts",
    "get_dataset",
    "is_cached",
    "list_datasets",
    "load_bars",
    "load_csv",
    "load_dataset",
    "load_fetched",
    "parse_csv",
    "parse_interval",
    "resample",
    "to_ns",
]
