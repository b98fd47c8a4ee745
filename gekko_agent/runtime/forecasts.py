"""Forecast quantiles for the risk snapshot, so the configured forecast veto sees them at run time.

:class:`ForecastBook` is the Trader's :class:`~gekko_agent.runtime.brain.ForecastSource` over a
trained model: it keeps the recent bars of each instrument, asks the model again once a bar of the
model's interval has closed (lazily, when a snapshot needs the forecasts, or when the headless
scheduler's ``forecast_refresh`` job runs), and serves each forecast until its horizon has passed.

:func:`forecast_source` picks what the Trader uses: the brain itself when it forecasts, else a book over
the model named by an ``ml_forecast`` strategy (or the registry's default model) when
``risk.forecast.enabled`` is set; a model that cannot be loaded is journaled as an alert, and the veto
then sees no forecast (``risk.forecast.require_forecast`` decides whether that denies new exposure).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

import numpy as np

from gekko_agent.config import GekkoConfig
from gekko_agent.domain import AlertRaised, Bar, Clock, InstrumentId
from gekko_agent.errors import UserError
from gekko_agent.execution.engine import EventSink
from gekko_agent.market.bararray import BarArray
from gekko_agent.risk.snapshot import ForecastQuantiles
from gekko_agent.runtime.brain import Brain, ForecastSource

__all__ = ["ForecastBook", "QuantileModel", "forecast_source"]


class QuantileModel(Protocol):
    """What the book needs of a model (:class:`gekko_agent.forecast.Forecaster` fits)."""

    @property
    def horizon_seconds(self) -> int:
        """How far ahead the forecast looks."""
        ...

    @property
    def min_bars(self) -> int:
        """Bars at the model's interval one forecast needs."""
        ...

    def quantiles(self, bars_window: BarArray) -> dict[Decimal, Decimal]:
        """Probability level → simple return over the horizon after the window's last bar."""
        ...


def _window(iid: InstrumentId, bars: Sequence[Bar]) -> BarArray:
    cols = [[float(getattr(b, k)) for b in bars] for k in ("open", "high", "low", "close", "volume")]
    ts = np.array([int(b.ts.timestamp()) * 1_000_000_000 for b in bars], dtype=np.int64)
    o, h, lo, c, v = (np.array(col, dtype=np.float64) for col in cols)
    return BarArray(iid, bars[-1].interval, ts, o, h, lo, c, v)


class ForecastBook:
    """Latest forecast quantiles per instrument from a model (see the module docstring).

    Args:
        model: the trained model.
        interval: the model's bar length in seconds (it is asked only when such a bar has closed).
    """

    def __init__(self, model: QuantileModel, interval: int) -> None:
        self.model = model
        self.interval = interval
        self.horizon = timedelta(seconds=model.horizon_seconds)
        self._bars: dict[InstrumentId, deque[Bar]] = {}
        self._due: set[InstrumentId] = set()
        self._latest: dict[InstrumentId, tuple[datetime, ForecastQuantiles]] = {}

    def observe(self, bar: Bar) -> None:
        """Keep ``bar``; a forecast is due when it closes a bar of the model's interval."""
        iid = bar.instrument_id
        kept = self._bars.get(iid)
        if kept is None:
            per_model_bar = max(1, self.interval // max(1, bar.interval))
            kept = self._bars[iid] = deque(maxlen=(self.model.min_bars + 1) * per_model_bar)
        kept.append(bar)
        if int((bar.ts + timedelta(seconds=bar.interval)).timestamp()) % self.interval == 0:
            self._due.add(iid)

    def refresh(self) -> int:
        """Ask the model for every instrument whose forecast is due; returns how many it answered."""
        done = 0
        for iid in sorted(self._due):
            bars = self._bars[iid]
            try:
                q = self.model.quantiles(_window(iid, list(bars)))
            except UserError:  # too few bars yet, or bars the model cannot use
                continue
            close = bars[-1].ts + timedelta(seconds=bars[-1].interval)
            self._latest[iid] = (close, ForecastQuantiles(q, self.model.horizon_seconds))
            done += 1
        self._due.clear()
        return done

    def forecasts(self, now: datetime) -> Mapping[InstrumentId, ForecastQuantiles]:
        """Forecasts made within their horizon before ``now`` (due ones are computed first)."""
        if self._due:
            self.refresh()
        return {iid: q for iid, (at, q) in self._latest.items() if now - at < self.horizon}


def _model_of(cfg: GekkoConfig) -> tuple[str | None, int | None, str | None]:
    """Model name, version and registry of the first ``ml_forecast`` strategy (None: defaults)."""
    for strat in cfg.strategies:
        if strat.name == "ml_forecast":
            p = strat.params
            version = p.get("version")
            return p.get("model"), int(version) if version is not None else None, p.get("registry")
    return None, None, None


def forecast_source(
    cfg: GekkoConfig,
    brain: Brain,
    journal: EventSink,
    clock: Clock,
    *,
    load: Callable[[str | None, int | None, str | None], tuple[QuantileModel, int]] | None = None,
) -> ForecastSource | None:
    """What feeds the risk snapshot's forecasts (see the module docstring); None when nothing does.

    Args:
        cfg: the validated config.
        brain: the deciding brain (used when it forecasts itself).
        journal: where a model that cannot be loaded is reported.
        clock: stamps that report.
        load: loads (model, interval) from name, version and registry (default: the model registry).
    """
    if isinstance(brain, ForecastSource):
        return brain
    if not cfg.risk.forecast.enabled:
        return None
    name, version, registry = _model_of(cfg)
    try:
        model, interval = (load or _load_registered)(name, version, registry)
    except UserError as exc:
        journal.append(
            AlertRaised(
                ts=clock.now(),
                level="warning",
                source="forecast",
                message=f"risk.forecast is enabled but no model could be loaded ({exc}); "
                "the forecast veto sees no forecasts",
            )
        )
        return None
    return ForecastBook(model, interval)


def _load_registered(
    name: str | None, version: int | None, registry: str | None
) -> tuple[QuantileModel, int]:
    from gekko_agent.forecast import DEFAULT_MODEL, DEFAULT_REGISTRY, Forecaster

    model = Forecaster.from_registry(name or DEFAULT_MODEL, version, registry or DEFAULT_REGISTRY)
    return model, model.meta.interval
