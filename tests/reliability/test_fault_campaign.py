"""Fault campaign, short: ~200 venue requests with injected faults through the ExecutionEngine and the
real ccxt client, then reconciliation; nothing lost, doubled, mismatched or unhandled.

The long version is ``benchmarks/reliability_faults.py --requests 3000`` (and the ``reliability``
test below, run with ``-m reliability``).
"""

from __future__ import annotations

import pytest

from gekko_agent.testing.campaigns import run_fault_campaign

pytestmark = pytest.mark.slow


@pytest.fixture
def long_campaign(request: pytest.FixtureRequest) -> None:
    """Skip unless selected with ``-m reliability`` (the marker alone does not deselect)."""
    if "reliability" not in (request.config.option.markexpr or ""):
        pytest.skip("long campaign: run with -m reliability")


def _assert_clean(requests: int) -> None:
    figures = run_fault_campaign(requests=requests, seed=7)
    assert figures.requests >= requests
    assert sum(figures.faults.values()) > 0, "the plan injected nothing"
    assert figures.fills > 0 and figures.orders > 0
    assert figures.unhandled == []
    assert figures.mismatches == []
    assert (figures.lost_fills, figures.duplicate_fills, figures.duplicate_orders) == (0, 0, 0)
    assert figures.breaker_recoveries >= figures.breaker_trips - 1  # only the last trip may still be open


@pytest.mark.timeout(60)
def test_fault_campaign_200_requests_loses_and_duplicates_nothing() -> None:
    _assert_clean(200)


@pytest.mark.reliability
@pytest.mark.timeout(900)
@pytest.mark.usefixtures("long_campaign")
def test_fault_campaign_3000_requests_loses_and_duplicates_nothing() -> None:
    _assert_clean(3000)
