"""The ToolContext of standalone ``gekko mcp serve``: a frozen snapshot whose trading tools refuse.

Standalone, the server is not attached to a running engine: it answers read tools from a paper
replay warmed up to ``demo.start`` (see :func:`gekko_agent.runtime.wiring.mcp_tool_context`), which
does not move. Proposals and cancels made there could reach neither the risk engine nor a venue, so
they are refused with :data:`REFUSAL` rather than queued where nobody would take them. The what-if
risk check (``check_order``) still answers, against the snapshot, and says so. To trade through MCP,
run ``gekko run`` with ``mcp.serve.beside_engine: true`` (:mod:`gekko_agent.mcp.attached`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gekko_agent.agent.engine_context import BarHistory, TraderToolContext
from gekko_agent.domain import OrderIntent
from gekko_agent.errors import InvalidInput

if TYPE_CHECKING:
    from gekko_agent.runtime.trader import Trader

__all__ = ["REFUSAL", "ReplaySnapshotContext"]

REFUSAL = (
    "refused: this server is a snapshot, not attached to an engine, so nothing was queued; "
    "run `gekko run` with mcp.serve.beside_engine: true (and enabled_trading) to trade"
)
"""What a trading tool answers (as a tool error) on a standalone snapshot server."""


class ReplaySnapshotContext(TraderToolContext):
    """Read-only view of a paper replay frozen at one time; ``propose``/``cancel_own`` refuse.

    Args:
        trader: the replay's Trader (no longer fed).
        history: the bars it saw.
        snapshot_of: what the snapshot is, for the server's instructions and tool descriptions.
    """

    def __init__(self, trader: Trader, history: BarHistory, *, snapshot_of: str) -> None:
        super().__init__(trader, history, strategy="mcp")
        self.snapshot_of = snapshot_of

    def propose(self, intents: Sequence[OrderIntent]) -> list[str]:
        """Refuse: there is no engine to take the proposal.

        Raises:
            InvalidInput: always (:data:`REFUSAL`).
        """
        raise InvalidInput(REFUSAL)

    def cancel_own(self, order_id: str) -> bool:
        """Refuse: there is no engine to send the cancel.

        Raises:
            InvalidInput: always (:data:`REFUSAL`).
        """
        raise InvalidInput(REFUSAL)
