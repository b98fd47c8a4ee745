"""Read-only access to a ledger, also while the agent is writing it.

DuckDB locks a file exclusively while a process has it open for writing: another process can open
it neither for writing nor *read-only* (``duckdb.connect(path, read_only=True)`` fails with
"Could not set lock on file … Conflicting lock is held"). :func:`open_reader` therefore picks, in
order:

1. ``writer``: the file is open for writing in this process (the TUI or ops commands beside the
   agent): read through a cursor of that :class:`~gekko_agent.ledger.store.Ledger`, live.
2. ``file``: nobody writes it: open it read-only, live.
3. ``snapshot``: another process writes it: copy the file and its write-ahead log into a temporary
   folder and read the copy. The copy is what a crash at that instant would leave, which DuckDB
   recovers exactly like a crash: it holds every event acknowledged before the copy began. A copy
   during which the main file changed (a checkpoint) is retaken. A snapshot does not follow later
   appends: open a new reader to see them.

A file of an older schema is read through a migrated snapshot (readers never write the original).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import duckdb

from gekko_agent.errors import DataNotFound, InvalidInput, LedgerError
from gekko_agent.ledger.migrations import LATEST_VERSION, check_version, current_version, migrate
from gekko_agent.ledger.rows import QueryResult
from gekko_agent.ledger.store import DEFAULT_LEDGER_PATH, connect_error, first_line, open_writer_for

__all__ = ["LedgerReader", "ReaderSource", "open_reader"]

ReaderSource = Literal["writer", "file", "snapshot"]
_READ_STATEMENTS = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
_ATTEMPTS = 3


class LedgerReader:
    """A read-only view of a ledger; build one with :func:`open_reader`.

    Args:
        conn: the connection it reads through (it closes it).
        path: the ledger file, for messages.
        source: how it reads: ``writer``, ``file`` or ``snapshot`` (see the module docstring).
        scratch: a temporary folder to delete on close (snapshots).
    """

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        path: str | Path,
        source: ReaderSource,
        scratch: Path | None = None,
    ) -> None:
        self._conn = conn
        self._path = path
        self._source: ReaderSource = source
        self._scratch = scratch
        self._lock = threading.Lock()
        self._closed = False

    @property
    def source(self) -> ReaderSource:
        """``writer``, ``file`` or ``snapshot``."""
        return self._source

    @property
    def path(self) -> str | Path:
        """The ledger file this reads."""
        return self._path

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query written by Gekko itself (:mod:`gekko_agent.ledger.queries`).

        Raises:
            LedgerError: the query failed.
        """
        with self._lock:
            self._check_open()
            try:
                return self._conn.execute(sql, list(params)).fetchall()
            except duckdb.Error as exc:
                raise LedgerError(f"ledger {self._path}: query failed: {first_line(exc)}") from exc

    def query(self, sql: str) -> QueryResult:
        """Run one read-only SQL statement typed by a person.

        Raises:
            InvalidInput: the SQL does not parse, names an unknown table or column, is not a single
                SELECT (or EXPLAIN), or fails while running; the message is one line.
        """
        with self._lock:
            self._check_open()
            try:
                statements = self._conn.extract_statements(sql)
            except duckdb.Error as exc:
                raise InvalidInput(f"SQL error: {first_line(exc)}") from exc
            if len(statements) != 1:
                raise InvalidInput(f"SQL error: give exactly one statement (got {len(statements)})")
            if statements[0].type not in _READ_STATEMENTS:
                kind = statements[0].type.name
                raise InvalidInput(f"SQL error: the ledger is read-only here; {kind} is not allowed")
            try:
                self._conn.execute(sql)
                columns = tuple(d[0] for d in self._conn.description or ())
                return QueryResult(columns, self._conn.fetchall())
            except duckdb.Error as exc:
                raise InvalidInput(f"SQL error: {first_line(exc)}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise LedgerError(f"reader of {self._path} is closed")

    def close(self) -> None:
        """Release the connection and delete a snapshot copy (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            finally:
                if self._scratch is not None:
                    shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> LedgerReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_reader(path: str | Path = DEFAULT_LEDGER_PATH) -> LedgerReader:
    """Open ``path`` for reading, whoever is writing it (see the module docstring).

    Raises:
        DataNotFound: there is no file at ``path``.
        LedgerError: the file is not a Gekko ledger, is newer than this code, or no consistent
            snapshot could be taken.
    """
    writer = open_writer_for(path)
    if writer is not None:
        return LedgerReader(writer.cursor(), path, "writer")
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataNotFound(f"no ledger at {path} (it is created when the agent first runs)")
    try:
        conn = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as exc:
        if "lock" not in str(exc).lower():
            raise connect_error(path, exc) from exc
        return _snapshot(file)
    try:
        version = current_version(conn)
        check_version(version, str(path))
    except BaseException:
        conn.close()
        raise
    if version < LATEST_VERSION:
        conn.close()
        return _snapshot(file)
    return LedgerReader(conn, path, "file")


def _fingerprint(file: Path) -> tuple[int, int]:
    st = file.stat()
    return st.st_size, st.st_mtime_ns


def _copy(file: Path, dest: Path) -> bool:
    """Copy the file and its WAL; True when the main file did not change meanwhile."""
    wal, dest_wal = file.with_name(file.name + ".wal"), dest.with_name(dest.name + ".wal")
    before = _fingerprint(file)
    shutil.copyfile(file, dest)
    dest_wal.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):  # a checkpoint may remove the WAL meanwhile
        shutil.copyfile(wal, dest_wal)
    return _fingerprint(file) == before


def _snapshot(file: Path) -> LedgerReader:
    scratch = Path(tempfile.mkdtemp(prefix="gekko-ledger-"))
    dest = scratch / file.name
    problem = "the file kept changing while it was copied"
    for _ in range(_ATTEMPTS):
        try:
            if not _copy(file, dest):
                continue
            # open the copy for writing once: DuckDB replays the WAL and we migrate an old schema
            rw = duckdb.connect(str(dest))
            try:
                migrate(rw, str(file))
            finally:
                rw.close()
            return LedgerReader(duckdb.connect(str(dest), read_only=True), file, "snapshot", scratch)
        except OSError as exc:
            problem = str(exc)
        except duckdb.Error as exc:
            problem = first_line(exc)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    shutil.rmtree(scratch, ignore_errors=True)
    raise LedgerError(f"cannot take a consistent snapshot of ledger {file}: {problem}")
