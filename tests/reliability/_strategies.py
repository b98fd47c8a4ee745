"""Shared hypothesis strategies and budgets for the fuzz campaigns.

``GEKKO_FUZZ_EXAMPLES`` scales every campaign (default 1; ``-m reliability`` runs may set 20).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import strategies as st

SCALE = max(1, int(os.environ.get("GEKKO_FUZZ_EXAMPLES", "1")))


def examples(n: int) -> int:
    """``n`` examples scaled by ``GEKKO_FUZZ_EXAMPLES``."""
    return n * SCALE


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(["", "0", "-1", "1e400", "NaN", "inf", "BTC/USD", "buy", "sell", "2023-03-09T00:00:00Z"]),
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(TEXT, st.just("id")), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutate(data: Any, draw: st.DrawFn, depth: int = 0) -> Any:
    """A copy of a JSON-like tree with random entries deleted, replaced or added."""
    if isinstance(data, dict):
        out: dict[Any, Any] = {}
        for key, value in data.items():
            action = draw(st.sampled_from(["keep", "keep", "keep", "mutate", "drop", "replace"]))
            if action == "drop":
                continue
            if action == "replace":
                out[key] = draw(JSON)
            elif action == "mutate" and depth < 6:
                out[key] = mutate(value, draw, depth + 1)
            else:
                out[key] = value
        if draw(st.booleans()) and draw(st.booleans()):
            out[draw(TEXT)] = draw(JSON)
        return out
    if isinstance(data, list):
        return [mutate(v, draw, depth + 1) for v in data if draw(st.integers(0, 5))]
    return draw(JSON) if draw(st.integers(0, 3)) == 0 else data
