"""Headless scheduling: agent cycles, reconciliation, forecast refresh and a daily report on a timetable.

:class:`HeadlessScheduler` runs injected async jobs on an apscheduler 3 ``AsyncIOScheduler`` at the
times a :class:`ScheduleConfig` gives (``every_seconds`` or a cron expression per job). Each job runs at
most once at a time (a late run is coalesced, never stacked), and a job that raises is reported
through ``on_error`` while the others keep their schedule.

Shutdown is clean: on SIGTERM or SIGINT (or :meth:`HeadlessScheduler.stop`) the scheduler stops
starting jobs, gives a running job ``shutdown_grace_seconds`` to finish, cancels it after that, and
then awaits ``on_shutdown`` (flush the ledger, close venues) exactly once.

:meth:`HeadlessScheduler.plan` lists the fire times between two instants without running anything, so
a timetable can be checked against a simulated clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["JOB_NAMES", "HeadlessScheduler", "JobSchedule", "ScheduleConfig"]

JOB_NAMES = ("agent_cycle", "reconcile", "forecast_refresh", "daily_report")
"""The jobs the runtime wires, in the order they are registered."""

Job = Callable[[], Awaitable[None]]


class JobSchedule(BaseModel):
    """When one job runs: every N seconds, or at cron times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every_seconds: float | None = Field(None, gt=0, description="Run every this many seconds.")
    cron: str | None = Field(
        None,
        description="Cron times: 5 fields (minute hour day month weekday) or 6 with seconds first.",
    )
    enabled: bool = Field(True, description="Set false to keep the entry but not run it.")

    @model_validator(mode="after")
    def _exactly_one(self) -> JobSchedule:
        if (self.every_seconds is None) == (self.cron is None):
            raise ValueError("give exactly one of `every_seconds` or `cron`")
        if self.cron is not None:
            _cron_trigger(self.cron, ZoneInfo("UTC"))
        return self


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")


def _cron_trigger(expr: str, tz: Any) -> CronTrigger:
    """A trigger with standard cron meaning (weekday 0 or 7 is Sunday; apscheduler 3 counts from Monday)."""
    fields = expr.split()
    if fields:
        fields[-1] = _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group(1))], fields[-1])
    names: tuple[str, ...]
    if len(fields) == 5:
        names = ("minute", "hour", "day", "month", "day_of_week")
    elif len(fields) == 6:
        names = ("second", "minute", "hour", "day", "month", "day_of_week")
    else:
        raise ValueError(f"cron {expr!r} needs 5 or 6 fields, got {len(fields)}")
    try:
        return CronTrigger(timezone=tz, **dict(zip(names, fields, strict=True)))
    except ValueError as exc:
        raise ValueError(f"cron {expr!r}: {exc}") from None


