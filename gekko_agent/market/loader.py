"""Load bars: bundled datasets by name (:func:`load_bars`) and any OHLCV CSV file (:func:`load_csv`).

Both go through the same parser and the same DuckDB cache: the first load of a file parses it and
stores the result; later loads read the cache until the file's size or mtime changes. Pass
``cache=None`` to skip the cache entirely.

Example::

    from gekko_agent.market import load_bars, resample

    bars = load_bars("binanceus-btcusd-1m", start="2023-03-10", end="2023-03-12")
    hourly = resample(bars, "1h")
    last = hourly[-1]            # a gekko_agent.domain.Bar with Decimal prices
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market.bararray import BarArray, TimeLike
from gekko_agent.market.cache import DEFAULT_CACHE, BarCache
from gekko_agent.market.catalog import Dataset, get_dataset
from gekko_agent.market.csvparse import ProgressFn, parse_csv
from gekko_agent.market.resample import parse_interval

__all__ = ["is_cached", "load_bars", "load_csv", "load_dataset"]


def _cache(cache: Path | BarCache | None) -> BarCache | None:
    if cache is None or isinstance(cache, BarCache):
        return cache
    return BarCache(cache)


def _load(
    path: Path,
    iid: InstrumentId,
    interval: int | None,
    cache: BarCache | None,
    progress: ProgressFn | None,
) -> BarArray:
    if path.is_dir():
        raise InvalidInput(f"{path}: is a directory, not a CSV file")
    if not path.exists():
        raise DataNotFound(f"{path}: no such file")
    if not path.is_file():
        raise InvalidInput(f"{path}: is not a regular file")
    bars = cache.get(path, iid) if cache is not None else None
    if bars is None:
        bars = parse_csv(path, instrument_id=iid, interval=interval, progress=progress)
        if cache is not None:
            cache.put(path, bars)
    elif interval is not None and bars.interval != interval:
        bars = replace(bars, interval=interval)
    return bars


def load_dataset(
    dataset: Dataset,
    *,
    cache: Path | BarCache | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
) -> BarArray:
    """Every bar of a bundled :class:`Dataset`, labelled with its instrument id."""
    path = dataset.path
    if not path.is_file():
        raise DataNotFound(f"dataset {dataset.name}: file {path} is missing from this installation")
    return _load(path, dataset.instrument_id, dataset.interval, _cache(cache), progress)


def load_bars(
    name: str,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    cache: Path | BarCache | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
) -> BarArray:
    """Bars of the bundled dataset ``name`` (see ``gekko data list``), optionally cut to a window.

    Args:
        name: catalog name, e.g. ``binanceus-btcusd-1m``.
        start: keep bars opening at or after this time (UTC when naive); None: from the first.
        end: keep bars opening before this time (exclusive); None: to the last.
        cache: DuckDB cache file, a :class:`BarCache`, or None for no cache.
        progress: called with ``(bytes_read, bytes_total)`` while a file is parsed (cold loads only).

    Raises:
        DataNotFound: unknown dataset name.
        InvalidInput: ``start``/``end`` not a time, or ``end`` before ``start``.
    """
    bars = load_dataset(get_dataset(name), cache=cache, progress=progress)
    return _window(bars, start, end)


def load_csv(
    path: str | Path,
    *,
    instrument: InstrumentId | None = None,
    interval: str | int | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    cache: Path | BarCache | None = DEFAULT_CACHE,
    progress: ProgressFn | None = None,
) -> BarArray:
    """Bars from any OHLCV CSV file (plain or gzip); see :mod:`gekko_agent.market.csvparse` for layouts.

    Args:
        path: the file.
        instrument: ``SYMBOL@venue`` to label the bars with; default ``<FILE STEM>@csv``.
        interval: bar length (``"1m"``, ``"1h"`` or seconds); default: the most common gap between rows.
        start: keep bars opening at or after this time.
        end: keep bars opening before this time (exclusive).
        cache: DuckDB cache file, a :class:`BarCache`, or None for no cache.
        progress: called with ``(bytes_read, bytes_total)`` while the file is parsed.

    Raises:
        DataNotFound: the file does not exist.
        InvalidInput: a directory, a malformed file or row; one line naming the file, the line and the
            problem.
    """
    file = Path(path).expanduser()
    iid = instrument or f"{file.name.split('.')[0]}@csv"
    seconds = None if interval is None else parse_interval(interval)
    bars = _load(file, iid, seconds, _cache(cache), progress)
    return _window(bars, start, end)


def is_cached(source: str | Path | Dataset, cache: Path | BarCache | None = DEFAULT_CACHE) -> bool:
    """True when loading ``source`` (a dataset name, a :class:`Dataset` or a file) will hit the cache."""
    store = _cache(cache)
    if store is None:
        return False
    if isinstance(source, Dataset):
        path = source.path
    elif isinstance(source, str) and not Path(source).expanduser().exists():
        path = get_dataset(source).path
    else:
        path = Path(source).expanduser()
    return path.is_file() and store.lookup(path) is not None


def _window(bars: BarArray, start: TimeLike | None, end: TimeLike | None) -> BarArray:
    return bars if start is None and end is None else bars.between(start, end)
