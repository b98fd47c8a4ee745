"""OHLCV bars as domain objects (Decimal prices). Bulk numeric work uses numpy arrays instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from gekko_agent.domain.instruments import InstrumentId

__all__ = ["Bar"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar; ``ts`` is the bar's open time (UTC), ``interval`` its length in seconds."""

    instrument_id: InstrumentId
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    interval: int = 60

    def floats(self) -> tuple[float, float, float, float, float]:
        """``(open, high, low, close, volume)`` as floats, for indicator math."""
        return float(self.open), float(self.high), float(self.low), float(self.close), float(self.volume)
