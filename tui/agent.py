"""Agent: the stream of decisions — one row per brain cycle with its action, the tools it called and
what risk said about its intents (holds and tool-only cycles included) — and a drill-down (``enter``)
into one decision: what the brain saw, every tool call, each intent with its verdict and reasons, and
the decision's journaled trail."""

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

_VERDICT_STYLE = {
    "approved": "green",
    "resized": "yellow",
    "denied": "bold red",
    "hold": "cyan",
    "pending": "yellow",
    "not proposed": "dim",
}


def _tools(row: DecisionRow) -> str:
    """``get_quote, news!`` (a ``!`` marks a call that failed); the final answer is left out."""
    names = [f"{c.name}{'!' if c.ok is False else ''}" for c in row.tool_calls if c.ok is not None]
    return ", ".join(names) or "—"


def decision_rows(decisions: Sequence[DecisionRow]) -> list[Row]:
    """One row per decision: time, brain, action, tools called, risk outcome and the reason."""
    rows: list[Row] = []
    for n, d in enumerate(decisions):
        at = "" if d.at is None else f"{d.at:%m-%d %H:%M}"
        tools = _tools(d)
        rows.append(
            Row(
                d.key,
                (
                    at,
                    d.brain,
                    d.action,
                    tools,
                    Text(d.outcome, style=_VERDICT_STYLE.get(d.worst, "")),
                    d.reason,
                ),
                (float(n), d.brain.lower(), d.action, tools, d.outcome, d.reason.lower()),
            )
        )
    return rows


def decision_detail(row: DecisionRow, trail: Sequence[str]) -> Text:
    """Everything about one decision, then its journal trail."""
    at = "" if row.at is None else f"{row.at:%Y-%m-%d %H:%M}  "
    head = Text.assemble(
        at,
        (row.action.upper(), f"bold {_VERDICT_STYLE.get(row.worst, '')}".strip()),
        f"  by {row.brain}",
        (f"  ({row.model}, {row.steps} model turns)" if row.model else "", "dim"),
    )
    parts: list[Text] = [head, Text(f"reason: {row.reason or '—'}")]
    if row.observation:
        parts.append(Text(f"saw: {row.observation}"))
    if row.tool_calls:
        parts.append(Text("tool calls:", style="bold"))
        for call in row.tool_calls:
            style = "green" if call.ok else ("bold red" if call.ok is False else "cyan")
            parts.append(Text.assemble("  ", (call.label, style), f"  {call.detail}" if call.detail else ""))
    if row.intents:
        parts.append(Text("intents:", style="bold"))
    for i in row.intents:
        parts.append(
            Text.assemble(
                "  ",
                (i.text or i.intent_id, "bold"),
                "  ",
                (i.verdict.upper(), _VERDICT_STYLE.get(i.verdict, "")),
                (f"  {i.note}" if i.note else "", "dim"),
            )
        )
        if i.rationale:
            parts.append(Text(f"    why: {i.rationale}"))
        if i.explanation or i.reasons:
            reasons = f" ({', '.join(i.reasons)})" if i.reasons else ""
            parts.append(
                Text(f"    risk: {i.explanation or '—'}{reasons}", style="yellow" if i.reasons else "")
            )
    parts.append(Text(f"decision {row.key}", style="dim"))
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
                ("at", "brain", "action", "tools", "risk", "reason"),
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
        self._by_id = {d.key: d for d in snap.decisions}
        self.query_one("#decisions-table", SortableTable).set_rows(decision_rows(snap.decisions))

    def selected_id(self) -> str | None:
        """The decision key under the cursor."""
        return self.query_one("#decisions-table", SortableTable).selected_key()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a row drills into it."""
        event.stop()
        if event.row_key.value is not None:
            self.explain(event.row_key.value)

    def explain(self, key: str) -> None:
        """Show one decision's detail and its journal trail (the decision's, else its orders')."""
        row = self._by_id.get(key)
        if row is None:
            return
        source = self.gekko.source
        trail = source.trail(row.key)
        for order_id in (i.order_id for i in row.intents if i.order_id and not trail):
            trail = source.trail(order_id)
        self.query_one("#detail", Static).update(decision_detail(row, trail[-40:]))

    def action_close_detail(self) -> None:
        """Clear the detail pane."""
        self.query_one("#detail", Static).update("select a decision and press enter to see why")
