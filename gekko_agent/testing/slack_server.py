"""A loopback Slack: the Web API subset slack-sdk uses, and Slack's side of slash commands and buttons.

Point the app's client at it with ``AsyncWebClient(base_url=fake.api_url)``. The Web API side answers
``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral`` and ``views.*`` and records
every call; ``response_url`` posts land on ``/hooks/…`` and are recorded too. The platform side sends
slash commands and ``block_actions`` payloads to an app's endpoint, signed with a signing secret the
way Slack signs them (``v0=HMAC-SHA256(v0:timestamp:body)``), optionally with a wrong secret or an old
timestamp.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gekko_agent.ops.asgi import AsgiServer

__all__ = ["FakeSlack", "WebCall"]


@dataclass(frozen=True, slots=True)
class WebCall:
    """One Web API call (``method``) or ``response_url`` post (``hooks``) with its decoded body."""

    method: str
    params: dict[str, Any]


class FakeSlack:
    """Slack on loopback, for one workspace and one bot token.

    Args:
        bot_token: the token the app must present (others get ``invalid_auth``).
        team_id: the workspace id.
    """

    def __init__(self, bot_token: str = "xoxb-test-token", team_id: str = "T1") -> None:  # noqa: S107 a fake's token
        self.bot_token = bot_token
        self.team_id = team_id
        self.calls: list[WebCall] = []
        self._ts = itertools.count(1)
        routes = [
            Route("/api/{method}", self._api, methods=["POST", "GET"]),
            Route("/hooks/{hook}", self._hook, methods=["POST"]),
        ]
        self._server = AsgiServer(Starlette(routes=routes))

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give slack-sdk's WebClient."""
        return f"{self._server.url}/api/"

    @property
    def response_url(self) -> str:
        """A ``response_url`` for payloads; posts to it are recorded as method ``hooks``."""
        return f"{self._server.url}/hooks/r1"

    async def __aenter__(self) -> FakeSlack:
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.stop()

    def sent(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        """Bodies of every call of ``method`` so far."""
        return [c.params for c in self.calls if c.method == method]

    # --- Slack's side: requests to the app ---------------------------------------------------------

    async def slash(
        self, endpoint: str, secret: str, user_id: str, text: str, *, command: str = "/gekko", age: float = 0
    ) -> httpx.Response:
        """Send a slash command as ``user_id`` (``age`` seconds old), signed with ``secret``."""
        form = {
            "token": "deprecated",
            "team_id": self.team_id,
            "channel_id": "C1",
            "channel_name": "trading",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "response_url": self.response_url,
            "trigger_id": f"tr-{next(self._ts)}",
            "api_app_id": "A1",
        }
        return await self.signed_post(endpoint, secret, urlencode(form), age=age)

    async def click(
        self,
        endpoint: str,
        secret: str,
        user_id: str,
        value: str,
        *,
        action_id: str = "gekko_0",
        age: float = 0,
    ) -> httpx.Response:
        """Press a button (``block_actions``) carrying ``value`` under a message the bot posted in C1."""
        ts = f"1700000000.{next(self._ts):06d}"
        payload = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": "A1",
            "token": "deprecated",
            "trigger_id": f"tr-{next(self._ts)}",
            "container": {"type": "message", "message_ts": ts, "channel_id": "C1", "is_ephemeral": False},
            "channel": {"id": "C1", "name": "trading"},
            "message": {"type": "message", "ts": ts, "text": "…", "user": "UBOT"},
            "response_url": self.response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "gekko_actions",
                    "value": value,
                    "text": {"type": "plain_text", "text": value},
                    "action_ts": ts,
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.signed_post(endpoint, secret, body, age=age)

    @staticmethod
    async def signed_post(endpoint: str, secret: str, body: str, *, age: float = 0) -> httpx.Response:
        """POST ``body`` (form-encoded) with Slack's signature headers computed from ``secret``."""
        timestamp = str(int(time.time() - age))
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature or "",
        }
        async with httpx.AsyncClient(trust_env=False) as client:
            return await client.post(endpoint, content=body.encode(), headers=headers)

    # --- the Web API --------------------------------------------------------------------------------

    async def _api(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        params = await _params(request)
        if request.headers.get("authorization") != f"Bearer {self.bot_token}":
            self.calls.append(WebCall(method, params))
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        self.calls.append(WebCall(method, params))
        return JSONResponse({"ok": True, **self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "gekko",
                "team_id": self.team_id,
                "user_id": "UBOT",
                "bot_id": "B1",
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000001.{next(self._ts):06d}"
            message = {"type": "message", "text": params.get("text", ""), "ts": ts, "bot_id": "B1"}
            return {"channel": params.get("channel", "C1"), "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"message_ts": f"1700000002.{next(self._ts):06d}"}
        if method.startswith("views."):
            return {"view": {"id": "V1", **(params.get("view") or {})}}
        return {}

    async def _hook(self, request: Request) -> JSONResponse:
        self.calls.append(WebCall("hooks", await _params(request)))
        return JSONResponse({"ok": True})


async def _params(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        data: dict[str, Any] = json.loads(body) if body else {}
        return data
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else (await value.read()).decode()
        out[key] = json.loads(text) if key in ("blocks", "attachments", "view") and text[:1] in "[{" else text
    await form.close()
    return out
