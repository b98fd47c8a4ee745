"""Price histories made fit for VaR: aligned on common timestamps, with the return interval they imply.

VaR and sigma stress shocks scale a return interval ``Δ`` to the horizon by ``sqrt(h / Δ)``, and a
portfolio's P&L row needs every factor's return over the *same* interval. So several instruments' closes
are first reduced to the close times they all share, and ``Δ`` is the typical (median) spacing of those
times: 60 s for minute bars, 3,600 s for hourly FX. Histories that share too few times are refused with
their ranges, never silently mixed. Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from gekko_agent.errors import InvalidInput
from gekko_agent.risk.snapshot import FloatArray

__all__ = ["AlignedCloses", "IntArray", "align_closes", "bar_spacing_seconds"]

IntArray = npt.NDArray[np.int64]
_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _when(ns: int) -> str:
    return (_EPOCH + timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%d %H:%M")


def bar_spacing_seconds(times_ns: IntArray) -> int:
    """The median spacing of increasing timestamps, in whole seconds (at least 1).

    Raises:
        InvalidInput: fewer than two timestamps.
    """
    if times_ns.shape[0] < 2:
        raise InvalidInput("a return interval needs at least two timestamps")
    return max(1, round(float(np.median(np.diff(times_ns))) / _NS))


@dataclass(frozen=True, slots=True)
class AlignedCloses:
    """Closes of several series at the times they share.

    Attributes:
        times_ns: the common close times, increasing (nanoseconds since the epoch, UTC).
        closes: per series, its close at each common time.
        interval_seconds: the median spacing of ``times_ns``.
    """

    times_ns: IntArray
    closes: Mapping[str, FloatArray]
    interval_seconds: int

    @property
    def last(self) -> datetime:
        """The latest common close time."""
        return _EPOCH + timedelta(microseconds=int(self.times_ns[-1]) // 1000)


def align_closes(
    series: Mapping[str, tuple[IntArray, FloatArray]], keep: int, min_common: int = 2
) -> AlignedCloses:
    """Keep the last ``keep`` close times shared by every series, and each series' closes at them.

    Args:
        series: name → (close times in ns, increasing; closes), one entry per price history.
        keep: most common times kept (the newest).
        min_common: fewest common times accepted.

    Raises:
        InvalidInput: no series, or fewer than ``min_common`` shared times (the message gives each
            series' range so the user can see which ones do not overlap).
    """
    if not series:
        raise InvalidInput("no price history to align")
    common: IntArray | None = None
    for times, _ in series.values():
        common = times if common is None else np.intersect1d(common, times, assume_unique=True)
    assert common is not None
    if common.shape[0] < min_common:
        ranges = "; ".join(
            f"{name} {_when(int(t[0]))} to {_when(int(t[-1]))}" if t.shape[0] else f"{name} (empty)"
            for name, (t, _) in series.items()
        )
        raise InvalidInput(
            f"these histories share {common.shape[0]} timestamps, fewer than the {min_common} needed "
            f"(they do not overlap in time; value them separately): {ranges}"
        )
    common = common[-keep:]
    closes: dict[str, FloatArray] = {}
    for name, (times, values) in series.items():
        idx = np.searchsorted(times, common)
        closes[name] = np.asarray(values, dtype=np.float64)[idx]
    return AlignedCloses(common, closes, bar_spacing_seconds(common))
