"""Slack chat-ops: a slack-bolt app over HTTP with the ``/gekko`` slash command and buttons.

Every request is verified by bolt before any handler runs: the ``X-Slack-Signature`` HMAC of the body
with the signing secret, and ``X-Slack-Request-Timestamp`` within five minutes (older requests are
replays). Failures get 401 and change nothing.

``/gekko <command>`` answers in the channel (errors and refusals only to the person). Halt, resume,
flatten and approvals above ``confirm_above`` first answer with a question and a **Yes** button;
buttons marked ``confirm`` in a reply open Slack's own confirmation dialog. A button press runs the
command it carries as the person who pressed it, and the answer is posted in the message's thread.
Who may do what is decided by the command layer (``ops.users``), never here.
"""

from __future__ import annotations

import logging
import re
import shlex
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gekko_agent.ops.asgi import AsgiServer
from gekko_agent.ops.auth import Unauthorized, authorize
from gekko_agent.ops.chat_config import SlackConfig
from gekko_agent.ops.commands import CommandService
from gekko_agent.ops.render import confirmation_prompt, slack_blocks, slack_confirm_blocks, slack_text
from gekko_agent.ops.replies import Reply

__all__ = ["SlackChatops"]

log = logging.getLogger(__name__)
CHANNEL = "slack"
EVENTS_PATH = "/slack/events"


class SlackChatops:
    """The Slack app.

    Args:
        service: the command layer.
        config: the ``chatops.slack`` section.
        bot_token: the resolved bot token (never logged).
        signing_secret: the resolved signing secret (never logged).
    """

    def __init__(
        self, service: CommandService, config: SlackConfig, *, bot_token: str, signing_secret: str
    ) -> None:
        self.service = service
        self.config = config
        self.client = AsyncWebClient(token=bot_token, base_url=config.base_url)
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
        self.bolt.action("gekko_dismiss")(self._on_dismiss)
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
        return await self._handler.handle(request)

    def _prompt(self, user_id: str, text: str) -> str | None:
        try:
            words = shlex.split(text)
        except ValueError:
            return None
        if not words:
            return None
        try:  # only authorized people are asked to confirm; others go straight to a refusal
            authorize(self.service.config, CHANNEL, user_id, words[0].lower())
        except Unauthorized:
            return None
        return confirmation_prompt(text, self.service.engine, self.service.confirm_above)

    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        user_id, text = str(command.get("user_id", "")), str(command.get("text", "")).strip()
        prompt = self._prompt(user_id, text)
        if prompt is not None:
            await ack(text=prompt, blocks=slack_confirm_blocks(prompt, text), response_type="ephemeral")
            return
        reply = await self.service.run(CHANNEL, user_id, text)
        kind = "in_channel" if reply.ok else "ephemeral"
        await ack(text=slack_text(reply), blocks=slack_blocks(reply), response_type=kind)

    async def _on_button(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = str(body.get("user", {}).get("id", ""))
        reply = await self.service.run(CHANNEL, user_id, str(action.get("value", "")))
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

    async def _on_dismiss(self, ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Cancelled.", replace_original=True)
