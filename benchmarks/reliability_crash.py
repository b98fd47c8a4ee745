"""Crash campaign: SIGKILL the paper-trading process mid-flight N times, restart, reconcile, count.

Wraps the machinery of ``tests/reliability/test_crash.py`` (same simulator process, same worker
``tests/reliability/crash_worker.py``, same verification) into a command with figures. Each run
starts a Binance wire simulator in its own process (partial fills, dropped answers after accept,
5xx), starts the worker against a fresh file ledger, SIGKILLs it at a random moment ``--kills``
times, lets it finish, then reconciles from this process and compares ledger and venue.

Run: ``.venv/bin/python benchmarks/reliability_crash.py --runs 50 [--orders 12] [--kills 1]
[--seed 20240601] [--json]``. Exits 1 when any lost fill, duplicate or mismatch was seen.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


RETRYABLE = ("gekko_agent.errors.VenueUnavailable", "gekko_agent.errors.RateLimited")


def supervised(start: Callable[[], T], restarts: list[str], attempts: int = 5) -> T:
    """Start the worker again when it exited on a retryable venue error, as a process supervisor would.

    The worker has no retry around its start-up reads (markets, reconciliation), so a 5xx injected
    there ends the process with a typed ``RetryableError`` before it sends anything; that is a clean
    exit, not a lost order, and a supervisor restarts it.
    """
    for attempt in range(attempts):
        try:
            return start()
        except AssertionError as exc:
            if attempt + 1 == attempts or not any(name in str(exc) for name in RETRYABLE):
                raise
            lines = [line for line in str(exc).splitlines() if any(name in line for name in RETRYABLE)]
            restarts.append(lines[-1].strip()[:200])
    raise AssertionError("unreachable")


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a simulator with SIGINT; SIGKILL it when it has not exited within 10 s (busy machine)."""
    crash_stop = sys.modules["tests.reliability.test_crash"].stop
    try:
        crash_stop(proc)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)


def main(argv: list[str] | None = None) -> int:
    """Run the campaign and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="simulator + worker runs")
    parser.add_argument("--orders", type=int, default=12, help="intents per run")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs per run before it may finish")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the kill moments")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    os.environ["GEKKO_CRASH_ORDERS"] = str(args.orders)  # read by the test module at import
    sys.path.insert(0, str(ROOT))
    from tests.reliability import test_crash as crash

    rng = random.Random(args.seed)
    figures = crash.Figures()
    restarts: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gekko-crash-") as tmp:
        pending = crash.start_simulator(1)
        for run in range(args.runs):
            sim, url = pending
            nxt = crash.start_simulator(run + 2) if run + 1 < args.runs else None
            try:
                ledger = Path(tmp) / f"run{run}.duckdb"
                kill = functools.partial(crash.kill_in_flight, url, ledger, run, rng)
                for _ in range(args.kills):
                    figures.kills += supervised(kill, restarts)
                supervised(functools.partial(crash.finish, url, ledger, run), restarts)
                asyncio.run(crash.verify(url, ledger, figures))
                figures.runs += 1
            except BaseException:
                if nxt is not None:
                    stop(nxt[0])
                raise
            finally:
                stop(sim)
            if nxt is not None:
                pending = nxt
            print(
                f"run {run + 1}/{args.runs}: orders={figures.orders} fills={figures.fills} "
                f"lost={figures.lost_fills} dup_fills={figures.duplicate_fills} "
                f"dup_orders={figures.duplicate_orders} mismatches={len(figures.mismatches)} "
                f"restarts_after_error={len(restarts)}",
                file=sys.stderr,
            )
    out = asdict(figures) | {
        "mismatches": len(figures.mismatches),
        "restarts_after_error": len(restarts),
        "wall_s": round(time.monotonic() - started, 1),
    }
    out |= {"orders_per_run": args.orders, "kills_per_run": args.kills, "seed": args.seed}
    if args.json:
        print(json.dumps(out))
    else:
        print("crash campaign:", " ".join(f"{k}={v}" for k, v in out.items()))
    for line in [*figures.mismatches, *restarts]:
        print("note:", line)
    bad = figures.lost_fills or figures.duplicate_fills or figures.duplicate_orders or figures.mismatches
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
