"""Market tools: instruments, quotes, recent bars and indicators computed from them.

Indicators are computed here from the bars the context gives (simple, transparent formulas), so the
agent's observation and its tool answers agree to the digit. Prices stay Decimal strings; indicator
values are rounded decimals, never binary floats in the journal.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from gekko_agent.domain import Bar
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.registry import Tool, tool

__all__ = ["TOOLS", "compute_indicators", "get_bars", "get_indicators", "get_quote", "list_instruments"]

_PLACES = 8


def _dec(x: float) -> str | None:
    if not math.isfinite(x):
        return None
    return str(Decimal(f"{x:.{_PLACES}g}"))


def _sma(xs: Sequence[float], n: int) -> float:
    return sum(xs[-n:]) / n if len(xs) >= n else math.nan


def _ema(xs: Sequence[float], n: int) -> float:
    if len(xs) < n:
        return math.nan
    k = 2.0 / (n + 1)
    e = sum(xs[:n]) / n
    for x in xs[n:]:
        e = x * k + e * (1 - k)
    return e


def _rsi(xs: Sequence[float], n: int = 14) -> float:
    if len(xs) <= n:
        return math.nan
    diffs = [b - a for a, b in zip(xs[-n - 1 : -1], xs[-n:], strict=True)]
    gain = sum(d for d in diffs if d > 0) / n
    loss = -sum(d for d in diffs if d < 0) / n
    if loss == 0:
        return 100.0 if gain > 0 else 50.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def _atr(bars: Sequence[Bar], n: int = 14) -> float:
    if len(bars) <= n:
        return math.nan
    trs = []
    for prev, cur in zip(bars[-n - 1 : -1], bars[-n:], strict=True):
        h, low, pc = float(cur.high), float(cur.low), float(prev.close)
        trs.append(max(h - low, abs(h - pc), abs(low - pc)))
    return sum(trs) / n


def _vol(xs: Sequence[float], n: int) -> float:
    tail = xs[-n - 1 :]
    if len(tail) < 3:
        return math.nan
    rets = [math.log(b / a) for a, b in itertools.pairwise(tail) if a > 0 and b > 0]
    if len(rets) < 2:
        return math.nan
    mean = sum(rets) / len(rets)
    return math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1))


def compute_indicators(bars: Sequence[Bar], fast: int = 10, slow: int = 30) -> dict[str, str | None]:
    """Standard indicators over ``bars`` (oldest first); a value is None when there is too little history.

    Args:
        bars: closed bars, oldest first.
        fast: fast moving-average window.
        slow: slow moving-average window.

    Returns:
        ``last``, ``sma_fast``, ``sma_slow``, ``ema_fast``, ``rsi_14``, ``atr_14``, ``vol_per_bar``
        (stdev of log returns over ``slow`` bars), ``return_fast`` and ``return_slow`` (simple returns).
    """
    closes = [float(b.close) for b in bars]
    last = closes[-1] if closes else math.nan

    def ret(n: int) -> float:
        return closes[-1] / closes[-n - 1] - 1 if len(closes) > n and closes[-n - 1] > 0 else math.nan

    return {
        "bars": str(len(bars)),
        "last": str(bars[-1].close) if bars else None,
        f"sma_{fast}": _dec(_sma(closes, fast)),
        f"sma_{slow}": _dec(_sma(closes, slow)),
        f"ema_{fast}": _dec(_ema(closes, fast)),
        "rsi_14": _dec(_rsi(closes)),
        "atr_14": _dec(_atr(bars)),
        "vol_per_bar": _dec(_vol(closes, slow)),
        f"return_{fast}": _dec(ret(fast)),
        f"return_{slow}": _dec(ret(slow)),
        "trend": (
            None
            if not (math.isfinite(_sma(closes, slow)) and math.isfinite(last))
            else ("up" if _sma(closes, fast) > _sma(closes, slow) else "down")
        ),
    }


@tool(group="market")
def list_instruments(ctx: ToolContext) -> list[str]:
    """List the instruments this account may trade (ids look like SYMBOL@venue)."""
    return list(ctx.instruments())


@tool(group="market")
def get_quote(ctx: ToolContext, instrument_id: str) -> dict[str, Any]:
    """Latest price of one instrument: last trade, bid and ask when known, and their time.

    Args:
        instrument_id: the instrument, e.g. BTC/USD@paper.
    """
    q = ctx.quote(instrument_id)
    return {"instrument_id": q.instrument_id, "last": q.last, "bid": q.bid, "ask": q.ask, "ts": q.ts}


@tool(group="market")
def get_bars(
    ctx: ToolContext,
    instrument_id: str,
    limit: Annotated[int, Field(ge=1, le=500)] = 30,
) -> dict[str, Any]:
    """Recent closed OHLCV bars, oldest first, as rows of [time, open, high, low, close, volume].

    Args:
        instrument_id: the instrument, e.g. BTC/USD@paper.
        limit: how many bars (1 to 500).
    """
    bars = ctx.bars(instrument_id, limit)
    return {
        "instrument_id": instrument_id,
        "interval_seconds": bars[-1].interval if bars else None,
        "columns": ["ts", "open", "high", "low", "close", "volume"],
        "rows": [[b.ts, b.open, b.high, b.low, b.close, b.volume] for b in bars],
    }


@tool(group="market")
def get_indicators(
    ctx: ToolContext,
    instrument_id: str,
    fast: Annotated[int, Field(ge=2, le=200)] = 10,
    slow: Annotated[int, Field(ge=3, le=400)] = 30,
) -> dict[str, Any]:
    """Technical indicators from recent bars: moving averages, EMA, RSI(14), ATR(14), volatility, returns.

    Args:
        instrument_id: the instrument, e.g. BTC/USD@paper.
        fast: fast moving-average window in bars.
        slow: slow moving-average window in bars (larger than fast).
    """
    bars = ctx.bars(instrument_id, max(slow, 15) + 1)
    return {"instrument_id": instrument_id, **compute_indicators(bars, fast, slow)}


TOOLS: tuple[Tool, ...] = (list_instruments, get_quote, get_bars, get_indicators)
