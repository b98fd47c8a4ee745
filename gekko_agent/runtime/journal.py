"""A buffered event sink for backtests: events collected in memory, written in batches.

Paper and live trading journal every event with one durable :meth:`Ledger.append
<gekko_agent.ledger.store.Ledger.append>` before the engine moves on: after a crash or a restart the
ledger is the truth the engine resumes from, so an order must never exist at a venue without its
events on disk. A backtest has no such duty. Its venue is simulated, nothing outside the process
depends on the ledger until the run ends, and a run that dies is simply run again. There, one
DuckDB transaction per event is pure overhead (it was the largest single cost of a backtest with a
ledger), so :class:`BufferedJournal` keeps events in memory and writes them with
:meth:`~gekko_agent.ledger.store.Ledger.append_many` every ``batch_size`` events and when it is
flushed or closed. The events, their order and their content are unchanged; only the moment they
reach the file differs.

Use it only where losing the tail of the journal on a crash is acceptable, i.e. backtests and
benchmarks. Wiring for paper and live keeps handing the :class:`~gekko_agent.ledger.store.Ledger`
itself to the engine, or an :class:`ObservedLedger` over it when something (the chat-ops alert
router) must see every event as it is journaled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Protocol

from gekko_agent.domain import Event
from gekko_agent.errors import InvalidInput

__all__ = ["BatchSink", "BufferedJournal", "ObservedLedger", "WritableLedger"]


class BatchSink(Protocol):
    """Where a :class:`BufferedJournal` writes: anything with the ledger's batch append."""

    @property
    def last_seq(self) -> int:
        """The highest sequence number written so far."""
        ...

    def append_many(self, events: Iterable[Event]) -> list[int]:
        """Write ``events`` in one transaction; one sequence number per event."""
        ...


class BufferedJournal:
    """An :class:`~gekko_agent.execution.engine.EventSink` that writes to a ledger in batches.

    ``append`` returns the sequence number the event will have once written (the sink's last one
    plus the events ahead of it), which is exact for every event except a fill the ledger already
    holds (it keeps the first row's number); nothing in the trading loop reads these numbers.

    Args:
        sink: the ledger (or any :class:`BatchSink`).
        batch_size: events collected before a batch is written.

    Raises:
        InvalidInput: ``batch_size`` is not positive.
    """

    def __init__(self, sink: BatchSink, batch_size: int = 4096) -> None:
        if batch_size < 1:
            raise InvalidInput(f"a journal batch needs at least one event, got {batch_size}")
        self.sink = sink
        self.batch_size = batch_size
        self._pending: list[Event] = []
        self._written = 0

    @property
    def pending(self) -> int:
        """Events collected but not yet written."""
        return len(self._pending)

    @property
    def written(self) -> int:
        """Events handed to the sink so far."""
        return self._written

    def append(self, event: Event) -> int:
        """Collect ``event``; writes the batch once it holds ``batch_size`` events.

        Returns:
            The sequence number the event will have in the sink.
        """
        pending = self._pending
        pending.append(event)
        seq = self.sink.last_seq + len(pending)
        if len(pending) >= self.batch_size:
            self.flush()
        return seq

    def flush(self) -> None:
        """Write every collected event now (one transaction); a no-op when none is pending."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self.sink.append_many(batch)
        self._written += len(batch)

    def close(self) -> None:
        """Flush; the sink itself stays open (its owner closes it)."""
        self.flush()

    def __enter__(self) -> BufferedJournal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class WritableLedger(Protocol):
    """The parts of :class:`~gekko_agent.ledger.store.Ledger` the engine uses: append and query."""

    @property
    def last_seq(self) -> int:
        """The highest sequence number written so far."""
        ...

    def append(self, event: Event) -> int:
        """Write ``event`` durably; returns its sequence number."""
        ...

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query."""
        ...


class ObservedLedger:
    """A ledger that hands every event it has written to listeners (the alert router).

    It is the ledger for everything else: appends are durable before any listener runs, and
    queries read the ledger itself.

    Args:
        ledger: the ledger.
        listeners: called with each event after it is written; they must not raise (the alert
            router's ``on_event`` never does).
    """

    def __init__(self, ledger: WritableLedger, listeners: Sequence[Callable[[Event], None]] = ()) -> None:
        self.ledger = ledger
        self.listeners = list(listeners)

    @property
    def last_seq(self) -> int:
        """The ledger's highest sequence number."""
        return self.ledger.last_seq

    def append(self, event: Event) -> int:
        """Write ``event``, then tell every listener; returns its sequence number."""
        seq = self.ledger.append(event)
        for listener in self.listeners:
            listener(event)
        return seq

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query on the ledger."""
        return self.ledger.fetch(sql, params)
