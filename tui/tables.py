"""A DataTable that keeps its sort order and its cursor across live updates.

Screens hand it the full set of rows on every snapshot (:meth:`SortableTable.set_rows`); it redraws
only when the rows changed, sorts them by the chosen column (click a header, or ``s`` to move to the
next column and ``S`` to reverse), and puts the cursor back on the same row key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

__all__ = ["Row", "SortableTable"]

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
        """Show ``rows`` (any order); a no-op when nothing changed."""
        ordered = self._sorted(rows)
        if ordered == self._rows:
            return
        keep = self.selected_key()
        self._rows = ordered
        self.clear()
        for row in ordered:
            self.add_row(*row.cells, key=row.key)
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
        """Apply the current sort to the rows shown."""
        rows, self._rows = self._rows, []
        self.set_rows(rows)
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
