"""A DuckDB file that keeps parsed bars, so a second load of the same file skips CSV parsing.

Entries are keyed by the source file's absolute path and remember its size and modification time
(nanoseconds); a file that changed in either is parsed again and its entry replaced. The cache is an
accelerator only: if it cannot be opened (another process holds the lock, a read-only disk) loads
still work, uncached, and a warning is logged.

Schema (version :data:`SCHEMA_VERSION`)::

    sources(key, size, mtime_ns, schema, interval, price_dp, volume_dp, rows, cached_at)
    bars(key, ts, open, high, low, close, volume)      -- ts: int64 ns UTC; prices DOUBLE
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gekko_agent.market.bararray import BarArray

if TYPE_CHECKING:
    import duckdb

__all__ = ["DEFAULT_CACHE", "SCHEMA_VERSION", "BarCache", "CacheEntry"]

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("var/cache/market.duckdb")
"""Where the cache lives unless told otherwise (``data.cache`` in agent.yaml has the same default)."""

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS sources (
    key VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, schema INTEGER, interval INTEGER,
    price_dp INTEGER, volume_dp INTEGER, rows BIGINT, cached_at TIMESTAMPTZ DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS bars (
    key VARCHAR, ts BIGINT, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE
);
"""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the cache knows about one source file.

    Attributes:
        key: absolute path of the source file.
        size: file size in bytes when it was cached.
        mtime_ns: modification time (ns) when it was cached.
        rows: bars stored.
    """

    key: str
    size: int
    mtime_ns: int
    rows: int


def _stamp(source: Path) -> tuple[str, int, int]:
    stat = source.stat()
    return str(source.resolve()), stat.st_size, stat.st_mtime_ns


class BarCache:
    """Parsed bars in a DuckDB file, invalidated when the source file's size or mtime changes.

    Args:
        path: the DuckDB file; its folder is created on first write.
    """

    def __init__(self, path: Path = DEFAULT_CACHE) -> None:
        self.path = path

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection | None]:
        import duckdb

        if not write and not self.path.exists():
            yield None
            return
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            log.warning("market cache %s unavailable, loading without it: %s", self.path, exc)
            yield None
            return
        try:
            con.execute(_DDL)
            yield con
        finally:
            con.close()

    def lookup(self, source: Path) -> CacheEntry | None:
        """The fresh entry for ``source``, or None when absent or stale (file changed since)."""
        key, size, mtime_ns = _stamp(source)
        with self._connect(write=False) as con:
            if con is None:
                return None
            row = con.execute(
                "SELECT rows FROM sources WHERE key = ? AND size = ? AND mtime_ns = ? AND schema = ?",
                [key, size, mtime_ns, SCHEMA_VERSION],
            ).fetchone()
        return None if row is None else CacheEntry(key, size, mtime_ns, int(row[0]))

    def get(self, source: Path, instrument_id: str) -> BarArray | None:
        """Bars cached for ``source`` labelled ``instrument_id``, or None when absent or stale."""
        key, size, mtime_ns = _stamp(source)
        with self._connect(write=False) as con:
            if con is None:
                return None
            meta = con.execute(
                "SELECT interval, price_dp, volume_dp, rows FROM sources "
                "WHERE key = ? AND size = ? AND mtime_ns = ? AND schema = ?",
                [key, size, mtime_ns, SCHEMA_VERSION],
            ).fetchone()
            if meta is None:
                return None
            cols = con.execute(
                "SELECT ts, open, high, low, close, volume FROM bars WHERE key = ? ORDER BY ts", [key]
            ).fetchnumpy()
        interval, price_dp, volume_dp, rows = (int(x) for x in meta)
        if len(cols["ts"]) != rows:
            log.warning("market cache %s: entry for %s is incomplete; parsing again", self.path, key)
            return None
        return BarArray(
            instrument_id=instrument_id,
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

    def put(self, source: Path, bars: BarArray) -> None:
        """Store ``bars`` as the parse of ``source`` (replacing any older entry), in one transaction."""
        key, size, mtime_ns = _stamp(source)
        frame = {
            "ts": np.ascontiguousarray(bars.ts),
            "open": np.ascontiguousarray(bars.open),
            "high": np.ascontiguousarray(bars.high),
            "low": np.ascontiguousarray(bars.low),
            "close": np.ascontiguousarray(bars.close),
            "volume": np.ascontiguousarray(bars.volume),
        }
        with self._connect(write=True) as con:
            if con is None:
                return
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM bars WHERE key = ?", [key])
                con.execute("DELETE FROM sources WHERE key = ?", [key])
                con.register("incoming", frame)
                con.execute(
                    "INSERT INTO bars SELECT ?, ts, open, high, low, close, volume FROM incoming ORDER BY ts",
                    [key],
                )
                con.unregister("incoming")
                con.execute(
                    "INSERT INTO sources (key, size, mtime_ns, schema, interval, price_dp, volume_dp, rows) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [key, size, mtime_ns, SCHEMA_VERSION, bars.interval, bars.price_decimals,
                     bars.volume_decimals, len(bars)],
                )  # fmt: skip
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def entries(self) -> list[CacheEntry]:
        """Every cached source (fresh or not), by key."""
        with self._connect(write=False) as con:
            if con is None:
                return []
            rows = con.execute("SELECT key, size, mtime_ns, rows FROM sources ORDER BY key").fetchall()
        return [CacheEntry(str(k), int(s), int(m), int(r)) for k, s, m, r in rows]

    def clear(self) -> int:
        """Forget every entry; returns how many there were."""
        with self._connect(write=False) as con:
            if con is None:
                return 0
            (count,) = con.execute("SELECT count(*) FROM sources").fetchone() or (0,)
            con.execute("DELETE FROM bars; DELETE FROM sources; CHECKPOINT")
        return int(count)
