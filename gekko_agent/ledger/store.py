"""The ledger's single writer: append-only, durable before ``append`` returns.

One :class:`Ledger` per file per process owns the write connection; a lock serialises appends from
several threads. A second ``Ledger`` on the same file in the same process is refused (share the
first), and so is one in another process: DuckDB holds an exclusive lock on the file while it is
open for writing, and the lock conflict is reported as a :class:`~gekko_agent.errors.LedgerError`.

Durability: ``append`` is one auto-committed INSERT and ``append_many`` one transaction; DuckDB
writes and syncs its write-ahead log before the commit returns, so an acknowledged seq survives a
SIGKILL (``tests/ledger/test_durability.py`` kills a writer mid-loop and checks).

Fill dedupe: an ``order_filled`` event whose ``(venue, fill_id)`` is already journaled is not written
again; ``append`` returns the seq of the existing row (``append_many`` does the same per event, also
for repeats within the batch). A unique index backs this up. The venue comes from the fill's
instrument id: fill ids are unique per venue, not across venues.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np

from gekko_agent.domain.events import Event
from gekko_agent.errors import LedgerError
from gekko_agent.ledger.batch import Batch, encode_batch
from gekko_agent.ledger.migrations import migrate
from gekko_agent.ledger.rows import COLUMNS, QueryResult, to_row

__all__ = ["DEFAULT_LEDGER_PATH", "MEMORY", "Ledger", "connect_error", "first_line", "open_writer_for"]

DEFAULT_LEDGER_PATH = Path("var/gekko.duckdb")
MEMORY = ":memory:"
_CHUNK = 256  # fill ids per lookup query
_PLACEHOLDERS = "(" + ", ".join("?" * len(COLUMNS)) + ")"
_INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES "

_BATCH = "gekko_append_batch"
_INSERT_BATCH = f"INSERT INTO events ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM {_BATCH}"
_FILL_MEMO_LIMIT = 1 << 20  # fills remembered by a writer that opened an empty ledger


class _StaleFillMemo(Exception):
    """The fill memo missed a journaled fill (someone else wrote one): look fills up in the file."""


_REGISTRY: dict[str, Ledger] = {}
_REGISTRY_LOCK = threading.Lock()


def _key(path: str | Path) -> str | None:
    return None if str(path) == MEMORY else str(Path(path).expanduser().resolve())


def open_writer_for(path: str | Path) -> Ledger | None:
    """The open :class:`Ledger` of ``path`` in this process, if there is one."""
    key = _key(path)
    if key is None:
        return None
    with _REGISTRY_LOCK:
        return _REGISTRY.get(key)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB's span several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connect_error(path: str | Path, exc: duckdb.Error) -> LedgerError:
    """Translate DuckDB's failure to open ``path`` (a held lock, a foreign file…)."""
    msg = first_line(exc)
    if "lock" in msg.lower():
        return LedgerError(
            f"ledger {path} is already open for writing by another process ({msg}); only one writer at "
            "a time — read it with `gekko ledger query` instead"
        )
    if "different configuration" in msg:
        return LedgerError(
            f"ledger {path} is open read-only in this process (a LedgerReader): close it before "
            "opening the writer, or open the writer first and readers will share it"
        )
    return LedgerError(f"cannot open ledger {path}: {msg}")


