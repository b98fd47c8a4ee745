"""The Agent screen: every LLM cycle (holds and tool calls included), the same in ``gekko demo`` and
beside a headless run, from a paper run whose model is a scripted OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from gekko_agent.execution.approvals import ApprovalConfig, ApprovalQueue
from gekko_agent.ledger import Ledger
from gekko_agent.ops import CommandService, OpsConfig
from gekko_agent.risk.governance import ActorAuthority
from gekko_agent.runtime.dashboard import EngineSource, TeeJournal
from gekko_agent.runtime.ops_port import TraderView
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.testing.openai_server import (
    ScriptedOpenAIServer,
    hold,
    llm_agent_config,
    propose,
    tool_call,
)
from gekko_agent.tui.agent import AgentScreen
from gekko_agent.tui.app import GekkoApp
from gekko_agent.tui.ledger_book import LedgerBook
from gekko_agent.tui.ledger_source import LedgerSource
from gekko_agent.tui.model import DecisionRow, ToolCallRow
from gekko_agent.tui.tables import SortableTable
from tests.tui.conftest import END, START

IID = "BTC/USD@paper"


def _order(qty: str) -> dict[str, object]:
    return {"instrument_id": IID, "side": "buy", "quantity": qty, "rationale": "breakout", "confidence": 0.5}


def _text(app: GekkoApp) -> str:
    content = app.screen.query_one("#detail", Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def test_llm_holds_and_tool_calls_show_alike_in_process_and_from_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "llm.duckdb"
    with ScriptedOpenAIServer() as server, Ledger(path) as ledger:
        server.push(
            tool_call("get_quote", {"instrument_id": IID}),
            hold("waiting for a clearer trend"),
            tool_call("get_quote", {"instrument_id": "DOGE/USD@paper"}),
            propose(_order("0.01")),
            propose(_order("50")),
            *[hold() for _ in range(12)],
        )
        tee = TeeJournal(ledger)
        system = build_replay(llm_agent_config(server.api_base), tee, start=START, end=END)
        await run_replay(system, start=START)
        view = TraderView(system.trader, ApprovalQueue(ApprovalConfig(), tee, system.clock), ledger, "paper")
        commands = CommandService(view, OpsConfig(), ActorAuthority(), tee.append, system.clock)
        engine = EngineSource(view, commands, tee)
        live = engine.snapshot().decisions
        from_ledger = LedgerSource(path, LedgerBook.from_config(system.config)).snapshot().decisions
        assert live == from_ledger  # one fold, the same rows whichever way the events came
        held, proposed, oversized = live[0], live[1], live[2]
        assert (held.brain, held.action, held.intents, held.reason) == (
            "llm",
            "hold",
            (),
            "waiting for a clearer trend",
        )
        assert held.tool_calls[0] == ToolCallRow("get_quote", True, '{"instrument_id": "BTC/USD@paper"}')
        assert held.tool_calls[-1].name == "hold" and held.tool_calls[-1].ok is None
        assert held.model == "openai/scripted" and held.steps == 2
        assert "equity" in held.observation and "BTC/USD" in held.observation
        failed = proposed.tool_calls[0]
        assert failed.name == "get_quote" and failed.ok is False and "DOGE" in failed.detail
        assert proposed.action == "propose" and proposed.intents[0].verdict == "approved"
        assert proposed.intents[0].note.startswith("sent as gk-")
        assert oversized.intents[0].verdict in ("resized", "denied") and oversized.intents[0].reasons
        assert all(d.action == "hold" for d in live[3:])
        app = GekkoApp(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("4")
            await pilot.pause()
            table = app.screen.query_one("#decisions-table", SortableTable)
            shown = [r.key for r in table.rows_shown]
            assert shown == [d.key for d in reversed(live)]
            assert "hold" in [str(r.cells[2]) for r in table.rows_shown]
            await _drill(pilot, app, table, held)
            text = _text(app)
            assert "tool calls:" in text and "get_quote ok" in text
            assert "reason: waiting for a clearer trend" in text
            assert "agent_decided: llm decided hold" in text  # a journal trail row
            await _drill(pilot, app, table, proposed)
            text = _text(app)
            assert "get_quote error" in text and "APPROVED" in text
            assert "order_submitted: submitted gk-" in text


async def _drill(pilot: Pilot[None], app: GekkoApp, table: SortableTable, row: DecisionRow) -> None:
    index = [r.key for r in table.rows_shown].index(row.key)
    table.move_cursor(row=index, animate=False)
    assert isinstance(app.screen, AgentScreen)
    await app.screen.run_action("app.explain")
    await pilot.pause()