class ScheduleConfig(BaseModel):
    """`gekko run`: when agent cycles, reconciliation, forecast refresh and the report run.

    ``agent_cycle`` and ``reconcile`` apply to venue-backed sessions (ccxt, OANDA); a paper replay of
    bundled data is driven by its bars in simulated time. Without an ``agent_cycle`` entry,
    ``brain.cycle_seconds`` sets the cycle.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = Field("UTC", description="Time zone the cron expressions are read in (IANA name).")
    agent_cycle: JobSchedule | None = Field(
        default_factory=lambda: JobSchedule(every_seconds=60),
        description="Decision cycles of a venue session: poll bars and fills, let the brain decide "
        "(default: every `brain.cycle_seconds`).",
    )
    reconcile: JobSchedule | None = Field(
        default_factory=lambda: JobSchedule(every_seconds=300), description="Ledger vs venue reconciliation."
    )
    forecast_refresh: JobSchedule | None = Field(
        default_factory=lambda: JobSchedule(cron="5 * * * *"), description="Recompute forecasts."
    )
    daily_report: JobSchedule | None = Field(
        default_factory=lambda: JobSchedule(cron="0 0 * * *"), description="The daily report."
    )
    misfire_grace_seconds: int = Field(
        30, ge=1, description="A run this late is still made; later is skipped."
    )
    shutdown_grace_seconds: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM, how long a running job may take to finish before it is cancelled.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    def jobs(self) -> dict[str, JobSchedule]:
        """The enabled schedules by job name."""
        out: dict[str, JobSchedule] = {}
        for name in JOB_NAMES:
            sched = getattr(self, name)
            if sched is not None and sched.enabled:
                out[name] = sched
        return out


class HeadlessScheduler:
    """Runs the injected jobs on the configured timetable until stopped.

    Args:
        config: the ``schedule`` section of agent.yaml.
        jobs: job name (one of :data:`JOB_NAMES`) → async callable; scheduled jobs without a callable
            are skipped.
        on_shutdown: awaited once after the last job has ended (flush, close).
        on_error: called with the job name and the exception when a job raises.
    """

    def __init__(
        self,
        config: ScheduleConfig,
        jobs: Mapping[str, Job],
        *,
        on_shutdown: Job | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        unknown = sorted(set(jobs) - set(JOB_NAMES))
        if unknown:
            raise ValueError(f"unknown job names {unknown}; expected some of {list(JOB_NAMES)}")
        self.config = config
        self._tz = ZoneInfo(config.timezone)
        self._jobs = {n: jobs[n] for n in config.jobs() if n in jobs}
        self._on_shutdown = on_shutdown
        self._on_error = on_error
        self._running: dict[str, asyncio.Task[Any]] = {}
        self._stop = asyncio.Event()
        self.runs: dict[str, int] = dict.fromkeys(self._jobs, 0)
        self.cancelled: list[str] = []

    def trigger(self, name: str) -> IntervalTrigger | CronTrigger:
        """The apscheduler trigger of job ``name``."""
        sched = self.config.jobs()[name]
        if sched.every_seconds is not None:
            return IntervalTrigger(seconds=sched.every_seconds, timezone=self._tz)
        assert sched.cron is not None
        return _cron_trigger(sched.cron, self._tz)

    def plan(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """Every (time, job) the timetable fires in ``(start, end]``, in time order (nothing runs).

        Interval jobs count from ``start``, as they do when the scheduler starts then.
        """
        out: list[tuple[datetime, str]] = []
        for name in self._jobs:
            sched = self.config.jobs()[name]
            if sched.every_seconds is not None:
                step = timedelta(seconds=sched.every_seconds)
                t = start + step
                while t <= end:
                    out.append((t, name))
                    t += step
                continue
            trig = self.trigger(name)
            tick = timedelta(microseconds=1)
            t_next = trig.get_next_fire_time(None, start + tick)
            while t_next is not None and t_next <= end:
                out.append((t_next, name))
                t_next = trig.get_next_fire_time(t_next, t_next + tick)
        return sorted(out)

    def _wrap(self, name: str, job: Job) -> Job:
        async def run() -> None:
            if self._stop.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._running[name] = task
            try:
                await job()
                self.runs[name] += 1
            except asyncio.CancelledError:
                self.cancelled.append(name)
                raise
            except Exception as exc:  # a failing job is reported; the timetable carries on
                if self._on_error is not None:
                    self._on_error(name, exc)
            finally:
                self._running.pop(name, None)

        return run

    def stop(self) -> None:
        """Ask the scheduler to shut down (what SIGTERM does)."""
        self._stop.set()

    async def run(self, *, install_signals: bool = True) -> None:
        """Run until :meth:`stop` or SIGTERM/SIGINT, then shut down cleanly (see the module docstring).

        Args:
            install_signals: handle SIGTERM and SIGINT on the running loop (main thread only).
        """
        loop = asyncio.get_running_loop()
        scheduler = AsyncIOScheduler(timezone=self._tz, event_loop=loop)
        for name, job in self._jobs.items():
            scheduler.add_job(
                self._wrap(name, job),
                self.trigger(name),
                id=name,
                name=name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=self.config.misfire_grace_seconds,
            )
        handled: list[signal.Signals] = []
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stop.set)
                handled.append(sig)
        scheduler.start()
        try:
            await self._stop.wait()
        finally:
            scheduler.pause()  # no new runs; the executor's shutdown would cancel the running one at once
            for sig in handled:
                loop.remove_signal_handler(sig)
            await self._drain()
            scheduler.shutdown(wait=False)
            if self._on_shutdown is not None:
                await self._on_shutdown()

    async def _drain(self) -> None:
        tasks = list(self._running.values())
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.config.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
