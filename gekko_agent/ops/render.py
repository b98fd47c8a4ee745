"""Render transport-neutral :class:`~gekko_agent.ops.replies.Reply` values for Slack and Telegram.

Both media get the same content: a bold headline, short lines, the table as a monospace block that fits
a phone, and the reply's buttons, each carrying the text command it runs. Slack buttons marked
``confirm``, and every approve, halt, resume, flatten and reduce button, open Slack's native
confirmation dialog; Telegram has none, so its confirm buttons send an ``ask:`` callback and the bot
asks first (see :mod:`gekko_agent.ops.telegram`). Native dialogs are a convenience: the server-side
step (:mod:`gekko_agent.ops.confirm`) is what enforces :func:`confirmation_prompt` on every medium.

:func:`confirmation_prompt` is the one place that decides which commands need a second tap: halt,
resume, flatten and reduce always; approvals when the order's notional is above ``confirm_above``;
``limit`` and ``limit-approve`` when the limit change loosens risk.
"""

from __future__ import annotations

import html
import shlex
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gekko_agent.ops.auth import command_name
from gekko_agent.ops.limits import limit_confirmation
from gekko_agent.ops.port import EngineView
from gekko_agent.ops.replies import Button, Reply

__all__ = [
    "SLACK_CONFIRM_ACTION",
    "SLACK_DIALOG_COMMANDS",
    "SLACK_DISMISS_ACTION",
    "STATE_COMMANDS",
    "TelegramMessage",
    "confirmation_prompt",
    "slack_blocks",
    "slack_confirm_blocks",
    "slack_escape",
    "slack_text",
    "telegram_confirm",
    "telegram_message",
]

STATE_COMMANDS = frozenset({"halt", "resume", "flatten", "reduce"})
"""Commands that change the trading state; every medium asks before running them."""

SLACK_DIALOG_COMMANDS = STATE_COMMANDS | {"approve"}
"""Slack buttons running these always carry Slack's ``confirm`` dialog."""
SLACK_CONFIRM_ACTION = "gekko_confirm"
"""``action_id`` of the **Yes** button of a confirmation prompt (its value is the nonce)."""
SLACK_DISMISS_ACTION = "gekko_dismiss"
"""``action_id`` of the **Cancel** button of a confirmation prompt (its value is the nonce)."""

SLACK_TEXT_LIMIT = 2900  # a section's text may hold 3000 characters
TELEGRAM_TEXT_LIMIT = 4000  # a message may hold 4096 characters
CALLBACK_LIMIT = 64  # Telegram callback data is at most 64 bytes
TABLE_WIDTH = 40  # characters per table line that still fit a phone without wrapping


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command.strip().lstrip("/"))
    except ValueError:
        return []


def confirmation_prompt(command: str, engine: EngineView, confirm_above: Decimal | None) -> str | None:
    """The question to ask before running ``command``, or None when it may run at once.

    Args:
        command: the command line (``halt news``, ``approve ap-1``…).
        engine: read to find an approval's notional, or whether a limit change loosens risk.
        confirm_above: approvals above this notional need a confirmation; None: never.
    """
    words = _words(command)
    if not words:
        return None
    name = command_name(words[0])
    if name in STATE_COMMANDS:
        reason = " ".join(words[1:])
        return f"{name.capitalize()} trading" + (f" ({reason})" if reason else "") + "?"
    if name == "approve" and len(words) > 1 and confirm_above is not None:
        item = next((p for p in engine.pending_approvals() if p.approval_id == words[1]), None)
        if item is not None and item.notional > confirm_above:
            return (
                f"Approve {item.approval_id}: {item.intent.side} {item.intent.quantity} "
                f"{item.intent.instrument_id} (~{item.notional:,.2f}, above {confirm_above:,.2f})?"
            )
    return limit_confirmation([name, *words[1:]], engine)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table_text(reply: Reply) -> str | None:
    if reply.table is None or not reply.table.rows:
        return None
    lines = reply.table.to_text().splitlines()
    return "\n".join(line if len(line) <= TABLE_WIDTH else line[: TABLE_WIDTH - 1] + "…" for line in lines)


