"""The real python-telegram-bot client against the loopback Bot API."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from gekko_agent.ops.chat_config import TelegramConfig
from gekko_agent.ops.telegram import TelegramChatops
from gekko_agent.testing.telegram_server import FakeTelegram
from tests.chatops.conftest import Engine

TRADER, VIEWER, STRANGER = 42, 43, 99


@pytest.fixture
async def tg(engine: Engine) -> AsyncIterator[tuple[FakeTelegram, TelegramChatops]]:
    async with FakeTelegram() as fake:
        cfg = TelegramConfig.model_validate(
            {"token": {"env": "GEKKO_TG"}, "base_url": fake.api_url, "alert_chat_ids": [TRADER]}
        )
        bot = TelegramChatops(engine.service, cfg, token=fake.token)
        await bot.start()
        try:
            yield fake, bot
        finally:
            await bot.stop()


async def test_status_and_positions_reply_with_html(tg: tuple[FakeTelegram, TelegramChatops]) -> None:
    fake, _ = tg
    fake.send_text(TRADER, "/status")
    [sent] = await fake.wait_for("sendMessage")
    assert sent["parse_mode"] == "HTML"
    assert "<b>Gekko is ACTIVE</b>" in sent["text"]
    fake.send_text(TRADER, "/positions")
    sent = (await fake.wait_for("sendMessage", 2))[-1]
    assert "position" in sent["text"]


async def _tap(fake: FakeTelegram, user: int, label: str, calls: int) -> dict[str, object]:
    message = fake.last_message()
    fake.press(user, int(message["message_id"]), FakeTelegram.buttons(message)[label])
    await fake.wait_for("answerCallbackQuery", calls)
    return message


async def test_halt_asks_first_then_halts_and_journals(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    fake.send_text(TRADER, "/halt news looks bad")
    [prompt] = await fake.wait_for("sendMessage")
    assert "Halt trading (news looks bad)?" in prompt["text"]
    assert engine.state == "active"
    await _tap(fake, TRADER, "✅ Yes", 1)
    [edit] = await fake.wait_for("editMessageText")
    assert "HALTED" in edit["text"]
    assert engine.state == "halted"
    audit = engine.commands()[-1]
    assert (audit.actor, audit.channel, audit.command) == ("tom", "telegram", "/halt news looks bad")
    fake.send_text(TRADER, "/resume")
    await fake.wait_for("sendMessage", 2)
    await _tap(fake, TRADER, "✖️ Cancel", 2)
    assert "Cancelled" in (await fake.wait_for("editMessageText", 2))[-1]["text"]
    assert engine.state == "halted"
    fake.send_text(TRADER, "/resume")
    await fake.wait_for("sendMessage", 3)
    await _tap(fake, TRADER, "✅ Yes", 3)
    assert "ACTIVE" in (await fake.wait_for("editMessageText", 3))[-1]["text"]
    assert engine.state == "active"


async def test_confirmation_is_bound_to_the_person_who_asked(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    fake.send_text(TRADER, "/halt")
    await fake.wait_for("sendMessage")
    await _tap(fake, VIEWER, "✅ Yes", 1)
    assert "expired" in (await fake.wait_for("editMessageText"))[-1]["text"]
    assert engine.state == "active"


async def test_large_approval_via_button_needs_confirmation(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    small = engine.request_approval(notional=200)
    big = engine.request_approval(quantity="0.1", notional=2500)
    fake.send_text(TRADER, "/approvals")
    [listing] = await fake.wait_for("sendMessage")
    assert big.approval_id in listing["text"]
    await _tap(fake, TRADER, f"Approve {small.approval_id}", 1)  # below the threshold: runs at once
    assert "sent as gk-" in (await fake.wait_for("sendMessage", 2))[-1]["text"]
    fake.send_text(TRADER, "/approvals")
    await fake.wait_for("sendMessage", 3)
    await _tap(fake, TRADER, f"Approve {big.approval_id}", 2)
    prompt = (await fake.wait_for("sendMessage", 4))[-1]
    assert "above 1,000.00" in prompt["text"]
    assert [p.approval_id for p in engine.view.pending_approvals()] == [big.approval_id]
    await _tap(fake, TRADER, "✅ Yes", 3)
    assert "sent as gk-" in (await fake.wait_for("editMessageText"))[-1]["text"]
    assert engine.view.pending_approvals() == []


async def test_viewer_may_neither_halt_nor_approve(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    item = engine.request_approval()
    fake.send_text(VIEWER, "/halt news looks bad")
    [refusal] = await fake.wait_for("sendMessage")
    assert "Refused" in refusal["text"] and "viewer" in refusal["text"]
    assert "reply_markup" not in refusal  # no confirmation is offered for a command they may not run
    fake.send_text(VIEWER, f"/approve {item.approval_id}")
    refusal = (await fake.wait_for("sendMessage", 2))[-1]
    assert "Refused" in refusal["text"] and "viewer" in refusal["text"]
    assert engine.state == "active" and engine.view.pending_approvals() != []
    assert [(c.actor, c.outcome.split(":")[0]) for c in engine.commands()] == [("bob", "refused")] * 2


async def test_unknown_user_is_refused_audited_and_nothing_changes(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    fake.send_text(STRANGER, "/halt")
    [refusal] = await fake.wait_for("sendMessage")
    assert "Refused" in refusal["text"]
    assert "reply_markup" not in refusal  # no confirmation offered to strangers
    assert engine.state == "active"
    audit = engine.commands()[-1]
    assert audit.actor == "telegram:99" and audit.outcome.startswith("refused")


@pytest.mark.parametrize("text", ["hello bot", "/frobnicate", "/help", "/status@gekko_bot", 'why "unclosed'])
async def test_garbage_from_an_unknown_user_gets_one_refusal_and_an_audit_entry(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine, text: str
) -> None:
    fake, _ = tg
    fake.send_text(STRANGER, text)
    [refusal] = await fake.wait_for("sendMessage")
    assert refusal["text"] == "⚠️ <b>Refused: telegram user 99 is not allowed to command Gekko.</b>"
    assert "reply_markup" not in refusal
    [audit] = engine.commands()
    assert (audit.actor, audit.channel, audit.command) == ("telegram:99", "telegram", text)
    assert audit.outcome.startswith("refused")


async def test_a_stranger_pressing_yes_is_refused_and_the_prompt_stays_for_its_owner(
    tg: tuple[FakeTelegram, TelegramChatops], engine: Engine
) -> None:
    fake, _ = tg
    fake.send_text(TRADER, "/halt")
    await fake.wait_for("sendMessage")
    prompt = fake.last_message()
    yes = FakeTelegram.buttons(prompt)["✅ Yes"]
    fake.press(STRANGER, int(prompt["message_id"]), yes)
    await fake.wait_for("answerCallbackQuery")
    refusal = (await fake.wait_for("sendMessage", 2))[-1]
    assert "Refused" in refusal["text"] and engine.state == "active"
    assert engine.commands()[-1].actor == "telegram:99"
    fake.press(TRADER, int(prompt["message_id"]), yes)
    await fake.wait_for("answerCallbackQuery", 2)
    assert "HALTED" in (await fake.wait_for("editMessageText"))[-1]["text"]
    assert engine.state == "halted"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("/frobnicate", "Unknown command"),
        ("/why", "usage"),
        ("/pnl fortnight", "unknown period"),
        ("stat", "help"),
    ],
)
async def test_malformed_commands_get_a_helpful_reply(
    tg: tuple[FakeTelegram, TelegramChatops], text: str, hint: str
) -> None:
    fake, _ = tg
    fake.send_text(TRADER, text)
    [sent] = await fake.wait_for("sendMessage")
    assert hint in sent["text"] and "⚠️" in sent["text"]


async def test_alerts_reach_the_alert_chats(tg: tuple[FakeTelegram, TelegramChatops]) -> None:
    fake, bot = tg
    from gekko_agent.ops.replies import Button, Reply

    await bot.send_alert(
        Reply("Filled <BUY>", ("0.01 BTC",), buttons=(Button("Halt", "halt", confirm=True),))
    )
    [sent] = fake.sent()
    assert int(sent["chat_id"]) == TRADER and "Filled &lt;BUY&gt;" in sent["text"]
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ask:halt"


async def test_webhook_mode_receives_updates_over_http(engine: Engine) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeTelegram() as fake:
        cfg = TelegramConfig.model_validate(
            {
                "token": {"env": "GEKKO_TG"},
                "base_url": fake.api_url,
                "mode": "webhook",
                "webhook_url": f"http://127.0.0.1:{port}/telegram",
                "webhook_port": port,
                "allowed_chat_ids": [TRADER],
            }
        )
        bot = TelegramChatops(engine.service, cfg, token=fake.token, webhook_secret="hook-secret-1")
        await bot.start()
        try:
            assert fake.webhook_url == cfg.webhook_url and fake.webhook_secret == "hook-secret-1"
            forged = await fake.deliver({"message": fake.message(TRADER, "/halt")}, secret="wrong")
            assert forged.status_code == 403
            response = await fake.deliver({"message": fake.message(TRADER, "/status")})
            assert response.status_code == 200
            [sent] = await fake.wait_for("sendMessage")
            assert "Gekko is ACTIVE" in sent["text"]
            await fake.deliver({"message": fake.message(TRADER, "/status", chat_id=-100)})
            refusal = (await fake.wait_for("sendMessage", 2))[-1]
            assert "Refused" in refusal["text"] and engine.commands()[-1].outcome.startswith("refused")
        finally:
            await bot.stop()
    assert engine.state == "active"
