"""Read-only dashboard over a ledger that another process (``gekko run``) writes.

DuckDB lets one process write a file; :func:`~gekko_agent.ledger.open_reader` reads it anyway through a
consistent snapshot copy (see :mod:`gekko_agent.ledger.reader`). Every refresh (once a second by default)
opens a fresh reader, so the screens follow the journal with about a second of delay. What the ledger
cannot tell without market data — marks, equity, limit usage, VaR — shows as unknown; the trading
state, decisions with their risk verdicts, denials, open orders, positions (at cost) and the notable
journal lines are all there. There is no command channel: halting a headless process is done through
chat-ops or by stopping it; ``gekko demo`` runs the engine inside the dashboard and commands it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from gekko_agent.domain import (
    AlertRaised,
    CommandIssued,
    IntentProposed,
    OrderFilled,
    OrderIntent,
    RiskEvaluated,
    TradingStateChanged,
)
from gekko_agent.errors import GekkoError
from gekko_agent.ledger import LedgerReader, describe, events, open_reader, orders, positions
from gekko_agent.ops import CommandService, Denial, EngineStatus, PositionRow
from gekko_agent.tui.model import DecisionRow, Snapshot

__all__ = ["LedgerSource"]

_NOTABLE = (TradingStateChanged, AlertRaised, OrderFilled, CommandIssued)


class LedgerSource:
    """Snapshots read from a ledger file; no commands.

    Args:
        path: the ledger file.
        refresh_hz: reads per second at most (each read may copy the file).
        window: how many of the newest events are read for decisions and logs.
    """

    commands: CommandService | None = None

    def __init__(self, path: Path, refresh_hz: float = 1.0, window: int = 2000) -> None:
        self.path = path
        self.refresh_hz = refresh_hz
        self.window = window
        self.source_kind = "ledger"

    def snapshot(self) -> Snapshot:
        """Read the ledger now."""
        try:
            with open_reader(self.path) as reader:
                self.source_kind = f"ledger {reader.source}"
                return self._read(reader)
        except GekkoError as exc:
            return Snapshot(
                status=_status(datetime.now(UTC), "unknown", 0, 0, 0),
                log=[f"ledger: {exc}"],
                source="ledger",
                read_only=True,
            )

    def _read(self, reader: LedgerReader) -> Snapshot:
        stored = events(reader, limit=self.window, newest=True)
        state_events = events(reader, kinds=TradingStateChanged.kind, limit=1, newest=True)
        state = "active"
        if state_events and isinstance(state_events[0].event, TradingStateChanged):
            state = state_events[0].event.new
        intents: dict[str, OrderIntent] = {}
        decisions: list[DecisionRow] = []
        log: list[str] = []
        for s in stored:
            e = s.event
            if isinstance(e, IntentProposed):
                intents[e.intent.intent_id] = e.intent
            elif isinstance(e, RiskEvaluated) and e.intent_id in intents:
                i = intents[e.intent_id]
                decisions.append(
                    DecisionRow(
                        i.created_at or e.ts,
                        i.intent_id,
                        i.decision_id,
                        i.strategy,
                        f"{i.side} {i.quantity} {i.instrument_id}",
                        e.outcome,
                        i.rationale,
                        e.explanation,
                        tuple(e.reasons),
                    )
                )
            if isinstance(e, _NOTABLE) or (isinstance(e, RiskEvaluated) and e.outcome != "approved"):
                log.append(f"{e.ts:%m-%d %H:%M} {e.kind}: {describe(e)}")
        open_orders = list(orders(reader, open_only=True).values())
        held = [
            PositionRow(iid, p.quantity, p.avg_price, None, None, p.realized_pnl)
            for iid, p in sorted(positions(reader).items())
        ]
        denials = [
            Denial(d.at, d.intent, d.verdict, d.reasons, d.explanation)
            for d in decisions
            if d.verdict != "approved"
        ]
        now = stored[-1].event.ts if stored else datetime.now(UTC)
        status = _status(now, state, len(open_orders), len(decisions), len(denials))
        return Snapshot(
            status=status,
            positions=held,
            orders=open_orders,
            denials=denials[-30:],
            decisions=decisions[-100:],
            log=log[-400:],
            source=self.source_kind,
            read_only=True,
        )

    def trail(self, ident: str) -> list[str]:
        """Journal lines for a decision or an order."""
        try:
            with open_reader(self.path) as reader:
                found = events(reader, client_order_id=ident) or events(reader, decision_id=ident)
        except GekkoError:
            return []
        return [f"{s.event.ts:%m-%d %H:%M} {s.event.kind}: {describe(s.event)}" for s in found]


def _status(now: datetime, state: str, open_orders: int, intents: int, denied: int) -> EngineStatus:
    return EngineStatus(
        now=now,
        mode="ledger",
        brain="—",
        state=state,
        account_currency="",
        equity=None,
        pnl_today=None,
        pnl_total=None,
        drawdown=Decimal(0),
        gross_exposure=None,
        venues=(),
        open_orders=open_orders,
        pending_approvals=0,
        intents=intents,
        denied=denied,
        fills=0,
    )
