"""Approvals: orders the policy says a person must confirm. ``a`` approves the selected one (risk
checks it again before it is sent), ``x`` rejects it; both ask for a confirmation first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from gekko_agent.execution.approvals import PendingApproval
from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import Snapshot, money, short_id
from gekko_agent.tui.tables import Row, SortableTable

__all__ = ["ApprovalsScreen", "approval_rows"]


def _left(expires: datetime, now: datetime) -> str:
    seconds = int((expires - now).total_seconds())
    if seconds <= 0:
        return "expired"
    minutes, sec = divmod(seconds, 60)
    return f"{minutes}m{sec:02d}s"


def approval_rows(items: Sequence[PendingApproval], now: datetime) -> list[Row]:
    """One row per waiting order: id, order, notional, why it waits, brain, time left."""
    rows: list[Row] = []
    for p in items:
        i = p.intent
        side = Text(str(i.side), style="green" if str(i.side) == "buy" else "red")
        rows.append(
            Row(
                p.approval_id,
                (
                    p.approval_id,
                    side,
                    f"{i.quantity:f} {short_id(i.instrument_id)}",
                    money(p.notional),
                    p.brain,
                    p.reason,
                    _left(p.expires_at, now),
                ),
                (
                    p.approval_id,
                    str(i.side),
                    float(i.quantity),
                    float(p.notional),
                    p.brain,
                    p.reason.lower(),
                    p.expires_at.timestamp(),
                ),
            )
        )
    return rows


class ApprovalsScreen(DashboardScreen):
    """The queue and the selected order's rationale."""

    TITLE = "Approvals"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "app.approve", "Approve"),
        Binding("x", "app.reject", "Reject"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[str, PendingApproval] = {}

    def body(self) -> ComposeResult:
        """Queue table and a rationale line."""
        with Vertical(id="approvals-body"):
            yield SortableTable(
                ("id", "side", "order", "notional", "brain", "why a person", "expires in"),
                sort_column=6,
                id="approvals-table",
            )
            yield Static("nothing waiting", id="approval-detail")

    def on_mount(self) -> None:
        """Border titles."""
        self.query_one("#approvals-table").border_title = "waiting for a person — a approves, x rejects"
        self.query_one("#approval-detail").border_title = "rationale"

    def show(self, snap: Snapshot) -> None:
        """Refresh the queue and the rationale of the selected item."""
        self._items = {p.approval_id: p for p in snap.approvals}
        table = self.query_one("#approvals-table", SortableTable)
        table.set_rows(approval_rows(snap.approvals, snap.status.now))
        self._describe(table.selected_key())

    def on_data_table_row_highlighted(self) -> None:
        """Moving the cursor shows that order's rationale."""
        self._describe(self.selected_id())

    def _describe(self, ident: str | None) -> None:
        detail = self.query_one("#approval-detail", Static)
        item = self._items.get(ident or "")
        if item is None:
            detail.update("nothing waiting" if not self._items else "select an order")
            return
        i = item.intent
        detail.update(
            f"{i.side} {i.quantity:f} {i.instrument_id} ({i.order_type}) from {i.strategy}: "
            f"{i.rationale or 'no rationale given'}"
        )

    def selected_id(self) -> str | None:
        """The approval id under the cursor."""
        return self.query_one("#approvals-table", SortableTable).selected_key()
