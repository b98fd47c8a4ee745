"""Translate ccxt's exceptions into Gekko's error tree, at the adapter's edge.

* ``DDoSProtection``, ``RateLimitExceeded`` → :class:`~gekko_agent.errors.RateLimited`, with
  ``retry_after`` from the ``Retry-After`` header when the venue sent one;
* ``RequestTimeout``, ``NetworkError``, ``ExchangeNotAvailable``, ``OperationFailed`` →
  :class:`~gekko_agent.errors.VenueUnavailable` (for a submit: ambiguous, look the order up);
* ``OrderNotFound`` → :class:`~gekko_agent.errors.OrderNotFound`;
* ``InsufficientFunds``, ``InvalidOrder``, ``BadSymbol`` → on submit a ``REJECTED`` ack whose
  :class:`~gekko_agent.execution.ports.RejectReason` comes from :func:`reject_reason`, elsewhere
  :class:`~gekko_agent.errors.VenueRejected`;
* anything else from ccxt → :class:`~gekko_agent.errors.VenueRejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt

from gekko_agent.errors import GekkoError, OrderNotFound, RateLimited, VenueRejected, VenueUnavailable
from gekko_agent.execution.ports import RejectReason

__all__ = ["is_ambiguous", "is_duplicate", "reject_reason", "retry_after", "translate"]

# message fragments → reason, checked in order (Binance filter names, Coinbase failure reasons)
_MESSAGE_REASONS: tuple[tuple[str, RejectReason], ...] = (
    ("LOT_SIZE", RejectReason.BAD_LOT),
    ("INVALID_SIZE_PRECISION", RejectReason.BAD_LOT),
    ("PRICE_FILTER", RejectReason.BAD_TICK),
    ("INVALID_PRICE_PRECISION", RejectReason.BAD_TICK),
    ("NOTIONAL", RejectReason.BELOW_MIN_NOTIONAL),
    ("ORDER_ENTRY_DISABLED", RejectReason.UNSUPPORTED_ORDER),
    ("INSUFFICIENT_FUND", RejectReason.INSUFFICIENT_FUNDS),
    ("insufficient balance", RejectReason.INSUFFICIENT_FUNDS),
    ("INVALID_LIMIT_PRICE_POST_ONLY", RejectReason.POST_ONLY_WOULD_TAKE),
    ("immediately match and take", RejectReason.POST_ONLY_WOULD_TAKE),
    ("newClientOrderId", RejectReason.INVALID_CLIENT_ORDER_ID),
    ("UNKNOWN_PRODUCT_ID", RejectReason.UNKNOWN_INSTRUMENT),
)
_DUPLICATE_MARKERS = ("Duplicate order", "DUPLICATE_CLIENT_ORDER_ID", "duplicate client order id")


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds from a ``Retry-After`` header (any case), when present and numeric."""
    for key, value in (headers or {}).items():
        if str(key).lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def is_duplicate(exc: BaseException) -> bool:
    """True when the venue refused an order because its client order id is already known."""
    return isinstance(exc, ccxt.DuplicateOrderId) or any(m in str(exc) for m in _DUPLICATE_MARKERS)


def is_ambiguous(exc: BaseException) -> bool:
    """True when a request may or may not have reached the venue (timeouts, dropped answers, 5xx)."""
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return False
    return isinstance(exc, ccxt.OperationFailed | VenueUnavailable)


def reject_reason(exc: BaseException) -> RejectReason | None:
    """The reject reason of a business refusal, or None when ``exc`` is not one."""
    if isinstance(exc, ccxt.OrderNotFound):
        return None
    if isinstance(exc, ccxt.BadSymbol):
        return RejectReason.UNKNOWN_INSTRUMENT
    if isinstance(exc, ccxt.InsufficientFunds):
        return RejectReason.INSUFFICIENT_FUNDS
    if not isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.OperationRejected):
        return None
    text = str(exc)
    for marker, reason in _MESSAGE_REASONS:
        if marker.lower() in text.lower():
            return reason
    return RejectReason.UNSUPPORTED_ORDER


def translate(exc: BaseException, venue: str, headers: Mapping[str, Any] | None = None) -> GekkoError:
    """The Gekko error for a ccxt exception raised while talking to ``venue``."""
    message = f"{venue}: {type(exc).__name__}: {exc}"
    if isinstance(exc, GekkoError):
        return exc
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimited(message, retry_after(headers))
    if isinstance(exc, ccxt.OperationFailed):
        return VenueUnavailable(message)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(message)
    return VenueRejected(message)
