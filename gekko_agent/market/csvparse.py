"""Parse OHLCV CSV files (plain or gzip) into a :class:`BarArray`, with one-line errors.

Accepted layout: a time column, then open, high, low, close and volume, named in any case and order
(``Open``/``o``, ``Vol``/``volume``…; other columns are ignored). A file without a header must have
``time, open, high, low, close, volume`` in that order (extra trailing columns are ignored, as in
Kraken's exports). Separators: comma, semicolon or tab. Times: ISO 8601 (``2023-03-01 00:00:00+00:00``,
``2023-03-01T00:00Z``, ``2023-03-01``; naive means UTC), unix seconds / milliseconds / microseconds /
nanoseconds (told apart by magnitude), or day-first ``01.01.2017 22:00:00.000`` (Dukascopy exports).
Rows may run oldest-first or newest-first; anything else (duplicates, disorder) is an error.

Every problem raises :class:`~gekko_agent.errors.InvalidInput` with one line naming the file, the
line and what is wrong, e.g. ``prices.csv: line 12: high 101.5 is below close 102.0``.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.errors import DataNotFound, InvalidInput
from gekko_agent.market.bararray import BarArray, FloatArray, IntArray

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

__all__ = ["TIME_FORMATS", "ProgressFn", "parse_csv"]

TIME_FORMATS = (
    "accepted: ISO 8601 (2023-03-01, 2023-03-01 12:00, 2023-03-01T12:00:00Z), unix seconds, ms, us "
    "or ns, or day first 01.03.2023 12:00[:00[.000]]"
)
"""The time layouts a CSV file may use, as error messages say them."""

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(bytes_read, bytes_total)`` while a file is read."""

_FIELDS = ("open", "high", "low", "close", "volume")
_ALIASES = {
    "open": {"open", "o", "openprice"},
    "high": {"high", "h", "highprice"},
    "low": {"low", "l", "lowprice"},
    "close": {"close", "c", "closeprice", "last"},
    "volume": {"volume", "vol", "v", "basevolume", "volumebase"},
}
_TIME_NAMES = {"time", "date", "datetime", "timestamp", "ts", "t", "opentime", "gmttime", "unix"}
_UNIX = re.compile(r"^-?\d+(\.\d+)?$")
_DMY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_MAX_DIGITS = 15  # float64 keeps any decimal of up to 15 significant digits exactly
_PROGRESS_EVERY = 8192


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lower())


def _header_columns(row: Sequence[str]) -> dict[str, int] | None:
    """Column index of time and each OHLCV field when ``row`` is a header, else None."""
    names = [_norm(cell) for cell in row]
    found: dict[str, int] = {}
    for field in _FIELDS:
        for i, name in enumerate(names):
            if name in _ALIASES[field] and i not in found.values():
                found[field] = i
                break
    if len(found) < 3:
        return None
    taken = set(found.values())
    time_col = next((i for i, n in enumerate(names) if i not in taken and n in _TIME_NAMES), None)
    if time_col is None:
        time_col = next(
            (i for i, n in enumerate(names) if i not in taken and ("time" in n or "date" in n)), None
        )
    if time_col is None and 0 not in taken:
        time_col = 0
    if time_col is not None:
        found["time"] = time_col
    return found


def _sniff_delimiter(line: str) -> str:
    return max((",", ";", "\t"), key=line.count)


def _open_text(raw: io.BufferedReader) -> io.TextIOWrapper:
    stream: gzip.GzipFile | io.BufferedReader = raw
    if raw.peek(2)[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=raw, mode="rb")
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _places(texts: Sequence[str]) -> int:
    """Most decimal places any of ``texts`` is written with (``1.3e-05`` has 6)."""
    best = 0
    for text in texts:
        if "e" in text or "E" in text:
            exponent = Decimal(text).as_tuple().exponent
            places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        else:
            dot = text.find(".")
            places = len(text.rstrip()) - dot - 1 if dot >= 0 else 0
        best = max(best, places)
    return best


def _precision(texts_by_col: Sequence[Sequence[str]], values: Sequence[FloatArray]) -> int:
    places = max(_places(texts) for texts in texts_by_col)
    biggest = max(float(np.max(np.abs(v))) for v in values)
    int_digits = len(str(int(biggest))) if biggest >= 1 else 0
    return max(0, min(places, _MAX_DIGITS - int_digits))


