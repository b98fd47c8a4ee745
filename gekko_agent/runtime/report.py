"""The full backtest report: metrics beyond :class:`RunReport`, round-trip trades, plots, HTML.

:func:`analyze` turns a finished run (its :class:`RunReport` and equity curve) into
:class:`Metrics` (total return, CAGR, Sharpe, Sortino, max drawdown, win rate, exposure, turnover,
fees) and a list of :class:`RoundTrip` trades; :func:`write_report` writes them to a folder as
``metrics.json``, ``trades.csv``, ``equity.png``, ``drawdown.png`` and a self-contained
``report.html`` (plots inlined as base64 PNG, no external assets), so a person looks rather than
reads. matplotlib is imported only by :func:`write_report`.

Conventions: a round trip starts when an instrument's position leaves zero and ends when it is back
to zero (a fill through zero closes one and opens the next); its PnL is in the instrument's quote
currency, net of the fees of its fills (fees in the quote currency; others are not deducted).
Exposure is the share of the reported time during which any position was open. Turnover is traded
notional over mean equity (quote currencies taken at par with the account currency).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gekko_agent.domain import Fill, OrderSide
from gekko_agent.runtime.metrics import RunReport, max_drawdown, sharpe_ratio
from gekko_agent.runtime.trader import Trader

__all__ = ["Metrics", "ReportPaths", "RoundTrip", "analyze", "equity_curve", "round_trips", "write_report"]

_YEAR_SECONDS = 365.25 * 24 * 3600
Curve = Sequence[tuple[datetime, Decimal]]


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """One position from flat back to flat on one instrument.

    Attributes:
        instrument_id: what was traded.
        direction: ``long`` or ``short``.
        entry_ts: time of the first fill.
        exit_ts: time of the last fill.
        quantity: base units at the largest position.
        entry_price: volume-weighted price of the fills that opened it.
        exit_price: volume-weighted price of the fills that closed it.
        fees: fees of its fills in the quote currency.
        pnl: (exit - entry) x quantity x direction, less ``fees`` (quote currency).
        return_pct: ``pnl`` over the entry notional.
    """

    instrument_id: str
    direction: str
    entry_ts: datetime
    exit_ts: datetime
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    fees: Decimal
    pnl: Decimal
    return_pct: Decimal


class _Open:
    """A round trip being built from fills."""

    def __init__(self, fill: Fill, sign: int) -> None:
        self.sign = sign
        self.entry_ts = fill.ts
        self.in_qty = self.out_qty = Decimal(0)
        self.in_value = self.out_value = self.fees = Decimal(0)
        self.position = Decimal(0)

    def add(self, fill: Fill, qty: Decimal) -> None:
        signed = qty if fill.side is OrderSide.BUY else -qty
        if signed * self.sign > 0:
            self.in_qty += qty
            self.in_value += qty * fill.price
        else:
            self.out_qty += qty
            self.out_value += qty * fill.price
        quote = fill.instrument_id.partition("@")[0].partition("/")[2]
        if fill.fee.currency == quote and fill.quantity:
            self.fees += fill.fee.amount * qty / fill.quantity
        self.position += signed

    def close(self, iid: str, ts: datetime) -> RoundTrip:
        entry = self.in_value / self.in_qty
        exit_ = self.out_value / self.out_qty
        gross = (self.out_value - self.in_value) * self.sign
        pnl = gross - self.fees
        return RoundTrip(
            instrument_id=iid,
            direction="long" if self.sign > 0 else "short",
            entry_ts=self.entry_ts,
            exit_ts=ts,
            quantity=self.in_qty,
            entry_price=entry,
            exit_price=exit_,
            fees=self.fees,
            pnl=pnl,
            return_pct=pnl / self.in_value if self.in_value else Decimal(0),
        )


def round_trips(fills: Sequence[Fill]) -> list[RoundTrip]:
    """Closed round trips, in the order they closed (a position still open at the end is left out)."""
    open_: dict[str, _Open] = {}
    done: list[RoundTrip] = []
    for fill in fills:
        qty: Decimal = fill.quantity
        sign = 1 if fill.side is OrderSide.BUY else -1
        trip = open_.get(fill.instrument_id)
        if trip is None:
            open_[fill.instrument_id] = trip = _Open(fill, sign)
        if sign * trip.sign < 0 and qty > abs(trip.position):
            rest = qty - abs(trip.position)
            trip.add(fill, abs(trip.position))
            done.append(trip.close(fill.instrument_id, fill.ts))
            open_[fill.instrument_id] = trip = _Open(fill, sign)
            qty = rest
        trip.add(fill, qty)
        if trip.position == 0:
            done.append(trip.close(fill.instrument_id, fill.ts))
            del open_[fill.instrument_id]
    return done


def _exposure(fills: Sequence[Fill], start: datetime, end: datetime) -> float:
    """Share of [start, end] during which any instrument's position was not zero."""
    total = (end - start).total_seconds()
    if total <= 0:
        return 0.0
    positions: dict[str, Decimal] = {}
    in_market = 0.0
    since: datetime | None = None
    for f in fills:
        was_open = any(positions.values())
        positions[f.instrument_id] = positions.get(f.instrument_id, Decimal(0)) + (
            f.quantity if f.side is OrderSide.BUY else -f.quantity
        )
        now_open = any(positions.values())
        if now_open and not was_open:
            since = max(f.ts, start)
        elif was_open and not now_open and since is not None:
            in_market += max(0.0, (min(f.ts, end) - since).total_seconds())
            since = None
    if since is not None:
        in_market += max(0.0, (end - since).total_seconds())
    return min(1.0, in_market / total)


