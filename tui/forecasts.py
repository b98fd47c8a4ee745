"""Forecasts: the forecaster's return quantiles per instrument, as prices and as a band around the last
close. Without a trained model the screen says how to get one."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from gekko_agent.tui.base import DashboardScreen
from gekko_agent.tui.model import ForecastBand, Snapshot, short_id

__all__ = ["NO_MODEL", "ForecastsScreen", "band_strip", "bands_table"]

NO_MODEL = (
    "No forecast model is loaded.\n\n"
    "Train one with `gekko forecast train` (it is saved under var/models), "
    "then restart the dashboard to see quantile bands per instrument here."
)


def band_strip(band: ForecastBand, scale: Decimal, width: int = 41) -> Text:
    """The quantiles on a strip centred on the last close: ░ outer band, ▒ inner band, ┃ median.

    Args:
        band: the forecast.
        scale: the return at either end of the strip (shared by every row so widths compare).
        width: characters (odd, so zero has a column).
    """
    half = width // 2

    def col(ret: Decimal) -> int:
        if not scale:
            return half
        return max(0, min(width - 1, half + round(float(ret / scale) * half)))

    cells = ["─"] * width
    cells[half] = "┼"
    levels = band.quantiles
    if levels:
        lo, hi = col(levels[0][1]), col(levels[-1][1])
        for i in range(lo, hi + 1):
            cells[i] = "░"
        if len(levels) >= 4:
            inner_lo, inner_hi = col(levels[1][1]), col(levels[-2][1])
            for i in range(inner_lo, inner_hi + 1):
                cells[i] = "▒"
        median = min(levels, key=lambda lv: abs(lv[0] - Decimal("0.5")))
        cells[col(median[1])] = "┃"
    return Text("".join(cells), style="cyan")


def _range(band: ForecastBand, lo: int, hi: int) -> str:
    q = band.quantiles
    if len(q) <= max(lo, -hi - 1):
        return "—"
    return f"{band.last * (1 + q[lo][1]):,.2f} – {band.last * (1 + q[hi][1]):,.2f}"


def bands_table(bands: Sequence[ForecastBand]) -> Group:
    """A table of last close, median and the inner and outer ranges as prices, then one strip each."""
    scale = max((abs(r) for b in bands for _, r in b.quantiles), default=Decimal(0))
    first = bands[0].quantiles if bands else ()
    outer = f"{first[0][0]:g}–{first[-1][0]:g}" if first else "outer"
    inner = f"{first[1][0]:g}–{first[-2][0]:g}" if len(first) >= 4 else "inner"
    table = Table(expand=True, box=None, header_style="bold")
    for name in ("instrument", "horizon", "last", "median", f"range {inner}", f"range {outer}"):
        table.add_column(name, justify="left" if name in ("instrument", "horizon") else "right", no_wrap=True)
    strips = Table.grid(padding=(0, 1))
    for b in bands:
        median = min(b.quantiles, key=lambda lv: abs(lv[0] - Decimal("0.5")), default=None)
        mid = "—" if median is None else f"{b.last * (1 + median[1]):,.2f}"
        table.add_row(
            short_id(b.instrument_id), b.horizon, f"{b.last:,.2f}", mid, _range(b, 1, -2), _range(b, 0, -1)
        )
        strips.add_row(short_id(b.instrument_id), band_strip(b, scale), f"±{scale:.2%}")
    legend = Text("░ outer range  ▒ inner range  ┃ median  ┼ last close", style="dim")
    return Group(table, Text(""), strips, legend)


class ForecastsScreen(DashboardScreen):
    """Bands per instrument, or the way to train a model."""

    TITLE = "Forecasts"

    def body(self) -> ComposeResult:
        """One scrolling panel."""
        with VerticalScroll(id="forecasts-body"):
            yield Static(NO_MODEL, id="forecasts")

    def on_mount(self) -> None:
        """Border title."""
        self.query_one("#forecasts-body").border_title = "return quantiles"

    def show(self, snap: Snapshot) -> None:
        """The table, or the no-model panel."""
        panel = self.query_one("#forecasts", Static)
        panel.set_class(snap.forecasts is None, "-no-model")
        if snap.forecasts is None:
            panel.update(NO_MODEL)
            return
        if not snap.forecasts:
            panel.update(Text("The model is loaded; waiting for enough bars to forecast.", style="dim"))
            return
        models = sorted({b.model for b in snap.forecasts})
        panel.update(Group(bands_table(snap.forecasts), Text(f"model {', '.join(models)}", style="dim")))
