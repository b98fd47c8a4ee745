"""The ``fills_since`` cursor of a ccxt venue: per market, where the next read starts.

Exchanges paged by trade id keep the last id read (the next read asks from the one after it).
The others keep the newest trade time read and the ids seen at that millisecond, which the next
read (from that same millisecond) drops. Encoded as JSON: ``{"BTC/USD@binanceus": {"id": 812}}``
or ``{"BTC/USD@coinbase": {"ms": 1700000000123, "ids": ["…"]}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gekko_agent.errors import InvalidInput

__all__ = ["MarketCursor", "decode_cursor", "encode_cursor"]


@dataclass(frozen=True, slots=True)
class MarketCursor:
    """Where one market's next fill read starts.

    Attributes:
        after_id: the last trade id read (exchanges paged by id).
        ms: the newest trade time read, or the start time asked for (milliseconds).
        seen: trade ids already reported at ``ms``.
    """

    after_id: int | None = None
    ms: int | None = None
    seen: frozenset[str] = frozenset()

    def advance(self, trades: Sequence[Mapping[str, Any]], by_id: bool) -> MarketCursor:
        """The cursor after ``trades`` (the new ones just reported) were read."""
        if not trades:
            return self
        if by_id:
            top_id = max(int(str(t["id"])) for t in trades)
            return MarketCursor(after_id=max(top_id, self.after_id or 0))
        stamps = [(int(t.get("timestamp") or 0), str(t["id"])) for t in trades]
        top = max(ms for ms, _ in stamps)
        at_top = frozenset(tid for ms, tid in stamps if ms == top)
        if self.ms is not None and top <= self.ms:
            return MarketCursor(ms=self.ms, seen=self.seen | at_top)
        return MarketCursor(ms=top, seen=at_top)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (only the fields in use)."""
        if self.after_id is not None:
            return {"id": self.after_id}
        return {"ms": self.ms, "ids": sorted(self.seen)} if self.ms is not None else {}


def encode_cursor(cursors: Mapping[str, MarketCursor]) -> str:
    """The opaque cursor string of per-market cursors."""
    return json.dumps({iid: c.to_json() for iid, c in cursors.items() if c.to_json()}, sort_keys=True)


def decode_cursor(raw: str, venue: str) -> dict[str, MarketCursor]:
    """Per-market cursors from :func:`encode_cursor`'s string ('' means none).

    Raises:
        InvalidInput: not a cursor this venue made.
    """
    if not raw:
        return {}
    try:
        body = json.loads(raw)
        out: dict[str, MarketCursor] = {}
        for iid, mark in body.items():
            after, ms = mark.get("id"), mark.get("ms")
            out[str(iid)] = MarketCursor(
                after_id=None if after is None else int(after),
                ms=None if ms is None else int(ms),
                seen=frozenset(str(i) for i in mark.get("ids", ())),
            )
        return out
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(f"{venue}: bad fills cursor {raw!r}") from None
