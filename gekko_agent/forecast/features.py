"""Causal features and forward-return targets from OHLCV bars (numpy only, no torch).

Every feature of row ``t`` is computed from bars ``0..t`` only: bar ``t`` is closed when it is read,
and nothing later is touched. Rolling statistics use exact sliding windows (no cumulative sums), so a
row computed on a truncated history equals the same row computed on the full history, bit for bit;
``tests/forecast/test_features.py`` proves it. The target of row ``t`` is the log return from the
close of bar ``t`` to the close of bar ``t + horizon`` and is the only thing that looks ahead.

Feature list (:data:`FEATURE_NAMES`)::

    ret_1 ret_3 ret_6 ret_12 ret_24 ret_48   log(close_t / close_{t-k})
    vol_12 vol_48                            std of 1-bar log returns over the last k bars
    range_1 range_12                         log(high/low) of bar t; its mean over 12 bars
    close_pos                                (close - low) / (high - low) of bar t, 0.5 when flat
    sma_dev_48                               log(close_t / mean(close over 48 bars))
    volume_z_48                              z-score of log1p(volume) against the last 48 bars
    hour_sin hour_cos                        time of day of the bar's close (UTC)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from gekko_agent.errors import InvalidInput
from gekko_agent.market import BarArray

__all__ = [
    "FEATURE_NAMES",
    "LOOKBACKS",
    "WARMUP",
    "FeatureFrame",
    "FloatArray",
    "build_features",
    "forward_returns",
    "make_frame",
]

FloatArray = npt.NDArray[np.float64]

LOOKBACKS: tuple[int, ...] = (1, 3, 6, 12, 24, 48)
"""Bars over which log returns are taken."""

_VOL_WINDOWS = (12, 48)
_LONG = 48

FEATURE_NAMES: tuple[str, ...] = (
    *(f"ret_{k}" for k in LOOKBACKS),
    *(f"vol_{k}" for k in _VOL_WINDOWS),
    "range_1",
    "range_12",
    "close_pos",
    f"sma_dev_{_LONG}",
    f"volume_z_{_LONG}",
    "hour_sin",
    "hour_cos",
)

WARMUP = _LONG
"""Rows before this index lack a full lookback and are NaN; a window needs ``WARMUP + 1`` bars."""

_NS_PER_DAY = 86_400 * 1_000_000_000


def _lagged_log_return(log_close: FloatArray, k: int) -> FloatArray:
    out = np.full_like(log_close, np.nan)
    out[k:] = log_close[k:] - log_close[:-k]
    return out


def _rolling(values: FloatArray, window: int, stat: str) -> FloatArray:
    """``stat`` (mean or std, ddof=0) of ``values[t-window+1 .. t]`` at each ``t``; NaN before that."""
    out = np.full_like(values, np.nan)
    if len(values) >= window:
        view = sliding_window_view(values, window)
        out[window - 1 :] = view.mean(axis=1) if stat == "mean" else view.std(axis=1)
    return out


def build_features(bars: BarArray) -> FloatArray:
    """The ``len(bars) × len(FEATURE_NAMES)`` feature matrix; rows before :data:`WARMUP` hold NaN.

    Args:
        bars: one instrument's bars, oldest first.

    Returns:
        float64 matrix, one row per bar, columns in :data:`FEATURE_NAMES` order.

    Raises:
        InvalidInput: a non-positive price (log returns are undefined).
    """
    n = len(bars)
    if n and (float(np.min(bars.low)) <= 0 or float(np.min(bars.close)) <= 0):
        raise InvalidInput(f"{bars.instrument_id}: prices must be positive to build features")
    log_close = np.log(bars.close)
    one = _lagged_log_return(log_close, 1)
    columns: list[FloatArray] = [_lagged_log_return(log_close, k) for k in LOOKBACKS]
    # vol windows start at index 1 (the first 1-bar return); shift so NaN prefix stays causal
    for w in _VOL_WINDOWS:
        vol = np.full(n, np.nan)
        if n > 1:
            vol[1:] = _rolling(one[1:], w, "std")
        columns.append(vol)
    rng = np.log(bars.high / bars.low)
    columns.append(rng)
    columns.append(_rolling(rng, 12, "mean"))
    span = bars.high - bars.low
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = np.where(span > 0, (bars.close - bars.low) / np.where(span > 0, span, 1.0), 0.5)
    columns.append(pos)
    columns.append(log_close - np.log(_rolling(bars.close, _LONG, "mean")))
    lv = np.log1p(bars.volume)
    mean, std = _rolling(lv, _LONG, "mean"), _rolling(lv, _LONG, "std")
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(std > 0, (lv - mean) / np.where(std > 0, std, 1.0), 0.0)
    columns.append(np.where(np.isnan(mean), np.nan, z))
    close_time = (bars.ts + bars.interval * 1_000_000_000) % _NS_PER_DAY
    angle = 2.0 * np.pi * close_time.astype(np.float64) / _NS_PER_DAY
    columns.extend((np.sin(angle), np.cos(angle)))
    matrix = np.column_stack(columns) if n else np.empty((0, len(FEATURE_NAMES)))
    matrix[:WARMUP] = np.nan
    return np.asarray(matrix, dtype=np.float64)


def forward_returns(bars: BarArray, horizon: int) -> FloatArray:
    """Log return from the close of bar ``t`` to the close of bar ``t + horizon``; NaN at the end.

    Raises:
        InvalidInput: ``horizon`` is not positive.
    """
    if horizon < 1:
        raise InvalidInput(f"horizon must be at least 1 bar, got {horizon}")
    log_close = np.log(bars.close)
    out = np.full(len(bars), np.nan)
    if len(bars) > horizon:
        out[:-horizon] = log_close[horizon:] - log_close[:-horizon]
    return out


def _lagged_past_return(bars: BarArray, horizon: int) -> FloatArray:
    """Log return over the ``horizon`` bars ending at ``t`` (the "last return" naive forecast)."""
    return _lagged_log_return(np.log(bars.close), horizon)


@dataclass(frozen=True, slots=True)
class FeatureFrame:
    """Rows that have both features and a target, with what the evaluation needs beside them.

    Attributes:
        x: ``rows × features`` matrix (unscaled).
        y: forward log return over ``horizon`` bars, one per row.
        last: log return over the ``horizon`` bars ending at each row (naive "last return" forecast).
        ts: open time (ns) of the bar each row was computed at.
        horizon: bars ahead the target looks.
    """

    x: FloatArray
    y: FloatArray
    last: FloatArray
    ts: npt.NDArray[np.int64]
    horizon: int

    def __len__(self) -> int:
        return len(self.y)

    def take(self, lo: int, hi: int) -> FeatureFrame:
        """Rows ``lo .. hi - 1`` (time order kept)."""
        return FeatureFrame(self.x[lo:hi], self.y[lo:hi], self.last[lo:hi], self.ts[lo:hi], self.horizon)


def make_frame(bars: BarArray, horizon: int) -> FeatureFrame:
    """Features and targets of every row where both are defined (warm-up and the last ``horizon`` go).

    Raises:
        InvalidInput: too few bars to make a single row.
    """
    x = build_features(bars)
    y = forward_returns(bars, horizon)
    last = _lagged_past_return(bars, horizon)
    keep = np.isfinite(y) & np.all(np.isfinite(x), axis=1) & np.isfinite(last)
    if not bool(keep.any()):
        raise InvalidInput(
            f"{bars.instrument_id}: {len(bars)} bars are too few for features and a {horizon}-bar target "
            f"(need more than {max(WARMUP, horizon) + horizon})"
        )
    return FeatureFrame(x[keep], y[keep], last[keep], bars.ts[keep], horizon)
