"""The real slack-bolt app and slack-sdk client against the loopback Slack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest

from gekko_agent.domain import ApprovalRequested
from gekko_agent.ops.alerts import classify
from gekko_agent.ops.chat_config import AlertsConfig, SlackConfig
from gekko_agent.ops.confirm import Confirmations
from gekko_agent.ops.render import slack_blocks
from gekko_agent.ops.replies import Button, Reply
from gekko_agent.ops.slack import ReplayGuard, SlackChatops
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


async def test_halt_slash_command_asks_then_the_nonce_button_halts(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    prompt = (await fake.slash(app.url, SECRET, "U1", "halt spread blew out")).json()
    assert prompt["response_type"] == "ephemeral" and "Halt trading" in prompt["text"]
    assert engine.state == "active"
    yes, no = prompt["blocks"][-1]["elements"]
    assert yes["action_id"] == "gekko_confirm" and yes["value"] == no["value"] != "halt spread blew out"
    response = await fake.click(app.url, SECRET, "U1", yes["value"], action_id=yes["action_id"])
    assert response.status_code == 200
    assert engine.state == "halted"
    [posted] = fake.sent()
    assert posted["channel"] == "C1" and "HALTED" in posted["text"] and posted["thread_ts"]
    audit = engine.commands()[-1]
    assert (audit.actor, audit.channel, audit.command) == ("alice", "slack", "halt spread blew out")
    await fake.click(app.url, SECRET, "U1", yes["value"], action_id=yes["action_id"])  # used up
    assert "expired" in fake.sent()[-1]["text"] and len(engine.commands()) == 1
    again = (await fake.slash(app.url, SECRET, "U1", "resume")).json()
    await fake.click(
        app.url, SECRET, "U1", again["blocks"][-1]["elements"][1]["value"], action_id="gekko_dismiss"
    )
    assert fake.sent("hooks")[-1]["text"] == "Cancelled."
    assert engine.state == "halted"


async def test_viewer_halt_is_refused_without_a_prompt(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    body = (await fake.slash(app.url, SECRET, "U2", "halt")).json()
    assert body["response_type"] == "ephemeral" and "Refused" in body["text"] and "viewer" in body["text"]
    await fake.click(app.url, SECRET, "U2", "halt")  # the Halt button under `status`
    assert "viewer" in fake.sent()[-1]["text"]
    assert engine.state == "active" and len(app.confirmations) == 0
    assert [(c.actor, c.outcome.split(":")[0]) for c in engine.commands()] == [("vic", "refused")] * 2


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
    assert actors == [("slack:U999", "refused"), ("vic", "refused")]


async def test_malformed_slash_command_gets_help(slack: tuple[FakeSlack, SlackChatops]) -> None:
    fake, app = slack
    body = (await fake.slash(app.url, SECRET, "U1", "frobnicate now")).json()
    assert "Unknown command" in body["text"] and "help" in body["text"]
    body = (await fake.slash(app.url, SECRET, "U1", "")).json()
    assert body["text"] == "Gekko commands"


@pytest.mark.parametrize("text", ["", "frobnicate now", "help", 'why "unclosed', "approve"])
async def test_garbage_from_an_unknown_user_gets_one_refusal_and_an_audit_entry(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine, text: str
) -> None:
    fake, app = slack
    body = (await fake.slash(app.url, SECRET, "U999", text)).json()
    assert body["response_type"] == "ephemeral"
    assert body["text"] == "Refused: slack user U999 is not allowed to command Gekko."
    assert [b["type"] for b in body["blocks"]] == ["section"]  # no help, no buttons
    [audit] = engine.commands()
    assert (audit.actor, audit.channel, audit.command) == ("slack:U999", "slack", text)
    assert audit.outcome.startswith("refused") and fake.sent() == []


async def _click_in(
    fake: FakeSlack, app: SlackChatops, user: str, value: str, action: str, channel: str
) -> int:
    """A signed ``block_actions`` press in ``channel`` (FakeSlack.click always presses in C1)."""
    payload = {
        "type": "block_actions",
        "team": {"id": fake.team_id, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": fake.team_id},
        "api_app_id": "A1",
        "token": "deprecated",
        "trigger_id": "tr-x",
        "container": {"type": "message", "message_ts": "1.2", "channel_id": channel, "is_ephemeral": True},
        "channel": {"id": channel, "name": "other"},
        "response_url": fake.response_url,
        "actions": [
            {"type": "button", "action_id": action, "block_id": "b", "value": value, "action_ts": "1"}
        ],
    }
    response = await fake.signed_post(app.url, SECRET, urlencode({"payload": json.dumps(payload)}))
    return response.status_code


async def test_large_approval_button_needs_a_server_side_confirmation(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    big = engine.request_approval(quantity="0.1", notional=2500)
    await fake.click(app.url, SECRET, "U1", f"approve {big.approval_id}")  # a crafted press, no dialog
    prompt = fake.sent("hooks")[-1]
    assert prompt["response_type"] == "ephemeral" and "above 1,000.00" in prompt["text"]
    assert [p.approval_id for p in engine.view.pending_approvals()] == [big.approval_id]
    nonce = prompt["blocks"][-1]["elements"][0]["value"]
    assert nonce != f"approve {big.approval_id}" and engine.commands() == []
    await fake.click(app.url, SECRET, "U2", nonce, action_id="gekko_confirm")  # another (known) person
    assert "expired" in fake.sent()[-1]["text"]
    assert await _click_in(fake, app, "U1", nonce, "gekko_confirm", "C-OTHER") == 200  # another channel
    assert "expired" in fake.sent("hooks")[-1]["text"]
    await fake.click(app.url, SECRET, "U999", nonce, action_id="gekko_confirm")  # a stranger
    assert "Refused" in fake.sent()[-1]["text"] and engine.commands()[-1].actor == "slack:U999"
    assert engine.view.pending_approvals() != []
    await fake.click(app.url, SECRET, "U1", nonce, action_id="gekko_confirm")
    assert "sent as gk-" in fake.sent()[-1]["text"] and engine.view.pending_approvals() == []
    assert engine.commands()[-1].command == f"approve {big.approval_id}"


async def test_a_confirmation_expires(slack: tuple[FakeSlack, SlackChatops], engine: Engine) -> None:
    fake, app = slack
    now = [0.0]
    app.confirmations = Confirmations(60, lambda: now[0])
    prompt = (await fake.slash(app.url, SECRET, "U1", "halt")).json()
    now[0] = 61.0
    await fake.click(
        app.url, SECRET, "U1", prompt["blocks"][-1]["elements"][0]["value"], action_id="gekko_confirm"
    )
    assert "expired" in fake.sent()[-1]["text"] and engine.state == "active"


async def test_a_replayed_signed_request_is_refused(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    genuine = await fake.slash(app.url, SECRET, "U1", "status")
    assert genuine.status_code == 200 and len(engine.commands()) == 1
    async with httpx.AsyncClient(trust_env=False) as client:
        replayed = await client.post(
            app.url, content=genuine.request.content, headers=dict(genuine.request.headers)
        )
    assert replayed.status_code == 401
    assert len(engine.commands()) == 1
    click = await fake.click(app.url, SECRET, "U1", "status")
    assert click.status_code == 200 and len(engine.commands()) == 2
    async with httpx.AsyncClient(trust_env=False) as client:
        again = await client.post(app.url, content=click.request.content, headers=dict(click.request.headers))
    assert again.status_code == 401 and len(engine.commands()) == 2


def test_replay_guard_forgets_requests_older_than_the_window() -> None:
    now = [1_700_000_000.0]
    guard = ReplayGuard(300, lambda: now[0])
    assert guard.first_time("1700000000", "v0=a") and not guard.first_time("1700000000", "v0=a")
    assert guard.first_time("1700000000", "v0=b")
    now[0] += 301  # the verifier refuses that timestamp from now on, so it need not be remembered
    assert guard.first_time("1700000301", "v0=c") and len(guard) == 1


async def test_alert_approve_and_halt_buttons_carry_a_confirm_dialog(
    slack: tuple[FakeSlack, SlackChatops], engine: Engine
) -> None:
    fake, app = slack
    item = engine.request_approval()
    requested = next(e for e in engine.journal.events if isinstance(e, ApprovalRequested))
    alert = classify(requested, AlertsConfig())
    assert alert is not None
    await app.send_alert(alert.message())
    approve, reject = fake.sent()[-1]["blocks"][-1]["elements"]
    assert (
        approve["value"] == f"approve {item.approval_id}"
        and approve["confirm"]["confirm"]["text"] == "Yes, do it"
    )
    assert "confirm" not in reject
    halt = slack_blocks(Reply("x", buttons=(Button("Halt", "halt"),)))[-1]["elements"][0]
    assert "confirm" in halt
