"""Bars downloaded from venues, kept Decimal-exact in DuckDB beside the file cache.

:class:`FetchedBarStore` lives in the same DuckDB file as :class:`~gekko_agent.market.BarCache`
(``var/cache/market.duckdb`` by default) but in tables of its own. Unlike the file cache it is not
disposable: what it holds was paid for in venue requests, so a store that cannot be opened raises
:class:`~gekko_agent.errors.InvalidInput` (one line naming the file) instead of carrying on without it.

Schema::

    fetched_bars(instrument_id, interval, ts, open, high, low, close, volume, fetched_at)
        ts BIGINT: open time, ns since the epoch, UTC; prices and volume DECIMAL(38,18)
        primary key (instrument_id, interval, ts); a bar once stored is never rewritten
    fetched_gaps(instrument_id, interval, gap_start, gap_end, checked_at)
        [gap_start, gap_end) in ns: the venue was asked for this span and has no bars in it
    fetched_series(instrument_id, interval, price_dp, volume_dp)
        the most decimal places seen, so :meth:`FetchedBarStore.load` rebuilds exact Decimals

Values with more than 18 decimal places are rounded to 18 (no venue quotes that finely).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.errors import InvalidInput
from gekko_agent.market.bararray import BarArray, IntArray, TimeLike, to_ns
from gekko_agent.market.cache import DEFAULT_CACHE

if TYPE_CHECKING:
    import duckdb

__all__ = ["FetchedBarStore", "FetchedSeries", "Span"]

Span = tuple[int, int]
"""A half-open time span ``[start, end)`` in nanoseconds since the epoch (UTC)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_COLUMNS = ("open", "high", "low", "close", "volume")
_DDL = """
CREATE TABLE IF NOT EXISTS fetched_bars (
    instrument_id VARCHAR NOT NULL, interval INTEGER NOT NULL, ts BIGINT NOT NULL,
    open DECIMAL(38,18) NOT NULL, high DECIMAL(38,18) NOT NULL, low DECIMAL(38,18) NOT NULL,
    close DECIMAL(38,18) NOT NULL, volume DECIMAL(38,18) NOT NULL,
    fetched_at TIMESTAMPTZ DEFAULT current_timestamp,
    PRIMARY KEY (instrument_id, interval, ts)
);
CREATE TABLE IF NOT EXISTS fetched_gaps (
    instrument_id VARCHAR NOT NULL, interval INTEGER NOT NULL, gap_start BIGINT NOT NULL,
    gap_end BIGINT NOT NULL, checked_at TIMESTAMPTZ DEFAULT current_timestamp,
    PRIMARY KEY (instrument_id, interval, gap_start)
);
CREATE TABLE IF NOT EXISTS fetched_series (
    instrument_id VARCHAR NOT NULL, interval INTEGER NOT NULL, price_dp INTEGER NOT NULL,
    volume_dp INTEGER NOT NULL, PRIMARY KEY (instrument_id, interval)
);
"""


@dataclass(frozen=True, slots=True)
class FetchedSeries:
    """What the store holds for one instrument and interval.

    Attributes:
        instrument_id: ``SYMBOL@venue``.
        interval: bar length in seconds.
        rows: bars stored.
        first: open time of the first bar (UTC).
        last: open time of the last bar (UTC).
        known_gaps: spans the venue was asked for and had no bars in.
    """

    instrument_id: InstrumentId
    interval: int
    rows: int
    first: datetime
    last: datetime
    known_gaps: int


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _plain(value: Decimal) -> Decimal:
    """Trailing zeros dropped, never in exponent form: ``30000.000…`` → ``30000``, ``1.50…`` → ``1.5``."""
    short = value.normalize()
    exponent = short.as_tuple().exponent
    return short.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else short


def _moment(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1000)


