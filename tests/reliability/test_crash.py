"""Crash test: SIGKILL the trading process at named points while orders are in flight, restart it,
reconcile, and check that the ledger equals the venue.

A Binance wire simulator runs in its own process (``python -m gekko_agent venue-sim``, with
partial fills, timeouts and dropped connections after accept, resets before it and 5xx). The
trading process (:mod:`tests.reliability.crash_worker`) submits orders through the ExecutionEngine
and the real ccxt client into a file ledger. It is started with ``GEKKO_KILL_AT=POINT:N`` and
SIGKILLs itself at the Nth pass of that kill point (:mod:`gekko_agent.testing.killpoints`):

* ``submit_sent``: the create-order request is on the wire, its answer not read;
* ``submit_acked``: the venue's answer is in hand, ack and fills not journaled;
* ``fill_received``: a poll read new fills, none journaled;
* ``ledger_append``: inside ``Ledger.append``, after the INSERT, before it returns;
* ``reconcile``: killed at ``submit_acked`` first, then killed again inside the restarted
  process's start-up reconciliation (its first ledger append);
* ``random``: the old way, a uniform random moment 0–1.5 s after the worker reconciled.

Each kill is followed by a restart (as a supervisor would; also after a typed retryable start-up
error such as an injected 5xx on the first read) until the worker finishes. Then, from this process:

* a final reconciliation finds nothing to change;
* every venue fill is in the ledger exactly once, and the ledger has no fill the venue lacks;
* every ledger order is known to the venue with the same filled quantity and openness, or is
  journaled as rejected (by the venue, or marked unknown by reconciliation);
* every venue order is in the ledger, each intent became at most one order (no duplicates).

The default two runs are deterministic: fixed kill points and counts, seeded simulators, and
restarts after start-up errors, so a 5xx on a start-up read cannot fail them.
``benchmarks/reliability_crash.py --runs 50`` is the long campaign with figures per kill point.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import ccxt.async_support as ccxt
import pytest

from gekko_agent.domain import LiveClock, OrderStatus, OrderSubmitted
from gekko_agent.errors import OrderNotFound, RetryableError
from gekko_agent.execution.reconcile import Reconciler
from gekko_agent.ledger import Ledger, events, fills, orders
from gekko_agent.testing.killpoints import ENV as KILL_ENV
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

pytestmark = pytest.mark.slow

ORDERS = int(os.environ.get("GEKKO_CRASH_ORDERS", "12"))
FAULTS = "partial=0.3,drop_after_accept=0.05,drop_accepted=0.03,drop=0.02,5xx=0.03"
ROOT = Path(__file__).resolve().parents[2]
RETRYABLE = ("gekko_agent.errors.VenueUnavailable", "gekko_agent.errors.RateLimited")
KILL_LINE = "gekko-kill-point "
# the two deterministic runs of the default suite: (point, targets of successive lives)
SHORT_PLAN = (
    ("submit_sent", ("submit_sent:2", "ledger_append:1")),
    ("submit_acked", ("submit_acked:3", "fill_received:1", "ledger_append:7")),
)
T = TypeVar("T")


@dataclass
class Figures:
    """What the campaign saw (for one kill point, or all of them)."""

    runs: int = 0
    kills: int = 0
    orders: int = 0
    fills: int = 0
    lost_fills: int = 0
    duplicate_fills: int = 0
    duplicate_orders: int = 0
    mismatches: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)
    restarts_after_error: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """No lost or doubled fill, no duplicate order, no mismatch."""
        return not (self.lost_fills or self.duplicate_fills or self.duplicate_orders or self.mismatches)


def start_simulator(seed: int) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-m", "gekko_agent", "venue-sim", "--protocol", "binance", "--port", "0"]
    proc = subprocess.Popen(
        [*args, "--faults", FAULTS, "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a simulator with SIGINT; SIGKILL it when it has not exited within 10 s (busy machine)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)


def worker(url: str, ledger: Path, seed: int, kill_at: str | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.reliability.crash_worker", url, str(ledger), str(ORDERS), str(seed)]
    env = {k: v for k, v in os.environ.items() if k != KILL_ENV}
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )


def supervised(start: Callable[[], T], restarts: list[str], attempts: int = 8) -> T:
    """Start the worker again when it exited on a typed retryable venue error, as a supervisor would.

    The worker has no retry around its start-up reads (markets, reconciliation), so a 5xx injected
    there ends the process with a ``RetryableError`` before it sends anything: a clean exit, not a
    lost order.
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


def kill_at(url: str, ledger: Path, seed: int, target: str) -> str | None:
    """Run the worker armed with ``target``; where it killed itself, or None if it finished first."""
    proc = worker(url, ledger, seed, target)
    out, err = proc.communicate(timeout=180)
    line = next((ln for ln in err.splitlines() if ln.startswith(KILL_LINE)), None)
    if line is not None:
        assert proc.returncode == -signal.SIGKILL, (proc.returncode, err[-2000:])
        phase = "trading" if "ready" in out.split() else "start-up"
        return f"{line.removeprefix(KILL_LINE).strip()} ({phase})"
    assert proc.returncode == 0 and out.rstrip().endswith("done"), err[-3000:]
    return None


