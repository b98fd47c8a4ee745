"""Small text helpers shared by every edge that shows a person a message (CLI, chat-ops)."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(message: object) -> str:
    """``message`` on one line: line breaks and other control characters (from a path, a symbol or a
    chat command someone typed) are shown escaped, so an error or a headline is always one line."""
    text = str(message)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
