"""A loopback OpenAI-compatible chat server that plays scripted replies (tool calls included).

Real clients (litellm, the openai SDK) talk to it over HTTP: ``POST /v1/chat/completions`` answers
with the next scripted reply; ``GET /v1/models`` lists one model. Streaming is not supported. Replies
are :class:`Reply` values — text, tool calls, an HTTP error status (to exercise retries) or a raw body
(garbage) — or a function of the request that returns one. Every request body is kept in
:attr:`ScriptedOpenAIServer.requests`.

Run by hand::

    python -m gekko_agent.testing.openai_server --script replies.json --port 8765

where ``replies.json`` is a list of ``{"content": ...}`` or
``{"tool_calls": [{"name": ..., "arguments": {...}}]}``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig

__all__ = ["Reply", "ScriptedOpenAIServer", "hold", "llm_agent_config", "propose", "text", "tool_call"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer.

    Attributes:
        content: assistant text.
        tool_calls: ``(name, arguments)`` pairs; arguments are a JSON string sent verbatim or a mapping.
        status: HTTP status (non-200 sends an OpenAI-style error body).
        raw: a raw response body sent as is (for garbage).
        prompt_tokens: usage reported.
        completion_tokens: usage reported.
    """

    content: str | None = None
    tool_calls: tuple[tuple[str, str | Mapping[str, Any]], ...] = ()
    status: int = 200
    raw: str | None = None
    prompt_tokens: int = 100
    completion_tokens: int = 20

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        """From ``{"content": ..., "tool_calls": [{"name", "arguments"}], "status": ...}``."""
        calls = tuple((c["name"], c.get("arguments", {})) for c in data.get("tool_calls", ()))
        return cls(data.get("content"), calls, int(data.get("status", 200)), data.get("raw"))


def text(content: str) -> Reply:
    """A plain text answer."""
    return Reply(content=content)


def tool_call(name: str, arguments: str | Mapping[str, Any] | None = None, *more: Reply) -> Reply:
    """An answer calling one tool (``more`` is ignored; for symmetry with :func:`text`)."""
    return Reply(tool_calls=((name, arguments if arguments is not None else {}),))


def propose(*orders: Mapping[str, Any]) -> Reply:
    """A final ``propose_orders`` answer."""
    return tool_call("propose_orders", {"orders": list(orders)})


def hold(reason: str = "nothing worth doing") -> Reply:
    """A final ``hold`` answer."""
    return tool_call("hold", {"reason": reason})


Script = Callable[[dict[str, Any]], Reply]


@dataclass(slots=True)
class _State:
    replies: list[Reply | Script] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count[int] = field(default_factory=itertools.count)


def _completion(reply: Reply, model: str, n: int) -> dict[str, Any]:
    calls = [
        {
            "id": f"call_{n}_{i}",
            "type": "function",
            "function": {"name": name, "arguments": a if isinstance(a, str) else json.dumps(a)},
        }
        for i, (name, a) in enumerate(reply.tool_calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 1_700_000_000 + n,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _send(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}))
        else:
            self._send(404, json.dumps({"error": {"message": "not found"}}))

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        state = self.server.state
        with state.lock:
            state.requests.append(body)
            n = next(state.ids)
            nxt = state.replies.pop(0) if state.replies else None
        if nxt is None:
            self._send(500, json.dumps({"error": {"message": "script exhausted", "type": "server_error"}}))
            return
        reply = nxt(body) if callable(nxt) else nxt
        if reply.raw is not None:
            self._send(reply.status, reply.raw)
        elif reply.status != 200:
            self._send(reply.status, json.dumps({"error": {"message": f"scripted {reply.status}"}}))
        else:
            self._send(200, json.dumps(_completion(reply, str(body.get("model", "scripted")), n)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class ScriptedOpenAIServer:
    """The server, on ``127.0.0.1`` and a free port, serving from a background thread.

    Use as a context manager, or call :meth:`start` / :meth:`stop`.

    Args:
        replies: the script, played in order.
        host: bind address (loopback).
        port: 0 picks a free port.
    """

    def __init__(
        self, replies: Iterable[Reply | Script] = (), host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._state = _State(replies=list(replies))
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Request bodies received, in order."""
        return self._state.requests

    @property
    def remaining(self) -> int:
        """Scripted replies not yet played."""
        return len(self._state.replies)

    def push(self, *replies: Reply | Script) -> None:
        """Append replies to the script."""
        with self._state.lock:
            self._state.replies.extend(replies)

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (what litellm's ``api_base`` wants)."""
        if self._server is None:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self._server.server_address[1]}/v1"

    def start(self) -> ScriptedOpenAIServer:
        """Bind and serve in a daemon thread."""
        self._server = _Server((self._host, self._port), _Handler)
        self._server.state = self._state
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def llm_agent_config(api_base: str, *, cycle_seconds: int = 3600, **sections: Any) -> GekkoConfig:
    """The shipped agent.yaml with the LLM brain deciding alone, on the model at ``api_base``.

    Args:
        api_base: the scripted server's base URL (``ScriptedOpenAIServer.api_base``).
        cycle_seconds: engine seconds between agent cycles.
        sections: top-level sections to replace (e.g. ``research={...}``).
    """
    from gekko_agent.config import GekkoConfig, load_config, shipped_config_path

    data = load_config(shipped_config_path()).model_dump(mode="python")
    data["brain"] = {
        "kind": "llm",
        "cycle_seconds": cycle_seconds,
        "llm": {"model": "openai/scripted", "api_base": api_base},
    }
    data["strategies"] = []
    data.update(sections)
    return GekkoConfig.model_validate(data)


def main(argv: list[str] | None = None) -> None:
    """Serve a JSON script until interrupted."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--script", required=True, help="JSON file: a list of replies")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    with open(args.script, encoding="utf-8") as fh:
        replies = [Reply.from_json(r) for r in json.load(fh)]
    server = ScriptedOpenAIServer(replies, port=args.port).start()
    print(f"serving {len(replies)} scripted replies at {server.api_base}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
