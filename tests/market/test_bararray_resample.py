"""BarArray behaviour and resampling, on hand-made bars and on the bundled data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from gekko_agent.domain.bars import Bar
from gekko_agent.errors import InvalidInput
from gekko_agent.market import BarArray, BarCache, format_interval, load_bars, parse_interval, resample, to_ns

MIN = 60 * 10**9
T0 = to_ns("2023-03-01T00:00:00Z")


def _bars(minutes: list[int], closes: list[float]) -> BarArray:
    c = np.array(closes)
    return BarArray(
        instrument_id="BTC/USD@test",
        interval=60,
        ts=np.array([T0 + m * MIN for m in minutes], dtype=np.int64),
        open=c - 1,
        high=c + 2,
        low=c - 3,
        close=c,
        volume=np.full(len(c), 0.5),
        price_decimals=2,
        volume_decimals=1,
    )


def test_resample_hand_made_bars_aggregates_ohlcv_and_keeps_gaps() -> None:
    # minutes 0-4 fill the first 5m period, 6-7 the second, 15 the fourth; the third (10-14) is empty
    bars = _bars([0, 1, 2, 3, 4, 6, 7, 15], [10, 12, 9, 11, 13, 20, 21, 30])
    five = resample(bars, "5m")
    assert five.interval == 300
    assert (five.ts - T0).tolist() == [0, 5 * MIN, 15 * MIN]
    assert five.open.tolist() == [9, 19, 29]
    assert five.high.tolist() == [15, 23, 32]
    assert five.low.tolist() == [6, 17, 27]
    assert five.close.tolist() == [13, 21, 30]
    assert five.volume.tolist() == [2.5, 1.0, 0.5]
    assert five.missing() == 1


def test_resample_aligns_hours_to_utc_boundaries_not_first_bar() -> None:
    bars = _bars([50, 59, 60, 61], [1, 2, 3, 4])
    hourly = resample(bars, "1h")
    assert [t % (60 * MIN) for t in hourly.ts.tolist()] == [0, 0]
    assert hourly.close.tolist() == [2, 4]


def test_resample_same_interval_returns_same_bars() -> None:
    bars = _bars([0, 1], [1, 2])
    assert resample(bars, "1m") is bars


@pytest.mark.parametrize(
    ("target", "problem"), [("30s", "multiple"), ("7m", "divide a day"), ("2d", "divide")]
)
def test_resample_to_impossible_interval_raises_invalid_input(target: str, problem: str) -> None:
    bars = _bars([0, 1], [1, 2])
    with pytest.raises(InvalidInput, match=problem):
        resample(bars, target)


def test_resample_empty_bars_returns_empty_at_new_interval() -> None:
    empty = BarArray.empty("BTC/USD@test", 60)
    assert len(resample(empty, "1h")) == 0
    assert resample(empty, "1h").interval == 3600


def test_parse_interval_reads_common_labels() -> None:
    assert [parse_interval(x) for x in ("1m", "5m", "15m", "1h", "4h", "1d", "30 min")] == [
        60, 300, 900, 3600, 14400, 86400, 1800,
    ]  # fmt: skip
    assert format_interval(300) == "5m"
    with pytest.raises(InvalidInput, match="not like"):
        parse_interval("fortnight")


def test_resample_real_data_5m_high_is_max_of_its_1m_highs(market_cache: BarCache) -> None:
    one = load_bars("binanceus-btcusd-1m", cache=market_cache)
    five = resample(one, "5m")
    assert len(five) == len(one) // 5
    assert np.array_equal(five.high, one.high.reshape(-1, 5).max(axis=1))
    assert np.array_equal(five.low, one.low.reshape(-1, 5).min(axis=1))
    assert np.array_equal(five.open, one.open[::5])
    assert np.array_equal(five.close, one.close[4::5])


def test_resample_real_data_volume_is_exact_decimal_sum(market_cache: BarCache) -> None:
    one = load_bars("binanceus-btcusdt-1m", "2023-03-13", "2023-03-14", cache=market_cache)
    day = resample(one, "1d").to_bars()
    assert len(day) == 1
    assert day[0].volume == sum((b.volume for b in one.to_bars()), Decimal(0))
    assert day[0].ts == datetime(2023, 3, 13, tzinfo=UTC)


def test_resample_sparse_kraken_hours_never_invent_bars(market_cache: BarCache) -> None:
    one = load_bars("kraken-btcusdc-1m", "2023-03-01", "2023-03-22", cache=market_cache)
    hourly = resample(one, "1h")
    hours_with_trades = np.unique(one.ts // (60 * MIN))
    assert np.array_equal(hourly.ts // (60 * MIN), hours_with_trades)


def test_daily_fx_bars_start_at_utc_midnight(market_cache: BarCache) -> None:
    daily = resample(load_bars("oanda-eurusd-1h", cache=market_cache), "1d")
    assert daily.start == datetime(2017, 1, 1, tzinfo=UTC)  # holds only the 22:00 and 23:00 bars
    assert bool(np.all(daily.ts % (1440 * MIN) == 0))


def test_bararray_arrays_are_read_only() -> None:
    bars = _bars([0, 1], [1, 2])
    with pytest.raises(ValueError, match="read-only"):
        bars.close[0] = 99.0


def test_bararray_index_gives_bar_and_slice_gives_bararray() -> None:
    bars = _bars([0, 1, 2], [1, 2, 3])
    last = bars[-1]
    assert isinstance(last, Bar)
    assert last.close == Decimal("3.00")
    assert last.ts == datetime(2023, 3, 1, 0, 2, tzinfo=UTC)
    part = bars[1:]
    assert isinstance(part, BarArray)
    assert part.close.tolist() == [2, 3]


def test_bararray_between_uses_start_inclusive_end_exclusive() -> None:
    bars = _bars([0, 1, 2, 3], [1, 2, 3, 4])
    part = bars.between("2023-03-01T00:01", datetime(2023, 3, 1, 0, 3, tzinfo=UTC))
    assert part.close.tolist() == [2, 3]


def test_bararray_unsorted_times_raise_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="strictly increasing"):
        _bars([1, 0], [1, 2])


def test_bararray_mismatched_lengths_raise_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="values"):
        BarArray("X/Y@t", 60, np.array([0, 1]), np.ones(2), np.ones(2), np.ones(2), np.ones(1), np.ones(2))
