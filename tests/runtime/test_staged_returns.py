"""StagedReturns (the trader's lazy return window) must equal RollingReturns bit for bit."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gekko_agent.risk.var import RollingReturns
from gekko_agent.runtime.marks import StagedReturns


@pytest.mark.parametrize(("capacity", "factors", "rows"), [(5, 1, 6000), (1440, 2, 5000), (7, 3, 5000)])
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
