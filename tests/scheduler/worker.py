"""A headless scheduler in its own process for the SIGTERM test: ``python worker.py OUT GRACE JOB_S``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gekko_agent.runtime.scheduler import HeadlessScheduler, JobSchedule, ScheduleConfig


def main() -> None:
    out, grace, job_seconds = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])

    def log(line: str) -> None:
        with out.open("a") as f:
            f.write(line + "\n")

    async def cycle() -> None:
        log("cycle-start")
        try:
            await asyncio.sleep(job_seconds)
        except asyncio.CancelledError:
            log("cycle-cancelled")
            raise
        log("cycle-end")

    async def flush() -> None:
        log("flushed")

    config = ScheduleConfig(
        agent_cycle=JobSchedule(every_seconds=0.2),
        reconcile=None,
        forecast_refresh=None,
        daily_report=None,
        shutdown_grace_seconds=grace,
    )
    scheduler = HeadlessScheduler(config, {"agent_cycle": cycle}, on_shutdown=flush)
    log("ready")
    asyncio.run(scheduler.run())
    log("exited")


if __name__ == "__main__":
    main()
