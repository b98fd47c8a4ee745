"""A loopback server speaking the subset of the Telegram Bot API that python-telegram-bot uses.

Point a bot at it with ``base_url=server.api_url`` (``ApplicationBuilder().base_url(...)``). The
server hands out queued updates through ``getUpdates`` (long polling, answered as soon as an update
arrives), records every call the bot makes (``sendMessage``, ``editMessageText``,
``answerCallbackQuery``, ``setWebhook``…) and keeps the messages it sent, so tests can press their
inline buttons. It can also deliver an update to a webhook the way Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gekko_agent.ops.asgi import AsgiServer

__all__ = ["BotCall", "FakeTelegram"]

_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "link_preview_options", "reply_parameters"}
BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Gekko",
    "username": "gekko_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass(frozen=True, slots=True)
class BotCall:
    """One Bot API call the bot made: method name and decoded parameters."""

    method: str
    params: dict[str, Any]


class FakeTelegram:
    """The Bot API on loopback, for one bot token.

    Args:
        token: the token the bot must use (other tokens get 401, like Telegram).
    """

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:  # noqa: S107 a fake's token
        self.token = token
        self.calls: list[BotCall] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._arrived = asyncio.Event()
        self._server = AsgiServer(
            Starlette(routes=[Route("/bot{token}/{method}", self._call, methods=["POST", "GET"])])
        )

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give python-telegram-bot (the token is appended to it)."""
        return f"{self._server.url}/bot"

    async def __aenter__(self) -> FakeTelegram:
        await self._server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._arrived.set()
        await self._server.stop()

    # --- what the test does as a Telegram user ----------------------------------------------------

    def message(self, user_id: int, text: str, chat_id: int | None = None) -> dict[str, Any]:
        """A message from ``user_id`` as Telegram sends it (commands get their ``bot_command`` entity)."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id or user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return message

    def send_text(self, user_id: int, text: str, chat_id: int | None = None) -> int:
        """Queue a message from ``user_id`` for ``getUpdates``; returns its id."""
        message = self.message(user_id, text, chat_id)
        self.queue({"message": message})
        return int(message["message_id"])

    def press(self, user_id: int, message_id: int, data: str) -> None:
        """Queue a tap on an inline button with callback ``data`` under a message the bot sent."""
        message = self.messages[message_id]
        query = {
            "id": str(next(self._ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "chat_instance": "ci-1",
            "message": message,
            "data": data,
        }
        self.queue({"callback_query": query})

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is added); returns it."""
        full = {"update_id": next(self._ids), **update}
        self._updates.append(full)
        self._arrived.set()
        return full

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        """Post an update to the registered webhook as Telegram would (``secret`` overrides the token)."""
        assert self.webhook_url is not None, "the bot has not called setWebhook"
        full = {"update_id": next(self._ids), **update}
        token = secret if secret is not None else self.webhook_secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with httpx.AsyncClient(trust_env=False) as client:
            return await client.post(self.webhook_url, json=full, headers=headers)

    def last_message(self) -> dict[str, Any]:
        """The latest message the bot sent (as edited since), with its ``message_id`` and keyboard."""
        return self.messages[max(self.messages)]

    @staticmethod
    def buttons(message: dict[str, Any]) -> dict[str, str]:
        """Label → callback data of a message's inline keyboard."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        return {b["text"]: b["callback_data"] for row in rows for b in row}

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every call of ``method`` so far."""
        return [c.params for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[dict[str, Any]]:
        """Wait until the bot has called ``method`` at least ``count`` times; returns those calls."""
        deadline = time.monotonic() + within
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"bot called {method} {len(self.sent(method))} times, expected {count}")
            await asyncio.sleep(0.01)
        return self.sent(method)

    # --- the Bot API --------------------------------------------------------------------------------

    async def _call(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.path_params["method"]
        params = await _params(request)
        self.calls.append(BotCall(method, params))
        handler = getattr(self, f"_api_{method.lower()}", None)
        result = await handler(params) if handler is not None else True
        return JSONResponse({"ok": True, "result": result})

    async def _api_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._arrived.clear()
            wait = min(float(params.get("timeout") or 0), 0.5)
            if wait > 0:
                try:
                    await asyncio.wait_for(self._arrived.wait(), wait)
                except TimeoutError:
                    return []
        return list(self._updates[: int(params.get("limit") or 100)])

    async def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        message_id = next(self._message_ids)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(params["chat_id"]), "type": "private"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.messages[message_id] = message
        return message

    async def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self.messages[int(params["message_id"])]
        message["text"] = params.get("text", "")
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = params.get("url") or None
        self.webhook_secret = params.get("secret_token")
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = None
        return True


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        data: dict[str, Any] = json.loads(body) if body else {}
        return data
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else (await value.read()).decode()
        out[key] = json.loads(text) if key in _JSON_FIELDS else text
    await form.close()
    return out
