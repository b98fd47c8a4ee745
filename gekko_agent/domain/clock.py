"""Clocks. Nothing in the core reads the wall clock directly: a Clock is injected.

``LiveClock`` reads the system time; ``SimClock`` (alias ``TestClock``) only moves when told,
so backtests and tests are deterministic.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LiveClock", "SimClock", "TestClock", "ensure_utc"]


def ensure_utc(ts: datetime) -> datetime:
    """Return ``ts`` as an aware UTC datetime (naive input is taken as UTC)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals)."""
        ...


class LiveClock:
    """The system's clock."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()


class SimClock:
    """A clock that moves only when advanced; time never goes backwards.

    Args:
        start: the initial time (UTC).
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start or datetime(2023, 3, 1, tzinfo=UTC))
        self._origin = self._now

    def now(self) -> datetime:
        """The simulated time."""
        return self._now

    def monotonic(self) -> float:
        """Seconds since the clock's start."""
        return (self._now - self._origin).total_seconds()

    def advance_to(self, ts: datetime) -> None:
        """Move to ``ts``; moving backwards is ignored (replays can repeat a timestamp)."""
        ts = ensure_utc(ts)
        if ts > self._now:
            self._now = ts

    def advance(self, delta: timedelta) -> None:
        """Move forward by ``delta``."""
        if delta.total_seconds() < 0:
            raise ValueError("a SimClock cannot go backwards")
        self._now += delta


TestClock = SimClock
