"""Real bars for the simulators' klines / candles endpoints, from the bundled datasets.

A simulator's paper venue only knows the bars it has been fed, which is none when it is started by
``gekko venue-sim``. :class:`HistoricalBars` gives each simulated instrument the bundled real bars
of the same symbol (``BTC/USD@binanceus`` → ``binanceus-btcusd-1m``, ``EUR/USD@oanda`` →
``oanda-eurusd-1h``; a dataset of the same venue is preferred, else the first of the same symbol in
the catalog), at their true timestamps, resampled when a longer interval is asked for. Bars fed to
the paper venue are merged in and win on the same open time, so tests that feed bars keep working.

Files are parsed once per process (without the DuckDB cache, so a simulator never contends for
the cache file with the client it serves) and shared between simulators.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np

from gekko_agent.domain.bars import Bar
from gekko_agent.domain.instruments import AssetClass, Instrument
from gekko_agent.errors import DataNotFound
from gekko_agent.market import BarArray, Dataset, list_datasets, load_dataset, resample, to_ns

__all__ = ["HistoricalBars", "dataset_for"]


def dataset_for(inst: Instrument) -> Dataset | None:
    """The bundled dataset that stands in for ``inst``: same symbol, its venue's own first."""
    kind = AssetClass.FX if inst.asset_class is AssetClass.FX else AssetClass.CRYPTO_SPOT
    same = [d for d in list_datasets() if d.symbol == inst.symbol and d.asset_class is kind]
    own = [d for d in same if d.venue == inst.venue]
    picked = own or same
    return picked[0] if picked else None


@functools.lru_cache(maxsize=16)
def _series(name: str, interval: int) -> BarArray | None:
    """The dataset ``name`` at ``interval`` seconds (None when finer than the file or not aligned)."""
    dataset = next(d for d in list_datasets() if d.name == name)
    if interval < dataset.interval or interval % dataset.interval:
        return None
    try:
        bars = load_dataset(dataset, cache=None)
    except DataNotFound:
        return None
    return bars if interval == dataset.interval else resample(bars, interval)


class HistoricalBars:
    """Bundled real bars per simulated instrument, merged with the bars its paper venue was fed.

    Args:
        enabled: False serves only the fed bars (the simulators' behaviour before real data).
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled

    def series(self, inst: Instrument, interval: int) -> BarArray | None:
        """Every bundled bar for ``inst`` at ``interval`` seconds, or None when there are none."""
        dataset = dataset_for(inst) if self.enabled else None
        if dataset is None:
            return None
        bars = _series(dataset.name, interval)
        return None if bars is None else _relabel(bars, inst)

    def page(
        self,
        inst: Instrument,
        interval: int,
        fed: Sequence[Bar],
        *,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        newest: bool,
    ) -> list[Bar]:
        """Up to ``limit`` bars opening in ``[start, end)``, oldest first.

        Args:
            inst: the instrument asked for.
            interval: bar length in seconds.
            fed: bars the paper venue holds for it (they replace bundled bars of the same time).
            start: first open time (inclusive); None: unbounded.
            end: last open time (exclusive); None: unbounded.
            limit: most bars to answer.
            newest: take the last ``limit`` bars of the window instead of the first.
        """
        if limit <= 0:
            return []
        lo = None if start is None else to_ns(start)
        hi = None if end is None else to_ns(end)
        merged: dict[int, Bar] = {}
        series = self.series(inst, interval)
        if series is not None:
            a = 0 if lo is None else int(np.searchsorted(series.ts, lo, side="left"))
            b = len(series) if hi is None else int(np.searchsorted(series.ts, hi, side="left"))
            a, b = (max(a, b - limit), b) if newest else (a, min(b, a + limit))
            merged = {to_ns(bar.ts): bar for bar in series[a:b].to_bars()}
        for bar in fed:
            ns = to_ns(bar.ts)
            if bar.interval == interval and (lo is None or ns >= lo) and (hi is None or ns < hi):
                merged[ns] = bar
        picked = [merged[k] for k in sorted(merged)]
        return picked[-limit:] if newest else picked[:limit]


def _relabel(bars: BarArray, inst: Instrument) -> BarArray:
    return bars if bars.instrument_id == inst.id else replace(bars, instrument_id=inst.id)
