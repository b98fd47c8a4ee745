"""Rendering replies for Slack and Telegram."""

from __future__ import annotations

from gekko_agent.ops.render import slack_blocks, telegram_confirm, telegram_message
from gekko_agent.ops.replies import Button, Reply, Table

REPLY = Reply(
    "P&L <today>",
    ("a < b & c",),
    table=Table(("instrument", "qty"), (("BTC/USD", "0.5"), ("X" * 60, "1"))),
    buttons=(
        Button("Approve ap-1", "approve ap-1", confirm=True),
        Button("Reject ap-1", "reject ap-1", danger=True),
        Button("Too long", "why " + "x" * 80),
    ),
)


def test_slack_blocks_escape_fit_a_phone_and_carry_commands() -> None:
    head, lines, table, actions = slack_blocks(REPLY)
    assert head["text"]["text"] == "*P&amp;L &lt;today&gt;*"
    assert lines["text"]["text"] == "a &lt; b &amp; c"
    code = table["text"]["text"]
    assert code.startswith("```") and all(len(line) <= 40 for line in code.strip("`").splitlines())
    approve, reject, _ = actions["elements"]
    assert approve["value"] == "approve ap-1" and approve["confirm"]["confirm"]["text"] == "Yes, do it"
    assert reject["style"] == "danger" and "confirm" not in reject
    assert len({e["action_id"] for e in actions["elements"]}) == 3


def test_telegram_html_is_escaped_with_pre_table_and_keyboard() -> None:
    message = telegram_message(REPLY)
    assert message.html.startswith("<b>P&amp;L &lt;today&gt;</b>\na &lt; b &amp; c\n<pre>")
    assert message.keyboard == ((("Approve ap-1", "ask:approve ap-1"), ("Reject ap-1", "run:reject ap-1")),)
    failed = telegram_message(Reply("nope", ok=False))
    assert failed.html == "⚠️ <b>nope</b>" and failed.keyboard == ()


def test_telegram_confirmation_binds_a_nonce() -> None:
    prompt = telegram_confirm("Halt trading?", "n1")
    assert prompt.keyboard == ((("✅ Yes", "yes:n1"), ("✖️ Cancel", "no:n1")),)
