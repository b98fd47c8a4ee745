"""The dashboard beside a headless process: everything rebuilt from the ledger it writes (read-only).

DuckDB lets one process write a file; :func:`~gekko_agent.ledger.open_reader` reads it anyway through a
consistent snapshot copy (see :mod:`gekko_agent.ledger.reader`). Each refresh (once a second by
default) reads only the events journaled since the last one and folds them into two states:

* :class:`JournalState`, what the journal says by itself: the trading state and who moved it,
  tripped venue breakers, the brain, each decision with its tool calls and its intents' verdicts
  (:class:`~.decisions.DecisionFeed`), recent denials and resizes, orders waiting for a person
  (requested, not decided, not expired), counters and the notable journal lines;
* :class:`~.ledger_book.LedgerBook`, what needs prices too: portfolio, marks, equity curve, PnL,
  exposure, limit usage, VaR/ES and the loss breakers, rebuilt as the engine computes them.

Everything is as of the last journaled event (the headline's time). When the ledger is recreated
(``gekko demo`` does so on each start) both states start over. There is no command channel: halting a
headless process is done through chat-ops or by stopping it; ``gekko demo`` runs the engine inside the
dashboard and commands it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gekko_agent.domain import (
    AgentDecided,
    AlertRaised,
    ApprovalDecided,
    ApprovalRequested,
    CommandIssued,
    Event,
    IntentProposed,
    LimitChanged,
    Order,
    OrderFilled,
    RiskEvaluated,
    TradingStateChanged,
)
from gekko_agent.errors import DataNotFound, GekkoError
from gekko_agent.execution.approvals import PendingApproval
from gekko_agent.ledger import (
    LedgerReader,
    Queryable,
    StoredEvent,
    decision_trail,
    describe,
    events,
    open_reader,
    orders,
)
from gekko_agent.ops import CommandService, Denial, EngineStatus
from gekko_agent.tui.decisions import DecisionFeed
from gekko_agent.tui.ledger_book import LedgerBook
from gekko_agent.tui.model import ForecastBand, Snapshot, thin_curve
from gekko_agent.tui.risk_state import breaker_rows, limit_rows, risk_figures

__all__ = ["JournalState", "LedgerSource", "journal_trail"]

_NOTABLE = (
    TradingStateChanged,
    AlertRaised,
    OrderFilled,
    CommandIssued,
    ApprovalRequested,
    ApprovalDecided,
    LimitChanged,
)
BATCH = 5000
"""Events read per query while catching up."""


def _line(event: Event) -> str:
    return f"{event.ts:%m-%d %H:%M} {event.kind}: {describe(event)}"


def _mark(stored: StoredEvent) -> tuple[int, str, datetime]:
    return stored.seq, stored.kind, stored.event.ts


def journal_trail(source: Queryable, ident: str) -> list[str]:
    """One line per event of a decision's trail, or of an order's (empty when the ledger has neither)."""
    from gekko_agent.ledger import order_trail

    for query in (decision_trail, order_trail):
        try:
            return [_line(s.event) for s in query(source, ident)]
        except DataNotFound:
            continue
    return []


class JournalState:
    """What the journal says by itself, folded event by event (see the module docstring).

    Args:
        keep: decisions kept for the Agent screen.
    """

    def __init__(self, keep: int = 200) -> None:
        self.decisions = DecisionFeed(keep)
        self.state = "active"
        self.brain: str | None = None
        self.last_ts: datetime | None = None
        self.intents = 0
        self.denied = 0
        self.fills = 0
        self.venue_trips: dict[str, str] = {}
        self.denials: deque[Denial] = deque(maxlen=30)
        self.log: deque[str] = deque(maxlen=400)
        self.requested: dict[str, ApprovalRequested] = {}
        self._brains: dict[str, str] = {}  # decision id to brain, for approvals
        self._texts: OrderedDict[str, tuple[str, datetime | None]] = OrderedDict()

    def add(self, event: Event) -> None:
        """Fold one event in."""
        self.last_ts = event.ts
        self.decisions.add(event)
        if isinstance(event, AgentDecided):
            self.brain = event.brain
            if event.decision_id:
                self._brains[event.decision_id] = event.brain
        elif isinstance(event, IntentProposed):
            self.intents += 1
            i = event.intent
            self._texts[i.intent_id] = (f"{i.side} {i.quantity} {i.instrument_id}", i.created_at or event.ts)
            while len(self._texts) > 5000:
                self._texts.popitem(last=False)
        elif isinstance(event, RiskEvaluated):
            self._risk(event)
        elif isinstance(event, OrderFilled):
            self.fills += 1
        elif isinstance(event, TradingStateChanged):
            self._state(event)
        elif isinstance(event, ApprovalRequested):
            self.requested[event.approval_id] = event
        elif isinstance(event, ApprovalDecided):
            self.requested.pop(event.approval_id, None)
        if isinstance(event, _NOTABLE) or (isinstance(event, RiskEvaluated) and event.outcome != "approved"):
            self.log.append(_line(event))

    def _risk(self, event: RiskEvaluated) -> None:
        if event.outcome == "denied":
            self.denied += 1
        if event.outcome != "approved":
            text, at = self._texts.get(event.intent_id, (event.intent_id, event.ts))
            self.denials.append(Denial(at, text, event.outcome, tuple(event.reasons), event.explanation))

    def _state(self, event: TradingStateChanged) -> None:
        self.state = event.new
        if event.actor.startswith("breaker:venue:"):
            self.venue_trips[event.actor.removeprefix("breaker:venue:")] = event.new
        elif event.new == "active":
            self.venue_trips.clear()

    def pending(self, now: datetime, notional: Mapping[str, Decimal]) -> list[PendingApproval]:
        """Requests neither decided nor expired at ``now``, oldest first.

        Args:
            now: the time of the last journaled event.
            notional: each request's value when it was made, by approval id (0 when unknown).
        """
        return [
            PendingApproval(
                r.approval_id,
                r.intent,
                notional.get(r.approval_id, Decimal(0)),
                r.reason,
                self._brains.get(r.decision_id or "", r.intent.strategy),
                r.ts,
                r.expires_at,
            )
            for r in sorted(self.requested.values(), key=lambda r: r.ts)
            if r.expires_at > now
        ]


class LedgerSource:
    """Snapshots rebuilt from a ledger file; no commands.

    Args:
        path: the ledger file.
        book: the money rebuild (:meth:`LedgerBook.from_config`); None: no equity, marks or limits.
        forecasts: bands per instrument at a time (the model registry), or None.
        refresh_hz: reads per second at most (each read may copy the file).
        mode: shown in the headline (the run's mode from agent.yaml).
        brain: the configured brain, shown until the ledger names the one deciding.
    """

    commands: CommandService | None = None

    def __init__(
        self,
        path: Path,
        book: LedgerBook | None = None,
        *,
        forecasts: Callable[[datetime], Sequence[ForecastBand]] | None = None,
        refresh_hz: float = 1.0,
        mode: str = "ledger",
        brain: str = "—",
    ) -> None:
        self.path = path
        self.book = book
        self.forecasts = forecasts
        self.refresh_hz = refresh_hz
        self.mode = mode
        self.brain = brain
        self.source_kind = "ledger"
        self.journal = JournalState()
        self.seq = 0
        self._mark: tuple[int, str, datetime] | None = None  # seq, kind and time of the last event read
        self._notional: dict[str, Decimal] = {}  # of each approval request, when it was made

    def snapshot(self) -> Snapshot:
        """Read what was journaled since the last call, and compose every screen's data."""
        try:
            with open_reader(self.path) as reader:
                self.source_kind = f"ledger {reader.source}"
                self._follow(reader)
                open_orders = list(orders(reader, open_only=True).values())
        except GekkoError as exc:
            return Snapshot(
                status=self._status(datetime.now(UTC), 0, 0),
                log=[f"ledger: {exc}"],
                source="ledger",
                read_only=True,
            )
        return self._compose(open_orders)

    def _follow(self, reader: LedgerReader) -> None:
        if self._mark is not None:
            probe = events(reader, after_seq=self._mark[0] - 1, limit=1)
            if not probe or _mark(probe[0]) != self._mark:
                self._start_over()  # the file was recreated (``gekko demo`` does so on each start)
        while True:
            batch = events(reader, after_seq=self.seq, limit=BATCH)
            for stored in batch:
                self._fold(stored.event)
                self.seq, self._mark = stored.seq, _mark(stored)
            if len(batch) < BATCH:
                break
        if self.book is not None and self.journal.last_ts is not None:
            self.book.advance(self.journal.last_ts)

    def _start_over(self) -> None:
        self.journal = JournalState()
        self.book = self.book.fresh() if self.book is not None else None
        self.seq, self._mark = 0, None
        self._notional.clear()

    def _fold(self, event: Event) -> None:
        self.journal.add(event)
        book = self.book
        if book is None:
            return
        book.apply(event)
        if isinstance(event, ApprovalRequested):
            self._notional[event.approval_id] = book.notional(
                event.intent.instrument_id, event.intent.quantity
            )
        elif isinstance(event, ApprovalDecided):
            self._notional.pop(event.approval_id, None)

    def _compose(self, held: list[Order]) -> Snapshot:
        j, book = self.journal, self.book
        now = j.last_ts or datetime.now(UTC)
        approvals = j.pending(now, self._notional)
        venues = sorted({i.venue for i in book.instruments.values()}) if book else sorted(j.venue_trips)
        log = [*j.log, *(book.notes if book else ())][-400:]
        base = Snapshot(
            status=self._status(now, len(held), len(approvals)),
            orders=held,
            approvals=approvals,
            denials=list(j.denials),
            decisions=j.decisions.rows(),
            forecasts=None if self.forecasts is None else list(self.forecasts(now)),
            log=log,
            source=self.source_kind,
            read_only=True,
        )
        if book is None:
            return base
        risk = book.risk_snapshot(now, held, j.state)
        eq = book.equity
        return replace(
            base,
            positions=book.positions(),
            curve=thin_curve(eq.curve),
            limits=limit_rows(risk, book.limits),
            breakers=breaker_rows(
                book.limits, eq.now, eq.day_start, eq.peak, dict.fromkeys(venues), j.venue_trips
            ),
            risk=risk_figures(risk, book.limits),
        )

    def _status(self, now: datetime, open_orders: int, approvals: int) -> EngineStatus:
        j, book = self.journal, self.book
        eq = book.equity if book is not None else None
        equity = eq.now if eq is not None else None
        start = eq.curve[0][1] if eq is not None and eq.curve else None
        peak = eq.peak if eq is not None else None
        day = eq.day_start if eq is not None else None
        venues = sorted({i.venue for i in book.instruments.values()}) if book else []
        return EngineStatus(
            now=now,
            mode=self.mode,
            brain=j.brain or self.brain,
            state=j.state,
            account_currency=book.account_currency if book else "",
            equity=equity,
            pnl_today=equity - day if equity is not None and day is not None else None,
            pnl_total=equity - start if equity is not None and start is not None else None,
            drawdown=(peak - equity) / peak if peak and equity is not None else Decimal(0),
            gross_exposure=book.gross_exposure() if book else None,
            venues=tuple((v, "breaker tripped" if v in j.venue_trips else "ok") for v in venues),
            open_orders=open_orders,
            pending_approvals=approvals,
            intents=j.intents,
            denied=j.denied,
            fills=j.fills,
        )

    def trail(self, ident: str) -> list[str]:
        """Journal lines of a decision or an order (the ledger's decision and order trails)."""
        try:
            with open_reader(self.path) as reader:
                return journal_trail(reader, ident)
        except GekkoError:
            return []
