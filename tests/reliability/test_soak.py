"""Soak, short: a simulated day of paper trading on three venues with the LLM brain (scripted model);
memory stays flat, the ledger holds every decision, the event loop is never blocked for long.

The long version is ``benchmarks/reliability_soak.py --days 7`` (and the ``reliability`` test below).
"""

from __future__ import annotations

import pytest

from gekko_agent.testing.campaigns.soak import SoakFigures, run_soak

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Items? .* (is|are) using the `ReadOnly` qualifier:UserWarning"),
]


@pytest.fixture
def long_campaign(request: pytest.FixtureRequest) -> None:
    """Skip unless selected with ``-m reliability`` (the marker alone does not deselect)."""
    if "reliability" not in (request.config.option.markexpr or ""):
        pytest.skip("long campaign: run with -m reliability")


def _assert_healthy(figures: SoakFigures, cycles: int) -> None:
    assert figures.llm_requests >= cycles
    assert figures.decisions >= cycles
    assert figures.orders > 0 and figures.fills > 0
    assert figures.ledger_events > figures.decisions
    assert figures.traced_growth_mb < 50, figures.traced_mb
    assert figures.lag_ms["max"] < 5_000, figures.lag_ms


@pytest.mark.timeout(60)
def test_soak_one_day_three_venues_llm_stays_flat() -> None:
    figures = run_soak(days=1, cycle_seconds=3600, warmup_minutes=240)
    _assert_healthy(figures, cycles=20)


@pytest.mark.reliability
@pytest.mark.timeout(1200)
@pytest.mark.usefixtures("long_campaign")
def test_soak_one_week_three_venues_llm_stays_flat() -> None:
    figures = run_soak(days=7, cycle_seconds=900)
    _assert_healthy(figures, cycles=7 * 96 - 8)
