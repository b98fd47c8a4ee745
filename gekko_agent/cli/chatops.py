"""``gekko chatops serve``: Telegram and Slack beside the real engine.

It runs what ``gekko run`` runs (:func:`gekko_agent.runtime.headless.run_configured`: the mode
agent.yaml says, its DuckDB ledger, the headless scheduler) with the chosen transports on; ``gekko run``
itself starts them whenever agent.yaml has a ``chatops:`` section. The shipped agent.yaml paper-trades
bundled data, so chat-ops can be tried offline.

The people and roles come from the ``ops:`` section and the transports from the ``chatops:`` section
of agent.yaml, or of a separate file given with ``--chatops`` (a YAML file with just those two
sections). Secrets are read from their SecretRef when the server starts and never printed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from gekko_agent.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.ops import OpsConfig
    from gekko_agent.ops.chat_config import ChatopsConfig

__all__ = ["app", "load_sections", "serve", "serve_chatops"]

app = typer.Typer(no_args_is_help=True, help="Supervise Gekko from Telegram and Slack.")


def load_sections(cfg: GekkoConfig, path: Path | None) -> tuple[OpsConfig, ChatopsConfig]:
    """The ``ops:`` and ``chatops:`` sections, from ``path`` when given, else from the root config.

    Raises:
        ConfigError: the file is unreadable or invalid, or no ``chatops:`` section exists.
    """
    from pydantic import ValidationError

    from gekko_agent.ops import OpsConfig
    from gekko_agent.ops.chat_config import ChatopsConfig

    if path is None:
        ops, chat = getattr(cfg, "ops", None), getattr(cfg, "chatops", None)
        if not isinstance(chat, ChatopsConfig):
            raise ConfigError("agent.yaml", "chatops", "no chatops section; add one or pass --chatops FILE")
        return (ops if isinstance(ops, OpsConfig) else OpsConfig()), chat
    try:
        data: Any = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"ops", "chatops"}:
        raise ConfigError(str(path), "(top level)", "expected only the sections `ops` and `chatops`")
    try:
        return OpsConfig.model_validate(data.get("ops") or {}), ChatopsConfig.model_validate(
            data.get("chatops")
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(str(path), where, first["msg"]) from None


async def serve_chatops(
    cfg: GekkoConfig,
    ops: OpsConfig,
    chat: ChatopsConfig,
    *,
    telegram: bool,
    slack: bool,
    stop: asyncio.Event,
    speed: float | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    install_signals: bool = False,
    echo: Callable[[str], None] | None = None,
) -> None:
    """Run the engine as ``gekko run`` does, with the chosen transports on, until ``stop`` or a signal.

    The engine runs in the mode agent.yaml says, on its real ledger (``ledger.path``): every command is
    journaled there and ``why`` reads it. In paper mode on bundled data it replays ``start`` → ``end``
    (default: the ``demo:`` window) at ``speed`` and keeps serving after the data ends.

    Raises:
        InvalidInput: a transport was asked for that has no section.
        ConfigError: a secret cannot be read.
    """
    from gekko_agent.runtime.chatops import ChatopsSelection
    from gekko_agent.runtime.headless import run_configured

    selection = ChatopsSelection(ops, chat, telegram, slack)
    selection.check()
    await run_configured(
        cfg,
        start=start or datetime.fromisoformat(cfg.demo.start),
        end=end or datetime.fromisoformat(cfg.demo.end),
        speed=speed or cfg.demo.speed,
        chatops=selection,
        stop=stop,
        install_signals=install_signals,
        linger=True,
        environ=environ,
        echo=echo or (lambda line: None),
    )


@app.command("serve")
def serve(
    telegram: Annotated[
        bool, typer.Option("--telegram", help="Serve Telegram (default: every configured).")
    ] = False,
    slack: Annotated[bool, typer.Option("--slack", help="Serve Slack (default: every configured).")] = False,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="agent.yaml to use.")] = None,
    chatops: Annotated[
        Path | None,
        typer.Option("--chatops", help="YAML file with `ops:` and `chatops:` (default: agent.yaml)."),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(help="Paper replay: simulated s per real s (default: demo.speed)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Paper replay: first bar to trade (default: demo.start)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Paper replay: stop before this time (default: demo.end).")
    ] = None,
) -> None:
    """Run the engine as `gekko run` does, with Telegram and/or Slack on, until SIGTERM or Ctrl-C.

    The mode is agent.yaml's: the shipped file paper-trades bundled data (no keys needed), so this is
    also the way to try chat-ops offline. Commands are journaled in the ledger (`ledger.path`).
    """
    from gekko_agent.config import load_config

    cfg = load_config(config)
    ops, chat = load_sections(cfg, chatops)
    if not telegram and not slack:
        telegram, slack = chat.telegram is not None, chat.slack is not None
    if not telegram and not slack:
        raise InvalidInput("chatops has neither a telegram nor a slack section; nothing to serve")
    names = " and ".join(n for n, on in (("Telegram", telegram), ("Slack", slack)) if on)
    typer.echo(f"gekko chatops: serving {names} beside the {cfg.mode.value} engine; Ctrl-C stops.")
    asyncio.run(
        serve_chatops(
            cfg,
            ops,
            chat,
            telegram=telegram,
            slack=slack,
            stop=asyncio.Event(),
            speed=speed,
            start=_time(start, "--from"),
            end=_time(end, "--to"),
            install_signals=True,
            echo=typer.echo,
        )
    )


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option}: {text!r} is not an ISO date/time (e.g. 2023-03-10T12:00)") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
