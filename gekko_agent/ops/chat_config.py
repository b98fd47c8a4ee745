"""The ``chatops:`` section of agent.yaml: Telegram, Slack and the alert router.

Who may command Gekko (users and roles) lives in the ``ops:`` section
(:class:`~gekko_agent.ops.auth.OpsConfig`); this section only says how to reach the chat services.
Secrets (bot tokens, the Slack signing secret) appear only as
:class:`~gekko_agent.config.secrets.SecretRef` values and are resolved when a transport starts; they
are never logged. Example::

    chatops:
      telegram:
        token: {env: GEKKO_TELEGRAM_TOKEN}
        allowed_chat_ids: [123456789]
        alert_chat_ids: [123456789]
      slack:
        bot_token: {env: GEKKO_SLACK_BOT_TOKEN}
        signing_secret: {env: GEKKO_SLACK_SIGNING_SECRET}
        alert_channel: "#gekko-alerts"
      confirm_above: 5000
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gekko_agent.config.secrets import SecretRef

__all__ = ["AlertsConfig", "ChatopsConfig", "SlackConfig", "TelegramConfig", "TelegramMode"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TelegramMode(StrEnum):
    """How Telegram delivers updates to the bot."""

    POLLING = "polling"
    WEBHOOK = "webhook"


class TelegramConfig(_Model):
    """The Telegram bot (python-telegram-bot)."""

    token: SecretRef = Field(description="Bot token from @BotFather ({env: NAME} or {file: PATH}).")
    mode: TelegramMode = Field(
        TelegramMode.POLLING,
        description="polling (no inbound port needed) or webhook (Telegram posts updates to webhook_url).",
    )
    webhook_url: str | None = Field(
        None, description="Public HTTPS URL Telegram posts updates to (webhook mode only)."
    )
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds to.")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server listens on.")
    webhook_secret: SecretRef | None = Field(
        None, description="Secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (webhook mode)."
    )
    allowed_chat_ids: list[int] = Field(
        default_factory=list,
        description="Chats the bot answers in (empty: any chat, users are still checked against ops.users).",
    )
    alert_chat_ids: list[int] = Field(default_factory=list, description="Chats that receive alerts.")
    base_url: str = Field(
        "https://api.telegram.org/bot", description="Bot API base URL (tests point it at a loopback fake)."
    )

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode is TelegramMode.WEBHOOK and not self.webhook_url:
            raise ValueError("telegram.webhook_url is required when mode is webhook")
        return self


class SlackConfig(_Model):
    """The Slack app (slack-bolt over HTTP: slash command and interactive buttons)."""

    bot_token: SecretRef = Field(description="Bot user OAuth token (xoxb-…).")
    signing_secret: SecretRef = Field(
        description="Signing secret; every request from Slack is verified with it (5 minute replay window)."
    )
    listen: str = Field("127.0.0.1", description="Address the HTTP endpoint binds to (put TLS in front).")
    port: int = Field(
        3000, ge=0, le=65535, description="Port of the HTTP endpoint (/slack/events); 0 picks a free one."
    )
    command: str = Field("/gekko", description="The slash command configured in the Slack app.")
    alert_channel: str | None = Field(None, description="Channel (id or #name) that receives alerts.")
    base_url: str = Field(
        "https://slack.com/api/", description="Web API base URL (tests point it at a loopback fake)."
    )


class AlertsConfig(_Model):
    """How alerts are pushed: which kinds, how often, how they are merged."""

    fills: bool = Field(True, description="Push order fills.")
    denials: bool = Field(True, description="Push risk denials.")
    approvals: bool = Field(True, description="Push orders waiting for approval, with buttons.")
    daily_report: bool = Field(True, description="Push a report when the UTC day rolls over.")
    per_minute: int = Field(
        20, ge=1, description="Most messages per minute per channel; the rest wait and are merged."
    )
    dedupe_seconds: float = Field(
        60, ge=0, description="Alerts with the same key within this window become one message with a count."
    )
    flush_seconds: float = Field(1.0, gt=0, description="How often queued alerts are sent.")


class ChatopsConfig(_Model):
    """The ``chatops:`` section: Telegram, Slack and alerts."""

    telegram: TelegramConfig | None = Field(None, description="Telegram bot; omitted: no Telegram.")
    slack: SlackConfig | None = Field(None, description="Slack app; omitted: no Slack.")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, description="Alert routing and limits.")
    confirm_above: Decimal | None = Field(
        None,
        ge=0,
        description="Approvals above this notional (account currency) ask for a confirmation tap.",
    )
    confirm_ttl_seconds: int = Field(
        300, ge=10, description="How long a Telegram confirmation prompt stays valid."
    )
