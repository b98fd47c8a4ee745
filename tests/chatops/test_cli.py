"""``gekko chatops serve``: sections, secrets and a real bot beside a paper replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gekko_agent.cli.chatops import load_sections, serve_chatops
from gekko_agent.config import load_config
from gekko_agent.config.model import DemoConfig, LedgerConfig
from gekko_agent.errors import ConfigError, InvalidInput
from gekko_agent.ops import Role
from gekko_agent.testing.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, api_url: str) -> Path:
    path = tmp_path / "chatops.yaml"
    path.write_text(
        "ops:\n"
        "  users:\n"
        "    - {name: tom, channel: telegram, user_id: '42', role: trader}\n"
        "chatops:\n"
        "  telegram:\n"
        "    token: {env: GEKKO_TG_TOKEN}\n"
        f"    base_url: {api_url}\n"
        "    alert_chat_ids: [42]\n"
        "  confirm_above: 5000\n"
    )
    return path


def test_sections_load_from_a_file_and_reject_strays(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "agent.yaml")
    ops, chat = load_sections(cfg, _write(tmp_path, "http://127.0.0.1:1/bot"))
    assert ops.users[0].role is Role.TRADER and chat.telegram is not None and chat.slack is None
    stray = tmp_path / "stray.yaml"
    stray.write_text("chatops: {}\nrisk: {}\n")
    with pytest.raises(ConfigError, match="only the sections"):
        load_sections(cfg, stray)
    with pytest.raises(ConfigError, match="chatops"):
        load_sections(cfg, None)


async def test_serve_answers_telegram_beside_a_paper_replay(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "agent.yaml").model_copy(
        update={
            "demo": DemoConfig(start="2023-03-09T06:00:00+00:00", end="2023-03-09T07:00:00+00:00"),
            "ledger": LedgerConfig(path=tmp_path / "gekko.duckdb"),
        }
    )
    async with FakeTelegram() as fake:
        ops, chat = load_sections(cfg, _write(tmp_path, fake.api_url))
        env = {"GEKKO_TG_TOKEN": fake.token}
        with pytest.raises(InvalidInput, match="slack"):
            await serve_chatops(cfg, ops, chat, telegram=False, slack=True, stop=asyncio.Event(), environ=env)
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve_chatops(cfg, ops, chat, telegram=True, slack=False, stop=stop, speed=1e9, environ=env)
        )
        fake.send_text(42, "/status")
        sent = await fake.wait_for("sendMessage", within=20)
        assert "Gekko is ACTIVE" in sent[0]["text"]
        stop.set()
        await asyncio.wait_for(task, 10)
    assert fake.sent("getMe")
    assert (tmp_path / "gekko.duckdb").exists()
