"""Research tools against the loopback news server: fetch, cache, TTL, untrusted output, hostile XML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gekko_agent.testing.news_server import ADVERSARIAL_PHRASES, NewsServer, serve_news
from gekko_agent.tools.feeds import FeedError, parse_feed
from gekko_agent.tools.registry import ToolRegistry, Trust
from gekko_agent.tools.research import ResearchConfig, ResearchService, research_tools


class _Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def news() -> Iterator[NewsServer]:
    with serve_news() as server:
        yield server


def _service(news: NewsServer, tmp_path: Path, clock: _Clock, **paths: str) -> ResearchService:
    sources = [{"name": n, "url": news.base_url + p, "ttl_seconds": 60} for n, p in paths.items()]
    return ResearchService(ResearchConfig(sources=sources, cache_dir=tmp_path), clock=clock)


async def test_headlines_fetch_rss_and_atom_marked_untrusted(news: NewsServer, tmp_path: Path) -> None:
    svc = _service(news, tmp_path, _Clock(), markets="/feeds/markets.rss", crypto="/feeds/crypto.atom")
    reg = ToolRegistry(research_tools(svc))
    result = await reg.call("news_headlines", None, {"limit": 20})
    assert result.ok and result.trust is Trust.UNTRUSTED
    titles = [i["title"] for i in result.content["items"]]
    assert "USDC depegs after bank run at Silicon Valley Bank" in titles
    assert "Ether gains as staking withdrawals near" in titles
    assert all(i["trust"] == "untrusted" for i in result.content["items"])
    assert result.text().startswith('<untrusted_data source="news_headlines">')


async def test_headlines_cache_until_ttl_expires(news: NewsServer, tmp_path: Path) -> None:
    clock = _Clock()
    svc = _service(news, tmp_path, clock, markets="/feeds/markets.rss")
    await svc.headlines()
    await svc.headlines()
    assert news.hits["/feeds/markets.rss"] == 1
    clock.t += 59
    await svc.headlines(query="fed")
    assert news.hits["/feeds/markets.rss"] == 1
    clock.t += 2
    out = await svc.headlines(query="fed")
    assert news.hits["/feeds/markets.rss"] == 2
    assert [i["title"] for i in out["items"]] == ["Fed signals rate cut is not on the table"]
    # a second service over the same directory reuses the disk cache
    again = _service(news, tmp_path, clock, markets="/feeds/markets.rss")
    await again.headlines()
    assert news.hits["/feeds/markets.rss"] == 2


async def test_adversarial_items_arrive_only_inside_envelope(news: NewsServer, tmp_path: Path) -> None:
    svc = _service(news, tmp_path, _Clock(), adv="/feeds/adversarial.rss")
    result = await ToolRegistry(research_tools(svc)).call("news_headlines", None, {})
    text = result.text()
    head, _, body = text.partition("\n")
    assert head == '<untrusted_data source="news_headlines">'
    assert text.rstrip().endswith("</untrusted_data>")
    assert text.count("</untrusted_data>") == 1  # an item cannot close the envelope early
    for phrase in ADVERSARIAL_PHRASES:
        assert phrase in body


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/feeds/bomb.xml", "feed refused: it declares a DOCTYPE"),
        ("/feeds/xxe.xml", "feed refused: it declares a DOCTYPE"),
        ("/feeds/malformed.xml", "feed is not well-formed XML: mismatched tag"),
        ("/feeds/not-a-feed.xml", "not an RSS or Atom feed"),
        ("/status/503", "HTTP 503"),
    ],
)
async def test_hostile_or_broken_source_is_one_line_error(
    news: NewsServer, tmp_path: Path, path: str, expected: str
) -> None:
    svc = _service(news, tmp_path, _Clock(), bad=path, markets="/feeds/markets.rss")
    out = await svc.headlines()
    assert expected in out["errors"]["bad"]
    assert "\n" not in out["errors"]["bad"]
    assert len(out["items"]) == 3  # the good source still answers


def test_parse_feed_refuses_entities_without_doctype() -> None:
    with pytest.raises(FeedError, match="not well-formed"):
        parse_feed(b"<rss><channel><item><title>&boom;</title></item></channel></rss>")
    with pytest.raises(FeedError, match="over the"):
        parse_feed(b"<rss>" + b" " * 2_000_001 + b"</rss>")


async def test_article_only_from_listed_source(news: NewsServer, tmp_path: Path) -> None:
    svc = _service(news, tmp_path, _Clock(), markets="/feeds/markets.rss")
    reg = ToolRegistry(research_tools(svc))
    listed = await svc.headlines()
    link = listed["items"][0]["link"]
    ok = await reg.call("news_article", None, {"url": link})
    assert ok.ok and "Full story about Btc Rally" in ok.content["text"]
    assert "window.steal" not in ok.content["text"]
    denied = await reg.call("news_article", None, {"url": "http://169.254.169.254/latest/meta-data"})
    assert not denied.ok and "not from a configured news source" in denied.error


async def test_html_source_and_unknown_source(news: NewsServer, tmp_path: Path) -> None:
    cfg = ResearchConfig(
        sources=[{"name": "wrap", "url": news.base_url + "/page.html", "kind": "html"}], cache_dir=tmp_path
    )
    reg = ToolRegistry(research_tools(ResearchService(cfg)))
    out = await reg.call("news_headlines", None, json.dumps({"source": "wrap"}))
    assert out.content["items"][0]["title"] == "Market wrap"
    assert "Stocks slump" in out.content["items"][0]["summary"]
    bad = await reg.call("news_headlines", None, {"source": "reuters"})
    assert not bad.ok and "unknown source 'reuters'" in bad.error


def test_config_rejects_duplicates_and_non_http() -> None:
    with pytest.raises(ValueError, match="unique"):
        ResearchConfig(sources=[{"name": "a", "url": "http://x/1"}, {"name": "a", "url": "http://x/2"}])
    with pytest.raises(ValueError, match="http"):
        ResearchConfig(sources=[{"name": "a", "url": "file:///etc/passwd"}])


async def test_cached_headlines_read_disk_only_even_when_stale(news: NewsServer, tmp_path: Path) -> None:
    clock = _Clock()
    svc = _service(news, tmp_path, clock, markets="/feeds/markets.rss", crypto="/feeds/crypto.atom")
    assert svc.cached_headlines() == [] and news.hits == {}
    assert await svc.refresh() == {}
    assert await svc.refresh() == {}  # within the TTL: no second fetch
    assert news.hits == {"/feeds/markets.rss": 1, "/feeds/crypto.atom": 1}
    clock.t += 10_000  # far past the TTL: the cache is still what there is to read
    items = svc.cached_headlines()
    assert items == svc.cached_headlines() and news.hits["/feeds/markets.rss"] == 1
    assert [i["source"] for i in items] == ["markets"] * 3 + ["crypto"] * 2
    assert items[0]["title"] == "Bitcoin rallies to record high as ETF inflows surge"
    assert all(i["trust"] == "untrusted" for i in items)
    fresh = ResearchService(svc.config, clock=clock)  # another process, same cache directory
    assert fresh.cached_headlines() == items


async def test_refresh_reports_failing_sources(news: NewsServer, tmp_path: Path) -> None:
    svc = _service(news, tmp_path, _Clock(), ok="/feeds/markets.rss", down="/status/503")
    failed = await svc.refresh()
    assert list(failed) == ["down"] and "503" in failed["down"]
    assert {i["source"] for i in svc.cached_headlines()} == {"ok"}
