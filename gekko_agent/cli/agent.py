"""``gekko agent``: run the LLM brain by hand.

``gekko agent once`` warms a paper engine up on bundled data (no trading), asks the model for one
decision through the tools (those of ``mcp.servers`` included), runs the proposed intents through
the real RiskEngine and the paper venue, and prints the decision, the risk outcomes and any alerts.
``--record DIR`` keeps the model exchanges; ``--replay DIR`` answers from them with no model at all.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["app"]

app = typer.Typer(help="The LLM agent: run one decision cycle, record or replay model exchanges.")

_CONFIG = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="agent.yaml to use (default: ./agent.yaml or the shipped one)."),
]


@app.callback()
def _group() -> None:
    """The LLM agent."""


def _at(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO time", param_hint="--at") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


async def _once(
    config: Path | None,
    model: str | None,
    api_base: str | None,
    record: Path | None,
    replay: Path | None,
    at: datetime,
    warmup: int,
) -> dict[str, Any]:
    from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
    from gekko_agent.agent.litellm_provider import LiteLlmProvider
    from gekko_agent.agent.llm import LlmPort
    from gekko_agent.agent.loop import LlmBrain
    from gekko_agent.agent.mcp_client import McpToolHub
    from gekko_agent.agent.record import RecordingLlm, ReplayLlm
    from gekko_agent.agent.settings import AgentSettings
    from gekko_agent.config import load_config
    from gekko_agent.domain import AlertRaised, RiskEvaluated
    from gekko_agent.runtime.replay import run_replay
    from gekko_agent.runtime.wiring import MemoryJournal, build_replay
    from gekko_agent.tools import builtin_registry

    cfg = load_config(config)
    llm_cfg = cfg.brain.llm
    llm: LlmPort
    if replay is not None:
        llm = ReplayLlm(replay, model)
    elif llm_cfg is not None:
        llm = LiteLlmProvider.from_config(llm_cfg, model=model, api_base=api_base)
    elif model is not None:
        llm = LiteLlmProvider(model, api_base=api_base)
    else:
        raise typer.BadParameter("no model: give --model (or brain.llm in agent.yaml, or --replay DIR)")
    if record is not None:
        llm = RecordingLlm(llm, record)
    journal = MemoryJournal()
    system = build_replay(cfg, journal, start=at, end=at, warmup_minutes=warmup)
    history = BarHistory()
    await run_replay(system, start=at + timedelta(days=1), on_bar=history.on_bar)  # warm-up only
    settings = AgentSettings.from_llm_config(llm_cfg) if llm_cfg is not None else AgentSettings()
    brain = LlmBrain(llm, builtin_registry(), journal, settings)
    ctx = TraderToolContext(system.trader, history, strategy=settings.strategy)
    async with McpToolHub(cfg.mcp.servers, alert=journal.append, clock=system.clock) as hub:
        brain.add_tools(hub.tools())  # mcp.servers: untrusted `server__tool`s; failures are alerts
        intents = await brain.decide(ctx, "gekko agent once")
    for intent in intents:
        await system.trader.propose(intent)
    decision = brain.last
    assert decision is not None
    outcomes = [e for e in journal.events if isinstance(e, RiskEvaluated)]
    alerts = [f"{e.source}: {e.message}" for e in journal.events if isinstance(e, AlertRaised)]
    return {
        "decision_id": decision.decision_id,
        "brain": brain.name,
        "model": llm.model,
        "action": decision.action,
        "reason": decision.reason,
        "prompt_hash": decision.prompt_hash,
        "steps": decision.steps,
        "tokens": decision.usage.total_tokens,
        "cost_usd": str(decision.usage.cost_usd),
        "intents": [
            {
                "intent_id": i.intent_id,
                "instrument_id": i.instrument_id,
                "side": str(i.side),
                "quantity": str(i.quantity),
                "rationale": i.rationale,
                "confidence": str(i.confidence),
            }
            for i in decision.intents
        ],
        "risk": [
            {
                "intent_id": o.intent_id,
                "outcome": o.outcome,
                "approved": str(o.approved_quantity),
                "why": o.explanation,
            }
            for o in outcomes
        ],
        "state": str(system.trader.state),
        "alerts": alerts,
    }


@app.command()
def once(
    model: Annotated[
        str | None, typer.Option(help="litellm model string (overrides brain.llm.model).")
    ] = None,
    api_base: Annotated[
        str | None, typer.Option("--api-base", help="Base URL of a local/proxy server.")
    ] = None,
    config: _CONFIG = None,
    record: Annotated[Path | None, typer.Option(help="Write every model exchange to this directory.")] = None,
    replay: Annotated[
        Path | None, typer.Option(help="Answer from exchanges recorded in this directory.")
    ] = None,
    at: Annotated[str, typer.Option(help="Engine time of the cycle (bundled data: March 2023).")] = (
        "2023-03-10T12:00:00+00:00"
    ),
    warmup: Annotated[int, typer.Option(help="Minutes of history replayed before the cycle.")] = 240,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Run one LLM decision cycle against the paper engine on bundled data and print the decision."""
    from gekko_agent.errors import GekkoError

    if record is not None and replay is not None:
        raise typer.BadParameter("give --record or --replay, not both")
    try:
        out = asyncio.run(_once(config, model, api_base, record, replay, _at(at), warmup))
    except GekkoError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(out, indent=1))
        return
    typer.echo(f"brain: llm ({out['model']})  decision {out['decision_id']}  prompt {out['prompt_hash']}")
    typer.echo(f"action: {out['action']} — {out['reason']}")
    typer.echo(
        f"steps: {out['steps']}  tokens: {out['tokens']}  cost: ${out['cost_usd']}  state: {out['state']}"
    )
    for i in out["intents"]:
        typer.echo(
            f"  intent {i['side']} {i['quantity']} {i['instrument_id']} "
            f"(conf {i['confidence']}): {i['rationale']}"
        )
    for r in out["risk"]:
        typer.echo(f"  risk {r['outcome']} approved={r['approved']}: {r['why']}")
    for a in out["alerts"]:
        typer.echo(f"  alert {a}")