class FetchedBarStore:
    """Venue-fetched bars per ``(instrument, interval)`` with the gaps the venue is known to have.

    Args:
        path: the DuckDB file (created with its folder on first write).
    """

    def __init__(self, path: Path = DEFAULT_CACHE) -> None:
        self.path = Path(path)
        self._held: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self) -> Iterator[FetchedBarStore]:
        """Keep one connection open for the block (a download writes once per page); re-entrant."""
        if self._held is not None:
            yield self
            return
        with self._connect() as con:
            self._held = con
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        import duckdb

        if self._held is not None:
            yield self._held
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidInput(f"market store {self.path} cannot be opened: {first}") from None
        try:
            con.execute(_DDL)
            yield con
        finally:
            con.close()

    def put(self, bars: Sequence[Bar]) -> int:
        """Store ``bars`` (one instrument and interval); stored bars are kept. Returns how many were new."""
        if not bars:
            return 0
        iid, interval = bars[0].instrument_id, bars[0].interval
        if any(b.instrument_id != iid or b.interval != interval for b in bars):
            raise InvalidInput("FetchedBarStore.put takes bars of one instrument and interval at a time")
        frame: dict[str, object] = {"ts": np.fromiter((to_ns(b.ts) for b in bars), np.int64, len(bars))}
        for name in _COLUMNS:
            frame[name] = np.array([f"{getattr(b, name):f}" for b in bars], dtype=object)
        price_dp = max(_places(getattr(b, n)) for b in bars for n in _COLUMNS[:4])
        volume_dp = max(_places(b.volume) for b in bars)
        casts = ", ".join(f"CAST({n} AS DECIMAL(38,18))" for n in _COLUMNS)
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("incoming", frame)
                columns = ", ".join(_COLUMNS)
                row = con.execute(
                    f"INSERT OR IGNORE INTO fetched_bars (instrument_id, interval, ts, {columns}) "
                    f"SELECT ?, ?, ts, {casts} FROM incoming ORDER BY ts",
                    [iid, interval],
                ).fetchone()
                con.unregister("incoming")
                con.execute(
                    "INSERT INTO fetched_series VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                    "price_dp = greatest(price_dp, excluded.price_dp), "
                    "volume_dp = greatest(volume_dp, excluded.volume_dp)",
                    [iid, interval, min(price_dp, 18), min(volume_dp, 18)],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return int(row[0]) if row else 0

    def times(
        self, iid: InstrumentId, interval: int, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> IntArray:
        """Open times (ns) of the stored bars in ``[start, end)``, ascending."""
        lo = -(2**63) if start is None else to_ns(start)
        hi = 2**63 - 1 if end is None else to_ns(end)
        with self._connect() as con:
            cols = con.execute(
                "SELECT ts FROM fetched_bars WHERE instrument_id = ? AND interval = ? AND ts >= ? AND ts < ? "
                "ORDER BY ts",
                [iid, interval, lo, hi],
            ).fetchnumpy()
        return np.asarray(cols["ts"], dtype=np.int64)

    def gaps(self, iid: InstrumentId, interval: int) -> list[Span]:
        """Spans the venue was asked for and had no bars in, ascending."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT gap_start, gap_end FROM fetched_gaps WHERE instrument_id = ? AND interval = ? "
                "ORDER BY gap_start",
                [iid, interval],
            ).fetchall()
        return [(int(a), int(b)) for a, b in rows]

    def add_gaps(self, iid: InstrumentId, interval: int, spans: Iterable[Span]) -> int:
        """Record ``spans`` as known gaps (a span already recorded from the same start is widened)."""
        rows = [[iid, interval, a, b] for a, b in spans if b > a]
        if not rows:
            return 0
        with self._connect() as con:
            con.executemany(
                "INSERT INTO fetched_gaps (instrument_id, interval, gap_start, gap_end) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO UPDATE SET gap_end = greatest(gap_end, excluded.gap_end), "
                "checked_at = now()",
                rows,
            )
        return len(rows)

    def bars(
        self, iid: InstrumentId, interval: int, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> tuple[Bar, ...]:
        """Stored bars opening in ``[start, end)`` as domain Bars, Decimal values straight from DuckDB."""
        lo = -(2**63) if start is None else to_ns(start)
        hi = 2**63 - 1 if end is None else to_ns(end)
        with self._connect() as con:
            rows = con.execute(
                f"SELECT ts, {', '.join(_COLUMNS)} FROM fetched_bars "
                "WHERE instrument_id = ? AND interval = ? AND ts >= ? AND ts < ? ORDER BY ts",
                [iid, interval, lo, hi],
            ).fetchall()
        return tuple(
            Bar(iid, _moment(int(t)), _plain(o), _plain(h), _plain(lw), _plain(c), _plain(v), interval)
            for t, o, h, lw, c, v in rows
        )  # fmt: skip

    def load(
        self, iid: InstrumentId, interval: int, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> BarArray:
        """Stored bars opening in ``[start, end)`` as a :class:`BarArray` (empty when none)."""
        lo = -(2**63) if start is None else to_ns(start)
        hi = 2**63 - 1 if end is None else to_ns(end)
        casts = ", ".join(f"CAST({n} AS DOUBLE) AS {n}" for n in _COLUMNS)
        with self._connect() as con:
            meta = con.execute(
                "SELECT price_dp, volume_dp FROM fetched_series WHERE instrument_id = ? AND interval = ?",
                [iid, interval],
            ).fetchone()
            cols = con.execute(
                f"SELECT ts, {casts} FROM fetched_bars "
                "WHERE instrument_id = ? AND interval = ? AND ts >= ? AND ts < ? ORDER BY ts",
                [iid, interval, lo, hi],
            ).fetchnumpy()
        price_dp, volume_dp = (int(meta[0]), int(meta[1])) if meta else (8, 8)
        return BarArray(
            instrument_id=iid,
            interval=interval,
            ts=np.asarray(cols["ts"], dtype=np.int64),
            open=np.asarray(cols["open"], dtype=np.float64),
            high=np.asarray(cols["high"], dtype=np.float64),
            low=np.asarray(cols["low"], dtype=np.float64),
            close=np.asarray(cols["close"], dtype=np.float64),
            volume=np.asarray(cols["volume"], dtype=np.float64),
            price_decimals=price_dp,
            volume_decimals=volume_dp,
        )

    def delete(
        self, iid: InstrumentId, interval: int, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> int:
        """Forget bars opening in ``[start, end)`` and known gaps starting there; returns bars removed."""
        lo = -(2**63) if start is None else to_ns(start)
        hi = 2**63 - 1 if end is None else to_ns(end)
        where = "instrument_id = ? AND interval = ? AND {col} >= ? AND {col} < ?"
        with self._connect() as con:
            row = con.execute(
                f"DELETE FROM fetched_bars WHERE {where.format(col='ts')}",
                [iid, interval, lo, hi],
            ).fetchone()
            con.execute(
                f"DELETE FROM fetched_gaps WHERE {where.format(col='gap_start')}",
                [iid, interval, lo, hi],
            )
        return int(row[0]) if row else 0

    def series(self) -> list[FetchedSeries]:
        """Every stored ``(instrument, interval)`` with its row count, range and known gaps."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT b.instrument_id, b.interval, count(*), min(ts), max(ts), "
                "(SELECT count(*) FROM fetched_gaps g "
                " WHERE g.instrument_id = b.instrument_id AND g.interval = b.interval) "
                "FROM fetched_bars b GROUP BY b.instrument_id, b.interval ORDER BY 1, 2"
            ).fetchall()
        return [
            FetchedSeries(str(i), int(n), int(r), _moment(int(a)), _moment(int(z)), int(g))
            for i, n, r, a, z, g in rows
        ]
