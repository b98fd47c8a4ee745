"""The LLM brain: one decision cycle = observe → model with tools (bounded) → propose_orders or hold.

Per cycle :meth:`LlmBrain.decide`:

1. stops at once (``hold``) when the daily token/$ budget is spent;
2. builds the deterministic observation and renders the prompt templates (their hash is journaled);
3. lets the model call the read-only tools for up to ``max_steps`` turns; tool output goes back as
   data with registered secrets masked, untrusted output inside its envelope (output longer than
   ``max_tool_output_chars`` is cut inside the envelope, which always closes); bad calls come back as
   one-line tool errors;
4. ends on a valid ``propose_orders`` (intents with rationale, confidence, horizon) or ``hold``;
   malformed answers are returned as tool errors at most ``max_invalid_answers`` times, then the cycle
   holds with the reason; a model failure or the step limit also holds;
5. journals exactly one ``AgentDecided`` (brain ``llm``) with messages, tool calls, the tool outputs
   used and the intents, and returns the intents stamped with its ``decision_id``.

The brain never reaches risk or a venue: the caller (the Trader) runs the intents through the
RiskEngine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from gekko_agent.agent.budget import DailyBudget, EventSink
from gekko_agent.agent.llm import LlmError, LlmPort, LlmResponse, Message, ToolCall, Usage
from gekko_agent.agent.observation import PromptSet, build_observation, render_observation
from gekko_agent.agent.settings import AgentSettings
from gekko_agent.domain import AgentDecided, OrderIntent, new_id
from gekko_agent.secrets import scrub, scrub_data
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.orders import OrderRequest, build_intent
from gekko_agent.tools.registry import (
    Tool,
    ToolError,
    ToolRegistry,
    ToolResult,
    Trust,
    jsonable,
    untrusted_envelope,
)

__all__ = ["Decision", "LlmBrain", "bounded_tool_text"]

PROPOSE, HOLD = "propose_orders", "hold"
# cancel_order queues a cancel of an own order (risk-checked); propose_limit_change queues a limit change
# that only people can approve
OFFERED_TRADING_TOOLS = frozenset({"cancel_order", "propose_limit_change"})
CUT_MARK = "\n[output cut]"


class _Hold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=600)


def _hold_tool() -> Tool:
    async def never(_ctx: Any, _args: dict[str, Any]) -> Any:
        raise ToolError("hold is handled by the agent loop")

    schema = {
        "type": "object",
        "properties": {"reason": {"type": "string", "description": "Why you hold, in one sentence."}},
        "required": ["reason"],
        "additionalProperties": False,
    }
    return Tool(
        name=HOLD,
        description="Finish the cycle without orders.",
        parameters=schema,
        runner=never,
        args_model=_Hold,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one cycle (also journaled as ``AgentDecided``).

    Attributes:
        decision_id: links intents, risk outcomes and orders to this cycle.
        action: ``propose_orders`` or ``hold``.
        reason: the model's hold reason, or why the loop held (budget, step limit, malformed output).
        intents: the proposed intents (stamped with ``decision_id``).
        steps: model turns used.
        usage: tokens and cost of the cycle.
        prompt_hash: the template version.
    """

    decision_id: str
    action: str
    reason: str
    intents: tuple[OrderIntent, ...]
    steps: int
    usage: Usage
    prompt_hash: str


