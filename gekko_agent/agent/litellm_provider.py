"""The litellm provider of the LLM port: any model string litellm accepts, local servers included.

litellm is imported only here. Its model cost map is kept local (``LITELLM_LOCAL_MODEL_COST_MAP``) so
importing it never reaches the network, and its telemetry is off. Transient failures (timeouts,
connection errors, 429, 5xx) are retried with exponential backoff; the rest become
:class:`~gekko_agent.agent.llm.LlmRejected`. Every answer carries its token counts and its cost
(litellm's price list, or the configured :class:`~gekko_agent.agent.settings.TokenPrice`).

This is a process boundary, so every registered secret (:mod:`gekko_agent.secrets`, the provider's own
key included) is masked in the messages sent, in the answer received and in the text of every error:
a provider that echoes the key in a 401 cannot get it into the journal.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from gekko_agent.agent.llm import LlmRejected, LlmResponse, LlmUnavailable, Message, ToolCall, Usage
from gekko_agent.agent.settings import TokenPrice
from gekko_agent.secrets import register_secret, scrub, scrub_data

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm import exceptions as lx

litellm.telemetry = False
litellm.suppress_debug_info = True

__all__ = ["LiteLlmProvider"]

_TRANSIENT: tuple[type[Exception], ...] = (
    lx.Timeout,
    lx.APIConnectionError,
    lx.RateLimitError,
    lx.ServiceUnavailableError,
    lx.InternalServerError,
    lx.BadGatewayError,
)
_NO_KEY = "sk-no-key"


class LiteLlmProvider:
    """:class:`~gekko_agent.agent.llm.LlmPort` over ``litellm.acompletion``.

    Args:
        model: litellm model string (``openai/gpt-4o``, ``ollama/llama3.1``, ``openai/<name>`` for an
            OpenAI-compatible local server).
        api_base: base URL of a local or proxy server.
        api_key: provider key (already resolved from its SecretRef).
        timeout_s: timeout of one request.
        max_retries: retries on transient errors.
        temperature: sampling temperature.
        backoff_s: first retry delay (doubles each retry).
        price: token price when litellm does not know the model's.
        sleep: the sleep used between retries (tests pass a fast one).
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: SecretStr | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        temperature: float = 0.0,
        backoff_s: float = 0.5,
        price: TokenPrice | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._model = model
        self.api_base = api_base
        self._api_key = api_key
        if api_key is not None:
            register_secret(api_key)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.temperature = temperature
        self.backoff_s = backoff_s
        self.price = price
        self._sleep = sleep
        self.requests = 0
        self.retries = 0

    @classmethod
    def from_config(
        cls,
        llm: Any,
        *,
        model: str | None = None,
        api_base: str | None = None,
        price: TokenPrice | None = None,
        backoff_s: float = 0.5,
        environ: Mapping[str, str] | None = None,
    ) -> LiteLlmProvider:
        """Build from agent.yaml's ``brain.llm`` section (``LlmConfig``); flags override model and base.

        Raises:
            ConfigError: the api_key reference cannot be resolved.
        """
        key = llm.api_key.resolve("agent.yaml", "brain.llm.api_key", environ) if llm.api_key else None
        return cls(
            model or llm.model,
            api_base=api_base or llm.api_base,
            api_key=key,
            timeout_s=float(llm.timeout_s),
            max_retries=int(llm.max_retries),
            temperature=float(llm.temperature),
            backoff_s=backoff_s,
            price=price,
        )

    @property
    def model(self) -> str:
        """The litellm model string."""
        return self._model

    def _kwargs(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": self._model,
            "messages": [scrub_data(dict(m)) for m in messages],
            "timeout": self.timeout_s,
            "temperature": self.temperature,
            "num_retries": 0,
            "max_retries": 0,
        }
        if tools:
            kw["tools"] = [dict(t) for t in tools]
            kw["tool_choice"] = "auto"
        if self.api_base:
            kw["api_base"] = self.api_base
        if self._api_key is not None:
            kw["api_key"] = self._api_key.get_secret_value()
        elif self.api_base:
            kw["api_key"] = _NO_KEY
        return kw

    async def request(self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]) -> LlmResponse:
        """One model turn, retried with backoff on transient errors.

        Raises:
            LlmUnavailable: transient failures outlasted the retries.
            LlmRejected: the provider refused the request.
        """
        kw = self._kwargs(messages, tools)
        attempt = 0
        while True:
            self.requests += 1
            t0 = time.perf_counter()
            try:
                resp = await litellm.acompletion(**kw)
            except _TRANSIENT as exc:
                if attempt >= self.max_retries:
                    raise LlmUnavailable(
                        f"{self._model}: {type(exc).__name__} after {attempt + 1} tries"
                    ) from None  # the vendor exception's text may carry the key: it does not travel
                self.retries += 1
                await self._sleep(self.backoff_s * (2**attempt))
                attempt += 1
                continue
            except Exception as exc:  # a vendor error of any other kind: translate at the edge
                # from None: the vendor exception's text may carry the key; only the scrubbed line travels
                raise LlmRejected(scrub(f"{self._model}: {type(exc).__name__}: {_short(exc)}")) from None
            return self._parse(resp, int((time.perf_counter() - t0) * 1000))

    def _parse(self, resp: Any, latency_ms: int) -> LlmResponse:
        choices = getattr(resp, "choices", None) or []
        if not choices:
            raise LlmRejected(f"{self._model}: the response has no choices")
        choice = choices[0]
        msg = choice.message
        calls = tuple(
            ToolCall(
                str(c.id or f"call_{i}"),
                str(c.function.name or ""),
                scrub(c.function.arguments) if isinstance(c.function.arguments, str) else "",
            )
            for i, c in enumerate(getattr(msg, "tool_calls", None) or [])
        )
        u = getattr(resp, "usage", None)
        prompt = int(getattr(u, "prompt_tokens", 0) or 0)
        completion = int(getattr(u, "completion_tokens", 0) or 0)
        return LlmResponse(
            content=scrub(msg.content) if isinstance(msg.content, str) else None,
            tool_calls=calls,
            finish_reason=str(choice.finish_reason or "stop"),
            usage=Usage(prompt, completion, self._cost(resp, prompt, completion)),
            model=str(getattr(resp, "model", "") or self._model),
            latency_ms=latency_ms,
        )

    def _cost(self, resp: Any, prompt: int, completion: int) -> Decimal:
        if self.price is not None:
            return self.price.cost(prompt, completion)
        try:
            usd = litellm.completion_cost(completion_response=resp, model=self._model)
        except Exception:  # unknown model (local servers): litellm has no price, so it costs nothing
            return Decimal(0)
        return Decimal(f"{usd:.8f}")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
