"""Drive a wired :class:`~gekko_agent.runtime.wiring.System` through its replay feed.

Used by ``gekko backtest`` (as fast as possible) and ``gekko demo`` / paper replay (paced at a
chosen speed). For every bar: the simulated clock moves to the bar's close, paper venues match
resting orders against it (their fills are booked), then the Trader sees the bar.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from gekko_agent.domain import Bar
from gekko_agent.runtime.wiring import System

__all__ = ["run_replay"]

_YIELD_EVERY = 256
"""Bars between yields to the event loop when the replay never has to wait (fast or unpaced)."""


async def run_replay(
    system: System,
    *,
    start: datetime | None = None,
    speed: float | None = None,
    on_bar: Callable[[Bar], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[int], None] | None = None,
    skip_quiet: bool = True,
) -> int:
    """Replay every bar; returns the number of bars processed.

    An unpaced run without ``on_bar`` or ``should_stop`` takes the quiet-bar fast path
    (:class:`~gekko_agent.runtime.quiet.QuietReplay`) where it applies: the same events, fills and
    state, without per-bar bookkeeping on bars where nothing can happen.

    Args:
        system: the wired run.
        start: bars closing before this only warm up (no orders).
        speed: simulated seconds per wall second (None: as fast as possible).
        on_bar: called after each bar (progress bars, dashboards).
        should_stop: polled between bars; True ends the run early.
        on_progress: called with the number of bars done since the last call.
        skip_quiet: False runs every bar through the full path (the parity tests compare both).
    """
    if skip_quiet and speed is None and on_bar is None and should_stop is None:
        from gekko_agent.runtime.quiet import QuietReplay

        quiet = QuietReplay.attach(system)
        if quiet is not None:
            return await quiet.run(start, on_progress)
    trader, clock = system.trader, system.clock
    venues = {v.name: v for v in system.paper_venues}
    wall0 = time.monotonic()
    sim0: datetime | None = None
    count = 0
    for bar in system.feed:
        close_ts = bar.ts + timedelta(seconds=bar.interval)
        clock.advance_to(close_ts)
        venue = venues.get(bar.instrument_id.rpartition("@")[2])
        trading = start is None or close_ts > start
        if venue is not None:
            fills = venue.on_bar(bar)
            if fills:
                await trader.on_fills(fills)
        await trader.on_bar(bar, decide=trading)
        count += 1
        if on_bar is not None:
            on_bar(bar)
        if on_progress is not None:
            on_progress(1)
        slept = False
        if speed and trading:
            if sim0 is None:
                sim0, wall0 = close_ts, time.monotonic()
            ahead = (close_ts - sim0).total_seconds() / speed - (time.monotonic() - wall0)
            if ahead > 0.002:
                await asyncio.sleep(ahead)
                slept = True
        if not slept and count % _YIELD_EVERY == 0:  # let chat-ops, the scheduler and signals run
            await asyncio.sleep(0)
        if should_stop is not None and should_stop():
            break
    return count
