"""Chat-ops beside the real engine: commands journaled in the DuckDB ledger, ``why`` answered from it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gekko_agent.cli.chatops import serve_chatops
from gekko_agent.config import GekkoConfig, load_config
from gekko_agent.domain import CommandIssued
from gekko_agent.ledger import Ledger, events
from gekko_agent.ops import OpsConfig, OpsUser, Role
from gekko_agent.ops.chat_config import ChatopsConfig
from gekko_agent.runtime.chatops import ChatopsHub, ChatopsSelection
from gekko_agent.runtime.journal import ObservedLedger
from gekko_agent.runtime.replay import run_replay
from gekko_agent.runtime.wiring import build_replay
from gekko_agent.testing.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2023, 3, 9, 6, tzinfo=UTC)
END = datetime(2023, 3, 9, 8, tzinfo=UTC)
OPS = OpsConfig(users=[OpsUser(name="tom", channel="telegram", user_id="42", role=Role.TRADER)])


def _chat(api_url: str = "http://127.0.0.1:1/bot") -> ChatopsConfig:
    return ChatopsConfig.model_validate(
        {"telegram": {"token": {"env": "GEKKO_TG_TOKEN"}, "base_url": api_url, "alert_chat_ids": [42]}}
    )


def _commands(ledger: Ledger) -> list[CommandIssued]:
    return [s.event for s in events(ledger, kinds="command_issued") if isinstance(s.event, CommandIssued)]


async def test_why_answers_from_the_ledger_and_commands_are_durable(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    with Ledger(path) as ledger:
        hub = ChatopsHub(ChatopsSelection(OPS, _chat(), telegram=True, slack=False))
        journal = ObservedLedger(ledger, [hub.on_event])
        system = build_replay(load_config(ROOT / "agent.yaml"), journal, start=START, end=END)
        await run_replay(system, start=START)
        service = hub.attach(system.trader, journal, mode="paper", environ={"GEKKO_TG_TOKEN": "1:x"})
        order = next(iter(system.trader.execution.orders.values()), None)
        assert order is not None, "the window should trade"
        reply = await service.run("telegram", "42", f"why {order.client_order_id}")
        text = "\n".join(reply.lines)
        assert reply.ok, reply.title
        assert order.intent.rationale and order.intent.rationale in text  # the journaled rationale
        assert "risk_evaluated" in text and "order_submitted" in text
    with Ledger(path) as ledger:  # durable: another process reading the file sees the command
        (cmd,) = _commands(ledger)
        assert (cmd.actor, cmd.channel, cmd.command) == ("tom", "telegram", f"why {order.client_order_id}")


async def test_serve_runs_the_configured_engine_on_its_ledger_with_telegram(tmp_path: Path) -> None:
    path = tmp_path / "gekko.duckdb"
    data = load_config(ROOT / "agent.yaml").model_dump(mode="json")
    cfg = GekkoConfig.model_validate({**data, "ledger": {"path": str(path)}})
    async with FakeTelegram() as fake:
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve_chatops(
                cfg,
                OPS,
                _chat(fake.api_url),
                telegram=True,
                slack=False,
                stop=stop,
                speed=1e9,
                start=START,
                end=END,
                environ={"GEKKO_TG_TOKEN": fake.token},
            )
        )
        fake.send_text(42, "/status")
        sent = await fake.wait_for("sendMessage", within=30)
        assert any("Gekko is ACTIVE" in m["text"] for m in sent)
        stop.set()
        await asyncio.wait_for(task, 20)
    with Ledger(path) as ledger:
        assert [(c.actor, c.command) for c in _commands(ledger)] == [("tom", "/status")]
        assert events(ledger, kinds="order_submitted"), "the engine traded the window on this ledger"


async def test_ask_through_the_hub_uses_brain_llm_when_the_rules_decide(tmp_path: Path) -> None:
    from gekko_agent.config.model import LlmConfig
    from gekko_agent.testing.openai_server import ScriptedOpenAIServer, text

    with ScriptedOpenAIServer() as server, Ledger(tmp_path / "gekko.duckdb") as ledger:
        hub = ChatopsHub(ChatopsSelection(OPS, _chat(), telegram=True, slack=False))
        journal = ObservedLedger(ledger, [hub.on_event])
        cfg = load_config(ROOT / "agent.yaml")
        system = build_replay(cfg, journal, start=START, end=END)
        await run_replay(system, start=START)
        env = {"GEKKO_TG_TOKEN": "1:x"}
        no_model = hub.attach(system.trader, journal, mode="paper", environ=env)
        assert "No model is configured" in (await no_model.run("telegram", "42", "ask how are we?")).to_text()
        llm = LlmConfig(model="openai/scripted", api_base=server.api_base, max_retries=0)
        service = hub.attach(system.trader, journal, mode="paper", environ=env, llm=llm)
        server.push(text("Flat after the last SMA cross; nothing is open."))
        reply = await service.run("telegram", "42", "ask how are we?")
        assert reply.ok and reply.title == "Answer (model-generated)", reply.to_text()
        assert reply.lines[0].startswith("Flat after the last SMA cross")
        [request] = server.requests
        assert "## recent agent decisions" in request["messages"][1]["content"]
