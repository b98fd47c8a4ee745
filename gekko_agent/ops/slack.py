"""Slack chat-ops: a slack-bolt app over HTTP with the ``/gekko`` slash command and buttons.

Every request is verified before any handler runs: the ``X-Slack-Signature`` HMAC of the body with the
signing secret, ``X-Slack-Request-Timestamp`` within five minutes, and — because a copy of a genuine
request is just as well signed — a replay cache: a signed request already served inside the window is
refused (:class:`ReplayGuard`). Failures get 401 and change nothing.

``/gekko <command>`` answers in the channel (errors and refusals only to the person). Halt, resume,
flatten, reduce and approvals above ``confirm_above`` — typed or pressed — first answer privately with
the question and a **Yes** button bound to a nonce (:class:`~gekko_agent.ops.confirm.Confirmations`):
only the person who was asked, in the same channel, within ``confirm_ttl_seconds``, can redeem it,
once. Approve, halt and resume buttons also open Slack's own confirmation dialog, a convenience the
server does not rely on. A button press runs the command it carries as the person who pressed it, and
the answer is posted in the message's thread. Who may do what is decided by the command layer
(``ops.users``), never here; a press by someone not configured is refused and audited there.
"""

from __future__ import annotations

import logging
import re
import shlex
import time
from collections.abc import Callable
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gekko_agent.ops.asgi import AsgiServer
from gekko_agent.ops.auth import Unauthorized, authorize, identify
from gekko_agent.ops.chat_config import SlackConfig
from gekko_agent.ops.commands import CommandService
from gekko_agent.ops.confirm import Confirmations
from gekko_agent.ops.render import (
    SLACK_CONFIRM_ACTION,
    SLACK_DISMISS_ACTION,
    confirmation_prompt,
    slack_blocks,
    slack_confirm_blocks,
    slack_text,
)
from gekko_agent.ops.replies import Reply

__all__ = ["ReplayGuard", "SlackChatops"]

log = logging.getLogger(__name__)
CHANNEL = "slack"
EVENTS_PATH = "/slack/events"
SIGNATURE_WINDOW_S = 300  # Slack's (and slack-sdk's) timestamp window
EXPIRED = "That confirmation has expired; send the command again."


class ReplayGuard:
    """Remembers the signed requests served inside the timestamp window; a second copy is a replay.

    Args:
        window_seconds: how far a request's timestamp may be from now (the verifier's window).
        wall: unix time source.
        max_entries: most requests remembered (oldest forgotten first; Slack sends far fewer).
    """

    def __init__(
        self,
        window_seconds: float = SIGNATURE_WINDOW_S,
        wall: Callable[[], float] = time.time,
        max_entries: int = 100_000,
    ) -> None:
        self.window = window_seconds
        self._wall = wall
        self._max = max_entries
        self._seen: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, timestamp: str, signature: str) -> bool:
        """True the first time this (timestamp, signature) pair is seen; records it."""
        cutoff = self._wall() - self.window
        for key in [k for k, ts in self._seen.items() if ts < cutoff]:
            del self._seen[key]
        key = (timestamp, signature)
        if key in self._seen:
            return False
        while len(self._seen) >= self._max:
            del self._seen[next(iter(self._seen))]
        self._seen[key] = int(timestamp)
        return True


