"""Fuzz tool arguments from the model: every builtin tool answers ok or a one-line error, never raises."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gekko_agent.domain import AssetClass, Instrument
from gekko_agent.testing.fake_context import FakeToolContext, synthetic_bars
from gekko_agent.tools import ToolResult, builtin_registry
from tests.reliability._strategies import JSON, TEXT, examples

REGISTRY = builtin_registry()
BTC = Instrument("BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001"))


def _ctx() -> FakeToolContext:
    bars = synthetic_bars(BTC.id, datetime(2023, 3, 1, tzinfo=UTC), 120)
    return FakeToolContext([BTC], {BTC.id: bars})


def _arguments(name: str) -> st.SearchStrategy[Any]:
    props = list(REGISTRY.get(name).parameters.get("properties", {}))  # type: ignore[union-attr]
    keys = st.sampled_from(props) if props else TEXT
    objects = st.dictionaries(st.one_of(keys, TEXT), JSON, max_size=5)
    raw = st.one_of(TEXT, st.sampled_from(["", "{", "[]", "null", '{"a": }', "1e999", '"x"']))
    return st.one_of(objects, objects, objects, raw)


@pytest.mark.parametrize("name", REGISTRY.names())
@settings(max_examples=examples(25), deadline=None)
@given(data=st.data())
def test_random_arguments_give_ok_or_one_line_error(name: str, data: st.DataObject) -> None:
    args = data.draw(_arguments(name), label="arguments")
    ctx = _ctx()
    limits = ctx.risk.limits
    result = asyncio.run(REGISTRY.call(name, ctx, args))
    assert isinstance(result, ToolResult)
    if not result.ok:
        assert result.error and "\n" not in result.error and "Traceback" not in result.error
    assert ctx.risk.limits is limits
    assert result.text()


def test_unknown_tool_is_a_one_line_error() -> None:
    result = asyncio.run(REGISTRY.call("print_env", _ctx(), {"name": "GEKKO_TEST_SECRET"}))
    assert not result.ok and result.bad_arguments and "\n" not in result.error
