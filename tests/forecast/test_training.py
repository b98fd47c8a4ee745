"""Training splits by time, stops early, repeats exactly with a seed, and is scored honestly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from gekko_agent.errors import InvalidInput
from gekko_agent.forecast import BASELINES, TrainConfig, TrainResult, make_frame, train
from gekko_agent.forecast.metrics import directional_accuracy, pinball, score
from gekko_agent.forecast.training import split_frame
from gekko_agent.market import BarArray

from .conftest import SMALL


def test_split_frame_is_time_ordered_with_a_purge_gap(bars_5m: BarArray) -> None:
    frame = make_frame(bars_5m, 12)
    split = split_frame(frame, 0.7, 0.15)
    interval = bars_5m.interval * 1_000_000_000
    assert split.train.ts[-1] + 12 * interval <= split.val.ts[0]
    assert split.val.ts[-1] + 12 * interval <= split.test.ts[0]
    # the last training target ends before the first validation row starts
    assert split.train.ts[-1] + 12 * interval < split.val.ts[0] + interval
    assert len(split.train) + len(split.val) + len(split.test) == len(frame) - 24


def test_train_with_same_seed_gives_identical_weights(bars_5m: BarArray, trained: TrainResult) -> None:
    again = train(bars_5m, SMALL)
    for key, value in trained.model.state_dict().items():
        assert torch.equal(value, again.model.state_dict()[key]), key
    assert again.history == trained.history


def test_train_with_another_seed_gives_other_weights(bars_5m: BarArray, trained: TrainResult) -> None:
    other = train(bars_5m, replace(SMALL, seed=SMALL.seed + 1, epochs=1))
    assert not torch.equal(trained.model.head.weight, other.model.head.weight)


def test_train_stops_early_when_validation_stops_improving(bars_5m: BarArray) -> None:
    result = train(bars_5m[:2500], replace(SMALL, epochs=200, patience=1, lr=0.05))
    assert len(result.history) < 200
    assert len(result.history) - result.best_epoch == 1
    best_val = min(v for _, v in result.history)
    assert result.history[result.best_epoch - 1][1] == best_val


def test_train_reports_model_and_every_baseline_on_the_test_rows(trained: TrainResult) -> None:
    names = [s.name for s in trained.scores]
    assert names == ["model", *BASELINES]
    assert {s.rows for s in trained.scores} == {len(trained.split.test)}
    empirical = trained.scores[-1]
    assert empirical.coverage["0.5"] == pytest.approx(0.5, abs=0.15)


def test_train_restores_torch_thread_count(bars_5m: BarArray) -> None:
    before = torch.get_num_threads()
    train(bars_5m[:1500], replace(SMALL, epochs=1, threads=1))
    assert torch.get_num_threads() == before


def test_train_config_rejects_shares_that_leave_no_test_rows() -> None:
    with pytest.raises(InvalidInput, match="shares"):
        TrainConfig(train_share=0.8, val_share=0.2)


def test_score_of_a_perfect_forecast_has_zero_pinball_and_full_direction() -> None:
    y = np.array([0.01, -0.02, 0.03, -0.01])
    pred = np.repeat(y[:, None], 3, axis=1)
    s = score("oracle", pred, y, (0.1, 0.5, 0.9))
    assert s.pinball_bps == 0.0
    assert s.directional == 1.0
    assert s.coverage == {"0.1": 1.0, "0.5": 1.0, "0.9": 1.0}
    assert s.bands == {"0.1-0.9": 1.0}


def test_pinball_and_direction_of_the_zero_forecast() -> None:
    y = np.array([0.02, -0.02])
    assert pinball(np.zeros((2, 1)), y, (0.5,)) == pytest.approx(0.01)
    assert directional_accuracy(np.zeros(2), y) == 0.5
