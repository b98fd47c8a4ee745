"""The deterministic observation and the prompt templates it is rendered into.

:func:`build_observation` reads a :class:`~gekko_agent.tools.context.ToolContext` and returns plain,
sorted, JSON-safe data (decimal strings, no floats, no wall clock): the same engine state always gives
the same bytes, which is what makes record/replay by request hash work. :class:`PromptSet` loads
``prompts/system.md`` and ``prompts/observation.md`` (``$name`` placeholders, :class:`string.Template`)
and versions them by the hash of their content.

When the engine view also offers cached news (:class:`NewsView`, i.e. ``research.sources`` lists
any), the observation carries ``news_sentiment``: per-instrument lexicon scores of the cached headlines
(:func:`~gekko_agent.tools.sentiment.headline_sentiment`) — numbers only, labelled as derived from
untrusted text, computed without a model and without the network.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Protocol, runtime_checkable

from gekko_agent.errors import ConfigError, GekkoError
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.market import compute_indicators
from gekko_agent.tools.registry import jsonable
from gekko_agent.tools.sentiment import headline_sentiment

__all__ = ["DEFAULT_PROMPTS", "NewsView", "PromptSet", "build_observation", "render_observation"]


@runtime_checkable
class NewsView(Protocol):
    """An engine view that also offers the headlines already fetched (no network, no model)."""

    def cached_headlines(self) -> Sequence[Mapping[str, Any]]:
        """Headline dicts (``title``, ``summary``...) from the research cache, in a stable order."""
        ...


DEFAULT_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
"""The bundled templates (``prompts/`` at the top of the repository, mapped into the wheel)."""


@dataclass(frozen=True, slots=True)
class PromptSet:
    """The agent's prompt templates and their content hash.

    Attributes:
        system: the system prompt template.
        observation: the per-cycle user message template.
        hash: first 16 hex digits of sha256 over both templates (journaled with each decision).
    """

    system: str
    observation: str
    hash: str

    @classmethod
    def load(cls, directory: Path | None = None) -> PromptSet:
        """Read ``system.md`` and ``observation.md`` from ``directory`` (default: the bundled ones).

        Raises:
            ConfigError: a template is missing.
        """
        d = directory or DEFAULT_PROMPTS
        try:
            system = (d / "system.md").read_text(encoding="utf-8")
            observation = (d / "observation.md").read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(str(d), "prompts", f"cannot read prompt template: {exc.strerror}") from None
        digest = hashlib.sha256(f"system.md\0{system}\0observation.md\0{observation}".encode()).hexdigest()
        return cls(system, observation, digest[:16])

    def render_system(self, **values: Any) -> str:
        """The system prompt with ``values`` substituted."""
        return Template(self.system).safe_substitute({k: str(v) for k, v in values.items()})

    def render_observation(self, **values: Any) -> str:
        """The observation message with ``values`` substituted."""
        return Template(self.observation).safe_substitute({k: str(v) for k, v in values.items()})


def _safe(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except GekkoError as exc:
        return {"error": str(exc)}


def build_observation(ctx: ToolContext, bars: int = 30) -> dict[str, Any]:
    """Everything the model sees at the start of a cycle, as sorted JSON-safe data.

    With a :class:`NewsView` as ``ctx`` it includes ``news_sentiment`` (see the module docstring).

    Args:
        ctx: the engine view.
        bars: recent closes per instrument to include.
    """
    p = ctx.portfolio()
    risk = ctx.risk_status()
    markets: dict[str, Any] = {}
    for iid in sorted(ctx.instruments()):
        q = ctx.quote(iid)
        history = ctx.bars(iid, max(bars, 31))
        fc = _safe(ctx.forecast, iid)
        markets[iid] = {
            "last": q.last,
            "bid": q.bid,
            "ask": q.ask,
            "ts": q.ts,
            "indicators": compute_indicators(history),
            "recent_closes": [b.close for b in history[-bars:]],
            "forecast": (
                None
                if fc is None
                else fc
                if isinstance(fc, dict)
                else {
                    "horizon_seconds": fc.horizon_seconds,
                    "quantiles": {str(k): v for k, v in sorted(fc.quantiles.items())},
                }
            ),
        }
    data: dict[str, Any] = jsonable(
        {
            "now": ctx.now,
            "portfolio": {
                "account_currency": p.account_currency,
                "equity": p.equity,
                "cash": dict(sorted(p.cash.items())),
                "positions": [
                    {"instrument_id": x.instrument_id, "quantity": x.quantity, "avg_price": x.avg_price}
                    for x in p.positions
                ],
                "unrealized_pnl": p.unrealized_pnl,
                "realized_pnl": p.realized_pnl,
            },
            "risk": {
                "state": risk.state,
                "max_order_notional": risk.max_order_notional,
                "limits": [
                    {
                        "name": x.name,
                        "used": x.used,
                        "limit": x.limit,
                        "remaining": x.remaining,
                        "unit": x.unit,
                    }
                    for x in risk.limits
                ],
            },
            "open_orders": [
                {
                    "order_id": o.order_id,
                    "instrument_id": o.instrument_id,
                    "side": o.side,
                    "remaining": o.remaining,
                }
                for o in ctx.open_orders()
            ],
            "markets": markets,
        }
    )
    if isinstance(ctx, NewsView):
        data["news_sentiment"] = headline_sentiment(ctx.cached_headlines(), markets)
    return data


def render_observation(prompts: PromptSet, observation: dict[str, Any], trigger: str) -> str:
    """The user message for one cycle."""
    body = json.dumps(observation, sort_keys=True, ensure_ascii=False, indent=1)
    return prompts.render_observation(
        now=observation.get("now", ""),
        trigger=trigger,
        state=observation.get("risk", {}).get("state", ""),
        observation=body,
    )
