"""The real USDC depeg (Binance.US BTC/USDC vs BTC/USD, 2023-03-10/11) replayed against a long BTC/USDC book.

Book: 2 BTC/USDC + 60,000 USDC + 10,000 USD (about 110,000 USD). Limits: daily loss 3 % → REDUCING,
5 % → HALTED; VaR(99 %, 1 day, 1,440 one-minute returns) 8,000 USD; stress "USDC -10 %" 7,000 USD.
The probe order each minute is "sell 0.5 BTC/USDC" (swapping coin for more USDC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from .depeg_replay import Timeline, replay


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return replay("2023-03-10", "2023-03-12")


def test_depeg_stress_flags_usdc_concentration_before_the_event(timeline: Timeline) -> None:
    # the scenario loss of the book itself is ~6,002 USD: within 7,000, but the probe's extra USDC is not
    assert timeline.stress_before is not None
    assert Decimal(6000) < timeline.stress_before < Decimal(7000)
    assert timeline.first_stress_denial == datetime(2023, 3, 10, 0, 0, tzinfo=UTC)
    # the real event was worse than the scenario: USDC fell below 0.875 USD
    assert timeline.usdc_low < Decimal("0.88")
    assert timeline.worst_equity_loss > timeline.stress_before


def test_depeg_var_denies_adding_usdc_then_breaches_itself(timeline: Timeline) -> None:
    assert timeline.var_before is not None
    assert timeline.var_before < Decimal(8000)
    assert timeline.first_var_denial == datetime(2023, 3, 11, 4, 37, tzinfo=UTC)
    assert timeline.first_var_breach == datetime(2023, 3, 11, 5, 18, tzinfo=UTC)
    assert timeline.var_peak > Decimal(15000)


def test_depeg_daily_loss_breaker_reduces_then_halts(timeline: Timeline) -> None:
    assert timeline.states == [
        (datetime(2023, 3, 11, 7, 17, tzinfo=UTC), "reducing", "breaker:daily_loss"),
        (datetime(2023, 3, 11, 7, 36, tzinfo=UTC), "halted", "breaker:daily_loss"),
    ]
