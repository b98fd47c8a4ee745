"""Reliability campaigns (fault injection, soak) shared by ``benchmarks/reliability_*.py`` and the tests.

Each campaign drives real Gekko components against loopback simulators and returns a figures
dataclass; the benchmark scripts print them, the tests assert on them.
"""

from __future__ import annotations

from gekko_agent.testing.campaigns.faults import DEFAULT_FAULTS, FaultFigures, run_fault_campaign

__all__ = ["DEFAULT_FAULTS", "FaultFigures", "run_fault_campaign"]
