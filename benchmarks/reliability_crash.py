"""Crash campaign: SIGKILL the paper-trading process at named kill points, restart, reconcile, count.

Wraps the machinery of ``tests/reliability/test_crash.py`` (same simulator process, same worker
``tests/reliability/crash_worker.py``, same verification) into a command with figures per kill
point. Run ``r`` uses point ``POINTS[r % len(POINTS)]`` at a seeded random pass count:

* ``submit_sent:N`` (N in 1..orders): the Nth create-order request is on the wire, answer unread;
* ``submit_acked:N`` (1..orders): the Nth submit's answer is in hand, nothing of it journaled;
* ``fill_received:N`` (1..3): the Nth poll that read new fills, none journaled;
* ``ledger_append:N`` (1..3 × orders): inside the Nth ``Ledger.append``, after its INSERT;
* ``reconcile``: ``submit_acked:N``, then the restarted process killed inside its start-up
  reconciliation (its first ledger append);
* ``random`` (not in the default set): the old uniform random moment 0–1.5 s after start-up.

Each run starts a Binance wire simulator in its own process (partial fills, timeouts and resets
after accept, resets before it, 5xx), the worker against a fresh file ledger, kills it as planned,
restarts it until it finishes (also after a typed retryable start-up error, as a supervisor would),
then reconciles from this process and compares ledger and venue.

Run: ``.venv/bin/python benchmarks/reliability_crash.py --runs 50 [--orders 12]
[--points submit_sent,submit_acked,fill_received,ledger_append,reconcile] [--seed 20240601]
[--json]``. Exits 1 when any lost fill, duplicate or mismatch was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POINTS = ("submit_sent", "submit_acked", "fill_received", "ledger_append", "reconcile")
KNOWN = (*POINTS, "random")


def plan(point: str, orders: int, rng: random.Random) -> tuple[str, ...]:
    """The kill targets of the successive lives of one run at ``point``."""
    if point == "reconcile":
        return (f"submit_acked:{rng.randint(1, orders)}", "ledger_append:1")
    if point == "random":
        return ("random",)
    upper = {"fill_received": 3, "ledger_append": 3 * orders}.get(point, orders)
    return (f"{point}:{rng.randint(1, upper)}",)


def _row(point: str, figures: Any) -> dict[str, Any]:
    return {
        "point": point,
        "runs": figures.runs,
        "kills": figures.kills,
        "orders": figures.orders,
        "fills": figures.fills,
        "lost_fills": figures.lost_fills,
        "duplicate_fills": figures.duplicate_fills,
        "duplicate_orders": figures.duplicate_orders,
        "mismatches": len(figures.mismatches),
        "restarts_after_error": len(figures.restarts_after_error),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the campaign and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="simulator + worker runs")
    parser.add_argument("--orders", type=int, default=12, help="intents per run")
    parser.add_argument("--points", default=",".join(POINTS), help=f"kill points, from {', '.join(KNOWN)}")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the pass counts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    points = [p.strip() for p in args.points.split(",") if p.strip()]
    if not points or any(p not in KNOWN for p in points):
        parser.error(f"--points: choose from {', '.join(KNOWN)}")
    os.environ["GEKKO_CRASH_ORDERS"] = str(args.orders)  # read by the test module at import
    sys.path.insert(0, str(ROOT))
    from tests.reliability import test_crash as crash

    rng = random.Random(args.seed)
    per_point = {p: crash.Figures() for p in points}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gekko-crash-") as tmp:
        pending = crash.start_simulator(1)
        for run in range(args.runs):
            sim, url = pending
            nxt = crash.start_simulator(run + 2) if run + 1 < args.runs else None  # warm the next one
            point = points[run % len(points)]
            lives = plan(point, args.orders, rng)
            try:
                crash.crash_run(url, Path(tmp) / f"run{run}.duckdb", run, lives, per_point[point], rng)
            except BaseException:
                if nxt is not None:
                    crash.stop(nxt[0])
                raise
            finally:
                crash.stop(sim)
            if nxt is not None:
                pending = nxt
            f = per_point[point]
            print(
                f"run {run + 1}/{args.runs} {point} {'+'.join(lives)}: landed={f.landed[-len(lives) :]} "
                f"lost={f.lost_fills} dup_orders={f.duplicate_orders} mismatches={len(f.mismatches)}",
                file=sys.stderr,
            )
    total = crash.Figures()
    for f in per_point.values():
        for name in ("runs", "kills", "orders", "fills", "lost_fills", "duplicate_fills", "duplicate_orders"):
            setattr(total, name, getattr(total, name) + getattr(f, name))
        total.mismatches += f.mismatches
        total.restarts_after_error += f.restarts_after_error
    rows = [_row(p, f) for p, f in per_point.items()] + [_row("all", total)]
    out = {
        "points": rows,
        "landed": {p: f.landed for p, f in per_point.items()},
        "wall_s": round(time.monotonic() - started, 1),
        "orders_per_run": args.orders,
        "seed": args.seed,
    }
    if args.json:
        print(json.dumps(out))
    else:
        for row in rows:
            print("crash campaign:", " ".join(f"{k}={v}" for k, v in row.items()))
        print(f"crash campaign: wall_s={out['wall_s']}")
    for f in per_point.values():
        for line in [*f.mismatches, *f.restarts_after_error]:
            print("note:", line)
    return 0 if all(f.clean for f in per_point.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
