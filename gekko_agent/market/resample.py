"""Bar intervals (``1m``, ``5m``, ``1h``, ``1d``…) and OHLCV resampling aligned to UTC boundaries.

Resampling groups bars by the UTC period their open time falls in (``floor(ts / step)``): a 1h bar
starts on the hour, a 1d bar at 00:00 UTC. Within a group the open is the first bar's open, the close
the last bar's close, high and low the extremes and volume the sum. A period with no source bar
produces no bar at all (gaps stay gaps; nothing is forward-filled or invented).
"""

from __future__ import annotations

import re

import numpy as np

from gekko_agent.errors import InvalidInput
from gekko_agent.market.bararray import BarArray

__all__ = ["INTERVALS", "format_interval", "parse_interval", "resample"]

_NS = 1_000_000_000
_DAY = 86_400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": _DAY}
_PATTERN = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d)\s*$", re.IGNORECASE)

INTERVALS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14_400,
    "1d": _DAY,
}
"""The usual bar intervals, label → seconds. Any ``<n>m``/``<n>h`` that divides a day also works."""


def parse_interval(text: str | int) -> int:
    """``"5m"`` → 300 seconds; an int is taken as seconds already.

    Raises:
        InvalidInput: not of the form ``<number><s|m|h|d>`` or not a positive length.
    """
    if isinstance(text, int):
        seconds = text
    else:
        match = _PATTERN.match(text)
        if not match:
            raise InvalidInput(f"interval {text!r} is not like 1m, 5m, 15m, 1h, 4h or 1d")
        unit = match.group(2).lower()
        seconds = int(match.group(1)) * _UNITS["m" if unit == "min" else unit]
    if seconds <= 0:
        raise InvalidInput(f"interval {text!r} must be longer than zero")
    return seconds


def format_interval(seconds: int) -> str:
    """300 → ``"5m"``; the largest whole unit that fits (``"90s"`` when no larger one does)."""
    for unit, size in (("d", _DAY), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def resample(bars: BarArray, interval: str | int) -> BarArray:
    """Aggregate ``bars`` into longer bars aligned to UTC boundaries.

    Args:
        bars: source bars (any gaps are kept as gaps).
        interval: target length: ``"5m"``, ``"15m"``, ``"1h"``, ``"1d"``… or seconds. It must be a
            whole multiple of ``bars.interval`` and divide a day, so periods align to UTC midnight.

    Returns:
        A new :class:`BarArray` whose ``ts`` is each period's UTC start; prices keep the source
        precision, so :meth:`BarArray.to_bars` still yields the source's decimal values.

    Raises:
        InvalidInput: the target is shorter than, or not a multiple of, the source interval, or does
            not divide a day.
    """
    step = parse_interval(interval)
    label = format_interval(step)
    if step == bars.interval:
        return bars
    if step < bars.interval or step % bars.interval:
        raise InvalidInput(
            f"cannot resample {format_interval(bars.interval)} bars to {label}: "
            f"the target must be a whole multiple of {format_interval(bars.interval)}"
        )
    if _DAY % step:
        raise InvalidInput(
            f"cannot resample to {label}: the interval must divide a day (e.g. 5m, 1h, 4h, 1d)"
        )
    if not len(bars):
        return BarArray.empty(bars.instrument_id, step)

    step_ns = step * _NS
    bucket = bars.ts // step_ns
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    lasts = np.concatenate((starts[1:], [len(bars)])) - 1
    return BarArray(
        instrument_id=bars.instrument_id,
        interval=step,
        ts=bucket[starts] * step_ns,
        open=bars.open[starts],
        high=np.maximum.reduceat(bars.high, starts),
        low=np.minimum.reduceat(bars.low, starts),
        close=bars.close[lasts],
        volume=np.add.reduceat(bars.volume, starts),
        price_decimals=bars.price_decimals,
        volume_decimals=bars.volume_decimals,
    )
