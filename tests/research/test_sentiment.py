"""The lexicon sentiment scorer: known sentences, negation, intensity, phrases, and the LLM hook."""

from __future__ import annotations

import pytest

from gekko_agent.tools.registry import ToolRegistry
from gekko_agent.tools.sentiment import score_text, sentiment_tools


def test_bullish_headline_scores_positive_with_breakdown() -> None:
    s = score_text("Bitcoin rallies to record high as ETF inflows surge")
    assert [h.term for h in s.hits] == ["rallies", "record high", "inflows", "surge"]
    assert s.total == pytest.approx(2.7)
    assert s.score == pytest.approx(2.7 / (2.7**2 + 4) ** 0.5, abs=1e-4)
    assert s.label == "positive"
    assert s.explain().splitlines()[-1] == "total +2.70 -> score +0.80 (positive)"


def test_bank_run_phrase_beats_its_words() -> None:
    s = score_text("USDC depegs after bank run")
    assert [(h.term, h.contribution) for h in s.hits] == [("depegs", -0.8), ("bank run", -0.9)]
    assert s.label == "negative"


def test_negation_flips_and_halves() -> None:
    s = score_text("Exchange did not crash")
    (hit,) = s.hits
    assert hit.negated and hit.contribution == pytest.approx(0.45)
    assert "negated" in s.explain()
    assert score_text("isn't bullish").hits[0].contribution == pytest.approx(-0.4)


def test_intensity_modifiers() -> None:
    assert score_text("shares fell sharply").hits[0].contribution == pytest.approx(-0.4)
    assert score_text("shares sharply fell").hits[0].contribution == pytest.approx(-0.6)
    assert score_text("slightly weaker").hits[0].multiplier == 0.5


def test_neutral_text_has_no_hits() -> None:
    s = score_text("The committee meets on Tuesday.")
    assert s.hits == () and s.score == 0 and s.label == "neutral"


async def test_tool_reports_lexicon_and_optional_llm() -> None:
    async def model(text: str) -> float:
        return 3.0 if "rally" in text else -0.2

    reg = ToolRegistry(sentiment_tools(model))
    out = await reg.call("sentiment_score", None, {"text": "BTC rally", "use_llm": True})
    assert out.ok and out.content["method"] == "lexicon"
    assert out.content["llm"] == {"score": 1.0}  # clipped
    plain = await ToolRegistry(sentiment_tools()).call(
        "sentiment_score", None, {"text": "x", "use_llm": True}
    )
    assert "no language model" in plain.content["llm"]["error"]
    long = await reg.call("sentiment_score", None, {"text": "a" * 20_001})
    assert not long.ok
