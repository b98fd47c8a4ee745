"""Logs: journal lines worth a person's attention (state changes, alerts, fills, denials) and what was
commanded from this dashboard, newest at the bottom."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import Snapshot

__all__ = ["LogsScreen", "appended", "merge_logs"]

MAX_LINES = 400


def merge_logs(engine: Sequence[str], local: Sequence[str], limit: int = MAX_LINES) -> list[str]:
    """Engine lines then this dashboard's own lines, both already in time order, trimmed to ``limit``.

    Lines start with ``MM-DD HH:MM``; a stable sort on that prefix interleaves the two streams.
    """
    merged = sorted([*engine, *local], key=lambda line: line[:11])
    return merged[-limit:]


def appended(shown: Sequence[str], lines: Sequence[str]) -> Sequence[str] | None:
    """The lines of ``lines`` that come after what ``shown`` ends with, when ``lines`` is ``shown``'s
    window moved on (older lines dropped at the front, newer added at the back); None otherwise."""
    if not shown:
        return lines
    last = shown[-1]
    for end in range(min(len(lines), len(shown)), 0, -1):  # the longest overlap first
        if lines[end - 1] == last and lines[:end] == shown[len(shown) - end :]:
            return lines[end:]
    return None


class LogsScreen(DashboardScreen):
    """A scrolling log that follows the tail unless you scroll up."""

    TITLE = "Logs"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("end", "tail", "Follow", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._shown: list[str] = []

    def body(self) -> ComposeResult:
        """The log."""
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, max_lines=MAX_LINES)

    def on_mount(self) -> None:
        """Border title."""
        self.query_one("#log").border_title = "journal and commands"

    def show(self, snap: Snapshot) -> None:
        """Append what is new in one write (the log drops its oldest lines itself); rewrite only when
        a line appeared in the middle (a command logged here between two journal lines)."""
        lines = merge_logs(snap.log, list(self.gekko.local_log))
        if lines == self._shown:
            return
        log = self.query_one("#log", RichLog)
        new = appended(self._shown, lines)
        if new is None:
            log.clear()
            new = lines
        if new:
            log.write("\n".join(new))
        self._shown = lines

    def action_tail(self) -> None:
        """Jump to the newest line."""
        self.query_one("#log", RichLog).scroll_end(animate=False)
