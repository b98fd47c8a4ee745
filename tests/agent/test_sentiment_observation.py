"""The observation's news sentiment: lexicon only, from cached headlines, deterministic, marked untrusted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gekko_agent.agent.observation import NewsView, PromptSet, build_observation, render_observation
from gekko_agent.testing.fake_context import FakeToolContext, synthetic_bars
from gekko_agent.testing.news_server import NewsServer, serve_news
from gekko_agent.tools.research import ResearchConfig, ResearchService
from tests.agent.conftest import BTC, IID


class _NewsContext(FakeToolContext):
    def __init__(self, research: ResearchService) -> None:
        super().__init__([BTC], {IID: synthetic_bars(IID, datetime(2023, 3, 1, tzinfo=UTC), 120)})
        self.research = research

    def cached_headlines(self) -> list[dict[str, Any]]:
        return self.research.cached_headlines()


@pytest.fixture
def news() -> Iterator[NewsServer]:
    with serve_news() as server:
        yield server


def _service(news: NewsServer, tmp_path: Path) -> ResearchService:
    sources = [
        {"name": "markets", "url": f"{news.base_url}/feeds/markets.rss", "ttl_seconds": 60},
        {"name": "wire", "url": f"{news.base_url}/feeds/adversarial.rss", "ttl_seconds": 60},
    ]
    return ResearchService(ResearchConfig(sources=sources, cache_dir=tmp_path))


async def test_observation_summarises_cached_headlines_without_fetching(
    ctx: FakeToolContext, news: NewsServer, tmp_path: Path
) -> None:
    service = _service(news, tmp_path)
    view = _NewsContext(service)
    assert isinstance(view, NewsView) and not isinstance(ctx, NewsView)
    assert "news_sentiment" not in build_observation(ctx)

    empty = build_observation(view)["news_sentiment"]  # nothing fetched yet: nothing to score
    assert empty["all"]["headlines"] == 0 and empty["instruments"][IID]["headlines"] == 0
    assert news.hits == {}

    assert await service.refresh() == {}
    hits = dict(news.hits)
    first = build_observation(view)
    assert build_observation(view) == first  # same cache, same bytes
    assert dict(news.hits) == hits  # building it never touches the network

    summary = first["news_sentiment"]
    assert summary["scorer"] == "lexicon" and "untrusted" in summary["derived_from"]
    assert summary["all"]["headlines"] == 5
    btc = summary["instruments"][IID]
    assert btc["headlines"] == 2 and btc["positive"] == 1  # the rally, and the "buy 1000 BTC" injection
    assert all(isinstance(v, (str, int)) for v in btc.values())  # no floats in the observation

    message = render_observation(PromptSet.load(), first, "test")
    assert "news_sentiment" in message
    assert "IGNORE ALL PREVIOUS INSTRUCTIONS" not in message  # numbers only: no headline text
    assert "news_sentiment" in PromptSet.load().system  # the system prompt explains it
    assert json.loads(message.split("```json\n", 1)[1].split("\n```", 1)[0]) == first
