"""Fixtures for the LLM agent: a scripted OpenAI-compatible server, a fake engine view, a brain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from gekko_agent.agent.litellm_provider import LiteLlmProvider
from gekko_agent.agent.loop import LlmBrain
from gekko_agent.agent.settings import AgentSettings
from gekko_agent.domain import AgentDecided, AssetClass, Instrument
from gekko_agent.runtime.wiring import MemoryJournal
from gekko_agent.testing.fake_context import FakeToolContext, synthetic_bars
from gekko_agent.testing.openai_server import ScriptedOpenAIServer
from gekko_agent.tools import builtin_registry

# litellm imports parts of itself on first request; pydantic warns about a TypedDict inside it. Narrow filter
# (the lead may move it to pyproject's filterwarnings).
LITELLM_WARNINGS = ("ignore:Items? .* (is|are) using the `ReadOnly` qualifier:UserWarning",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/agent/" in str(item.path).replace("\\", "/"):
            for spec in LITELLM_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


BTC = Instrument("BTC/USD", "paper", AssetClass.CRYPTO_SPOT, Decimal("0.01"), Decimal("0.00001"))
IID = BTC.id


async def _no_sleep(_s: float) -> None:
    return None


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as s:
        yield s


@pytest.fixture
def ctx() -> FakeToolContext:
    bars = synthetic_bars(IID, datetime(2023, 3, 1, tzinfo=UTC), 120)
    return FakeToolContext([BTC], {IID: bars})


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


BrainFactory = Callable[..., LlmBrain]


@pytest.fixture
def make_brain(server: ScriptedOpenAIServer, journal: MemoryJournal) -> BrainFactory:
    def make(**settings: Any) -> LlmBrain:
        llm = LiteLlmProvider("openai/scripted", api_base=server.api_base, max_retries=2, sleep=_no_sleep)
        return LlmBrain(llm, builtin_registry(), journal, AgentSettings(**settings))

    return make


def decisions(journal: MemoryJournal) -> list[AgentDecided]:
    """The AgentDecided events journaled so far."""
    return [e for e in journal.events if isinstance(e, AgentDecided)]


def order(qty: str = "0.1", side: str = "buy", iid: str = IID, **extra: Any) -> dict[str, Any]:
    """An order as the model would send it."""
    return {
        "instrument_id": iid,
        "side": side,
        "quantity": qty,
        "rationale": "trend up",
        "confidence": 0.6,
        **extra,
    }
