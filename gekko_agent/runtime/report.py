"""The full backtest report: metrics beyond :class:`RunReport`, round-trip trades, plots, HTML.

:func:`analyze` turns a finished run (its :class:`RunReport` and equity curve) into
:class:`Metrics` (total return, CAGR, Sharpe, Sortino, max drawdown, win rate, exposure, turnover,
fees) and a list of :class:`RoundTrip` trades; :func:`write_report` writes them to a folder as
``metrics.json``, ``trades.csv``, ``equity.png``, ``drawdown.png`` and a self-contained
``report.html`` (plots inlined as base64 PNG, no external assets), so a person looks rather than
reads. matplotlib is imported only by :func:`write_report`.

Conventions: round trips are defined in :mod:`gekko_agent.runtime.trades` (flat to flat per
instrument, PnL net of the fees of its fills, in the quote currency). Exposure is the share of the
reported time during which any position was open. Turnover is traded notional over mean equity
(quote currencies taken at par with the account currency). :func:`summary_lines` is the same
report as text, for the terminal.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gekko_agent.errors import InvalidInput
from gekko_agent.runtime.metrics import (
    RunReport,
    cagr,
    exposure,
    max_drawdown,
    median_spacing,
    sharpe_ratio,
    sortino_ratio,
    turnover,
)
from gekko_agent.runtime.trader import Trader
from gekko_agent.runtime.trades import RoundTrip, round_trips

__all__ = [
    "Metrics",
    "ReportPaths",
    "RoundTrip",
    "analyze",
    "equity_curve",
    "prepare_report_dir",
    "round_trips",
    "summary_lines",
    "write_report",
]

_YEAR_SECONDS = 365.25 * 24 * 3600
Curve = Sequence[tuple[datetime, Decimal]]


@dataclass(frozen=True, slots=True)
class Metrics:
    """Everything a person asks of a backtest, as plain numbers.

    Attributes:
        start_equity: equity at the first mark (account currency).
        final_equity: equity at the last mark.
        total_return: final / start - 1.
        cagr: total return compounded to a year (meaningless for very short runs; shown anyway).
        sharpe: annualized Sharpe of the sampled equity curve.
        sortino: annualized Sortino of the same curve (downside deviation, target 0).
        max_drawdown: largest peak-to-trough fall, fraction.
        round_trips: closed round trips.
        win_rate: share of round trips with a positive net PnL (0 with none).
        exposure: share of the time any position was open.
        turnover: traded notional over mean equity.
        fees: fees paid (account currency).
        fills: number of fills.
        days: length of the reported period in days.
    """

    start_equity: float
    final_equity: float
    total_return: float
    cagr: float
    sharpe: float
    sortino: float
    max_drawdown: float
    round_trips: int
    win_rate: float
    exposure: float
    turnover: float
    fees: float
    fills: int
    days: float

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (rounded for reading)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float):
                value = round(value, 6) if math.isfinite(value) else None
            out[key] = value
        return out


def equity_curve(source: Trader | Curve, report: RunReport | None = None) -> list[tuple[datetime, Decimal]]:
    """The (time, equity) curve of a trader (cut to the report's period) or a curve given as is."""
    if not isinstance(source, Trader):
        return list(source)
    curve = list(source.equity.curve)
    if report is not None and report.start is not None:
        curve = [(t, v) for t, v in curve if t >= report.start]
        if report.end is not None and (not curve or curve[-1][0] < report.end):
            curve.append((report.end, report.final_equity))
    return curve


def analyze(
    report: RunReport, curve: Curve, sample_seconds: float = 300.0
) -> tuple[Metrics, list[RoundTrip]]:
    """Metrics and round trips of a finished run."""
    values = [v for _, v in curve] or [report.start_equity, report.final_equity]
    floats = [float(v) for v in values]
    start = report.start or (curve[0][0] if curve else None)
    end = report.end or (curve[-1][0] if curve else None)
    seconds = (end - start).total_seconds() if start and end else 0.0
    trips = round_trips(report.fills)
    s0, s1 = float(report.start_equity), float(report.final_equity)
    metrics = Metrics(
        start_equity=s0,
        final_equity=s1,
        total_return=s1 / s0 - 1.0 if s0 else 0.0,
        cagr=cagr(s0, s1, seconds),
        sharpe=sharpe_ratio(values, sample_seconds),
        sortino=sortino_ratio(floats, sample_seconds),
        max_drawdown=float(max_drawdown(values)),
        round_trips=len(trips),
        win_rate=sum(1 for t in trips if t.pnl > 0) / len(trips) if trips else 0.0,
        exposure=exposure(report.fills, start, end) if start and end else 0.0,
        turnover=turnover(report.fills, floats),
        fees=float(report.fees),
        fills=len(report.fills),
        days=seconds / 86400,
    )
    return metrics, trips


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Files :func:`write_report` wrote.

    Attributes:
        html: the self-contained report.
        equity_png: equity curve plot.
        drawdown_png: drawdown plot.
        metrics_json: metrics (and the RunReport summary) as JSON.
        trades_csv: the round trips, one per row.
    """

    html: Path
    equity_png: Path
    drawdown_png: Path
    metrics_json: Path
    trades_csv: Path


def _trades_csv(trips: Sequence[RoundTrip]) -> str:
    head = "instrument,direction,entry_ts,exit_ts,quantity,entry_price,exit_price,fees,pnl,return_pct"
    rows = [
        f"{t.instrument_id},{t.direction},{t.entry_ts.isoformat()},{t.exit_ts.isoformat()},{t.quantity},"
        f"{t.entry_price:.8f},{t.exit_price:.8f},{t.fees:.8f},{t.pnl:.8f},{t.return_pct:.8f}"
        for t in trips
    ]
    return "\n".join([head, *rows]) + "\n"


def write_report(
    report: RunReport, source: Trader | Curve, out_dir: Path, *, title: str = "Gekko backtest"
) -> ReportPaths:
    """Write metrics, trades, the equity and drawdown PNGs and a self-contained HTML to ``out_dir``.

    Args:
        report: the run's summary (``run_backtest``'s result).
        source: the run's Trader (its sampled equity curve is used) or a (time, equity) curve.
        out_dir: folder to write into (created when missing; files are overwritten).

    Raises:
        InvalidInput: ``out_dir`` is a file, or cannot be created or written.
        title: heading of the HTML page.
    """
    from gekko_agent.runtime.report_html import render_html, render_pngs

    prepare_report_dir(out_dir)
    curve = equity_curve(source, report)
    default = float(source.equity.sample_seconds) if isinstance(source, Trader) else 300.0
    sample = median_spacing([t for t, _ in curve], default)
    metrics, trips = analyze(report, curve, sample)
    paths = ReportPaths(
        html=out_dir / "report.html",
        equity_png=out_dir / "equity.png",
        drawdown_png=out_dir / "drawdown.png",
        metrics_json=out_dir / "metrics.json",
        trades_csv=out_dir / "trades.csv",
    )
    equity_png, drawdown_png = render_pngs(curve)
    paths.equity_png.write_bytes(equity_png)
    paths.drawdown_png.write_bytes(drawdown_png)
    summary = {k: v for k, v in report.to_json().items() if k not in ("trades", "fills")}
    paths.metrics_json.write_text(json.dumps({"metrics": metrics.to_json(), "run": summary}, indent=2) + "\n")
    paths.trades_csv.write_text(_trades_csv(trips))
    paths.html.write_text(render_html(title, metrics, trips, equity_png, drawdown_png, summary))
    return paths


def prepare_report_dir(out_dir: Path) -> Path:
    """Create the report folder (or check the one there) before a run, so a bad path fails at once.

    Raises:
        InvalidInput: ``out_dir`` is a file, lies under a file, or cannot be created or written.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"--report: {out_dir} is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InvalidInput(f"--report: {out_dir} is a file, not a folder") from None
    except NotADirectoryError:
        raise InvalidInput(f"--report: {out_dir} lies under a file, not a folder") from None
    except OSError as exc:
        raise InvalidInput(f"--report: cannot create {out_dir} ({exc.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise InvalidInput(f"--report: cannot write into {out_dir} (permission denied)")
    return out_dir


def _price(value: Decimal) -> str:
    return f"{value:,.2f}" if abs(value) >= 100 else f"{value:,.5f}"


def _pct(value: float | Decimal) -> str:
    number = float(value)
    return f"{number:.2%}" if math.isfinite(number) else "n/a"


def summary_lines(result: RunReport, title: str, *, max_trades: int = 10) -> list[str]:
    """The plain-text report of a backtest: every metric, then the latest round trips."""
    period = (
        f"{result.start:%Y-%m-%d %H:%M} → {result.end:%Y-%m-%d %H:%M} UTC"
        if result.start and result.end
        else "no marks"
    )
    trips = result.trades
    wins = sum(1 for t in trips if t.pnl > 0)
    lines = [
        f"{title}: {period}, {result.bars:,} bars",
        f"equity {result.start_equity:,.2f} → {result.final_equity:,.2f}; fees {result.fees:,.2f}",
        f"total return {_pct(result.total_return)}  CAGR {_pct(result.cagr)}  Sharpe {result.sharpe:.2f}  "
        f"Sortino {result.sortino:.2f}  max drawdown {_pct(result.max_drawdown)}",
        f"win rate {_pct(result.win_rate)} ({wins} of {len(trips)} round trips)  exposure "
        f"{_pct(result.exposure)}  turnover {result.turnover:.2f}x",
        f"{len(result.fills)} fills; intents {result.intents}: approved {result.approved}, "
        f"resized {result.resized}, denied {result.denied} by risk",
    ]
    if not trips:
        return [*lines, "no round trips (no position was opened and closed)"]
    shown = trips[-max_trades:]
    more = (
        f" (the last {len(shown)} of {len(trips)}; all with --json or --report)"
        if len(trips) > len(shown)
        else ""
    )
    lines.append(f"round trips{more}:")
    for t in shown:
        lines.append(
            f"  {t.direction:<5} {t.instrument_id}  {t.entry_ts:%Y-%m-%d %H:%M} @ {_price(t.entry_price)} → "
            f"{t.exit_ts:%Y-%m-%d %H:%M} @ {_price(t.exit_price)}  qty {t.quantity}  "
            f"pnl {t.pnl:+,.2f}  fees {t.fees:,.2f}"
        )
    return lines