class LlmBrain:
    """The LLM agent as a brain.

    Args:
        llm: the model port (litellm provider, recorder or replayer).
        registry: the tools offered. Of its trading tools only ``cancel_order`` (it queues a cancel
            of one of the agent's own open orders, which the Trader risk-checks) and
            ``propose_limit_change`` (it queues a limit change that only people can approve) are
            offered; orders are proposed by the loop's own final ``propose_orders``, or ``hold``.
        journal: where the decision (and budget alerts) are journaled.
        settings: step limits, budgets, prompts.
        budget: shared daily budget (when None one is made from ``settings``; with a ledger as
            ``journal`` it restores the day's spend from it, so a restart keeps the cap).
    """

    name = "llm"

    def __init__(
        self,
        llm: LlmPort,
        registry: ToolRegistry,
        journal: EventSink,
        settings: AgentSettings | None = None,
        budget: DailyBudget | None = None,
    ) -> None:
        self.llm = llm
        self.settings = settings or AgentSettings()
        self.registry = ToolRegistry(
            [t for t in registry.tools() if t.read_only or t.name in OFFERED_TRADING_TOOLS]
        )
        self.journal = journal
        self.budget = budget or DailyBudget.for_journal(
            self.settings.daily_token_budget, self.settings.daily_cost_budget_usd, journal, self.name
        )
        self.prompts = PromptSet.load(self.settings.prompts_dir)
        self._final = {PROPOSE: Tool.from_function(_propose_schema, name=PROPOSE), HOLD: _hold_tool()}
        self._schemas: list[dict[str, Any]] = []
        self._refresh_schemas()
        self.last: Decision | None = None

    def _refresh_schemas(self) -> None:
        self._schemas = [*self.registry.openai_schemas(), *(t.openai_schema() for t in self._final.values())]

    def add_tools(self, tools: Iterable[Tool]) -> list[str]:
        """Offer more read-only tools from the next cycle on (e.g. an MCP server's, once connected).

        Trading tools and tools whose name is taken (or is ``propose_orders`` / ``hold``) are skipped.

        Returns:
            The names added.
        """
        added = []
        for t in tools:
            if t.read_only and t.name not in self.registry and t.name not in self._final:
                self.registry.add(t)
                added.append(t.name)
        self._refresh_schemas()
        return added

    async def decide(self, ctx: ToolContext, trigger: str) -> list[OrderIntent]:
        """Run one cycle; returns the intents to send through risk (empty on hold)."""
        cycle = _Cycle(self, ctx, trigger)
        decision = await cycle.run()
        self.last = decision
        return list(decision.intents)


def _propose_schema(orders: Annotated[list[OrderRequest], Field(min_length=1, max_length=10)]) -> None:
    """Finish the cycle by proposing orders; each goes through the risk engine, which may resize or deny it.

    Args:
        orders: one to ten orders, each with a rationale, a confidence (0 to 1) and a horizon.
    """


