"""Rendering of the backtest report: equity and drawdown PNGs (matplotlib, Agg) and one HTML page.

The HTML is self-contained: the PNGs are inlined as base64 data URIs and the styles are inline,
so the file can be mailed or opened offline. matplotlib is imported here and only when a report is
written, so the engine and ``gekko --help`` never pay for it.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gekko_agent.runtime.report import Metrics, RoundTrip

__all__ = ["drawdown_series", "render_html", "render_pngs"]

_MAX_TRADE_ROWS = 500
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f4f4f4}td.l,th.l{text-align:left}.pos{color:#0a7a32}.neg{color:#b3261e}"
    "img{max-width:100%;border:1px solid #eee}"
)


def drawdown_series(values: Sequence[float]) -> list[float]:
    """Drawdown from the running peak at each point, as a fraction (0 at a new high)."""
    out: list[float] = []
    peak = float("-inf")
    for v in values:
        peak = max(peak, v)
        out.append((v / peak - 1.0) if peak > 0 else 0.0)
    return out


def _png(times: Sequence[datetime], values: Sequence[float], title: str, ylabel: str, fill: bool) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), dpi=100)
    ax = fig.add_subplot()
    x = [t.timestamp() / 86400.0 for t in times]  # matplotlib date numbers (days since 1970)
    if fill:
        ax.fill_between(x, values, 0.0, color="#b3261e", alpha=0.35, linewidth=0)
        ax.plot(x, values, color="#b3261e", linewidth=0.8)
    else:
        ax.plot(x, values, color="#1f5fbf", linewidth=1.0)
    ax.xaxis_date()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def render_pngs(curve: Sequence[tuple[datetime, Decimal]]) -> tuple[bytes, bytes]:
    """(equity PNG, drawdown PNG) of a (time, equity) curve."""
    times = [t for t, _ in curve]
    values = [float(v) for _, v in curve]
    dd = [100.0 * d for d in drawdown_series(values)]
    equity = _png(times, values, "Equity", "account currency", fill=False)
    drawdown = _png(times, dd, "Drawdown", "% below peak", fill=True)
    return equity, drawdown


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key in ("total_return", "cagr", "max_drawdown", "win_rate", "exposure"):
        return f"{100 * value:,.2f} %"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.4f}"
    return html.escape(str(value))


def _metrics_table(metrics: Metrics) -> str:
    rows = "".join(
        f'<tr><th class="l">{html.escape(k.replace("_", " "))}</th><td>{_fmt(k, v)}</td></tr>'
        for k, v in metrics.to_json().items()
    )
    return f"<table>{rows}</table>"


def _trades_table(trips: Sequence[RoundTrip]) -> str:
    head = (
        '<tr><th class="l">instrument</th><th class="l">direction</th><th class="l">entry</th>'
        '<th class="l">exit</th><th>quantity</th><th>entry price</th><th>exit price</th>'
        "<th>fees</th><th>PnL</th><th>return</th></tr>"
    )
    rows = []
    for t in trips[:_MAX_TRADE_ROWS]:
        cls = "pos" if t.pnl > 0 else "neg"
        rows.append(
            f'<tr><td class="l">{html.escape(t.instrument_id)}</td><td class="l">{t.direction}</td>'
            f'<td class="l">{t.entry_ts:%Y-%m-%d %H:%M}</td><td class="l">{t.exit_ts:%Y-%m-%d %H:%M}</td>'
            f"<td>{t.quantity}</td><td>{t.entry_price:,.2f}</td><td>{t.exit_price:,.2f}</td>"
            f'<td>{t.fees:,.2f}</td><td class="{cls}">{t.pnl:,.2f}</td>'
            f'<td class="{cls}">{100 * t.return_pct:,.3f} %</td></tr>'
        )
    more = len(trips) - _MAX_TRADE_ROWS
    note = f"<p>… and {more} more round trips (see trades.csv).</p>" if more > 0 else ""
    return f"<table>{head}{''.join(rows)}</table>{note}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img alt="{alt}" src="data:image/png;base64,{data}"></p>'


def render_html(
    title: str,
    metrics: Metrics,
    trips: Sequence[RoundTrip],
    equity_png: bytes,
    drawdown_png: bytes,
    run: Mapping[str, Any],
) -> str:
    """The whole report as one HTML document (no external assets)."""
    period = f"{run.get('start')} → {run.get('end')}, {run.get('bars')} bars"
    risk = (
        f"intents {run.get('intents')}: approved {run.get('approved')}, resized {run.get('resized')}, "
        f"denied {run.get('denied')} by risk"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(period)}<br>{html.escape(risk)}</p>"
        f"{_img(equity_png, 'equity curve')}{_img(drawdown_png, 'drawdown')}"
        f"<h2>Metrics</h2>{_metrics_table(metrics)}"
        f"<h2>Round trips ({len(trips)})</h2>{_trades_table(trips)}"
        "</body></html>\n"
    )
