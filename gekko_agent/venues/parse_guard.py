"""Translate malformed venue answers into Gekko's error tree at the adapter's edge.

A venue answer with a missing field, a wrong type or a nonsense value would otherwise escape a parse
function as ``KeyError``/``TypeError``/``ValueError``. Wrapped parse functions raise
:class:`~gekko_agent.errors.VenueUnavailable` instead (retryable: the execution engine then looks the
order up by client id before doing anything else), with one line naming the function and the problem.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from gekko_agent.errors import GekkoError, VenueUnavailable

__all__ = ["venue_parse"]

P = ParamSpec("P")
R = TypeVar("R")
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, IndexError)


def venue_parse(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a parse function so a malformed answer raises VenueUnavailable (one line)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except GekkoError:
            raise
        except _MALFORMED as exc:
            detail = str(exc).replace("\n", " ")[:160]
            raise VenueUnavailable(
                f"malformed venue answer in {fn.__name__}: {type(exc).__name__}: {detail}"
            ) from None

    return wrapper