def kill_in_flight(url: str, ledger: Path, seed: int, rng: random.Random) -> str | None:
    """Start the worker and SIGKILL it at a random moment after it reconciled; where, or None."""
    proc = worker(url, ledger, seed)
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    if ready != "ready":
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"worker did not start: {ready!r} {err[-2000:]}")
    delay = rng.uniform(0.0, 1.5)
    time.sleep(delay)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    submitted = [ln for ln in out.splitlines() if ln.startswith("submitted")]
    return f"random {delay:.2f}s after ready, {len(submitted)} submitted" if killed else None


def finish(url: str, ledger: Path, seed: int) -> None:
    proc = worker(url, ledger, seed)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0 and out.rstrip().endswith("done"), err[-3000:]


async def retried(call: Callable[[], Awaitable[T]]) -> T:
    """Run a venue read again while the simulator injects faults (reads are idempotent); raw ccxt
    calls raise ccxt's own transient errors, the adapter's Gekko's."""
    for _ in range(30):
        try:
            return await call()
        except (RetryableError, ccxt.OperationFailed):
            await asyncio.sleep(0.05)
    return await call()


async def verify(url: str, ledger_path: Path, figures: Figures) -> None:
    clock = LiveClock()
    config = CcxtVenueConfig(
        "binanceus",
        api_key=binance_sim.API_KEY,
        secret=binance_sim.API_SECRET,
        base_url=url,
        timeout_ms=2_000,
        enable_rate_limit=False,
        symbols=("BTC/USD",),
    )
    venue = CcxtVenue(config, clock)
    try:
        with Ledger(ledger_path) as ledger:
            terms = {i.id: (i.quote, i.asset_class) for i in await retried(venue.instruments)}
            reconciler = Reconciler(ledger, clock, terms, read_attempts=30, retry_delay=0.05)
            report = await reconciler.reconcile(venue)
            figures.mismatches.extend(d.describe() for d in report.differences)
            venue_fills = {f.fill_id for f in (await retried(lambda: venue.fills_since(None))).fills}
            journaled = [f.fill_id for f in fills(ledger)]
            figures.fills += len(venue_fills)
            figures.lost_fills += len(venue_fills - set(journaled))
            figures.duplicate_fills += len(journaled) - len(set(journaled))
            figures.mismatches.extend(f"fill {f} not at venue" for f in set(journaled) - venue_fills)
            submitted = [s.event for s in events(ledger, kinds="order_submitted")]
            per_intent = Counter(e.intent.intent_id for e in submitted if isinstance(e, OrderSubmitted))
            figures.duplicate_orders += sum(n - 1 for n in per_intent.values())
            state = orders(ledger)
            figures.orders += len(state)
            listed: list[dict[str, Any]] = await retried(lambda: venue.exchange.fetch_orders("BTC/USD"))
            at_venue = Counter(str(o.get("clientOrderId")) for o in listed)
            figures.duplicate_orders += sum(n - 1 for n in at_venue.values())
            figures.mismatches.extend(f"venue order {c} not in ledger" for c in at_venue if c not in state)
            for cid, order in state.items():
                try:
                    vo = await retried(functools.partial(venue.order_status, cid))
                except OrderNotFound:
                    if order.status is not OrderStatus.REJECTED:
                        figures.mismatches.append(f"{cid}: unknown at venue but {order.status} in ledger")
                    continue
                if (vo.filled_quantity, vo.is_terminal) != (order.filled_quantity, order.is_terminal):
                    figures.mismatches.append(
                        f"{cid}: venue {vo.status} {vo.filled_quantity}, ledger {order.status}"
                    )
    finally:
        await venue.close()


def crash_run(
    url: str, ledger: Path, seed: int, lives: tuple[str, ...], figures: Figures, rng: random.Random
) -> None:
    """Kill the worker once per entry of ``lives`` (a kill target, or ``random``), finish, verify."""
    for target in lives:
        if target == "random":
            start: Callable[[], str | None] = functools.partial(kill_in_flight, url, ledger, seed, rng)
        else:
            start = functools.partial(kill_at, url, ledger, seed, target)
        where = supervised(start, figures.restarts_after_error)
        if where is not None:
            figures.kills += 1
            figures.landed.append(where)
    supervised(functools.partial(finish, url, ledger, seed), figures.restarts_after_error)
    asyncio.run(verify(url, ledger, figures))
    figures.runs += 1


@pytest.mark.timeout(60 + 90 * len(SHORT_PLAN))
def test_sigkill_at_kill_points_then_restart_leaves_ledger_equal_to_venue(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    per_point = {point: Figures() for point, _ in SHORT_PLAN}
    started = time.monotonic()
    for run, (point, lives) in enumerate(SHORT_PLAN):
        sim, url = start_simulator(run + 1)
        try:
            crash_run(url, tmp_path / f"run{run}.duckdb", run, lives, per_point[point], rng)
        finally:
            stop(sim)
    for point, figures in per_point.items():
        print(f"\n{point}: {figures}")
    print(f"wall={time.monotonic() - started:.1f}s")
    for point, (_, lives) in zip(per_point, SHORT_PLAN, strict=True):
        figures = per_point[point]
        assert figures.kills == len(lives), f"{point}: a kill point was not reached: {figures.landed}"
        assert (figures.lost_fills, figures.duplicate_fills, figures.duplicate_orders) == (0, 0, 0), figures
        assert figures.mismatches == [], figures.mismatches
        assert figures.fills > 0, figures