class _Cycle:
    """The state of one decision cycle."""

    def __init__(self, brain: LlmBrain, ctx: ToolContext, trigger: str) -> None:
        self.b, self.ctx, self.trigger = brain, ctx, trigger
        self.decision_id = new_id("dc")
        self.now = ctx.now
        self.messages: list[Message] = []
        self.calls: list[dict[str, Any]] = []
        self.used: list[dict[str, Any]] = []
        self.usage = Usage()
        self.steps = 0
        self.invalid = 0
        self.errors: list[str] = []

    async def run(self) -> Decision:
        s = self.b.settings
        spent = self.b.budget.exhausted(self.now)
        if spent:
            return self._finish(HOLD, f"agent stopped: {spent}", ())
        obs = build_observation(self.ctx, s.observation_bars)
        prompts = self.b.prompts
        self.messages = [
            {"role": "system", "content": prompts.render_system(max_steps=s.max_steps)},
            {"role": "user", "content": render_observation(prompts, obs, self.trigger)},
        ]
        while self.steps < s.max_steps:
            self.steps += 1
            try:
                resp = await self.b.llm.request(self.messages, self.b._schemas)
            except LlmError as exc:
                return self._finish(HOLD, f"model unavailable: {exc}", ())
            self.usage = self.usage + resp.usage
            spent = self.b.budget.charge(resp.usage, self.now)
            self.messages.append(resp.message())
            final = await self._answer(resp)
            if final is not None:
                return final
            if self.invalid > s.max_invalid_answers:
                return self._finish(
                    HOLD, f"malformed model output {self.invalid} times: {self.errors[-1]}", ()
                )
            if spent:
                return self._finish(HOLD, f"agent stopped: {spent}", ())
        return self._finish(
            HOLD, f"step limit reached ({s.max_steps} model turns) without a final answer", ()
        )

    def _malformed(self, message: str) -> None:
        self.invalid += 1
        self.errors.append(message)

    async def _answer(self, resp: LlmResponse) -> Decision | None:
        if not resp.tool_calls:
            problem = "answer by calling propose_orders or hold (a plain text answer is not a decision)"
            self._malformed(problem)
            self.messages.append({"role": "user", "content": f'{{"error": "{problem}"}}'})
            return None
        for call in resp.tool_calls:
            if call.name not in self.b._final:
                await self._tool(call)
                continue
            final = self._final(call)
            if final is not None:
                return final
        return None

    def _final(self, call: ToolCall) -> Decision | None:
        tool = self.b._final[call.name]
        self.calls.append({"id": call.id, "name": call.name, "arguments": call.arguments})
        try:
            args = tool.validate(call.arguments)
            if call.name == HOLD:
                return self._finish(HOLD, str(args["reason"]), ())
            orders: list[OrderRequest] = args["orders"]
            intents = tuple(
                build_intent(o, strategy=self.ctx.strategy, now=self.now, decision_id=self.decision_id)
                for o in orders
            )
        except (ToolError, ValueError) as exc:
            message = str(exc).splitlines()[0]
            self._malformed(message)
            self._reply(call, f'{{"error": {_quote(message + "; fix the call or hold")}}}')
            return None
        return self._finish(
            PROPOSE, "; ".join(f"{o.side} {o.quantity} {o.instrument_id}" for o in orders), intents
        )

    async def _tool(self, call: ToolCall) -> None:
        raw = await self.b.registry.call(call.name, self.ctx, call.arguments)
        # tool output comes from outside (web, MCP servers): no secret it echoes reaches the model or journal
        result = dataclasses.replace(raw, content=scrub_data(raw.content), error=scrub(raw.error))
        text = bounded_tool_text(result, self.b.settings.max_tool_output_chars)
        self.calls.append(
            {
                "id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "ok": result.ok,
                "error": result.error,
            }
        )
        if result.bad_arguments:
            self._malformed(result.error)
        if result.ok:
            self.used.append(
                {
                    "call_id": call.id,
                    "tool": call.name,
                    "trust": str(result.trust),
                    "chars": len(text),
                    "sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
                }
            )
        self._reply(call, text)

    def _reply(self, call: ToolCall, content: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content})

    def _finish(self, action: str, reason: str, intents: tuple[OrderIntent, ...]) -> Decision:
        b = self.b
        summary = (
            reason
            if action == HOLD
            else "; ".join(f"{i.side} {i.quantity} {i.instrument_id}" for i in intents)
        )
        detail: dict[str, Any] = {
            "trigger": self.trigger,
            "model": b.llm.model,
            "reason": reason,
            "steps": self.steps,
            "invalid_answers": self.invalid,
            "errors": list(self.errors),
            "messages": _float_free(self.messages),
            "tool_calls": _float_free(self.calls),
            "tool_outputs_used": self.used,
            "intents": [_float_free(jsonable(dataclasses.asdict(i))) for i in intents],
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
                "cost_usd": str(self.usage.cost_usd),
            },
            "budget": b.budget.status(self.now).to_json(),
        }
        b.journal.append(
            AgentDecided(
                ts=self.now,
                decision_id=self.decision_id,
                brain=b.name,
                action=action,
                summary=summary[:500],
                prompt_hash=b.prompts.hash,
                detail=detail,
            )
        )
        return Decision(self.decision_id, action, reason, intents, self.steps, self.usage, b.prompts.hash)


def bounded_tool_text(result: ToolResult, limit: int) -> str:
    """What the model reads of ``result``: at most ``limit`` characters, ending in a cut mark when cut.

    Untrusted output is cut *inside* its envelope, so the closing ``</untrusted_data>`` tag is always
    there (only an envelope longer than ``limit`` on its own can exceed it).

    Args:
        result: the tool's result.
        limit: ``max_tool_output_chars``.
    """
    text = result.text()
    if len(text) <= limit:
        return text
    if result.trust is not Trust.UNTRUSTED:
        return text[: max(limit - len(CUT_MARK), 0)] + CUT_MARK
    body = dataclasses.replace(result, trust=Trust.TRUSTED).text()
    keep = limit - len(untrusted_envelope(result.name, CUT_MARK))
    while True:
        text = untrusted_envelope(result.name, body[: max(keep, 0)] + CUT_MARK)
        if len(text) <= limit or keep <= 0:
            return text
        keep -= len(text) - limit  # the envelope escaped tag-like text in the body: cut that much more


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _float_free(value: Any) -> Any:
    """Journal events carry no floats: turn any float (e.g. in model-sent JSON) into its decimal string."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _float_free(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_float_free(v) for v in value]
    return value
