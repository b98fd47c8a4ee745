"""The LLM port: ``request(messages, tools) -> LlmResponse``, separate from any provider.

The agent loop talks only to :class:`LlmPort`. :mod:`gekko_agent.agent.litellm_provider` implements it
over litellm (auth, HTTP, retries, cost); :mod:`gekko_agent.agent.record` wraps any port to record or
replay exchanges. Messages and tool schemas use the OpenAI chat format, which litellm speaks for every
provider.

Errors (all :class:`~gekko_agent.errors.GekkoError`)::

    LlmError                 the model could not answer this cycle; the cycle ends as hold
    ├── LlmUnavailable       transient (timeout, connection, 429, 5xx) after the retries ran out
    ├── LlmRejected          the provider refused the request (auth, bad request, unknown model)
    └── ReplayMiss           --replay found no recorded answer for this request
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from gekko_agent.errors import GekkoError, RetryableError, UserError

__all__ = [
    "LlmError",
    "LlmPort",
    "LlmRejected",
    "LlmResponse",
    "LlmUnavailable",
    "Message",
    "ReplayMiss",
    "ToolCall",
    "Usage",
    "request_hash",
]

Message = dict[str, Any]
"""One chat message in the OpenAI format (``role``, ``content``, optional ``tool_calls``...)."""


class LlmError(GekkoError):
    """The model could not answer; the cycle ends as ``hold`` with this reason journaled."""


class LlmUnavailable(LlmError, RetryableError):
    """A transient provider failure that outlasted the retries."""


class LlmRejected(LlmError):
    """The provider refused the request (authentication, bad request, unknown model)."""


class ReplayMiss(LlmError, UserError):
    """``--replay`` has no recorded exchange for this request."""


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call the model asked for.

    Attributes:
        id: the call id (echoed in the tool result message).
        name: the tool name.
        arguments: the raw JSON argument string exactly as the model sent it.
    """

    id: str
    name: str
    arguments: str

    def message(self) -> dict[str, Any]:
        """This call as it appears in an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens and cost of one request (cost in USD, 0 when the model has no known price).

    Attributes:
        prompt_tokens: input tokens.
        completion_tokens: output tokens.
        cost_usd: the provider's price of the request.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cost_usd + other.cost_usd,
        )


@dataclass(frozen=True, slots=True)
class LlmResponse:
    """What the model answered.

    Attributes:
        content: assistant text (may be None when it only calls tools).
        tool_calls: tool calls, in order.
        finish_reason: ``stop``, ``tool_calls``, ``length``...
        usage: tokens and cost.
        model: the model that answered.
        latency_ms: wall time of the request (0 for replays).
    """

    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    latency_ms: int = 0

    def message(self) -> Message:
        """The assistant message to append to the conversation."""
        msg: Message = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [c.message() for c in self.tool_calls]
        return msg

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (record files)."""
        return {
            "content": self.content,
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls],
            "finish_reason": self.finish_reason,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cost_usd": str(self.usage.cost_usd),
            },
            "model": self.model,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LlmResponse:
        """Inverse of :meth:`to_json`."""
        u = data.get("usage") or {}
        return cls(
            content=data.get("content"),
            tool_calls=tuple(
                ToolCall(c["id"], c["name"], c["arguments"]) for c in data.get("tool_calls", ())
            ),
            finish_reason=str(data.get("finish_reason", "stop")),
            usage=Usage(
                int(u.get("prompt_tokens", 0)),
                int(u.get("completion_tokens", 0)),
                Decimal(str(u.get("cost_usd", "0"))),
            ),
            model=str(data.get("model", "")),
        )


class LlmPort(Protocol):
    """Anything that answers a chat request with tools."""

    @property
    def model(self) -> str:
        """The model identifier (journaled with each decision)."""
        ...

    async def request(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> LlmResponse:
        """One model turn.

        Args:
            messages: the conversation so far (OpenAI format).
            tools: tool schemas (OpenAI ``tools`` format).

        Raises:
            LlmError: the model could not answer.
        """
        ...


def request_hash(messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> str:
    """A stable hash of one request (messages and tools, not the model name) — the record/replay key.

    Tool-call ids the model invented are part of the conversation and therefore of the key; a replay
    reproduces them exactly because it replays the same answers.
    """
    blob = json.dumps(
        {"messages": list(messages), "tools": list(tools)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()
