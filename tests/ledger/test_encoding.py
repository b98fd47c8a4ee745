"""The ledger's fast payload and column encoders write exactly what the generic path wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gekko_agent.domain import (
    AgentDecided,
    EquityMarked,
    Event,
    IntentProposed,
    OrderFilled,
    OrderSide,
    OrderType,
    RiskEvaluated,
)
from gekko_agent.domain.events import encode
from gekko_agent.domain.orders import OrderIntent
from gekko_agent.errors import InvalidInput
from gekko_agent.ledger import MEMORY, Ledger
from gekko_agent.ledger.batch import encode_batch, ts_micros
from gekko_agent.ledger.encoding import dumps, payload, value_json
from gekko_agent.ledger.rows import COLUMNS, index_columns, to_row

if TYPE_CHECKING:
    from conftest import Samples

D = Decimal
_ALL = ", ".join(COLUMNS)


def generic(event: Event) -> str:
    """The payload as the ledger wrote it before the fast encoder."""
    return json.dumps(encode(event), separators=(",", ":"), ensure_ascii=False)


def reference_index(event: Event) -> tuple[str | None, ...]:
    """The index columns as the ledger computed them before (attribute lookups on every event)."""

    def attr(name: str) -> str | None:
        value = getattr(event, name, None)
        return value if isinstance(value, str) and value else None

    intent = getattr(event, "intent", None)
    intent = intent if isinstance(intent, OrderIntent) else None
    fill = getattr(event, "fill", None)
    fill = fill if hasattr(fill, "fill_id") else None
    instrument = (
        (fill.instrument_id if fill else None)
        or (intent.instrument_id if intent else None)
        or attr("instrument_id")
    )
    venue = attr("venue") or (instrument.partition("@")[2] if instrument else None)
    if fill is not None and venue is None:
        venue = ""
    return (
        event.decision_id or (intent.decision_id if intent else None),
        instrument,
        attr("client_order_id") or (fill.client_order_id if fill else None),
        venue,
        attr("intent_id") or (intent.intent_id if intent else None),
        fill.fill_id if fill else None,
    )


def odd_events(samples: Samples) -> list[Event]:
    """Events with awkward values: escapes, non-ASCII, None, empty tuples, odd zones, nested data."""
    intent = OrderIntent(
        'in-"quoted"\\',
        "ETH/EUR@kraken",
        OrderSide.SELL,
        D("1E+2"),
        order_type=OrderType.STOP_LIMIT,
        limit_price=D("0.000000001"),
        stop_price=D("12.50"),
        reduce_only=True,
        rationale="naïve — «ünïcödé»\n\ttab \u2028 \x00",
        confidence=D(1),
        created_at=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    )
    detail: dict[str, Any] = {
        "nested": {"a": [1, True, None, D("-0.0"), (D("1.5"), "x")], "b": {}},
        "when": datetime(2023, 1, 1),
        "side": OrderSide.BUY,
        "money": samples.fill("f-9", "1", "2").fee,
        "empty": [],
        "text": 'q"uo\\te',
    }
    return [
        IntentProposed(ts=datetime(2023, 3, 1, 12, 0), decision_id="", intent=intent),
        AgentDecided(ts=samples.t0, brain="llm", action="hold", summary="", prompt_hash=None, detail=detail),
        AgentDecided(
            ts=samples.t0, brain="llm", action="hold", detail={1: "int key", "x": frozenset({"b", "a"})}
        ),
        RiskEvaluated(ts=samples.t0, intent_id="i", outcome="denied", reasons=(), approved_quantity=D(0)),
        EquityMarked(ts=samples.t0, currency="€", equity=D("1e-30"), day_start=D("NaN"), peak=D(10) ** 30),
        OrderFilled(ts=samples.at(1), fill=samples.fill("f-1", "0.1", "20000", iid="BTC/USD")),
    ]


def test_payload_equals_generic_for_every_kind_and_odd_values(samples: Samples) -> None:
    written = [*samples.every_kind(), *odd_events(samples)]
    for event in written * 2:  # twice: the second pass reads the memoized times and intents
        assert payload(event) == generic(event)
        assert index_columns(event) == reference_index(event)


class _Level(IntEnum):
    LOW = 1


class _Mixed(Enum):
    DEC = Decimal("1.5")


@dataclass(frozen=True)
class _Point:
    x: Any
    label: str = "p"


def test_value_json_equals_generic_for_unexpected_types() -> None:
    class Text(str):
        pass

    values: list[Any] = [
        _Level.LOW,
        True,
        False,
        0,
        -(10**40),
        "",
        Text("sub"),
        _Point(x=(1, None, [D("2")])),
        _Point(x=_Level.LOW, label="ü"),
        {"k": {"k": ()}},
        {"b", "a"},
        datetime(2020, 1, 1, tzinfo=UTC),
    ]
    for value in values:
        assert value_json(value) == dumps(_generic_value(value))
    with pytest.raises(TypeError):  # encode() keeps an enum's own value: a Decimal is not JSON
        value_json(_Mixed.DEC)
    with pytest.raises(TypeError):
        generic(
            AgentDecided(ts=datetime(2020, 1, 1, tzinfo=UTC), brain="b", action="a", detail={"m": _Mixed.DEC})
        )


def _generic_value(value: Any) -> Any:
    from gekko_agent.domain.events import _enc

    return _enc(value)


def test_payload_refuses_floats_anywhere(samples: Samples) -> None:
    bad = AgentDecided(ts=samples.t0, brain="b", action="a", detail={"deep": [{"x": 0.5}]})
    with pytest.raises(InvalidInput, match="float"):
        payload(bad)
    with pytest.raises(InvalidInput, match="float"):
        value_json(0.5)


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=3, minutes=30))])),
    st.sampled_from(list(OrderSide)),
)
json_data = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(detail=st.dictionaries(st.text(max_size=8), json_data, max_size=5), summary=st.text())
def test_payload_equals_generic_for_any_detail(detail: dict[str, Any], summary: str) -> None:
    event = AgentDecided(
        ts=datetime(2023, 3, 1, tzinfo=UTC), brain="llm", action="hold", summary=summary, detail=detail
    )
    assert payload(event) == generic(event)


def test_ts_micros_matches_the_utc_instant() -> None:
    aware = datetime(2023, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    shifted = aware.astimezone(timezone(timedelta(hours=-7, minutes=-30)))
    expected = int((aware - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    assert ts_micros(aware) == ts_micros(shifted) == ts_micros(aware.replace(tzinfo=None)) == expected
    assert ts_micros(datetime(1960, 1, 1, tzinfo=UTC)) < 0
    with pytest.raises(InvalidInput, match="not a datetime"):
        ts_micros("2023-03-01")


def test_batch_columns_equal_rows_of_to_row(samples: Samples) -> None:
    written = [*samples.every_kind(), *odd_events(samples)]
    columns = encode_batch(written).columns(1)
    for i, event in enumerate(written):
        row = to_row(event).values(i + 1)
        assert [columns[name][i] for name in COLUMNS[2:]] == row[2:]
        assert int(columns["seq"][i]) == row[0]
        assert int(columns["ts"][i].astype("int64")) == ts_micros(row[1])


def test_append_many_stores_the_rows_append_stores(tmp_path: Path, samples: Samples) -> None:
    written = [*samples.every_kind(), *odd_events(samples)]
    with Ledger(MEMORY) as one, Ledger(tmp_path / "many.duckdb") as many:
        for event in written:
            one.append(event)
        many.append_many(written[:5])
        many.append_many(written[5:])
        assert one.fetch(f"SELECT {_ALL} FROM events ORDER BY seq") == many.fetch(
            f"SELECT {_ALL} FROM events ORDER BY seq"
        )


def test_append_many_finds_fills_written_behind_its_back(samples: Samples) -> None:
    fill = OrderFilled(ts=samples.t0, fill=samples.fill("t-1", "0.1", "20000"))
    with Ledger(MEMORY) as ledger, Ledger(MEMORY) as source:
        source.append(fill)
        (row,) = source.fetch(f"SELECT {_ALL} FROM events")
        cursor = ledger.cursor()
        try:  # a row the writer did not write itself: its fill memo does not know it
            cursor.execute(f"INSERT INTO events ({_ALL}) VALUES ({', '.join('?' * len(COLUMNS))})", list(row))
        finally:
            cursor.close()
        assert ledger.append_many([fill, fill]) == [1, 1]
        assert ledger.fetch("SELECT count(*) FROM events")[0][0] == 1


def test_append_many_on_reopened_file_dedupes_old_fills(tmp_path: Path, samples: Samples) -> None:
    story = samples.order_story()
    with Ledger(tmp_path / "l.duckdb") as ledger:
        ledger.append_many(story)
    with Ledger(tmp_path / "l.duckdb") as ledger:
        assert ledger.append_many([story[5], story[6], story[0]]) == [6, 7, 8]
        assert ledger.append(story[5]) == 6