class _Reader:
    """One pass over a file; holds what error messages need (file name, line numbers)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.times: list[str] = []
        self.cols: list[list[str]] = [[] for _ in _FIELDS]
        self.lines: list[int] = []

    def fail(self, problem: str, row: int | None = None) -> InvalidInput:
        where = f"line {self.lines[row]}: " if row is not None else ""
        return InvalidInput(f"{self.path}: {where}{problem}")

    def read(self, progress: ProgressFn | None) -> None:
        try:
            total = self.path.stat().st_size
            with self.path.open("rb") as raw, _open_text(raw) as text:
                first = text.readline()
                reader = csv.reader(itertools.chain([first], text), delimiter=_sniff_delimiter(first))
                self._consume(reader, lambda: progress(raw.tell(), total) if progress else None)
                if progress:
                    progress(total, total)
        except FileNotFoundError:
            raise DataNotFound(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise InvalidInput(f"{self.path}: is a directory, not a CSV file") from None
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, csv.Error) as exc:
            raise InvalidInput(f"{self.path}: not a readable CSV file ({exc})") from None

    def _consume(self, reader: CsvReader, tick: Callable[[], None]) -> None:
        columns: dict[str, int] | None = None
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header_columns(row)
                if columns is not None:
                    missing = [f for f in ("time", *_FIELDS) if f not in columns]
                    if missing:
                        raise InvalidInput(
                            f"{self.path}: line {reader.line_num}: no {', '.join(missing)} column "
                            f"(header is {', '.join(c.strip() for c in row)})"
                        )
                    continue
                if not _looks_like_time(row[0].strip()):
                    raise InvalidInput(
                        f"{self.path}: line {reader.line_num}: no header naming time, open, high, low, "
                        f"close, volume, and the first field {row[0].strip()!r} is not a time "
                        f"({TIME_FORMATS})"
                    )
                columns = {"time": 0, **{f: i + 1 for i, f in enumerate(_FIELDS)}}
            order = [columns[f] for f in _FIELDS]
            width = max(columns.values()) + 1
            if len(row) < width:
                raise InvalidInput(
                    f"{self.path}: line {reader.line_num}: expected at least {width} fields, found {len(row)}"
                )
            self.times.append(row[columns["time"]].strip())
            for store, i in zip(self.cols, order, strict=True):
                store.append(row[i].strip())
            self.lines.append(reader.line_num)
            if len(self.lines) % _PROGRESS_EVERY == 0:
                tick()
        if not self.lines:
            raise InvalidInput(f"{self.path}: no data rows")

    def numbers(self, field: str, texts: list[str]) -> FloatArray:
        try:
            return np.array(texts, dtype=np.float64)
        except ValueError:
            for i, text in enumerate(texts):
                try:
                    float(text)
                except ValueError:
                    raise self.fail(f"{field} is {text!r}, not a number", i) from None
            raise

    def timestamps(self) -> IntArray:
        first = self.times[0]
        if _UNIX.match(first):
            return self._unix()
        parse = _parse_dmy if _DMY.match(first) else _parse_iso
        out = np.empty(len(self.times), dtype=np.int64)
        for i, text in enumerate(self.times):
            try:
                out[i] = parse(text)
            except ValueError:
                if i == 0:
                    raise self.fail(f"time {text!r} is not a time Gekko reads; {TIME_FORMATS}", i) from None
                raise self.fail(f"time {text!r} is not like the first row's {first!r}", i) from None
        return out

    def _unix(self) -> IntArray:
        integral = all("." not in t for t in self.times)
        try:
            raw = np.array(self.times).astype(np.int64 if integral else np.float64)
        except ValueError:
            for i, text in enumerate(self.times):
                if not _UNIX.match(text):
                    raise self.fail(
                        f"time {text!r} is not a unix timestamp like {self.times[0]!r}", i
                    ) from None
            raise
        magnitude = abs(float(raw[0]))
        scale = 10**9 if magnitude < 1e11 else 10**6 if magnitude < 1e14 else 10**3 if magnitude < 1e17 else 1
        if integral:
            return raw.astype(np.int64) * scale
        return np.round(raw * scale).astype(np.int64)


def _looks_like_time(text: str) -> bool:
    if _UNIX.match(text) or _DMY.match(text):
        return True
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse_iso(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ((moment - _EPOCH) // _US) * 1000


def _parse_dmy(text: str) -> int:
    match = _DMY.match(text)
    if not match:
        raise ValueError(text)
    day, month, year, hour, minute, second, frac = match.groups()
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
        int((frac or "0").ljust(6, "0")), tzinfo=UTC,
    )  # fmt: skip
    return ((moment - _EPOCH) // _US) * 1000


def _check(
    reader: _Reader, o: FloatArray, h: FloatArray, lo: FloatArray, c: FloatArray, v: FloatArray
) -> None:
    """Raise on the first row whose values cannot be a real bar."""
    rules: list[tuple[npt.NDArray[np.bool_], Callable[[int], str]]] = [
        (~np.isfinite(o), lambda i: f"open {o[i]} is not a finite number"),
        (~np.isfinite(h), lambda i: f"high {h[i]} is not a finite number"),
        (~np.isfinite(lo), lambda i: f"low {lo[i]} is not a finite number"),
        (~np.isfinite(c), lambda i: f"close {c[i]} is not a finite number"),
        (~np.isfinite(v), lambda i: f"volume {v[i]} is not a finite number"),
        (np.minimum(np.minimum(o, c), lo) <= 0, lambda i: "prices must be above zero"),
        (v < 0, lambda i: f"volume {v[i]} is negative"),
        (h < lo, lambda i: f"high {h[i]} is below low {lo[i]}"),
        (h < np.maximum(o, c), lambda i: f"high {h[i]} is below open {o[i]} or close {c[i]}"),
        (lo > np.minimum(o, c), lambda i: f"low {lo[i]} is above open {o[i]} or close {c[i]}"),
    ]
    for bad, message in rules:
        if bool(bad.any()):
            i = int(np.argmax(bad))
            raise reader.fail(message(i), i)


def parse_csv(
    path: Path,
    *,
    instrument_id: InstrumentId,
    interval: int | None = None,
    progress: ProgressFn | None = None,
) -> BarArray:
    """Read and check one OHLCV file (see the module docstring for the accepted layout).

    Args:
        path: a ``.csv`` file, plain or gzip-compressed (told apart by content, not name).
        instrument_id: the instrument the bars are labelled with.
        interval: bar length in seconds; None infers it as the most common gap between rows.
        progress: called with bytes read so far and the file size.

    Raises:
        DataNotFound: the file does not exist.
        InvalidInput: a malformed file or row (one line naming file, line and problem).
    """
    reader = _Reader(path)
    reader.read(progress)
    ts = reader.timestamps()
    o, h, lo, c, v = (reader.numbers(f, col) for f, col in zip(_FIELDS, reader.cols, strict=True))
    _check(reader, o, h, lo, c, v)
    if len(ts) > 1:
        step = np.diff(ts)
        if bool(np.all(step < 0)):
            ts = ts[::-1]
            o, h, lo, c, v = o[::-1], h[::-1], lo[::-1], c[::-1], v[::-1]
        elif not bool(np.all(step > 0)):
            i = int(np.argmax(step <= 0)) + 1
            raise reader.fail(
                f"time {reader.times[i]!r} is not after the previous row's {reader.times[i - 1]!r} "
                "(rows must be in time order, without duplicates)",
                i,
            )
    if interval is None:
        if len(ts) < 2:
            raise reader.fail(
                "cannot infer the bar interval from a single row; give it "
                "(gekko backtest --interval SECONDS, or load_csv(..., interval=...))"
            )
        gaps, counts = np.unique(np.abs(np.diff(ts)), return_counts=True)
        interval = max(1, int(gaps[int(np.argmax(counts))]) // 10**9)
    return BarArray(
        instrument_id=instrument_id,
        interval=interval,
        ts=ts,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
        price_decimals=_precision(reader.cols[:4], (o, h, lo, c)),
        volume_decimals=_precision(reader.cols[4:], (v,)),
    )