def _sortino(values: Sequence[float], sample_seconds: float) -> float:
    """Annualized Sortino ratio of simple returns (target 0); 0 when there is no downside."""
    rets = [b / a - 1.0 for a, b in itertools.pairwise(values) if a]
    if len(rets) < 2:
        return 0.0
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in rets) / len(rets))
    if downside <= 0:
        return 0.0
    return (sum(rets) / len(rets)) / downside * math.sqrt(_YEAR_SECONDS / sample_seconds)


def _cagr(start: float, final: float, years: float) -> float:
    """Compound annual growth; inf when a short run's growth overflows, 0 when undefined."""
    if years <= 0 or start <= 0 or final <= 0:
        return 0.0
    try:
        return float((final / start) ** (1.0 / years) - 1.0)
    except OverflowError:
        return math.inf


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
    trips = round_trips(report.trades)
    s0, s1 = float(report.start_equity), float(report.final_equity)
    total = s1 / s0 - 1.0 if s0 else 0.0
    cagr = _cagr(s0, s1, seconds / _YEAR_SECONDS)
    mean_eq = sum(floats) / len(floats) if floats else 0.0
    notional = sum(float(f.quantity * f.price) for f in report.trades)
    metrics = Metrics(
        start_equity=s0,
        final_equity=s1,
        total_return=total,
        cagr=cagr,
        sharpe=sharpe_ratio(values, sample_seconds),
        sortino=_sortino(floats, sample_seconds),
        max_drawdown=float(max_drawdown(values)),
        round_trips=len(trips),
        win_rate=sum(1 for t in trips if t.pnl > 0) / len(trips) if trips else 0.0,
        exposure=_exposure(report.trades, start, end) if start and end else 0.0,
        turnover=notional / mean_eq if mean_eq else 0.0,
        fees=float(report.fees),
        fills=len(report.trades),
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
        title: heading of the HTML page.
    """
    from gekko_agent.runtime.report_html import render_html, render_pngs

    out_dir.mkdir(parents=True, exist_ok=True)
    curve = equity_curve(source, report)
    sample = float(source.equity.sample_seconds) if isinstance(source, Trader) else _spacing(curve)
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
    summary = {k: v for k, v in report.to_json().items() if k != "trades"}
    paths.metrics_json.write_text(json.dumps({"metrics": metrics.to_json(), "run": summary}, indent=2) + "\n")
    paths.trades_csv.write_text(_trades_csv(trips))
    paths.html.write_text(render_html(title, metrics, trips, equity_png, drawdown_png, summary))
    return paths


def _spacing(curve: Curve) -> float:
    """Median spacing of a curve in seconds (300 when it cannot be told)."""
    gaps = sorted((b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(curve))
    return gaps[len(gaps) // 2] if gaps and gaps[len(gaps) // 2] > 0 else 300.0
