"""Columnar OHLCV bars: numpy arrays for bulk work, :class:`~gekko_agent.domain.bars.Bar` at the edge.

A :class:`BarArray` holds one instrument's bars as parallel numpy arrays (``ts`` in int64 nanoseconds
since the epoch, UTC, open time of each bar; prices and volume in float64). Floats are for speed only:
each array also records how many decimal places its source wrote (``price_decimals``,
``volume_decimals``), and :meth:`BarArray.to_bars` rebuilds :class:`~decimal.Decimal` values by
formatting with that precision, so a price read as ``"23152.65"`` comes back as ``Decimal("23152.65")``
and never as ``Decimal(23152.65)`` with its binary noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import overload

import numpy as np
import numpy.typing as npt

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.errors import InvalidInput

__all__ = ["BarArray", "BarFactory", "FloatArray", "IntArray", "TimeLike", "format_ts", "to_ns"]

FloatArray = npt.NDArray[np.float64]
BarFactory = Callable[[int, float, float, float, float, float], Bar]
"""Builds one :class:`Bar` from ``(open time in µs since the epoch, open, high, low, close, volume)``."""
IntArray = npt.NDArray[np.int64]
TimeLike = datetime | date | str | int
"""A point in time: an aware or naive (taken as UTC) datetime, a date (its UTC midnight), an ISO 8601
string, or integer nanoseconds since the epoch."""

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def to_ns(value: TimeLike) -> int:
    """Nanoseconds since the epoch (UTC) for ``value``; naive datetimes and strings are taken as UTC.

    Raises:
        InvalidInput: a string that is not ISO 8601.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"not a time: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"not an ISO 8601 time: {value!r} (e.g. 2023-03-10 or 2023-03-10T14:30)"
            ) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return ((value - _EPOCH) // timedelta(microseconds=1)) * 1000


def format_ts(ns: int) -> str:
    """``2023-03-01 00:00`` (UTC; seconds shown only when not zero)."""
    moment = _EPOCH + timedelta(microseconds=ns // 1000)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second else "%Y-%m-%d %H:%M")


def _frozen(values: npt.ArrayLike, dtype: type[np.generic], name: str) -> npt.NDArray[np.generic]:
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise InvalidInput(f"BarArray.{name} must be one-dimensional, got shape {arr.shape}")
    view = arr.view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, slots=True, eq=False)
class BarArray:
    """One instrument's OHLCV bars as read-only numpy arrays, sorted by strictly increasing time.

    Attributes:
        instrument_id: ``SYMBOL@venue`` the bars belong to.
        interval: bar length in seconds (60 for 1-minute bars).
        ts: open time of each bar, int64 nanoseconds since the epoch, UTC.
        open: first trade price of each bar.
        high: highest trade price of each bar.
        low: lowest trade price of each bar.
        close: last trade price of each bar.
        volume: traded quantity of each bar (base currency for crypto; as shipped for FX).
        price_decimals: decimal places the source wrote prices with; :meth:`to_bars` uses it.
        volume_decimals: decimal places the source wrote volumes with.
    """

    instrument_id: InstrumentId
    interval: int
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    price_decimals: int = 8
    volume_decimals: int = 8

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "ts", _frozen(self.ts, np.int64, "ts"))
        for name in ("open", "high", "low", "close", "volume"):
            set_(self, name, _frozen(getattr(self, name), np.float64, name))
        n = len(self.ts)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise InvalidInput(f"BarArray.{name} has {len(getattr(self, name))} values, ts has {n}")
        if self.interval <= 0:
            raise InvalidInput(f"BarArray.interval must be > 0 seconds, got {self.interval}")
        if n > 1 and not bool(np.all(self.ts[1:] > self.ts[:-1])):
            raise InvalidInput(f"{self.instrument_id}: bar times must be strictly increasing")

    @classmethod
    def empty(cls, instrument_id: InstrumentId, interval: int) -> BarArray:
        """No bars, for ``instrument_id`` at ``interval`` seconds."""
        none = np.empty(0, dtype=np.float64)
        return cls(instrument_id, interval, np.empty(0, dtype=np.int64), none, none, none, none, none)

    def __len__(self) -> int:
        return len(self.ts)

    @overload
    def __getitem__(self, index: int) -> Bar: ...

    @overload
    def __getitem__(self, index: slice) -> BarArray: ...

    def __getitem__(self, index: int | slice) -> Bar | BarArray:
        """An integer gives one :class:`Bar`; a slice gives a :class:`BarArray` view (no copy)."""
        if isinstance(index, slice):
            if index.step not in (None, 1):
                raise InvalidInput("BarArray slices take no step; use resample() to change the interval")
            return replace(
                self,
                ts=self.ts[index],
                open=self.open[index],
                high=self.high[index],
                low=self.low[index],
                close=self.close[index],
                volume=self.volume[index],
            )
        return self.bar_at(range(len(self))[index])

    def between(self, start: TimeLike | None = None, end: TimeLike | None = None) -> BarArray:
        """Bars whose open time is in ``[start, end)``; ``None`` leaves that side open.

        Raises:
            InvalidInput: a bound is not a time, or ``end`` is before ``start``.
        """
        lo_ns = None if start is None else to_ns(start)
        hi_ns = None if end is None else to_ns(end)
        if lo_ns is not None and hi_ns is not None and hi_ns < lo_ns:
            raise InvalidInput(f"end {end} is before start {start}")
        lo = 0 if lo_ns is None else int(np.searchsorted(self.ts, lo_ns, side="left"))
        hi = len(self) if hi_ns is None else int(np.searchsorted(self.ts, hi_ns, side="left"))
        return self[lo:hi]

    @property
    def start(self) -> datetime | None:
        """Open time of the first bar (UTC), or None when empty."""
        return None if not len(self) else _EPOCH + timedelta(microseconds=int(self.ts[0]) // 1000)

    @property
    def end(self) -> datetime | None:
        """Open time of the last bar (UTC), or None when empty."""
        return None if not len(self) else _EPOCH + timedelta(microseconds=int(self.ts[-1]) // 1000)

    def times(self) -> npt.NDArray[np.datetime64]:
        """Open times as ``datetime64[ns]`` (UTC, naive by numpy's convention)."""
        return self.ts.astype("datetime64[ns]")

    def missing(self) -> int:
        """How many whole bars are absent between the first and the last (gaps stay gaps)."""
        if len(self) < 2:
            return 0
        span = int(self.ts[-1] - self.ts[0]) // (self.interval * _NS) + 1
        return max(0, span - len(self))

    def decimal(self, value: float, *, volume: bool = False) -> Decimal:
        """``value`` as a Decimal at the source's precision (never ``Decimal(float)``)."""
        places = self.volume_decimals if volume else self.price_decimals
        return Decimal(f"{value:.{places}f}")

    def bar_at(self, i: int, iid: InstrumentId | None = None) -> Bar:
        """Row ``i`` (non-negative) as a :class:`Bar` labelled ``iid`` (default: this array's instrument)."""
        return self.bar_factory(iid)(
            int(self.ts[i]) // 1000,
            float(self.open[i]),
            float(self.high[i]),
            float(self.low[i]),
            float(self.close[i]),
            float(self.volume[i]),
        )

    def bar_factory(self, iid: InstrumentId | None = None) -> BarFactory:
        """A function building one :class:`Bar` from a row's plain values.

        Its arguments are (open time in µs since the epoch, open, high, low, close, volume); prices
        and volume become Decimals by formatting at the source's precision, as :meth:`to_bars` does.
        The bar is labelled ``iid`` (default: this array's instrument).
        """
        price = f"{{:.{self.price_decimals}f}}".format
        vol = f"{{:.{self.volume_decimals}f}}".format
        label, interval, dec = iid or self.instrument_id, self.interval, Decimal

        def bar(t: int, o: float, h: float, lo: float, c: float, v: float) -> Bar:
            prices = dec(price(o)), dec(price(h)), dec(price(lo)), dec(price(c))
            return Bar(label, _EPOCH + _MICRO * t, *prices, dec(vol(v)), interval)

        return bar

    def rows_to_bars(self, lo: int, hi: int, iid: InstrumentId | None = None) -> list[Bar]:
        """Rows ``lo`` .. ``hi - 1`` as bars labelled ``iid`` (default: this array's instrument)."""
        make = self.bar_factory(iid)
        cols = zip(
            (self.ts[lo:hi] // 1000).tolist(),
            self.open[lo:hi].tolist(),
            self.high[lo:hi].tolist(),
            self.low[lo:hi].tolist(),
            self.close[lo:hi].tolist(),
            self.volume[lo:hi].tolist(),
            strict=True,
        )
        return [make(t, o, h, low, c, v) for t, o, h, low, c, v in cols]

    def to_bars(self) -> list[Bar]:
        """Every bar as a domain :class:`Bar` with Decimal prices at the source's precision.

        Exact for sources with at most 15 significant digits (float64's decimal precision), which
        the loaders check; the result equals ``Decimal(source_text)``.
        """
        return self.rows_to_bars(0, len(self))
