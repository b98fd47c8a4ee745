"""Fault campaign, short: ~200 venue requests with injected faults (429, 5xx, dropped connections
before and after accept, timeouts after accept, partial fills, rejects, venue clock steps) through
the ExecutionEngine and the real ccxt client, then reconciliation; nothing lost, doubled,
mismatched or unhandled.

The long version is ``benchmarks/reliability_faults.py --requests 3000`` (and the ``reliability``
test below, run with ``-m reliability``).
"""

from __future__ import annotations

import pytest

from gekko_agent.testing.campaigns import DEFAULT_FAULTS, FaultFigures, run_fault_campaign

pytestmark = pytest.mark.slow


@pytest.fixture
def long_campaign(request: pytest.FixtureRequest) -> None:
    """Skip unless selected with ``-m reliability`` (the marker alone does not deselect)."""
    if "reliability" not in (request.config.option.markexpr or ""):
        pytest.skip("long campaign: run with -m reliability")


def _assert_clean(requests: int, faults: str = DEFAULT_FAULTS) -> FaultFigures:
    figures = run_fault_campaign(requests=requests, faults=faults, seed=7)
    assert figures.requests >= requests
    assert sum(figures.faults.values()) > 0, "the plan injected nothing"
    assert figures.fills > 0 and figures.orders > 0
    assert figures.unhandled == []
    assert figures.mismatches == []
    assert (figures.lost_fills, figures.duplicate_fills, figures.duplicate_orders) == (0, 0, 0)
    assert figures.breaker_recoveries >= figures.breaker_trips - 1  # only the last trip may still be open
    # the venue's clock stepped 2.5 s behind the client at request 150: refused (-1021), then resynced
    assert figures.skew_steps >= 1 and figures.clock_refusals >= 1
    assert figures.clock_refusals < 10 * figures.skew_steps, "the client did not resync its clock"
    return figures


@pytest.mark.timeout(60)
def test_fault_campaign_200_requests_loses_and_duplicates_nothing() -> None:
    _assert_clean(200)


@pytest.mark.timeout(60)
def test_fault_campaign_with_dropped_connections_loses_and_duplicates_nothing() -> None:
    figures = _assert_clean(200, "drop=0.1,drop_accepted=0.2,drop_after_accept=0.05,partial=0.2,5xx=0.05")
    assert figures.faults.get("drop", 0) > 0 and figures.faults.get("drop_accepted", 0) > 0, figures.faults


@pytest.mark.reliability
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("long_campaign")
def test_fault_campaign_3000_requests_loses_and_duplicates_nothing() -> None:
    _assert_clean(3000)
