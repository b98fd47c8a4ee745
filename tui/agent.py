"""Agent: the stream of decisions — each intent the brain proposed, its rationale and the risk
engine's verdict — with a drill-down (``enter``) into the journaled trail of one decision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import DecisionRow, Snapshot
from gekko_agent.tui.tables import Row, SortableTable

__all__ = ["AgentScreen", "decision_detail", "decision_rows"]

_VERDICT_STYLE = {"approved": "green", "resized": "yellow", "denied": "bold red"}


def decision_rows(decisions: Sequence[DecisionRow]) -> list[Row]:
    """Newest first: time, brain, intent, verdict and the rationale."""
    rows: list[Row] = []
    for n, d in enumerate(decisions):
        at = "" if d.at is None else f"{d.at:%m-%d %H:%M}"
        rows.append(
            Row(
                d.intent_id,
                (
                    at,
                    d.brain,
                    d.intent,
                    Text(d.verdict, style=_VERDICT_STYLE.get(d.verdict, "")),
                    d.rationale,
                ),
                (float(n), d.brain.lower(), d.intent.lower(), d.verdict, d.rationale.lower()),
            )
        )
    return rows


def decision_detail(row: DecisionRow, trail: Sequence[str]) -> Text:
    """Everything about one decision: intent, rationale, verdict, reasons and its journal trail."""
    head = Text.assemble(
        (row.intent, "bold"),
        "  ",
        (row.verdict.upper(), _VERDICT_STYLE.get(row.verdict, "")),
        f"  by {row.brain}",
    )
    parts: list[Text] = [
        head,
        Text(f"rationale: {row.rationale or '—'}"),
        Text(f"risk: {row.explanation or '—'}"),
    ]
    if row.reasons:
        parts.append(Text(f"reasons: {', '.join(row.reasons)}", style="yellow"))
    ids = f"intent {row.intent_id}" + (f" · decision {row.decision_id}" if row.decision_id else "")
    parts.append(Text(ids, style="dim"))
    parts.append(Text("journal trail:", style="bold"))
    parts.extend(Text(f"  {line}") for line in trail)
    if not trail:
        parts.append(Text("  (nothing journaled for it yet)", style="dim"))
    return Text("\n").join(parts)


class AgentScreen(DashboardScreen):
    """Decisions table above, the selected decision's detail below."""

    TITLE = "Agent"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "app.explain", "Explain"),
        Binding("escape", "close_detail", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._by_id: dict[str, DecisionRow] = {}

    def body(self) -> ComposeResult:
        """Table and detail pane."""
        with Vertical(id="agent-body"):
            yield SortableTable(
                ("at", "brain", "intent", "risk", "rationale"),
                sort_column=0,
                reverse=True,
                id="decisions-table",
            )
            with VerticalScroll(id="detail-pane"):
                yield Static("select a decision and press enter to see why", id="detail")

    def on_mount(self) -> None:
        """Border titles."""
        self.query_one("#decisions-table").border_title = "decisions (newest first)"
        self.query_one("#detail-pane").border_title = "why"

    def show(self, snap: Snapshot) -> None:
        """Refresh the decisions."""
        self._by_id = {d.intent_id: d for d in snap.decisions}
        self.query_one("#decisions-table", SortableTable).set_rows(decision_rows(snap.decisions))

    def selected_id(self) -> str | None:
        """The intent id under the cursor."""
        return self.query_one("#decisions-table", SortableTable).selected_key()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a row drills into it."""
        event.stop()
        if event.row_key.value is not None:
            self.explain(event.row_key.value)

    def explain(self, intent_id: str) -> None:
        """Show one decision's detail and its journal trail."""
        row = self._by_id.get(intent_id)
        if row is None:
            return
        source = self.gekko.source
        trail = source.trail(row.decision_id) if row.decision_id else []
        if not trail:
            trail = source.trail(row.intent_id)
        self.query_one("#detail", Static).update(decision_detail(row, trail[-20:]))

    def action_close_detail(self) -> None:
        """Clear the detail pane."""
        self.query_one("#detail", Static).update("select a decision and press enter to see why")
