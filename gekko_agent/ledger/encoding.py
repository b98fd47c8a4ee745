"""Event payloads as JSON text, fast: one compiled encoder per dataclass.

The ledger stores ``json.dumps(encode(event), separators=(",", ":"), ensure_ascii=False)`` for
every event (:func:`~gekko_agent.domain.events.encode` turns Decimals into strings, enums into their
values, datetimes into ISO text, dataclasses into objects, tuples into arrays). Going through that
generic dict and ``json.dumps`` costs about 20 µs an event, the largest part of journaling a
backtest. :func:`payload` writes the same text directly:

- each dataclass gets one generated function that reads its fields in order and writes
  ``{"name":value,...}`` with the field names already encoded;
- each field tests the common runtime types inline (``str``, ``None``, ``Decimal``) and hands any
  other value to :func:`value_json`, which picks an encoder by the value's exact type (built once
  per type, following :func:`~gekko_agent.domain.events.encode`'s order of checks);
- anything the fast path has no exact rule for (dicts, sets, floats, foreign objects) goes through
  the generic ``encode`` + ``json.dumps`` for that value only, so the text is the same byte for byte
  and the same errors are raised (``tests/ledger/test_encoding.py`` pins this for every event kind).

The encoders read runtime values, not annotations: a field that holds a value of an unexpected type
is still encoded exactly as the generic path would.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
import types
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from typing import Any

from gekko_agent.domain.events import Event
from gekko_agent.domain.events import _enc as generic_value
from gekko_agent.domain.orders import OrderIntent
from gekko_agent.errors import InvalidInput

__all__ = ["dumps", "payload", "value_json"]

Encoder = Callable[[Any], str]


def dumps(data: Any) -> str:
    """The ledger's JSON text of JSON-safe ``data`` (compact, non-ASCII kept)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _generic(value: Any) -> str:
    """The generic path for one value: :func:`encode`'s rule for it, then :func:`dumps`."""
    return dumps(generic_value(value))


def _decimal(value: Decimal) -> str:
    return '"' + str(value) + '"'


def _decimal_subclass(value: Decimal) -> str:
    return encode_basestring(str(value))


_MEMO_LIMIT = 4096


def _memoized(encoder: Encoder) -> Encoder:
    """``encoder`` remembering its text per object, for immutable values that events share.

    The events of one bar share their timestamp object, an order's ``order_submitted`` carries the
    intent object its ``intent_proposed`` did, and an aware ``isoformat`` alone costs about 1 µs.
    The memo keys by ``id`` and holds the object itself, so no id is reused while it is remembered;
    it is emptied when full.
    """
    memo: dict[int, tuple[object, str]] = {}

    def encode(value: Any) -> str:
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        text = encoder(value)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[id(value)] = (value, text)
        return text

    return encode


def _iso(value: datetime) -> str:
    return '"' + value.isoformat() + '"'


def _datetime_subclass(value: datetime) -> str:
    return encode_basestring(value.isoformat())


_datetime = _memoized(_iso)
_MEMOIZED: frozenset[type] = frozenset({OrderIntent})  # frozen value objects of immutable fields


