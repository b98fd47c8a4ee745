"""Positions & Orders: sortable, live tables of open positions and open orders; cancel an order
(``c``, with a confirmation) through the command layer."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from gekko_agent.domain import Order
from gekko_agent.ops import PositionRow
from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import Snapshot, money, short_id
from gekko_agent.tui.tables import Row, SortableTable

__all__ = ["PositionsScreen", "order_rows", "position_rows"]


def _num(value: Decimal | None) -> float:
    return float("-inf") if value is None else float(value)


def _pnl(value: Decimal | None) -> Text:
    if value is None:
        return Text("—", style="dim")
    return Text(money(value), style="green" if value > 0 else ("red" if value < 0 else ""))


def position_rows(positions: list[PositionRow] | tuple[PositionRow, ...]) -> list[Row]:
    """Table rows for open positions."""
    return [
        Row(
            p.instrument_id,
            (
                short_id(p.instrument_id),
                f"{p.quantity:f}",
                money(p.avg_price),
                money(p.last),
                _pnl(p.unrealized),
                _pnl(p.realized),
            ),
            (
                p.instrument_id.lower(),
                float(p.quantity),
                float(p.avg_price),
                _num(p.last),
                _num(p.unrealized),
                float(p.realized),
            ),
        )
        for p in positions
    ]


def order_rows(orders: list[Order] | tuple[Order, ...]) -> list[Row]:
    """Table rows for open orders."""
    rows: list[Row] = []
    for o in orders:
        limit = o.intent.limit_price
        side = Text(str(o.side), style="green" if str(o.side) == "buy" else "red")
        rows.append(
            Row(
                o.client_order_id,
                (
                    o.client_order_id,
                    short_id(o.instrument_id),
                    side,
                    f"{o.remaining:f}",
                    str(o.intent.order_type),
                    money(limit),
                    str(o.status),
                ),
                (
                    o.client_order_id,
                    o.instrument_id.lower(),
                    str(o.side),
                    float(o.remaining),
                    str(o.intent.order_type),
                    _num(limit),
                    str(o.status),
                ),
            )
        )
    return rows


class PositionsScreen(DashboardScreen):
    """Positions on top, orders below; ``c`` cancels the selected order."""

    TITLE = "Positions & Orders"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "app.cancel_order", "Cancel order"),
        Binding("tab", "focus_next", "Next table", show=False),
    ]

    def body(self) -> ComposeResult:
        """Two tables."""
        with Vertical(id="positions-body"):
            yield SortableTable(("instrument", "qty", "avg", "last", "uPnL", "rPnL"), id="positions-table")
            yield SortableTable(
                ("id", "instrument", "side", "remaining", "type", "limit", "status"),
                id="orders-table",
            )

    def on_mount(self) -> None:
        """Border titles."""
        self.query_one("#positions-table").border_title = "positions"
        self.query_one("#orders-table").border_title = "open orders — c cancels the selected one"

    def show(self, snap: Snapshot) -> None:
        """Refresh both tables (no-op when unchanged)."""
        self.query_one("#positions-table", SortableTable).set_rows(position_rows(list(snap.positions)))
        self.query_one("#orders-table", SortableTable).set_rows(order_rows(list(snap.orders)))

    def selected_id(self) -> str | None:
        """The client order id under the orders table's cursor."""
        return self.query_one("#orders-table", SortableTable).selected_key()
