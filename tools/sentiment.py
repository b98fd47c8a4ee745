"""Sentiment of finance text: a transparent lexicon scorer (the offline baseline) and an LLM hook.

The lexicon scorer needs no model and explains itself. It reads the text as lower-case word tokens,
matches two- and three-word phrases before single words ("rate cut", "all-time high"), and adds up
the polarity of each match in ``[-1, +1]`` after two adjustments:

* **negation**: a term within three tokens after "not", "no", "never", "without", "n't", … flips
  sign and is damped by half ("not bullish" is -0.5 of "bullish");
* **intensity**: a booster just before a term ("sharply", "strongly", "record") multiplies it by 1.5,
  a softener ("slightly", "modestly") by 0.5.

The total is squashed into ``[-1, +1]`` with ``total / sqrt(total² + 4)``, so one strong word gives
about ±0.45 and agreement between several words pushes towards ±1. The label is ``positive`` above
+0.15, ``negative`` below -0.15, else ``neutral``. Every contributing term is listed with its base
polarity, modifiers and final contribution, so a person can see exactly why a headline scored as it did.

When a model is on, the agent may inject an :data:`LlmScorer`; ``sentiment_score`` then also reports
the model's score next to the lexicon's (the lexicon answer is always there, so the model's opinion
is never the only one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gekko_agent.tools.registry import Tool, ToolError, Trust

__all__ = ["LEXICON", "TOOLS", "LlmScorer", "SentimentScore", "TermHit", "score_text", "sentiment_tools"]

LlmScorer = Callable[[str], Awaitable[float]]
"""An injected model scorer: text in, polarity in [-1, 1] out."""

LEXICON: dict[str, float] = {
    # price action and market tone
    "rally": 0.7, "rallies": 0.7, "rallied": 0.7, "surge": 0.8, "surges": 0.8, "surged": 0.8,
    "soar": 0.8, "soars": 0.8, "soared": 0.8, "jump": 0.5, "jumps": 0.5, "jumped": 0.5,
    "gain": 0.5, "gains": 0.5, "gained": 0.5, "rise": 0.4, "rises": 0.4, "rose": 0.4,
    "rebound": 0.5, "rebounds": 0.5, "rebounded": 0.5, "recover": 0.5, "recovers": 0.5, "recovered": 0.5,
    "bullish": 0.8, "outperform": 0.6, "outperforms": 0.6, "upgrade": 0.6, "upgraded": 0.6,
    "beat": 0.5, "beats": 0.5, "record": 0.3, "strong": 0.5, "stronger": 0.5, "robust": 0.5,
    "growth": 0.4, "profit": 0.4, "profitable": 0.5, "optimism": 0.6, "optimistic": 0.6,
    "approval": 0.5, "approved": 0.5, "approves": 0.5, "adoption": 0.5, "inflows": 0.5, "inflow": 0.5,
    "partnership": 0.3, "breakthrough": 0.6, "stable": 0.3, "stabilizes": 0.4, "easing": 0.3,
    "plunge": -0.8, "plunges": -0.8, "plunged": -0.8, "crash": -0.9, "crashes": -0.9, "crashed": -0.9,
    "tumble": -0.7, "tumbles": -0.7, "tumbled": -0.7, "slump": -0.7, "slumps": -0.7, "slumped": -0.7,
    "fall": -0.4, "falls": -0.4, "fell": -0.4, "drop": -0.4, "drops": -0.4, "dropped": -0.4,
    "decline": -0.4, "declines": -0.4, "declined": -0.4, "sell-off": -0.7, "selloff": -0.7,
    "bearish": -0.8, "underperform": -0.6, "downgrade": -0.6, "downgraded": -0.6, "miss": -0.5,
    "misses": -0.5, "missed": -0.5, "weak": -0.5, "weaker": -0.5, "loss": -0.5, "losses": -0.5,
    "fear": -0.6, "fears": -0.6, "panic": -0.8, "volatile": -0.3, "volatility": -0.2,
    "outflows": -0.5, "outflow": -0.5, "lawsuit": -0.5, "sued": -0.5, "probe": -0.4, "fraud": -0.9,
    "hack": -0.8, "hacked": -0.8, "exploit": -0.7, "breach": -0.7, "bankrupt": -0.9, "bankruptcy": -0.9,
    "insolvent": -0.9, "insolvency": -0.9, "default": -0.7, "defaults": -0.7, "liquidation": -0.6,
    "liquidations": -0.6, "ban": -0.6, "bans": -0.6, "banned": -0.6, "crackdown": -0.6, "delisted": -0.7,
    "depeg": -0.8, "depegs": -0.8, "depegged": -0.8, "contagion": -0.8, "recession": -0.7, "inflation": -0.3,
    "halt": -0.5, "halted": -0.5, "warning": -0.4, "warns": -0.4, "risk": -0.2, "uncertainty": -0.4,
    # phrases (matched before their words)
    "all-time high": 0.7, "all time high": 0.7, "rate cut": 0.5, "rate cuts": 0.5, "short squeeze": 0.4,
    "beat expectations": 0.7, "better than expected": 0.6, "record high": 0.7, "buy rating": 0.5,
    "rate hike": -0.5, "rate hikes": -0.5, "missed expectations": -0.7, "worse than expected": -0.6,
    "profit warning": -0.8, "bank run": -0.9, "record low": -0.7, "sell rating": -0.5,
    "withdrawals halted": -0.9, "under investigation": -0.6,
}  # fmt: skip
"""Term → polarity in [-1, 1]; multi-word entries are phrases."""

_NEGATORS = {"not", "no", "never", "without", "nor", "neither", "hardly", "barely", "n't", "cannot", "lack"}
_BOOSTERS = {
    "sharply": 1.5, "strongly": 1.5, "massive": 1.5, "huge": 1.5, "heavily": 1.5, "very": 1.3,
    "significantly": 1.4, "slightly": 0.5, "modestly": 0.5, "somewhat": 0.6, "marginally": 0.5,
}  # fmt: skip
_NEGATION_WINDOW = 3
_THRESHOLD = 0.15
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|n't")
_MAX_PHRASE = max(len(k.split()) for k in LEXICON)


@dataclass(frozen=True, slots=True)
class TermHit:
    """One lexicon match and what it contributed.

    Attributes:
        term: the word or phrase matched.
        base: its lexicon polarity.
        negated: a negator came shortly before it (sign flipped, halved).
        multiplier: booster/softener factor applied (1.0 when none).
        contribution: what it added to the total.
    """

    term: str
    base: float
    negated: bool
    multiplier: float
    contribution: float


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """A lexicon score with its explanation.

    Attributes:
        score: polarity in [-1, 1].
        label: positive, negative or neutral.
        total: the raw sum before squashing.
        hits: every contributing term.
        tokens: how many tokens were read.
    """

    score: float
    label: str
    total: float
    hits: tuple[TermHit, ...]
    tokens: int

    def explain(self) -> str:
        """One line per term, then the total: a person can check the arithmetic."""
        lines = []
        for h in self.hits:
            mods = []
            if h.negated:
                mods.append("negated: x-0.5")
            if h.multiplier != 1.0:
                mods.append(f"intensity: x{h.multiplier:g}")
            extra = f" ({', '.join(mods)})" if mods else ""
            lines.append(f"{h.term!r} {h.base:+.2f}{extra} -> {h.contribution:+.2f}")
        lines.append(f"total {self.total:+.2f} -> score {self.score:+.2f} ({self.label})")
        return "\n".join(lines)


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'")
    out: list[str] = []
    for tok in _TOKEN.findall(text):
        if tok.endswith("n't") and tok != "n't":
            out.extend([tok[:-3], "n't"])
        else:
            out.append(tok)
    return out


def score_text(text: str) -> SentimentScore:
    """Score ``text`` with the finance lexicon (see the module docstring for the rules).

    Args:
        text: a headline, a summary or an article.
    """
    tokens = _tokens(text)
    hits: list[TermHit] = []
    i = 0
    while i < len(tokens):
        matched = None
        for n in range(min(_MAX_PHRASE, len(tokens) - i), 0, -1):
            candidate = " ".join(tokens[i : i + n])
            if candidate in LEXICON:
                matched = (candidate, n)
                break
        if matched is None:
            i += 1
            continue
        term, n = matched
        base = LEXICON[term]
        window = tokens[max(0, i - _NEGATION_WINDOW) : i]
        negated = any(t in _NEGATORS for t in window)
        multiplier = _BOOSTERS.get(tokens[i - 1], 1.0) if i > 0 else 1.0
        contribution = base * multiplier * (-0.5 if negated else 1.0)
        hits.append(TermHit(term, base, negated, multiplier, round(contribution, 4)))
        i += n
    total = sum(h.contribution for h in hits)
    score = total / math.sqrt(total * total + 4.0)
    label = "positive" if score > _THRESHOLD else "negative" if score < -_THRESHOLD else "neutral"
    return SentimentScore(round(score, 4), label, round(total, 4), tuple(hits), len(tokens))


def sentiment_tools(llm_scorer: LlmScorer | None = None) -> list[Tool]:
    """The sentiment tool, with the model scorer when one is injected.

    Args:
        llm_scorer: async text → polarity in [-1, 1], supplied by the agent when a model is on.
    """

    async def sentiment_score(text: str, use_llm: bool = False) -> dict[str, Any]:
        """Score the sentiment of finance text (-1 bearish .. +1 bullish) with an explained lexicon breakdown.

        Args:
            text: the text to score (a headline, summary or article; at most 20000 characters).
            use_llm: also ask the language model for its score, when one is configured.
        """
        if len(text) > 20_000:
            raise ToolError("text is longer than 20000 characters; score a summary instead")
        result = score_text(text)
        out: dict[str, Any] = {
            "method": "lexicon",
            "score": result.score,
            "label": result.label,
            "explanation": result.explain(),
            "terms": [{"term": h.term, "contribution": h.contribution} for h in result.hits],
        }
        if use_llm:
            if llm_scorer is None:
                out["llm"] = {"error": "no language model is configured; the lexicon score stands alone"}
            else:
                value = float(await llm_scorer(text))
                out["llm"] = {"score": max(-1.0, min(1.0, value)) if math.isfinite(value) else 0.0}
        return out

    return [Tool.from_function(sentiment_score, read_only=True, trust=Trust.UNTRUSTED, group="sentiment")]


TOOLS: tuple[Tool, ...] = tuple(sentiment_tools())
"""The lexicon-only sentiment tool (for :func:`gekko_agent.tools.builtin_registry`); with a model on,
register ``sentiment_tools(scorer)`` in its place (``ToolRegistry.add(..., replace=True)``)."""
