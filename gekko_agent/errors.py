"""Gekko's one exception tree, grouped by how the caller reacts.

::

    GekkoError
    ├── UserError                 tell the user in one line, exit 2; nothing changed
    │   ├── ConfigError           agent.yaml / env references (names file and key path)
    │   ├── InvalidInput          CLI, chat command or tool arguments
    │   └── DataNotFound          a dataset, instrument or ledger object that does not exist
    ├── RetryableError            transient: retry with backoff, then escalate
    │   ├── VenueUnavailable      5xx, connection reset, timeout
    │   └── RateLimited           429 / venue throttle (carries retry_after)
    ├── VenueRejected             the venue said no (funds, lot size, unknown order): do not retry as-is
    │   └── OrderNotFound
    ├── HaltError                 stop trading now: ledger unwritable, invariant broken
    │   ├── LedgerError
    │   └── InvariantViolation
    └── IllegalTransition         programming error in the order state machine (also a HaltError)

Risk denials are *values* (``Denied``), never exceptions.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataNotFound",
    "GekkoError",
    "HaltError",
    "IllegalTransition",
    "InvalidInput",
    "InvariantViolation",
    "LedgerError",
    "OrderNotFound",
    "RateLimited",
    "RetryableError",
    "UserError",
    "VenueRejected",
    "VenueUnavailable",
]


class GekkoError(Exception):
    """Root of every error Gekko raises on purpose."""


class UserError(GekkoError):
    """Bad input from a person or a file: report in one line, change nothing."""


class ConfigError(UserError):
    """agent.yaml (or an environment variable it names) is wrong.

    Args:
        source: the file (or ``env``) the problem is in.
        key_path: dotted path of the key, e.g. ``risk.max_order_notional``.
        problem: what was wrong, in a few words.
    """

    def __init__(self, source: str, key_path: str, problem: str) -> None:
        self.source = source
        self.key_path = key_path
        self.problem = problem
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(f"{where}: {problem}")


class InvalidInput(UserError):
    """A CLI argument, chat command or tool argument is malformed."""


class DataNotFound(UserError):
    """A named dataset, instrument, order or decision does not exist."""


class RetryableError(GekkoError):
    """A transient failure; the operation may succeed if retried later."""


class VenueUnavailable(RetryableError):
    """The venue did not answer usefully (timeout, 5xx, connection dropped)."""


class RateLimited(RetryableError):
    """The venue throttled us.

    Args:
        message: what the venue said.
        retry_after: seconds the venue asked us to wait, when it said.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VenueRejected(GekkoError):
    """The venue refused the request; retrying it unchanged will not help."""


class OrderNotFound(VenueRejected):
    """The venue does not know the order (by client or venue id)."""


class HaltError(GekkoError):
    """Trading must stop: continuing could lose money or records."""


class LedgerError(HaltError):
    """The ledger cannot be written or read consistently."""


class InvariantViolation(HaltError):
    """An internal invariant does not hold (e.g. a position that cannot be)."""


class IllegalTransition(InvariantViolation):
    """An order was asked to move to a state its state machine forbids."""
