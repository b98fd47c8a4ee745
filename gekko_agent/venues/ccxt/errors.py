"""Translate ccxt's exceptions into Gekko's error tree, at the adapter's edge.

* ``DDoSProtection``, ``RateLimitExceeded`` → :class:`~gekko_agent.errors.RateLimited`, with
  ``retry_after`` from the ``Retry-After`` header when the venue sent one;
* ``RequestTimeout``, ``NetworkError``, ``ExchangeNotAvailable``, ``OperationFailed`` →
  :class:`~gekko_agent.errors.VenueUnavailable` (for a submit: ambiguous, look the order up);
  ``InvalidNonce`` (Binance ``-1021``: our clock is off the venue's by more than ``recvWindow``)
  is one of them, and :func:`is_clock_skew` tells the adapter to measure the venue's clock again;
* ``OrderNotFound`` → :class:`~gekko_agent.errors.OrderNotFound`;
* ``InsufficientFunds``, ``InvalidOrder``, ``BadSymbol`` → on submit a ``REJECTED`` ack whose
  :class:`~gekko_agent.execution.ports.RejectReason` comes from :func:`reject_reason`, elsewhere
  :class:`~gekko_agent.errors.VenueRejected`; a plain ``ExchangeError`` naming a known venue
  refusal (Coinbase's ``INVALID_SIZE_PRECISION``, ``INVALID_LIMIT_PRICE_POST_ONLY``…) is a reject
  too, and one saying the order was not found (Coinbase's 404) is ``OrderNotFound``;
* anything else from ccxt → :class:`~gekko_agent.errors.VenueRejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ccxt.async_support as ccxt

from gekko_agent.errors import GekkoError, OrderNotFound, RateLimited, VenueRejected, VenueUnavailable
from gekko_agent.execution.ports import RejectReason

__all__ = ["is_ambiguous", "is_clock_skew", "is_duplicate", "reject_reason", "retry_after", "translate"]

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
    ("INVALID_PRODUCT_ID", RejectReason.UNKNOWN_INSTRUMENT),
    ("QUOTE_SIZE_TOO_SMALL", RejectReason.BELOW_MIN_NOTIONAL),
    ("BASE_SIZE_TOO_SMALL", RejectReason.BELOW_MIN_QUANTITY),
    ("BASE_SIZE_PRECISION", RejectReason.BAD_LOT),
    ("invalid client_order_id", RejectReason.INVALID_CLIENT_ORDER_ID),
)
# Coinbase answers most refusals with a plain ExchangeError; these markers make them rejects.
_EXCHANGE_ERROR_REASONS = frozenset(
    {
        RejectReason.BAD_LOT,
        RejectReason.BAD_TICK,
        RejectReason.BELOW_MIN_QUANTITY,
        RejectReason.BELOW_MIN_NOTIONAL,
        RejectReason.POST_ONLY_WOULD_TAKE,
        RejectReason.UNKNOWN_INSTRUMENT,
        RejectReason.INVALID_CLIENT_ORDER_ID,
    }
)
_NOT_FOUND_MARKERS = ("order with this orderID was not found",)
_DUPLICATE_MARKERS = ("Duplicate order", "DUPLICATE_CLIENT_ORDER_ID", "duplicate client order id")
_SKEW_MARKERS = ('"code":-1021', "outside of the recvWindow")


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


def is_clock_skew(exc: BaseException) -> bool:
    """True when the venue refused a signed request because its timestamp is off the venue's clock."""
    return isinstance(exc, ccxt.InvalidNonce) or any(m in str(exc) for m in _SKEW_MARKERS)


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
    text = str(exc).lower()
    matched = next((reason for marker, reason in _MESSAGE_REASONS if marker.lower() in text), None)
    if isinstance(exc, ccxt.InvalidOrder | ccxt.BadRequest | ccxt.OperationRejected):
        return matched or RejectReason.UNSUPPORTED_ORDER
    plain = isinstance(exc, ccxt.ExchangeError) and not isinstance(
        exc, ccxt.OperationFailed | ccxt.AuthenticationError | ccxt.PermissionDenied
    )
    return matched if plain and matched in _EXCHANGE_ERROR_REASONS else None


def translate(exc: BaseException, venue: str, headers: Mapping[str, Any] | None = None) -> GekkoError:
    """The Gekko error for a ccxt exception raised while talking to ``venue``."""
    message = f"{venue}: {type(exc).__name__}: {exc}"
    if isinstance(exc, GekkoError):
        return exc
    if isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimited(message, retry_after(headers))
    if isinstance(exc, ccxt.OperationFailed):
        return VenueUnavailable(message)
    if isinstance(exc, ccxt.OrderNotFound) or any(m in str(exc) for m in _NOT_FOUND_MARKERS):
        return OrderNotFound(message)
    return VenueRejected(message)
