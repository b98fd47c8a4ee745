"""StagedReturns (the trader's lazy return window) must equal RollingReturns bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gekko_agent.errors import InvalidInput
from gekko_agent.risk.var import RollingReturns
from gekko_agent.runtime.marks import StagedReturns


@pytest.mark.parametrize(
    ("capacity", "factors", "rows"), [(5, 1, 6000), (1440, 1, 5000), (1440, 2, 5000), (7, 3, 5000)]
)
def test_staged_window_equals_rolling_window_exactly(capacity: int, factors: int, rows: int) -> None:
    rng = random.Random(3)
    names = [f"f{i}" for i in range(factors)]
    plain, staged = RollingReturns(names, capacity, 60), StagedReturns(names, capacity, 60)
    for t in range(rows):
        row = [rng.gauss(0, 1e-3) for _ in range(factors)]
        plain.push(row)
        staged.stage(row)
        if rng.random() < 0.07 or t == rows - 1:
            a, b = plain.window(), staged.window()
            assert len(plain) == len(staged)
            assert np.array_equal(a.returns, b.returns)
            assert np.array_equal(a.cov, b.cov)
            assert a.version == b.version


@pytest.mark.parametrize("capacity", [3, 1440])
def test_staging_many_rows_or_a_column_equals_staging_each(capacity: int) -> None:
    rng = np.random.default_rng(5)
    one, many = StagedReturns(["f"], capacity, 60), StagedReturns(["f"], capacity, 60)
    done = 0
    while done < 9000:
        rows = rng.normal(0, 1e-3, size=(int(rng.integers(1, 700)), 1))
        for row in rows.tolist():
            one.stage(row)
        if done % 2:
            many.stage_many(rows)
        else:
            many.stage_column(rows[:, 0].tolist())
        done += len(rows)
        a, b = one.window(), many.window()
        assert (
            np.array_equal(a.returns, b.returns) and np.array_equal(a.cov, b.cov) and a.version == b.version
        )


def test_staging_many_refuses_rows_that_are_not_finite() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        StagedReturns(["f"], 10, 60).stage_many(np.array([[0.01], [np.inf]]))
    with pytest.raises(InvalidInput, match="finite"):
        StagedReturns(["f"], 10, 60).stage_column([0.01, float("nan")])
