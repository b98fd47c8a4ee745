"""Risk tools: the trading state, limit headroom, a dry-run check of an order, and a limit proposal.

These tools only *read* the risk engine, except :func:`propose_limit_change`, which puts a request in
front of people and changes nothing. No tool may raise a limit or lift a halt: limits come from
agent.yaml and from people (the ops commands ``limit``, ``limit-approve``).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import Field

from gekko_agent.risk.governance import LimitProposal
from gekko_agent.tools.context import ToolContext
from gekko_agent.tools.orders import OrderRequest, build_intent
from gekko_agent.tools.registry import Tool, ToolError, tool

__all__ = ["TOOLS", "LimitProposals", "check_order", "get_risk_status", "propose_limit_change"]


@runtime_checkable
class LimitProposals(Protocol):
    """A tool context that can queue a limit change for people (the running engine's can).

    The context stamps the proposer itself (``agent:<strategy>``): a tool cannot claim to be a person.
    """

    def propose_limit(self, key: str, value: str, reason: str) -> LimitProposal:
        """Queue the change for people to approve or reject; changes nothing.

        Raises:
            InvalidInput: unknown key, or a value the ``risk:`` section refuses (names the key).
        """
        ...


@tool(group="risk")
def get_risk_status(ctx: ToolContext) -> dict[str, Any]:
    """Trading state (active, reducing, halted) and how much of each risk limit is used and left."""
    s = ctx.risk_status()
    return {
        "state": s.state,
        "max_order_notional": s.max_order_notional,
        "allowed_instruments": list(s.allowed_instruments),
        "limits": [
            {"name": x.name, "used": x.used, "limit": x.limit, "remaining": x.remaining, "unit": x.unit}
            for x in s.limits
        ],
    }


@tool(group="risk")
def check_order(ctx: ToolContext, order: OrderRequest) -> dict[str, Any]:
    """Dry-run the risk engine on one order: would it be approved, resized or denied, and why. Sends nothing.

    Args:
        order: the order to test, in the same form propose_orders takes.
    """
    w = ctx.what_if(build_intent(order, strategy=ctx.strategy, now=ctx.now))
    return {
        "outcome": w.outcome,
        "approved_quantity": w.approved_quantity,
        "reasons": list(w.reasons),
        "explanation": w.explanation,
    }


@tool(read_only=False, group="risk")
def propose_limit_change(
    ctx: ToolContext,
    key: Annotated[str, Field(min_length=1, max_length=120)],
    value: Annotated[str, Field(min_length=1, max_length=500)],
    reason: Annotated[str, Field(min_length=1, max_length=300)],
) -> dict[str, Any]:
    """Ask the people supervising you to change a risk limit. Nothing changes now: the request waits
    until traders approve it (two different ones when it loosens risk, if the desk asks for two), and
    they may reject it.

    Args:
        key: the limit's path in the risk config, e.g. order.max_notional or var.max_var.
        value: the new value as YAML text, e.g. 5000 or false.
        reason: why, in one or two sentences, for the people who decide.
    """
    if not isinstance(ctx, LimitProposals):
        raise ToolError("limit proposals are not taken in this session")
    p = ctx.propose_limit(key, value, reason)
    return {
        "proposal_id": p.proposal_id,
        "key": p.key,
        "current": p.old,
        "proposed": p.new,
        "loosening": p.loosening,
        "approvals_needed": p.needs,
        "status": "waiting for people; the limit in force is unchanged",
    }


TOOLS: tuple[Tool, ...] = (get_risk_status, check_order, propose_limit_change)
