"""Overview: the equity curve and its drawdown, PnL today and in total, exposure, the trading state,
which brain decides, venue health and the session's counters."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import Snapshot, money
from gekko_agent.tui.widgets import BlockChart

__all__ = ["OverviewScreen", "drawdowns", "facts_table"]

_STATE_STYLE = {"active": "bold green", "reducing": "bold yellow", "halted": "bold red"}


def drawdowns(equity: list[float]) -> list[float]:
    """Drawdown from the running peak, in percent (0 at a new high)."""
    out: list[float] = []
    peak = float("-inf")
    for v in equity:
        peak = max(peak, v)
        out.append((peak - v) / peak * 100 if peak > 0 else 0.0)
    return out


def _signed(value: Decimal | None) -> Text:
    if value is None:
        return Text("—", style="dim")
    style = "green" if value > 0 else ("red" if value < 0 else "")
    return Text(f"{value:+,.2f}", style=style)


def facts_table(snap: Snapshot) -> Table:
    """Two columns of headline facts."""
    s = snap.status
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    state = Text(s.state.upper(), style=_STATE_STYLE.get(s.state, "bold"))
    table.add_row("state", state)
    table.add_row("brain", Text(s.brain, style="bold"))
    table.add_row("mode", s.mode)
    table.add_row("equity", f"{money(s.equity)} {s.account_currency}")
    table.add_row("PnL today", _signed(s.pnl_today))
    table.add_row("PnL total", _signed(s.pnl_total))
    table.add_row("drawdown", f"{s.drawdown:.2%}")
    table.add_row("gross exposure", money(s.gross_exposure))
    table.add_row("positions", str(len(snap.positions)))
    table.add_row("open orders", str(s.open_orders))
    table.add_row(
        "approvals", Text(str(s.pending_approvals), style="bold yellow" if s.pending_approvals else "")
    )
    table.add_row("intents / denied", f"{s.intents} / {s.denied}")
    table.add_row("fills", str(s.fills))
    for name, health in s.venues:
        table.add_row(f"venue {name}", Text(health, style="green" if health == "ok" else "bold red"))
    return table


class OverviewScreen(DashboardScreen):
    """Charts on the left, facts on the right."""

    TITLE = "Overview"

    def body(self) -> ComposeResult:
        """Equity and drawdown charts beside the facts panel."""
        with Horizontal(id="overview"):
            with Vertical(id="charts"):
                yield BlockChart("equity", id="equity-chart")
                yield BlockChart("drawdown %", inverted=True, fmt="{:.2f}", id="drawdown-chart")
            yield Static(id="facts-panel")

    def show(self, snap: Snapshot) -> None:
        """Plot the curve and fill in the facts."""
        values = [float(v) for _, v in snap.curve]
        self.query_one("#equity-chart", BlockChart).plot(values)
        self.query_one("#drawdown-chart", BlockChart).plot(drawdowns(values))
        panel = self.query_one("#facts-panel", Static)
        panel.border_title = "now"
        panel.update(facts_table(snap))
