"""Risk: every limit with its usage bar, VaR and ES against their limits, each breaker's distance to
its levels, and the latest denials and resizes with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from gekko_agent.ops import Denial
from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import BreakerRow, LimitRow, RiskFigures, Snapshot, money
from gekko_agent.tui.tables import Row, SortableTable
from gekko_agent.tui.widgets import usage_bar

__all__ = ["RiskScreen", "breakers_table", "denial_rows", "limit_rows", "var_table"]

_BREAKER_STYLE = {"ok": "green", "reducing": "bold yellow", "halted": "bold red"}


def _amount(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "fraction":
        return f"{value:.2%}"
    if unit in ("count", "x"):
        return f"{value:,.2f}".rstrip("0").rstrip(".") + ("x" if unit == "x" else "")
    return money(value)


def limit_rows(limits: Sequence[LimitRow]) -> list[Row]:
    """One row per limit: used, limit, share and a usage bar."""
    rows: list[Row] = []
    for lim in limits:
        share = lim.share
        pct = "—" if share is None else f"{share:.0%}"
        rows.append(
            Row(
                lim.name,
                (
                    lim.name,
                    _amount(lim.used, lim.unit),
                    _amount(lim.limit, lim.unit),
                    pct,
                    usage_bar(share, 16),
                ),
                (
                    lim.name,
                    -1.0 if share is None else share,
                    float(lim.limit),
                    -1.0 if share is None else share,
                    0.0,
                ),
            )
        )
    return rows


def var_table(risk: RiskFigures | None) -> Table | Text:
    """VaR and ES with bars against their limits."""
    if risk is None:
        return Text("VaR/ES: not enough price history yet", style="dim")
    table = Table.grid(padding=(0, 1))
    for name, value, limit in (("VaR", risk.var, risk.max_var), ("ES", risk.es, risk.max_es)):
        share = float(value / limit) if limit else None
        table.add_row(
            f"{name} {risk.confidence:.0%}",
            money(value),
            f"/ {money(limit)}",
            usage_bar(share, 8),
        )
    return table


def breakers_table(breakers: Sequence[BreakerRow]) -> Table:
    """Each breaker: its value, levels and what it demands now."""
    table = Table.grid(padding=(0, 1))
    table.add_row(*(Text(h, style="dim") for h in ("breaker", "now", "reduce/halt", "state")))
    for b in breakers:
        is_count = b.name.startswith("venue")

        def fmt(v: Decimal | None, count: bool = is_count) -> str:
            if v is None:
                return "—"
            return f"{v:.0f}" if count else f"{v:.2%}"

        table.add_row(
            b.name,
            fmt(b.value),
            f"{fmt(b.reduce_at)}/{fmt(b.halt_at)}",
            Text(b.state.upper(), style=_BREAKER_STYLE.get(b.state, "")),
        )
    return table


def denial_rows(denials: Sequence[Denial]) -> list[Row]:
    """Newest first: when, what, verdict and the reasons."""
    rows: list[Row] = []
    for i, d in enumerate(reversed(denials)):
        at = "" if d.at is None else f"{d.at:%m-%d %H:%M}"
        style = "red" if d.verdict == "denied" else "yellow"
        why = f"{', '.join(d.reasons)}: {d.explanation}" if d.reasons else d.explanation
        rows.append(
            Row(
                f"{i}",
                (at, d.intent, Text(d.verdict, style=style), why),
                (-float(i), d.intent.lower(), d.verdict, why.lower()),
            )
        )
    return rows


class RiskScreen(DashboardScreen):
    """Limits table, VaR/ES and breakers side by side, denials below."""

    TITLE = "Risk"

    def body(self) -> ComposeResult:
        """Three panels."""
        with Vertical(id="risk-body"):
            yield SortableTable(("limit", "used", "limit", "%", "usage"), id="limits-table")
            with Horizontal(id="risk-panels"):
                yield Static(id="var-panel")
                yield Static(id="breakers-panel")
            yield SortableTable(("at", "intent", "verdict", "why"), id="denials-table")

    def on_mount(self) -> None:
        """Border titles."""
        self.query_one("#limits-table").border_title = "limits"
        self.query_one("#var-panel").border_title = "VaR / ES"
        self.query_one("#breakers-panel").border_title = "breakers"
        self.query_one("#denials-table").border_title = "recent denials and resizes"

    def show(self, snap: Snapshot) -> None:
        """Fill every panel."""
        self.query_one("#limits-table", SortableTable).set_rows(limit_rows(snap.limits))
        panel = self.query_one("#var-panel", Static)
        panel.border_title = f"VaR / ES ({snap.status.account_currency})"
        panel.update(var_table(snap.risk))
        self.query_one("#breakers-panel", Static).update(breakers_table(snap.breakers))
        self.query_one("#denials-table", SortableTable).set_rows(denial_rows(snap.denials))
