"""Parse news feeds (RSS 2.0, RSS 1.0/RDF, Atom) and HTML pages into plain headline items, safely.

Feeds come from the web, so the parser trusts nothing:

* no DTD at all: a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (the carrier of "billion laughs"
  entity expansion and external-entity reads) is refused before any element is built;
* a size cap on the document and on every text field, and a depth cap on nesting;
* malformed XML becomes :class:`FeedError` with a one-line message, never a traceback.

The XML is read with expat directly (not ``xml.etree`` parsing entry points) so that the doctype
and entity handlers can refuse the document the moment the declaration appears.
:func:`html_text` extracts the visible text of an HTML page with the stdlib ``html.parser``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from xml.parsers import expat

from gekko_agent.errors import GekkoError

__all__ = ["MAX_DOCUMENT_BYTES", "FeedError", "FeedItem", "html_text", "parse_feed"]

MAX_DOCUMENT_BYTES = 2_000_000
"""Largest feed or page accepted, in bytes."""
MAX_FIELD_CHARS = 4_000
"""Longest title/summary kept; longer text is cut."""
_MAX_DEPTH = 64
_ATOM = "http://www.w3.org/2005/Atom"
_SKIP_HTML = {"script", "style", "noscript", "template", "svg", "head"}
_BLOCK_HTML = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "article", "section"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")


class FeedError(GekkoError):
    """A feed or page could not be read safely (hostile, malformed or too large)."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One headline from a feed.

    Attributes:
        title: the headline.
        link: the article URL ("" when the feed gave none).
        published: publication time (UTC) when the feed gave a readable one.
        summary: the description or summary, as plain text.
    """

    title: str
    link: str
    published: datetime | None
    summary: str


class _Node:
    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node] = []
        self.text: list[str] = []

    def local(self) -> str:
        return self.tag.rsplit("}", 1)[-1]

    def ns(self) -> str:
        return self.tag[1:].split("}", 1)[0] if self.tag.startswith("{") else ""

    def child(self, name: str) -> _Node | None:
        return next((c for c in self.children if c.local() == name), None)

    def find_all(self, name: str) -> list[_Node]:
        found: list[_Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            if node.local() == name:
                found.append(node)
            stack.extend(reversed(node.children))
        return found

    def content(self) -> str:
        return "".join(self.text)


def _refuse(what: str) -> Any:
    def handler(*_args: Any) -> None:
        raise FeedError(f"feed refused: it declares {what} (DTDs and entities are not accepted)")

    return handler


def _parse_xml(data: bytes) -> _Node:
    """Build a small tree from ``data`` with expat, refusing any DTD or entity declaration."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("a DOCTYPE")
    parser.EntityDeclHandler = _refuse("an entity")
    parser.UnparsedEntityDeclHandler = _refuse("an unparsed entity")
    parser.ExternalEntityRefHandler = _refuse("an external entity")
    root = _Node("", {})
    stack = [root]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if len(stack) > _MAX_DEPTH:
            raise FeedError(f"feed refused: nesting deeper than {_MAX_DEPTH} levels")
        node = _Node("{" + tag if "}" in tag else tag, attrs)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def data_handler(text: str) -> None:
        node = stack[-1]
        if sum(len(t) for t in node.text) < MAX_FIELD_CHARS * 4:
            node.text.append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data_handler
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FeedError(
            f"feed is not well-formed XML: {expat.ErrorString(exc.code)} at line {exc.lineno}"
        ) from None
    if not root.children:
        raise FeedError("feed is empty")
    return root.children[0]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def _date(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            ts = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _text_of(node: _Node | None) -> str:
    """Plain text of a feed field (descriptions often carry escaped HTML)."""
    if node is None:
        return ""
    raw = node.content()
    return _clip(html_text(raw) if "<" in raw else html.unescape(raw))


def _atom_link(entry: _Node) -> str:
    links = [c for c in entry.children if c.local() == "link"]
    for link in links:
        if link.attrs.get("rel", "alternate") == "alternate" and link.attrs.get("href"):
            return link.attrs["href"].strip()
    return links[0].attrs.get("href", "").strip() if links else ""


def parse_feed(data: bytes, *, max_items: int = 50) -> list[FeedItem]:
    """Parse an RSS or Atom document into headline items (newest first as the feed orders them).

    Args:
        data: the raw document.
        max_items: most items returned.

    Raises:
        FeedError: the document is too large, declares a DTD or entity, is malformed, or is not a feed.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"feed refused: {len(data)} bytes is over the {MAX_DOCUMENT_BYTES}-byte limit")
    root = _parse_xml(data)
    items: list[FeedItem] = []
    if root.local() == "feed" and root.ns() == _ATOM:
        for entry in root.find_all("entry")[:max_items]:
            summary = entry.child("summary") or entry.child("content")
            items.append(
                FeedItem(
                    title=_text_of(entry.child("title")),
                    link=_atom_link(entry),
                    published=_date(
                        (entry.child("published") or entry.child("updated") or _Node("", {})).content()
                    ),
                    summary=_text_of(summary),
                )
            )
        return items
    if root.local() not in ("rss", "RDF"):
        raise FeedError(f"not an RSS or Atom feed (root element <{root.local()}>)")
    for item in root.find_all("item")[:max_items]:
        when = item.child("pubDate") or item.child("date")
        items.append(
            FeedItem(
                title=_text_of(item.child("title")),
                link=(item.child("link") or _Node("", {})).content().strip(),
                published=_date(when.content()) if when is not None else None,
                summary=_text_of(item.child("description")),
            )
        )
    return items


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_HTML:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        if tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_HTML and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        if tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_text(markup: str, *, with_title: bool = False) -> str:
    """The visible text of an HTML fragment or page (scripts, styles and the head dropped).

    Args:
        markup: the HTML.
        with_title: put the page ``<title>`` on the first line.
    """
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    body = _LINES.sub("\n\n", _SPACES.sub(" ", "".join(extractor.parts)))
    body = "\n".join(line.strip() for line in body.splitlines()).strip()
    title = " ".join("".join(extractor.title).split())
    return f"{title}\n\n{body}".strip() if with_title and title else body