class Ledger:
    """The append-only event journal in one DuckDB file (the only writer of that file).

    Opening migrates an older file forward and refuses a newer one. ``":memory:"`` gives a
    throw-away ledger (backtests, tests). Use it as a context manager or call :meth:`close`.

    Args:
        path: the DuckDB file; its folder is created when missing.

    Raises:
        LedgerError: the file is held by another writer, is already open in this process, is not a
            Gekko ledger, or has a newer schema than this code knows.
    """

    def __init__(self, path: str | Path = DEFAULT_LEDGER_PATH) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._key = key = _key(path)
        with _REGISTRY_LOCK:
            if key is not None and key in _REGISTRY:
                raise LedgerError(f"ledger {path} is already open for writing in this process; share it")
            self._conn = self._connect(path)
            try:
                self._conn.execute("SET TimeZone = 'UTC'")
                _, self._version = migrate(self._conn, str(path))
                row = self._conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            except BaseException:
                self._conn.close()
                raise
            self._last_seq = int(row[0]) if row else 0
            # (venue, fill_id) -> seq of every fill in the file, kept while this writer has written
            # them all (it opened an empty file); else fills are looked up in the file per batch
            self._fills: dict[tuple[str, str], int] | None = {} if self._last_seq == 0 else None
            self._closed = False
            if key is not None:
                _REGISTRY[key] = self

    @staticmethod
    def _connect(path: str | Path) -> duckdb.DuckDBPyConnection:
        if str(path) != MEMORY:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            return duckdb.connect(str(path) if str(path) == MEMORY else str(Path(path).expanduser()))
        except duckdb.Error as exc:
            raise connect_error(path, exc) from exc

    @property
    def path(self) -> str | Path:
        """The file this ledger writes (or ``":memory:"``)."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The file's schema version (always the latest once open)."""
        return self._version

    @property
    def last_seq(self) -> int:
        """The highest seq written (0 for an empty ledger)."""
        return self._last_seq

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError(f"ledger {self._path} is closed")

    def append(self, event: Event) -> int:
        """Journal one event; durable when this returns.

        Returns:
            The event's seq, or for a fill already journaled (same venue and fill id) the seq of
            the existing row: nothing new is written.

        Raises:
            InvalidInput: the event cannot be encoded (e.g. it holds a float).
            LedgerError: the write failed; the caller must treat the event as not journaled.
        """
        row = to_row(event)
        key = row.fill_key
        with self._lock:
            self._check_open()
            seq = self._last_seq + 1
            try:
                self._conn.execute(_INSERT + _PLACEHOLDERS, row.values(seq))
            except duckdb.ConstraintException as exc:
                existing = self._existing_fills([key]).get(key) if key else None
                if existing is None:
                    raise LedgerError(f"ledger {self._path}: append refused: {first_line(exc)}") from exc
                if self._fills is not None and key not in self._fills:
                    self._fills = None  # written by someone else: the memo is not the whole truth
                return existing
            except duckdb.Error as exc:
                raise LedgerError(f"ledger {self._path}: append failed: {first_line(exc)}") from exc
            self._last_seq = seq
            if key is not None:
                self._remember({key: seq})
            return seq

    def append_many(self, events: Iterable[Event]) -> list[int]:
        """Journal several events in one transaction: all of them or (on error) none.

        Returns:
            One seq per event, in order; a fill already journaled (or repeated earlier in the
            batch) gets the seq of its first row and is not written again.

        Raises:
            InvalidInput: an event cannot be encoded (nothing is written).
            LedgerError: the write failed; none of the events is journaled.
        """
        batch = encode_batch(events)
        if not batch:
            return []
        with self._lock:
            self._check_open()
            try:
                return self._write(batch)
            except _StaleFillMemo:
                self._fills = None
                return self._write(batch)

    def _write(self, batch: Batch) -> list[int]:
        """Assign seqs (dropping fills already journaled) and insert the batch; lock held."""
        fills = batch.fill_keys()
        memo = self._fills
        known = memo if memo is not None else self._existing_fills([k for _, k in fills])
        first = self._last_seq + 1
        added: dict[tuple[str, str], int] = {}
        keep: list[int] | None = None
        if not fills:
            seqs = list(range(first, first + len(batch)))
        else:
            fill_at = dict(fills)
            seqs, keep, next_seq = [], [], first - 1
            for row in range(len(batch)):
                key = fill_at.get(row)
                if key is not None:
                    seq = known.get(key) or added.get(key)
                    if seq is not None:  # journaled already (or earlier in this batch)
                        seqs.append(seq)
                        continue
                next_seq += 1
                seqs.append(next_seq)
                keep.append(row)
                if key is not None:
                    added[key] = next_seq
            if len(keep) == len(batch):
                keep = None
        count = len(batch) if keep is None else len(keep)
        self._insert_batch(batch.columns(first, keep), memo_used=memo is not None)
        self._last_seq = first + count - 1
        self._remember(added)
        return seqs

    def _remember(self, fills: dict[tuple[str, str], int]) -> None:
        """Add fills just written to the memo (dropped once it grows past its limit)."""
        if self._fills is not None and fills:
            self._fills.update(fills)
            if len(self._fills) > _FILL_MEMO_LIMIT:
                self._fills = None

    def _insert_batch(self, batch: dict[str, np.ndarray[Any, Any]], *, memo_used: bool) -> None:
        """Insert rows of :data:`COLUMNS`, given as one NumPy array per column, in one transaction.

        A registered dict of NumPy columns is scanned by DuckDB directly: about 1 µs a row, against
        about 120 µs a row for a multi-row ``INSERT … VALUES`` with bound parameters.

        Raises:
            _StaleFillMemo: ``memo_used`` (the rows were planned with the fill memo) and a fill broke the
                unique index: the memo missed it; nothing was written.
            LedgerError: the insert failed; nothing was written.
        """
        if not len(batch["seq"]):
            return
        try:
            self._conn.execute("BEGIN TRANSACTION")
            self._conn.register(_BATCH, batch)
            try:
                self._conn.execute(_INSERT_BATCH)
            except duckdb.Error:
                with contextlib.suppress(duckdb.Error):
                    self._conn.execute("ROLLBACK")  # first: an aborted transaction refuses unregister
                raise
            finally:
                self._conn.unregister(_BATCH)
            self._conn.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                self._conn.execute("ROLLBACK")
            if memo_used and isinstance(exc, duckdb.ConstraintException):
                raise _StaleFillMemo from exc
            raise LedgerError(f"ledger {self._path}: batch append failed: {first_line(exc)}") from exc

    def _existing_fills(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        ids = sorted({fill_id for _, fill_id in keys})
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT venue, fill_id, seq FROM events WHERE fill_id IN ({marks})"
            try:
                result = self._conn.execute(sql, chunk).fetchall()
            except duckdb.Error as exc:
                raise LedgerError(f"ledger {self._path}: fill lookup failed: {first_line(exc)}") from exc
            for venue, fill_id, seq in result:
                found[(venue or "", fill_id)] = int(seq)
        return found

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to this ledger's database for reading (sees every committed event).

        The caller closes it. Readers in the writer's process (the TUI, ops commands) use this;
        other processes use :func:`~gekko_agent.ledger.reader.open_reader`.
        """
        with self._lock:
            self._check_open()
            return self._conn.cursor()

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query (used by :mod:`gekko_agent.ledger.queries`).

        Raises:
            LedgerError: the query failed.
        """
        cur = self.cursor()
        try:
            return cur.execute(sql, list(params)).fetchall()
        except duckdb.Error as exc:
            raise LedgerError(f"ledger {self._path}: query failed: {first_line(exc)}") from exc
        finally:
            cur.close()

    def query(self, sql: str, params: Sequence[object] = ()) -> QueryResult:
        """Rows and column names of a read query.

        Raises:
            LedgerError: the query failed.
        """
        cur = self.cursor()
        try:
            cur.execute(sql, list(params))
            columns = tuple(d[0] for d in cur.description or ())
            return QueryResult(columns, cur.fetchall())
        except duckdb.Error as exc:
            raise LedgerError(f"ledger {self._path}: query failed: {first_line(exc)}") from exc
        finally:
            cur.close()

    def close(self) -> None:
        """Checkpoint and release the file (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            finally:
                if self._key is not None:
                    with _REGISTRY_LOCK:
                        _REGISTRY.pop(self._key, None)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"last_seq={self._last_seq}"
        return f"Ledger({str(self._path)!r}, {state})"
