"""Crash test: SIGKILL the trading process while orders are in flight, restart it, reconcile, and
check that the ledger equals the venue.

A Binance wire simulator runs in its own process (``python -m gekko_agent venue-sim``, with
partial fills, dropped answers after accept and 5xx faults). The trading process
(:mod:`tests.reliability.crash_worker`) submits orders through the ExecutionEngine and the real
ccxt client into a file ledger; it is killed at random moments (mid-submit, mid-fill, mid-ledger
write, mid-reconcile) and restarted until it finishes. Then, from this process:

* a final reconciliation finds nothing to change;
* every venue fill is in the ledger exactly once, and the ledger has no fill the venue lacks;
* every ledger order is known to the venue with the same filled quantity and openness, or is
  journaled as rejected (by the venue, or marked unknown by reconciliation);
* every venue order is in the ledger, each intent became at most one order (no duplicates).

``GEKKO_CRASH_RUNS`` (default 2) sets the number of runs, ``GEKKO_CRASH_ORDERS`` (default 12) the
intents per run and ``GEKKO_CRASH_KILLS`` (default 1) the kills per run, for longer campaigns::

    GEKKO_CRASH_RUNS=50 .venv/bin/python -m pytest tests/reliability/test_crash.py -s
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

import pytest

from gekko_agent.domain import LiveClock, OrderStatus, OrderSubmitted
from gekko_agent.errors import OrderNotFound, RetryableError
from gekko_agent.execution.reconcile import Reconciler
from gekko_agent.ledger import Ledger, events, fills, orders
from gekko_agent.testing.sim import binance as binance_sim
from gekko_agent.venues.ccxt import CcxtVenue, CcxtVenueConfig

pytestmark = pytest.mark.slow

RUNS = int(os.environ.get("GEKKO_CRASH_RUNS", "2"))
ORDERS = int(os.environ.get("GEKKO_CRASH_ORDERS", "12"))
KILLS = int(os.environ.get("GEKKO_CRASH_KILLS", "1"))
FAULTS = "partial=0.3,drop_after_accept=0.05,5xx=0.03"
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class Figures:
    """What the campaign saw, printed at the end."""

    runs: int = 0
    kills: int = 0
    orders: int = 0
    fills: int = 0
    lost_fills: int = 0
    duplicate_fills: int = 0
    duplicate_orders: int = 0
    mismatches: list[str] = field(default_factory=list)


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
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)


def worker(url: str, ledger: Path, seed: int) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.reliability.crash_worker", url, str(ledger), str(ORDERS), str(seed)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def kill_in_flight(url: str, ledger: Path, seed: int, rng: random.Random) -> bool:
    """Start the worker and SIGKILL it at a random moment after it reconciled; True if it was killed."""
    proc = worker(url, ledger, seed)
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip()
    if ready != "ready":
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"worker did not start: {ready!r} {err[-2000:]}")
    time.sleep(rng.uniform(0.0, 1.5))
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return killed


def finish(url: str, ledger: Path, seed: int) -> None:
    proc = worker(url, ledger, seed)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.rstrip().endswith("done"), err[-3000:]


async def retried(call: Callable[[], Awaitable[T]]) -> T:
    """Run a venue read again while the simulator injects 5xx faults (reads are idempotent)."""
    for _ in range(20):
        try:
            return await call()
        except RetryableError:
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
            report = await Reconciler(ledger, clock, terms).reconcile(venue)
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


@pytest.mark.timeout(60 + RUNS * (30 + 15 * KILLS))
def test_sigkill_mid_flight_then_restart_leaves_ledger_equal_to_venue(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("GEKKO_CRASH_SEED", "20240601")))
    figures = Figures()
    started = time.monotonic()
    pending: tuple[subprocess.Popen[str], str] | None = start_simulator(1)
    for run in range(RUNS):
        assert pending is not None
        sim, url = pending
        pending = start_simulator(run + 2) if run + 1 < RUNS else None  # warm the next one meanwhile
        try:
            ledger = tmp_path / f"run{run}.duckdb"
            for _ in range(KILLS):
                figures.kills += kill_in_flight(url, ledger, run, rng)
            finish(url, ledger, run)
            asyncio.run(verify(url, ledger, figures))
            figures.runs += 1
        except BaseException:
            if pending is not None:
                stop(pending[0])
            raise
        finally:
            stop(sim)
    print(
        f"\ncrash campaign: runs={figures.runs} kills={figures.kills} orders={figures.orders} "
        f"fills={figures.fills} lost_fills={figures.lost_fills} duplicate_fills={figures.duplicate_fills} "
        f"duplicate_orders={figures.duplicate_orders} mismatches={len(figures.mismatches)} "
        f"wall={time.monotonic() - started:.1f}s"
    )
    assert figures.kills >= 1
    assert (figures.lost_fills, figures.duplicate_fills, figures.duplicate_orders) == (0, 0, 0)
    assert figures.mismatches == []
