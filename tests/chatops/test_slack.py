"""The real slack-bolt app and slack-sdk client against the loopback Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gekko_agent.ops.chat_config import SlackConfig
from gekko_agent.ops.slack import SlackChatops
from gekko_agent.testing.slack_server import FakeSlack
from tests.chatops.conftest import Engine

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def slack(engine: Engine) -> AsyncIterator[tuple[FakeSlack, SlackChatops]]:
    async with FakeSlack() as fake:
        cfg = SlackConfig.model_validate(
            {
                "bot_token": {"env": "GEKKO_SLACK_BOT"},
                "signing_secret": {"env": "GEKKO_SLACK_SIGNING"},
                "port": 0,
                "base_url": fake.api_url,
                "alert_channel": "C-ALERTS",
            }
        )
        app = SlackChatops(engine.service, cfg, bot_token=fake.bot_token, signing_secret=SECRET)
        await app.start()
        try:
            yield fake, app
        finally:
            await app.stop()


async def test_signed_slash_command_answers_in_blocks(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    response = await fake.slash(app.url, SECRET, "U1", "status")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert body["blocks"][0]["text"]["text"] == "*Gekko is ACTIVE*"
    halt = body["blocks"][-1]["elements"][0]
    assert halt["value"] == "halt" and halt["style"] == "danger" and "confirm" in halt
    assert engine.commands()[-1].actor == "alice"


async def test_badly_signed_request_is_rejected_and_changes_nothing(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    before = len(engine.journal.events)
    response = await fake.slash(app.url, "not-the-secret", "U1", "halt")
    assert response.status_code == 401
    assert engine.state == "active" and len(engine.journal.events) == before
    genuine = await fake.slash(app.url, SECRET, "U1", "resume")
    tampered = genuine.request.content.replace(b"U1", b"U9")  # same signature, different body
    async with httpx.AsyncClient(trust_env=False) as client:
        forged = await client.post(app.url, content=tampered, headers=dict(genuine.request.headers))
    assert forged.status_code == 401
    assert engine.state == "active"
    assert [c.actor for c in engine.commands()] == []


async def test_replayed_request_outside_the_window_is_rejected(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    old = await fake.slash(app.url, SECRET, "U1", "status", age=6 * 60)
    assert old.status_code == 401
    assert engine.commands() == []
    recent = await fake.slash(app.url, SECRET, "U1", "status", age=4 * 60)
    assert recent.status_code == 200


async def test_halt_slash_command_asks_then_button_halts(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    prompt = (await fake.slash(app.url, SECRET, "U2", "halt spread blew out")).json()
    assert prompt["response_type"] == "ephemeral" and "Halt trading" in prompt["text"]
    assert engine.state == "active"
    yes = prompt["blocks"][-1]["elements"][0]
    response = await fake.click(app.url, SECRET, "U2", yes["value"], action_id=yes["action_id"])
    assert response.status_code == 200
    assert engine.state == "halted"
    [posted] = fake.sent()
    assert posted["channel"] == "C1" and "HALTED" in posted["text"] and posted["thread_ts"]
    audit = engine.commands()[-1]
    assert (audit.actor, audit.channel, audit.command) == ("vic", "slack", "halt spread blew out")
    await fake.click(app.url, SECRET, "U2", "dismiss", action_id="gekko_dismiss")
    assert fake.sent("hooks")[-1]["text"] == "Cancelled."


async def test_buttons_approve_and_reject(slack: tuple[FakeSlack, SlackChatops], engine: Engine) -> None:
    fake, app = slack
    keep, drop = engine.request_approval(), engine.request_approval()
    listing = (await fake.slash(app.url, SECRET, "U1", "approvals")).json()
    values = [e["value"] for e in listing["blocks"][-1]["elements"]]
    assert f"approve {keep.approval_id}" in values and f"reject {drop.approval_id}" in values
    await fake.click(app.url, SECRET, "U1", f"approve {keep.approval_id}")
    await fake.click(app.url, SECRET, "U1", f"reject {drop.approval_id}")
    texts = [p["text"] for p in fake.sent()]
    assert "sent as gk-" in texts[0] and texts[1].endswith("dropped")
    assert engine.view.pending_approvals() == []


async def test_large_approval_carries_a_confirm_dialog(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    big = engine.request_approval(quantity="0.1", notional=2500)
    listing = (await fake.slash(app.url, SECRET, "U1", "approvals")).json()
    approve = listing["blocks"][-1]["elements"][0]
    assert approve["value"] == f"approve {big.approval_id}" and "confirm" in approve
    typed = (await fake.slash(app.url, SECRET, "U1", f"approve {big.approval_id}")).json()
    assert "above 1,000.00" in typed["text"] and engine.view.pending_approvals() != []


async def test_unknown_and_viewer_users_are_refused(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    item = engine.request_approval()
    stranger = (await fake.slash(app.url, SECRET, "U999", "halt")).json()
    assert stranger["response_type"] == "ephemeral" and "Refused" in stranger["text"]
    await fake.click(app.url, SECRET, "U2", f"approve {item.approval_id}")
    assert "viewer" in fake.sent()[-1]["text"]
    assert engine.state == "active" and engine.view.pending_approvals() != []
    actors = [(c.actor, c.outcome.split(":")[0]) for c in engine.commands()]
    assert actors == [("slack:U999", "refused"), ("slack:U2", "refused")]


async def test_malformed_slash_command_gets_help(slack: tuple[FakeSlack, SlackChatops]) -> None:
    fake, app = slack
    body = (await fake.slash(app.url, SECRET, "U1", "frobnicate now")).json()
    assert "Unknown command" in body["text"] and "help" in body["text"]
    body = (await fake.slash(app.url, SECRET, "U1", "")).json()
    assert body["text"] == "Gekko commands"
