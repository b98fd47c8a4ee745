"""``gekko chatops serve``: Telegram and Slack beside a paper engine replaying bundled data.

The people and roles come from the ``ops:`` section and the transports from the ``chatops:`` section
— of agent.yaml once the root config carries them, or of a separate file given with ``--chatops``
(a YAML file with just those two sections). Secrets are read from their SecretRef when the server
starts and never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from gekko_agent.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from gekko_agent.config import GekkoConfig
    from gekko_agent.ops import EngineView, OpsConfig
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
    environ: Mapping[str, str] | None = None,
) -> None:
    """Replay bundled data through a paper engine and serve the chosen transports until ``stop``.

    Raises:
        InvalidInput: a transport was asked for that has no section.
        ConfigError: a secret cannot be read.
    """
    from gekko_agent.execution.approvals import ApprovalQueue
    from gekko_agent.ops import CommandService
    from gekko_agent.ops.alerts import AlertingJournal, AlertRouter, AlertSink
    from gekko_agent.ops.slack import SlackChatops
    from gekko_agent.ops.telegram import TelegramChatops
    from gekko_agent.risk.governance import ActorAuthority
    from gekko_agent.runtime.ops_port import TraderView
    from gekko_agent.runtime.replay import run_replay
    from gekko_agent.runtime.wiring import MemoryJournal, build_replay

    if telegram and chat.telegram is None:
        raise InvalidInput("--telegram: agent.yaml has no chatops.telegram section")
    if slack and chat.slack is None:
        raise InvalidInput("--slack: agent.yaml has no chatops.slack section")

    def summary() -> tuple[str, ...]:  # late-bound: the view exists by the time a report is due
        return (_status_line(view),)

    router = AlertRouter([], chat.alerts, summary=summary)
    journal = AlertingJournal(MemoryJournal(), router)
    start, end = datetime.fromisoformat(cfg.demo.start), datetime.fromisoformat(cfg.demo.end)
    system = build_replay(cfg, journal, start=start, end=end)
    approvals = system.trader.approvals or ApprovalQueue(cfg.approvals, journal, system.clock)
    view = TraderView(system.trader, approvals, None, "paper")
    service = CommandService(
        view, ops, ActorAuthority(), journal.append, system.clock, confirm_above=chat.confirm_above
    )
    transports: list[TelegramChatops | SlackChatops] = []
    sinks: list[AlertSink] = []
    if telegram and chat.telegram is not None:
        tc = chat.telegram
        hook = (
            tc.webhook_secret.resolve("agent.yaml", "chatops.telegram.webhook_secret", environ)
            if tc.webhook_secret
            else None
        )
        bot = TelegramChatops(
            service,
            tc,
            token=tc.token.resolve("agent.yaml", "chatops.telegram.token", environ).get_secret_value(),
            webhook_secret=hook.get_secret_value() if hook else None,
            confirm_ttl_seconds=chat.confirm_ttl_seconds,
        )
        transports.append(bot)
        sinks.append(bot.send_alert)
    if slack and chat.slack is not None:
        sc = chat.slack
        app_ = SlackChatops(
            service,
            sc,
            bot_token=sc.bot_token.resolve(
                "agent.yaml", "chatops.slack.bot_token", environ
            ).get_secret_value(),
            signing_secret=sc.signing_secret.resolve(
                "agent.yaml", "chatops.slack.signing_secret", environ
            ).get_secret_value(),
        )
        transports.append(app_)
        sinks.append(app_.send_alert)
    router.sinks.extend(sinks)
    started: list[TelegramChatops | SlackChatops] = []
    alerts = asyncio.create_task(router.run(stop))
    try:
        for transport in transports:
            await transport.start()
            started.append(transport)
        await run_replay(system, start=start, speed=speed or cfg.demo.speed, should_stop=stop.is_set)
        await stop.wait()
    finally:
        stop.set()
        await alerts
        for transport in reversed(started):
            await transport.stop()


def _status_line(view: EngineView) -> str:
    s = view.status()
    equity = "—" if s.equity is None else f"{s.equity:,.2f} {s.account_currency}"
    return f"equity {equity} · state {s.state.upper()}"


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
    speed: Annotated[float | None, typer.Option(help="Simulated seconds per real second.")] = None,
) -> None:
    """Run the Telegram bot and/or the Slack app beside a paper engine replaying bundled data."""
    from gekko_agent.config import load_config

    cfg = load_config(config)
    ops, chat = load_sections(cfg, chatops)
    if not telegram and not slack:
        telegram, slack = chat.telegram is not None, chat.slack is not None
    if not telegram and not slack:
        raise InvalidInput("chatops has neither a telegram nor a slack section; nothing to serve")
    names = " and ".join(n for n, on in (("Telegram", telegram), ("Slack", slack)) if on)
    typer.echo(f"gekko chatops: serving {names} beside a paper replay; Ctrl-C stops.")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(cfg, ops, chat, telegram, slack, speed))


async def _main(
    cfg: GekkoConfig, ops: OpsConfig, chat: ChatopsConfig, telegram: bool, slack: bool, speed: float | None
) -> None:
    await serve_chatops(cfg, ops, chat, telegram=telegram, slack=slack, stop=asyncio.Event(), speed=speed)