class SlackChatops:
    """The Slack app.

    Args:
        service: the command layer.
        config: the ``chatops.slack`` section.
        bot_token: the resolved bot token (never logged).
        signing_secret: the resolved signing secret (never logged).
        confirm_ttl_seconds: how long a confirmation prompt stays valid (``chatops.confirm_ttl_seconds``).
        monotonic: time source for prompt expiry (tests may pass their own).
    """

    def __init__(
        self,
        service: CommandService,
        config: SlackConfig,
        *,
        bot_token: str,
        signing_secret: str,
        confirm_ttl_seconds: float = 300,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.config = config
        self.client = AsyncWebClient(token=bot_token, base_url=config.base_url)
        self.confirmations = Confirmations(confirm_ttl_seconds, monotonic)
        self.replays = ReplayGuard()
        self._verifier = SignatureVerifier(signing_secret)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=signing_secret,
            process_before_response=True,  # answer the slash command in the HTTP response itself
            request_verification_enabled=True,
            ssl_check_enabled=True,
            url_verification_enabled=True,
        )
        self.bolt.command(config.command)(self._on_command)
        self.bolt.action(re.compile(r"^gekko_\d+$"))(self._on_button)
        self.bolt.action(SLACK_CONFIRM_ACTION)(self._on_confirm)
        self.bolt.action(SLACK_DISMISS_ACTION)(self._on_dismiss)
        self._handler = AsyncSlackRequestHandler(self.bolt)
        self.asgi = Starlette(routes=[Route(EVENTS_PATH, self._endpoint, methods=["POST"])])
        self._server: AsgiServer | None = None

    @property
    def url(self) -> str:
        """URL of the events endpoint once started (give it to Slack as Request URL)."""
        assert self._server is not None, "not started"
        return self._server.url + EVENTS_PATH

    async def start(self) -> None:
        """Serve the events endpoint on ``listen``:``port``."""
        self._server = AsgiServer(self.asgi, self.config.listen, self.config.port)
        await self._server.start()

    async def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def send_alert(self, reply: Reply) -> None:
        """Post ``reply`` to ``alert_channel`` (the alert router's sink)."""
        if self.config.alert_channel:
            await self.client.chat_postMessage(
                channel=self.config.alert_channel, text=slack_text(reply), blocks=slack_blocks(reply)
            )

    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()  # starlette keeps it for bolt, which verifies it again
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        try:
            genuine = self._verifier.is_valid(body, timestamp, signature)
        except ValueError:  # a timestamp that is not a number, a body that is not UTF-8
            genuine = False
        if genuine and not self.replays.first_time(timestamp, signature):
            log.warning("refused a replayed Slack request (timestamp %s)", timestamp)
            return Response("replayed request", status_code=401)
        return await self._handler.handle(request)  # bad signatures are refused (401) by bolt

    def _prompt(self, user_id: str, text: str) -> str | None:
        try:
            words = shlex.split(text.strip().lstrip("/"))
        except ValueError:
            return None
        if not words:
            return None
        try:  # only authorized people are asked to confirm; others go straight to a refusal
            authorize(self.service.config, CHANNEL, user_id, words[0].lower())
        except Unauthorized:
            return None
        return confirmation_prompt(text, self.service.engine, self.service.confirm_above)

    def _known(self, user_id: str) -> bool:
        try:
            identify(self.service.config, CHANNEL, user_id)
        except Unauthorized:
            return False
        return True

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user_id, text = str(command.get("user_id", "")), str(command.get("text", "")).strip()
        prompt = self._prompt(user_id, text)
        if prompt is not None:
            nonce = self.confirmations.issue(user_id, str(command.get("channel_id", "")), text)
            await ack(text=prompt, blocks=slack_confirm_blocks(prompt, nonce), response_type="ephemeral")
            return
        reply = await self.service.run(CHANNEL, user_id, text)
        kind = "in_channel" if reply.ok else "ephemeral"
        await ack(text=slack_text(reply), blocks=slack_blocks(reply), response_type=kind)

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id, channel = _who(body)
        value = str(action.get("value", ""))
        prompt = self._prompt(user_id, value)
        if prompt is not None:  # the button's own dialog is the client's; the server asks too
            nonce = self.confirmations.issue(user_id, channel, value)
            await respond(
                text=prompt,
                blocks=slack_confirm_blocks(prompt, nonce),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        await self._answer(body, respond, await self.service.run(CHANNEL, user_id, value))

    async def _on_confirm(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id, channel = _who(body)
        nonce = str(action.get("value", ""))
        if not self._known(user_id):  # refused and audited by the command layer
            reply = await self.service.run(CHANNEL, user_id, f"confirm {nonce}")
        elif (command := self.confirmations.take(nonce, user_id, channel)) is None:
            reply = Reply(EXPIRED, ok=False)
        else:
            reply = await self.service.run(CHANNEL, user_id, command)
        await self._answer(body, respond, reply)

    async def _on_dismiss(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id, channel = _who(body)
        nonce = str(action.get("value", ""))
        if not self._known(user_id):
            reply = await self.service.run(CHANNEL, user_id, f"dismiss {nonce}")
            await respond(text=slack_text(reply), blocks=slack_blocks(reply), replace_original=False)
            return
        command = self.confirmations.take(nonce, user_id, channel)
        await respond(text="Cancelled." if command is not None else EXPIRED, replace_original=True)

    async def _answer(self, body: dict[str, Any], respond: AsyncRespond, reply: Reply) -> None:
        container = body.get("container", {})
        channel = body.get("channel", {}).get("id") or container.get("channel_id")
        if container.get("is_ephemeral") or channel is None:
            await respond(text=slack_text(reply), blocks=slack_blocks(reply), replace_original=True)
            return
        await self.client.chat_postMessage(
            channel=channel,
            thread_ts=container.get("message_ts"),
            text=slack_text(reply),
            blocks=slack_blocks(reply),
        )


def _who(body: dict[str, Any]) -> tuple[str, str]:
    """The presser's user id and the channel the pressed message is in."""
    container = body.get("container", {})
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id") or ""
    return str(body.get("user", {}).get("id", "")), str(channel)
