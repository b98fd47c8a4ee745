"""Scrub resolved secret values from every log record, whichever logger or handler sees it.

:func:`install_redaction` wraps the logging module's record factory, so a record is cleaned the moment
it is created: its message (with its arguments merged in), its exception text and its stack text. A
handler added later (pytest's ``caplog``, a file handler, a library's own) therefore never sees a
secret. The same :class:`RedactionFilter` can also be attached to a handler or logger by hand.

The values installed here join the process-wide set of :mod:`gekko_agent.secrets`, which also scrubs
the ledger, journal lines and model traffic; :func:`~gekko_agent.secrets.register_secret` installs a
value in both at once.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from gekko_agent.secrets import MASK, redact, remember_secrets

__all__ = ["MASK", "RedactionFilter", "install_redaction", "uninstall_redaction"]

_LOCK = threading.Lock()
_installed: RedactionFilter | None = None
_previous_factory: Callable[..., logging.LogRecord] | None = None


class RedactionFilter(logging.Filter):
    """A logging filter that replaces known secret values in a record with :data:`MASK`.

    Args:
        secrets: the resolved secret values (values shorter than 4 characters are ignored).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self.add(secrets)

    @property
    def secrets(self) -> frozenset[str]:
        """The values being scrubbed."""
        return self._secrets

    def add(self, secrets: Iterable[str]) -> None:
        """Scrub these values too.

        Args:
            secrets: more resolved secret values.
        """
        self._secrets = self._secrets | {s for s in secrets if len(s) >= 4}

    def scrub(self, text: str) -> str:
        """``text`` with every known secret masked.

        Args:
            text: any text.
        """
        return redact(text, self._secrets, MASK) if self._secrets else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean ``record`` in place; never drops it.

        Args:
            record: the record to clean.
        """
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what can be shown, still scrubbed
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self.scrub(message), None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def install_redaction(secrets: Iterable[str]) -> RedactionFilter:
    """Scrub ``secrets`` from every log record created from now on, process-wide.

    Calling it again adds the new values to the filter already installed.

    Args:
        secrets: resolved secret values (API keys, tokens, passwords).

    Returns:
        The installed filter (attach it to handlers too if records are built by hand).
    """
    global _installed, _previous_factory
    secrets = list(secrets)
    remember_secrets(secrets)
    with _LOCK:
        if _installed is not None:
            _installed.add(secrets)
            return _installed
        flt = RedactionFilter(secrets)
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            flt.filter(record)
            return record

        _installed, _previous_factory = flt, previous
        logging.setLogRecordFactory(factory)
        return flt


def uninstall_redaction() -> None:
    """Restore the record factory that :func:`install_redaction` replaced (tests, shutdown)."""
    global _installed, _previous_factory
    with _LOCK:
        if _previous_factory is not None:
            logging.setLogRecordFactory(_previous_factory)
        _installed, _previous_factory = None, None
