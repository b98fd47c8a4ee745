"""Fault campaign: venue requests through ExecutionEngine + CcxtVenue against the faulty Binance simulator.

See :mod:`gekko_agent.testing.campaigns.faults` for what is injected and how the figures are counted.

Run: ``.venv/bin/python benchmarks/reliability_faults.py --requests 3000 [--faults SPEC] [--seed 7]
[--skew-every 150] [--session-requests 1000] [--json]``. Exits 1 when a fill was lost or doubled, an
order duplicated, a mismatch left after reconciliation, or an exception escaped unhandled.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from gekko_agent.testing.campaigns.faults import DEFAULT_FAULTS, DEFAULT_SKEW_EVERY, run_fault_campaign


def main(argv: list[str] | None = None) -> int:
    """Run the campaign and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="HTTP requests before reconciling")
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="FaultPlan SPEC")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--session-requests", type=int, default=1000, help="requests per session (0: one session)"
    )
    parser.add_argument(
        "--skew-every",
        type=int,
        default=DEFAULT_SKEW_EVERY,
        help="requests between steps of the venue's clock (0: no steps)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run_fault_campaign(
        args.requests, args.faults, args.seed, args.session_requests, args.skew_every
    )
    out = asdict(figures) | {"mismatches": len(figures.mismatches), "unhandled": len(figures.unhandled)}
    out |= {
        "fault_spec": args.faults,
        "session_requests": args.session_requests,
        "skew_every": args.skew_every,
    }
    if args.json:
        print(json.dumps(out))
    else:
        print("fault campaign:", " ".join(f"{k}={v}" for k, v in out.items()))
    for line in [*figures.mismatches, *figures.unhandled]:
        print("problem:", line)
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
