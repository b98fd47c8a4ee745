"""Replay feeds: bars of several instruments merged into one time-ordered stream.

Bars are emitted at their *close* time (open + interval): a strategy sees a bar only once it has
closed, so a backtest cannot peek at prices it would not have had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from gekko_agent.domain import Bar, InstrumentId
from gekko_agent.market.bararray import BarArray

__all__ = ["CHUNK", "ReplayFeed"]

CHUNK = 8192
"""Rows converted per step of :meth:`ReplayFeed.__iter__`."""

_Maker = Callable[[np.ndarray], Iterator[Bar]]


def _maker(iid: InstrumentId, a: BarArray) -> _Maker:
    """A function turning row indices of ``a`` into :class:`Bar` objects labelled ``iid``."""
    bar = a.bar_factory(iid)

    def make(rows: np.ndarray) -> Iterator[Bar]:
        cols = zip(
            (a.ts[rows] // 1000).tolist(),
            a.open[rows].tolist(),
            a.high[rows].tolist(),
            a.low[rows].tolist(),
            a.close[rows].tolist(),
            a.volume[rows].tolist(),
            strict=True,
        )
        for t, o, h, lo, c, v in cols:
            yield bar(t, o, h, lo, c, v)

    return make


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
        """Every bar, as a domain :class:`Bar` relabelled with the traded instrument id.

        Rows are read from numpy in chunks of :data:`CHUNK` (plain Python floats, one ``tolist`` per
        column and chunk) and turned into Decimals by formatting at the source's precision, exactly as
        :meth:`BarArray.to_bars` does; memory beyond the arrays stays constant.
        """
        ids = list(self.arrays)
        arrays = list(self.arrays.values())
        _, which, rows = self._order()
        makers = [_maker(iid, a) for iid, a in zip(ids, arrays, strict=True)]
        for lo in range(0, len(which), CHUNK):
            w, r = which[lo : lo + CHUNK], rows[lo : lo + CHUNK]
            if len(arrays) == 1:
                yield from makers[0](r)
                continue
            parts = {k: iter(makers[k](r[w == k])) for k in np.unique(w).tolist()}
            for k in w.tolist():
                yield next(parts[k])

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
