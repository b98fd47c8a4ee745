"""Identifiers. Client order ids are short, venue-safe and unique (Binance allows 36 chars)."""

from __future__ import annotations

import uuid

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    """``prefix`` + 20 hex chars of a random UUID, e.g. ``gk-3f9c…`` (≤ 32 chars for short prefixes)."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
