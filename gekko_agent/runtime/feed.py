"""Replay feeds: bars of several instruments merged into one time-ordered stream.

Bars are emitted at their *close* time (open + interval): a strategy sees a bar only once it has
closed, so a backtest cannot peek at prices it would not have had.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from gekko_agent.domain import Bar, InstrumentId
from gekko_agent.market.bararray import BarArray

__all__ = ["ReplayFeed"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReplayFeed:
    """Merge per-instrument bar arrays into one stream ordered by close time (ties: config order).

    Attributes:
        arrays: bar arrays keyed by the instrument id the engine trades (which may differ from the
            dataset's own id, e.g. ``BTC/USD@paper`` replaying ``BTC/USD@binanceus``).
    """

    arrays: Mapping[InstrumentId, BarArray]

    def __len__(self) -> int:
        return sum(len(a) for a in self.arrays.values())

    def _order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        close_ns = np.concatenate([a.ts + a.interval * 1_000_000_000 for a in self.arrays.values()])
        which = np.concatenate(
            [np.full(len(a), k, dtype=np.int32) for k, a in enumerate(self.arrays.values())]
        )
        row = np.concatenate([np.arange(len(a), dtype=np.int64) for a in self.arrays.values()])
        order = np.lexsort((which, close_ns))
        return close_ns[order], which[order], row[order]

    def __iter__(self) -> Iterator[Bar]:
        """Every bar, as a domain :class:`Bar` relabelled with the traded instrument id."""
        ids = list(self.arrays)
        arrays = list(self.arrays.values())
        _, which, rows = self._order()
        for k, r in zip(which.tolist(), rows.tolist(), strict=True):
            a = arrays[k]
            b = a[r]
            yield Bar(ids[k], b.ts, b.open, b.high, b.low, b.close, b.volume, b.interval)

    @property
    def start(self) -> datetime | None:
        """Earliest bar open time."""
        starts = [a.start for a in self.arrays.values() if a.start is not None]
        return min(starts) if starts else None

    @property
    def end(self) -> datetime | None:
        """Latest bar close time."""
        ends = [a.end + timedelta(seconds=a.interval) for a in self.arrays.values() if a.end is not None]
        return max(ends) if ends else None
