"""Server-side confirmation steps shared by the chat media.

When a command needs a second tap (:func:`~gekko_agent.ops.render.confirmation_prompt`: halt, resume,
flatten, reduce, approvals above ``confirm_above``), the medium asks and remembers the command under a
random nonce carried by the **Yes** button. Only the same person, in the same chat, before the prompt
expires, can redeem it, and only once. The medium's own dialogs (Slack's ``confirm`` object) are a
convenience on top; this book is what enforces the rule.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Confirmations", "PendingConfirmation"]


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    """A command waiting for its **Yes**.

    Attributes:
        user_id: who was asked (the only one who may confirm).
        chat_id: where they were asked.
        command: the command line to run on **Yes**.
        expires: monotonic deadline.
    """

    user_id: str
    chat_id: str
    command: str
    expires: float


class Confirmations:
    """Outstanding confirmation prompts, by nonce.

    Args:
        ttl_seconds: how long a prompt stays valid.
        monotonic: time source (tests pass their own).
        max_pending: prompts kept at most; the oldest are dropped first.
    """

    def __init__(
        self,
        ttl_seconds: float = 300,
        monotonic: Callable[[], float] = time.monotonic,
        max_pending: int = 1000,
    ) -> None:
        self.ttl = ttl_seconds
        self._now = monotonic
        self._max = max_pending
        self._pending: dict[str, PendingConfirmation] = {}

    def __len__(self) -> int:
        self._expire()
        return len(self._pending)

    def issue(self, user_id: str, chat_id: str, command: str) -> str:
        """Remember ``command`` for ``user_id`` in ``chat_id``; returns the nonce for the Yes button."""
        self._expire()
        while len(self._pending) >= self._max:
            del self._pending[next(iter(self._pending))]
        nonce = secrets.token_urlsafe(9)
        self._pending[nonce] = PendingConfirmation(user_id, chat_id, command, self._now() + self.ttl)
        return nonce

    def take(self, nonce: str, user_id: str, chat_id: str) -> str | None:
        """Redeem ``nonce``: its command, once; None when unknown, expired, or another person or chat.

        A press by someone else leaves the prompt for the person who was asked.
        """
        self._expire()
        pending = self._pending.get(nonce)
        if pending is None or pending.user_id != user_id or pending.chat_id != chat_id:
            return None
        del self._pending[nonce]
        return pending.command

    def _expire(self) -> None:
        now = self._now()
        for nonce in [n for n, p in self._pending.items() if p.expires < now]:
            del self._pending[nonce]