def _int(value: int) -> str:
    return int.__repr__(value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _none(_value: None) -> str:
    return "null"


def _float(_value: float) -> str:
    raise InvalidInput("events carry no floats; use Decimal")


def _sequence(value: list[Any] | tuple[Any, ...]) -> str:
    return "[" + ",".join([value_json(v) for v in value]) + "]"


def _dict(value: dict[Any, Any]) -> str:
    if not all(type(k) is str for k in value):
        return _generic(value)
    return "{" + ",".join([encode_basestring(k) + ":" + value_json(v) for k, v in value.items()]) + "}"


def _enum_encoder(cls: type[Enum]) -> Encoder:
    if all(type(member.value) is str for member in cls):  # an enum's members never change
        _STR_ENUMS.add(cls)
        return lambda value: encode_basestring(value._value_)
    return lambda value: dumps(value.value)  # as encode(): the value itself, not encoded further


def _build(cls: type) -> Encoder:
    """The encoder for values of exactly type ``cls``, in :func:`encode`'s order of checks."""
    encoder: Encoder
    if issubclass(cls, Decimal):
        encoder = _decimal if cls is Decimal else _decimal_subclass
    elif issubclass(cls, Enum):
        encoder = _enum_encoder(cls)
    elif issubclass(cls, datetime):
        encoder = _datetime if cls is datetime else _datetime_subclass
    elif dataclasses.is_dataclass(cls):
        encoder = _dataclass_encoder(cls)
        if cls in _MEMOIZED:
            encoder = _memoized(encoder)
    elif issubclass(cls, (list, tuple)) and not issubclass(cls, (frozenset, set)):
        encoder = _sequence
    elif issubclass(cls, float):
        encoder = _float
    elif cls is dict:
        encoder = _dict
    elif cls is str:
        encoder = encode_basestring
    elif cls is int:
        encoder = _int
    elif cls is bool:
        encoder = _bool
    elif cls is type(None):
        encoder = _none
    else:  # dicts, sets, str/int subclasses, foreign objects: the generic path decides
        encoder = _generic
    _BY_TYPE[cls] = encoder
    return encoder


_BY_TYPE: dict[type, Encoder] = {}
_STR_ENUMS: set[type] = set()  # enums whose every value is a str (inlined by dataclass encoders)


def value_json(value: Any) -> str:
    """The JSON text the ledger stores for ``value`` (any value an event field can hold).

    Raises:
        InvalidInput: ``value`` is or holds a float.
        TypeError: ``value`` holds something JSON cannot represent (as ``json.dumps`` would).
    """
    encoder = _BY_TYPE.get(type(value))
    if encoder is None:
        encoder = _build(type(value))
    return encoder(value)


# One test per common runtime type, in the order the field's annotation makes likeliest first;
# whatever no test catches goes to value_json, so any value is encoded right whatever the annotation.
_TESTS = {
    "str": ("type(x) is str", "ebs(x)"),
    "none": ("x is None", '"null"'),
    "decimal": ("type(x) is Decimal", """'"' + str(x) + '"'"""),
    "datetime": ("type(x) is datetime", "iso(x)"),
    "enum": ("type(x) in str_enums", "ebs(x._value_)"),
    "true": ("x is True", '"true"'),
    "false": ("x is False", '"false"'),
}
_DEFAULT_ORDER = ("str", "none", "decimal", "datetime", "enum")


def _expected(hint: Any) -> list[str]:
    """The tests matching the types a field is annotated with, in the annotation's order."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    found: list[str] = []
    for arg in typing.get_args(hint) if union else (hint,):
        if arg is type(None):
            found.append("none")
        elif arg is Decimal or getattr(arg, "__supertype__", None) is Decimal:
            found.append("decimal")
        elif arg is datetime:
            found.append("datetime")
        elif arg is bool:
            found += ["true", "false"]
        elif isinstance(arg, type) and issubclass(arg, Enum):
            found.append("enum")
        elif arg is str:
            found.append("str")
    return found


def _order(hint: Any) -> list[str]:
    """The tests for a field annotated ``hint``: the annotated types first, then the usual ones."""
    first = _expected(hint)
    return [*first, *(name for name in _DEFAULT_ORDER if name not in first)]


def _field_source(name: str, i: int, hint: Any) -> str:
    lines = [f"    x = v.{name}"]
    for n, test in enumerate(_order(hint)):
        condition, text = _TESTS[test]
        lines += [f"    {'if' if n == 0 else 'elif'} {condition}:", f"        s{i} = {text}"]
    lines += ["    else:", f"        s{i} = value_json(x)"]
    return "\n".join(lines) + "\n"


def _dataclass_encoder(cls: type) -> Encoder:
    """A function writing ``{"field":value,...}`` for instances of dataclass ``cls``."""
    names = [f.name for f in dataclasses.fields(cls)]
    if not all(name.isidentifier() and not keyword.iskeyword(name) for name in names):
        return _generic
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):
        hints = {}
    keys = [("{" if i == 0 else ",") + encode_basestring(name) + ":" for i, name in enumerate(names)]
    body = "".join(_field_source(name, i, hints.get(name)) for i, name in enumerate(names))
    joined = "".join(f"{{k{i}}}{{s{i}}}" for i in range(len(names))) if names else "{{"
    source = f"def encode_{cls.__name__}(v):\n{body}    return f'{joined}}}}}'\n"
    namespace: dict[str, Any] = {f"k{i}": key for i, key in enumerate(keys)}
    namespace.update(
        ebs=encode_basestring,
        Decimal=Decimal,
        datetime=datetime,
        iso=_datetime,
        str_enums=_STR_ENUMS,
        value_json=value_json,
    )
    exec(compile(source, f"<ledger encoder {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    encoder: Encoder = namespace[f"encode_{cls.__name__}"]
    return encoder


def payload(event: Event) -> str:
    """The JSON text of ``event`` as the ledger stores it (before secrets are masked).

    Equal to ``dumps(encode(event))``.

    Raises:
        InvalidInput: the event holds a float.
    """
    return value_json(event)
