"""Features are causal (row t never reads bars after t) and targets look exactly ``horizon`` ahead."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gekko_agent.errors import InvalidInput
from gekko_agent.forecast import FEATURE_NAMES, WARMUP, build_features, make_frame
from gekko_agent.forecast.features import forward_returns
from gekko_agent.market import BarArray


def test_build_features_shape_and_warmup(bars_5m: BarArray) -> None:
    x = build_features(bars_5m)
    assert x.shape == (len(bars_5m), len(FEATURE_NAMES))
    assert np.isnan(x[:WARMUP]).all()
    assert np.isfinite(x[WARMUP:]).all()


@pytest.mark.parametrize("t", [WARMUP, WARMUP + 1, 500, 3001, 6047])
def test_features_at_t_equal_when_history_is_truncated_at_t(bars_5m: BarArray, t: int) -> None:
    full = build_features(bars_5m)
    truncated = build_features(bars_5m[: t + 1])
    np.testing.assert_array_equal(truncated[t], full[t])


def test_features_ignore_any_change_after_t(bars_5m: BarArray) -> None:
    t = 2000
    after = np.arange(len(bars_5m)) > t
    rng = np.random.default_rng(0)
    noise = np.where(after, rng.uniform(0.5, 2.0, len(bars_5m)), 1.0)
    scrambled = replace(
        bars_5m,
        open=bars_5m.open * noise,
        high=bars_5m.high * noise * np.where(after, 1.01, 1.0),
        low=bars_5m.low * noise * np.where(after, 0.99, 1.0),
        close=bars_5m.close * noise,
        volume=np.where(after, 7.0, bars_5m.volume),
    )
    base, moved = build_features(bars_5m), build_features(scrambled)
    np.testing.assert_array_equal(moved[: t + 1], base[: t + 1])
    assert not np.array_equal(moved[t + 1 :], base[t + 1 :])


def test_forward_returns_look_exactly_horizon_ahead(bars_5m: BarArray) -> None:
    y = forward_returns(bars_5m, 12)
    np.testing.assert_allclose(y[100], np.log(bars_5m.close[112] / bars_5m.close[100]))
    assert np.isnan(y[-12:]).all()
    assert np.isfinite(y[:-12]).all()


def test_make_frame_keeps_rows_with_features_and_target(bars_5m: BarArray) -> None:
    frame = make_frame(bars_5m, 12)
    assert len(frame) == len(bars_5m) - WARMUP - 12
    assert frame.ts[0] == bars_5m.ts[WARMUP]
    assert bool(np.all(np.diff(frame.ts) > 0))


def test_make_frame_with_too_few_bars_raises(bars_5m: BarArray) -> None:
    with pytest.raises(InvalidInput, match="too few"):
        make_frame(bars_5m[:40], 12)


def test_forward_returns_with_zero_horizon_raises(bars_5m: BarArray) -> None:
    with pytest.raises(InvalidInput, match="horizon"):
        forward_returns(bars_5m, 0)


def test_build_features_with_non_positive_price_raises(bars_5m: BarArray) -> None:
    bad = replace(bars_5m[:100], low=np.zeros(100))
    with pytest.raises(InvalidInput, match="positive"):
        build_features(bad)
