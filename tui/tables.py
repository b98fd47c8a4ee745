"""A DataTable that keeps its sort order and its cursor across live updates.

Screens hand it the full set of rows on every snapshot (:meth:`SortableTable.set_rows`); it redraws
only when the rows changed, sorts them by the chosen column (click a header, or ``s`` to move to the
next column and ``S`` to reverse), and puts the cursor back on the same row key.

A change of any cell makes Textual's DataTable repaint every visible cell (its render caches are keyed
by one update counter), which costs milliseconds per row; so a table takes new rows at most every
:data:`MIN_INTERVAL_S` and keeps the latest rows that arrived in between for then. A person's own
actions (sorting) and the first rows after a while apply at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

__all__ = ["MIN_INTERVAL_S", "Row", "SortableTable"]

MIN_INTERVAL_S = 0.5
"""Least time between two redraws of one table's rows."""

Cell = str | Text
SortValue = str | float


@dataclass(frozen=True, slots=True)
class Row:
    """One table row.

    Attributes:
        key: stable identity (order id, approval id…), used for the cursor and actions.
        cells: what is shown, one per column.
        sort: what each column sorts by (numbers as floats, text as lower-case strings).
    """

    key: str
    cells: tuple[Cell, ...]
    sort: tuple[SortValue, ...]


def _text(cell: Cell) -> Text:
    """A cell as Text: plain strings are shown as they are (never parsed as markup, so a ``[`` in a
    rationale stays a ``[``), and the table skips its per-cell markup parse."""
    return cell if isinstance(cell, Text) else Text(cell, no_wrap=True, end="")


class SortableTable(DataTable[Cell]):
    """A row-cursor table with sticky sorting.

    Args:
        columns: column labels.
        sort_column: column sorted by at first.
        reverse: sort descending at first.
        id: widget id.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
    ]

    def __init__(
        self, columns: Sequence[str], *, sort_column: int = 0, reverse: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._labels = tuple(columns)
        self.sort_column = sort_column
        self.reverse = reverse
        self._rows: list[Row] = []
        self._pending: list[Row] | None = None
        self._applied_at = float("-inf")
        for i, label in enumerate(self._labels):
            self.add_column(label, key=f"c{i}")

    @property
    def rows_shown(self) -> list[Row]:
        """The rows in display order."""
        return self._rows

    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row].key

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Show ``rows`` (any order): now, or at most :data:`MIN_INTERVAL_S` after the last change;
        a no-op when nothing changed."""
        ordered = self._sorted(rows)
        if ordered == self._rows:
            self._pending = None
            return
        wait = self._applied_at + MIN_INTERVAL_S - time.monotonic()
        if wait > 0 and self.is_mounted:
            if self._pending is None:
                self.set_timer(wait, self._flush)
            self._pending = ordered
            return
        self._apply(ordered)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and pending != self._rows:
            self._apply(pending)

    def _apply(self, ordered: list[Row]) -> None:
        self._pending = None
        self._applied_at = time.monotonic()
        keep = self.selected_key()
        self._rows = ordered
        self.clear()
        for row in ordered:
            self.add_row(*(_text(cell) for cell in row.cells), key=row.key)
        if keep is not None:
            index = next((i for i, r in enumerate(ordered) if r.key == keep), None)
            if index is not None:
                self.move_cursor(row=index, animate=False)

    def _sorted(self, rows: Sequence[Row]) -> list[Row]:
        col = self.sort_column

        def key(row: Row) -> tuple[int, SortValue]:
            value = row.sort[col]
            return (0, value) if isinstance(value, str) else (1, value)

        return sorted(rows, key=key, reverse=self.reverse)

    def resort(self) -> None:
        """Apply the current sort to the rows shown (at once: the person asked for it)."""
        self._apply(self._sorted(self._pending or self._rows))
        self._mark_header()

    def _mark_header(self) -> None:
        for i, (key, column) in enumerate(self.columns.items()):
            arrow = (" ▼" if self.reverse else " ▲") if i == self.sort_column else ""
            column.label = Text(f"{self._labels[i]}{arrow}")
            self.columns[key] = column
        self.refresh()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """Clicking a header sorts by it; clicking it again reverses."""
        event.stop()
        if event.column_index == self.sort_column:
            self.reverse = not self.reverse
        else:
            self.sort_column, self.reverse = event.column_index, False
        self.resort()

    def action_sort_next(self) -> None:
        """Sort by the next column."""
        self.sort_column = (self.sort_column + 1) % len(self._labels)
        self.reverse = False
        self.resort()

    def action_sort_reverse(self) -> None:
        """Reverse the sort."""
        self.reverse = not self.reverse
        self.resort()
