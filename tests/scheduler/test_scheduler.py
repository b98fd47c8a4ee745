"""The headless scheduler: timetable on a simulated clock, real runs, failures, SIGTERM shutdown."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gekko_agent.runtime.scheduler import HeadlessScheduler, JobSchedule, ScheduleConfig

WORKER = Path(__file__).with_name("worker.py")


async def _noop() -> None:
    return None


def test_plan_follows_configured_times_on_a_simulated_clock() -> None:
    config = ScheduleConfig(
        agent_cycle=JobSchedule(every_seconds=600),
        reconcile=JobSchedule(cron="*/30 * * * *"),
        forecast_refresh=JobSchedule(cron="5 * * * *"),
        daily_report=JobSchedule(cron="0 0 * * *"),
    )
    jobs = dict.fromkeys(("agent_cycle", "reconcile", "forecast_refresh", "daily_report"), _noop)
    sched = HeadlessScheduler(config, jobs)
    start = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)
    plan = sched.plan(start, start + timedelta(hours=1, minutes=10))
    by_job: dict[str, list[str]] = {}
    for ts, name in plan:
        by_job.setdefault(name, []).append(ts.strftime("%d %H:%M"))
    assert by_job["daily_report"] == ["02 00:00"]
    assert by_job["forecast_refresh"] == ["01 23:05", "02 00:05"]
    assert by_job["reconcile"] == ["01 23:30", "02 00:00"]
    assert by_job["agent_cycle"] == [
        "01 23:10",
        "01 23:20",
        "01 23:30",
        "01 23:40",
        "01 23:50",
        "02 00:00",
        "02 00:10",
    ]
    assert [ts for ts, _ in plan] == sorted(ts for ts, _ in plan)


def test_cron_in_configured_timezone() -> None:
    config = ScheduleConfig(
        timezone="America/New_York", agent_cycle=None, reconcile=None, forecast_refresh=None,
        daily_report=JobSchedule(cron="30 16 * * 1-5"),
    )  # fmt: skip
    sched = HeadlessScheduler(config, {"daily_report": _noop})
    start = datetime(2024, 3, 8, 12, tzinfo=UTC)  # a Friday
    times = [ts.astimezone(UTC) for ts, _ in sched.plan(start, start + timedelta(days=4))]
    assert times == [datetime(2024, 3, 8, 21, 30, tzinfo=UTC), datetime(2024, 3, 11, 20, 30, tzinfo=UTC)]


def test_config_rejects_bad_schedules() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JobSchedule()
    with pytest.raises(ValueError, match="5 or 6 fields"):
        JobSchedule(cron="* *")
    with pytest.raises(ValueError, match="cron"):
        JobSchedule(cron="61 * * * *")
    with pytest.raises(ValueError, match="time zone"):
        ScheduleConfig(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="unknown job"):
        HeadlessScheduler(ScheduleConfig(), {"trade_everything": _noop})


async def test_jobs_run_repeatedly_and_failures_do_not_stop_others() -> None:
    config = ScheduleConfig(
        agent_cycle=JobSchedule(every_seconds=0.05),
        reconcile=JobSchedule(every_seconds=0.05),
        forecast_refresh=None,
        daily_report=None,
    )
    errors: list[str] = []
    flushed: list[bool] = []

    async def boom() -> None:
        raise RuntimeError("venue down")

    async def flush() -> None:
        flushed.append(True)

    sched = HeadlessScheduler(
        config,
        {"agent_cycle": _noop, "reconcile": boom},
        on_shutdown=flush,
        on_error=lambda name, exc: errors.append(f"{name}: {exc}"),
    )
    runner = asyncio.create_task(sched.run(install_signals=False))
    await asyncio.sleep(0.4)
    sched.stop()
    await asyncio.wait_for(runner, 5)
    assert sched.runs["agent_cycle"] >= 3
    assert errors and errors[0] == "reconcile: venue down"
    assert flushed == [True]


def _run_worker(tmp_path: Path, grace: float, job_seconds: float) -> tuple[int, list[str]]:
    out = tmp_path / "log.txt"
    proc = subprocess.Popen([sys.executable, str(WORKER), str(out), str(grace), str(job_seconds)])
    deadline = time.monotonic() + 20
    while "cycle-start" not in (out.read_text() if out.exists() else ""):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)
    return code, out.read_text().split()


@pytest.mark.slow
def test_sigterm_lets_a_running_cycle_finish_then_flushes(tmp_path: Path) -> None:
    code, lines = _run_worker(tmp_path, grace=5, job_seconds=0.5)
    assert code == 0
    assert lines[-3:] == ["cycle-end", "flushed", "exited"]
    assert "cycle-cancelled" not in lines


@pytest.mark.slow
def test_sigterm_cancels_a_cycle_past_the_grace_period(tmp_path: Path) -> None:
    code, lines = _run_worker(tmp_path, grace=0.2, job_seconds=30)
    assert code == 0
    assert lines[-3:] == ["cycle-cancelled", "flushed", "exited"]
