"""Soak: a simulated week of multi-venue paper trading with the LLM brain on, in minutes.

See :mod:`gekko_agent.testing.campaigns.soak` for the setup and how memory, ledger size and
event-loop lag are measured.

Run: ``.venv/bin/python benchmarks/reliability_soak.py [--days 7] [--cycle-seconds 900] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from gekko_agent.testing.campaigns.soak import run_soak


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its figures; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days from 2023-03-09 (at most 12)")
    parser.add_argument("--cycle-seconds", type=int, default=900, help="simulated seconds between LLM cycles")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run_soak(args.days, args.cycle_seconds)
    out = asdict(figures)
    if args.json:
        print(json.dumps(out))
    else:
        print("soak:", " ".join(f"{k}={v}" for k, v in out.items()))
    return 0 if figures.decisions > 0 and figures.ledger_events > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
