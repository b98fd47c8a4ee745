"""Aligning price histories on shared close times, and the return interval their spacing implies."""

from __future__ import annotations

import numpy as np
import pytest

from gekko_agent.errors import InvalidInput
from gekko_agent.risk.history import align_closes, bar_spacing_seconds

NS = 1_000_000_000
T0 = 1_678_000_000 * NS  # 2023-03-05


def _series(step_s: int, n: int, start: int = T0) -> tuple[np.ndarray, np.ndarray]:
    times = start + np.arange(n, dtype=np.int64) * step_s * NS
    return times, 100.0 + np.arange(n, dtype=np.float64)


def test_bar_spacing_is_the_median_gap() -> None:
    times = T0 + np.array([0, 60, 120, 180, 3600, 3660], dtype=np.int64) * NS  # one long gap
    assert bar_spacing_seconds(times) == 60
    assert bar_spacing_seconds(_series(3600, 10)[0]) == 3600


def test_minute_and_hourly_series_align_on_the_hours() -> None:
    minutes, hours = _series(60, 600), _series(3600, 12)
    out = align_closes({"m": minutes, "h": hours}, keep=100)
    assert out.interval_seconds == 3600
    assert out.times_ns.tolist() == hours[0][:10].tolist()  # 600 minutes hold 10 whole hours
    assert out.closes["h"].tolist() == hours[1][:10].tolist()
    assert out.closes["m"].tolist() == [100.0 + 60 * k for k in range(10)]  # the minute closing each hour


def test_keep_takes_the_newest_shared_times() -> None:
    out = align_closes({"a": _series(60, 50), "b": _series(60, 40, T0 + 5 * 60 * NS)}, keep=3)
    # b covers a's minutes 5..44: the newest three shared are a's 42..44, b's 37..39
    assert out.closes["a"].tolist() == [142.0, 143.0, 144.0]
    assert out.closes["b"].tolist() == [137.0, 138.0, 139.0]
    assert out.last.timestamp() == (T0 + 44 * 60 * NS) / NS


def test_histories_without_shared_times_are_refused_with_their_ranges() -> None:
    early, late = _series(3600, 24), _series(60, 100, T0 + 365 * 86_400 * NS)
    with pytest.raises(
        InvalidInput, match=r"share 0 timestamps.*do not overlap.*early 2023-03-05.*late 2024-03-04"
    ):
        align_closes({"early": early, "late": late}, keep=10)


def test_one_shared_time_is_not_enough_for_a_return() -> None:
    a, b = _series(60, 10), _series(60, 10, T0 + 9 * 60 * NS)
    with pytest.raises(InvalidInput, match="share 1 timestamps"):
        align_closes({"a": a, "b": b}, keep=10)