# --- Slack -------------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _slack_button(index: int, button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"gekko_{index}",
        "text": _plain(button.label),
        "value": button.command,
    }
    if button.danger:
        element["style"] = "danger"
    words = _words(button.command)
    if button.confirm or (words and words[0].lower() in SLACK_DIALOG_COMMANDS):
        element["confirm"] = {
            "title": _plain("Are you sure?", 100),
            "text": {"type": "mrkdwn", "text": slack_escape(f"Run `{button.command}`?")},
            "confirm": _plain("Yes, do it", 30),
            "deny": _plain("Cancel", 30),
            **({"style": "danger"} if button.danger else {}),
        }
    return element


def slack_blocks(reply: Reply) -> list[dict[str, Any]]:
    """Block Kit blocks for ``reply``: headline, lines, a code-block table and an actions row."""
    mark = "" if reply.ok else ":warning: "
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(f"{mark}*{slack_escape(reply.title)}*", 3000)},
        }
    ]
    if reply.lines:
        body = "\n".join(slack_escape(line) for line in reply.lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(body, SLACK_TEXT_LIMIT)}})
    table = _table_text(reply)
    if table is not None:
        code = "```" + _clip(slack_escape(table), SLACK_TEXT_LIMIT - 6) + "```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": code}})
    if reply.buttons:
        elements = [_slack_button(i, b) for i, b in enumerate(reply.buttons[:25])]
        blocks.append({"type": "actions", "block_id": "gekko_actions", "elements": elements})
    return blocks


def slack_confirm_blocks(prompt: str, nonce: str) -> list[dict[str, Any]]:
    """The confirmation step: the question, **Yes** and **Cancel**, both carrying ``nonce`` (the server
    keeps the command; see :class:`~gekko_agent.ops.confirm.Confirmations`)."""
    yes: dict[str, Any] = {
        "type": "button",
        "action_id": SLACK_CONFIRM_ACTION,
        "text": _plain("Yes, do it"),
        "value": nonce,
        "style": "danger",
    }
    no = {"type": "button", "action_id": SLACK_DISMISS_ACTION, "text": _plain("Cancel"), "value": nonce}
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f":question: *{slack_escape(prompt)}*"}},
        {"type": "actions", "block_id": "gekko_actions", "elements": [yes, no]},
    ]


def slack_text(reply: Reply) -> str:
    """Notification fallback text (shown in push notifications and by old clients)."""
    return _clip(reply.title, 300)


# --- Telegram ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """A Telegram message: HTML text and an inline keyboard.

    Attributes:
        html: text with Telegram's HTML parse mode (escaped; ``<b>`` and ``<pre>`` only).
        keyboard: rows of (label, callback data); data is ``run:<command>`` or, for buttons that need
            a confirmation, ``ask:<command>``.
    """

    html: str
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()


def _callback(button: Button) -> str | None:
    data = ("ask:" if button.confirm else "run:") + button.command
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


def telegram_message(reply: Reply) -> TelegramMessage:
    """HTML text and inline keyboard for ``reply`` (two buttons per row, so they fit a phone)."""
    mark = "" if reply.ok else "⚠️ "
    parts = [f"{mark}<b>{html.escape(reply.title)}</b>"]
    parts += [html.escape(line) for line in reply.lines]
    table = _table_text(reply)
    if table is not None:
        parts.append(f"<pre>{html.escape(_clip(table, TELEGRAM_TEXT_LIMIT // 2))}</pre>")
    text = "\n".join(parts)
    if len(text) > TELEGRAM_TEXT_LIMIT:  # never cut inside a tag: drop the table, then the lines
        text = "\n".join(parts[:-1]) if table is not None else text
        text = (
            text
            if len(text) <= TELEGRAM_TEXT_LIMIT
            else _clip(html.escape(reply.to_text()), TELEGRAM_TEXT_LIMIT)
        )
    buttons = [(b.label, data) for b in reply.buttons if (data := _callback(b)) is not None]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return TelegramMessage(text, rows)


def telegram_confirm(prompt: str, nonce: str) -> TelegramMessage:
    """The confirmation step: the question and Yes / Cancel buttons bound to ``nonce``."""
    return TelegramMessage(
        f"❓ <b>{html.escape(prompt)}</b>\nTap <b>Yes</b> to go ahead.",
        ((("✅ Yes", f"yes:{nonce}"), ("✖️ Cancel", f"no:{nonce}")),),
    )
