"""Telegram chat-ops: python-telegram-bot in polling or webhook mode over the one command layer.

Every ``help`` command has a command handler (``/status``, ``/halt news``…); other text is read as a
command too, so a typo gets the command layer's helpful reply. Inline buttons carry their command as
callback data. Halt, resume, flatten, approvals above ``confirm_above`` and any button marked
``confirm`` go through a confirmation step: the bot asks, and only a **Yes** tap by the same person
within ``confirm_ttl_seconds`` runs the command (:class:`~gekko_agent.ops.confirm.Confirmations`).

Only configured chats are served: a message from a chat outside ``allowed_chat_ids`` is passed to the
command layer under an id no user has (``<user>@chat<chat>``), so it is refused and audited like any
unknown user. Any button pressed by a user not in ``ops.users`` (a **Yes** included) is handed to the
command layer as typed text, so it too is refused and audited. Who may do what is decided by the command
layer (``ops.users``), never here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from gekko_agent.ops.auth import Unauthorized, authorize, command_name, identify
from gekko_agent.ops.chat_config import TelegramConfig, TelegramMode
from gekko_agent.ops.commands import HELP, CommandService
from gekko_agent.ops.confirm import Confirmations
from gekko_agent.ops.render import TelegramMessage, confirmation_prompt, telegram_confirm, telegram_message
from gekko_agent.ops.replies import Reply

__all__ = ["TelegramChatops"]

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def _markup(message: TelegramMessage) -> InlineKeyboardMarkup | None:
    if not message.keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in message.keyboard]
    )


class TelegramChatops:
    """The Telegram bot.

    Args:
        service: the command layer.
        config: the ``chatops.telegram`` section.
        token: the resolved bot token (never logged).
        webhook_secret: resolved ``webhook_secret``, checked on every webhook request.
        confirm_ttl_seconds: how long a confirmation prompt stays valid.
        monotonic: time source for prompt expiry (tests may pass their own).
    """

    def __init__(
        self,
        service: CommandService,
        config: TelegramConfig,
        *,
        token: str,
        webhook_secret: str | None = None,
        confirm_ttl_seconds: float = 300,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.config = config
        self._webhook_secret = webhook_secret
        self.confirmations = Confirmations(confirm_ttl_seconds, monotonic)
        self.app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder().token(token).base_url(config.base_url).job_queue(None).build()
        )
        for name in HELP:  # Telegram commands cannot hold `-`: /limit_approve stands for limit-approve
            self.app.add_handler(CommandHandler(name.replace("-", "_"), self._on_message))
        self.app.add_handler(MessageHandler(filters.TEXT, self._on_message))
        self.app.add_handler(CallbackQueryHandler(self._on_button))
        self.app.add_error_handler(self._on_error)

    async def start(self) -> None:
        """Connect (``getMe``) and start receiving updates in the configured mode."""
        await self.app.initialize()
        await self.app.start()
        updater = self.app.updater
        assert updater is not None
        if self.config.mode is TelegramMode.POLLING:
            await updater.start_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)
            return
        await updater.start_webhook(
            listen=self.config.webhook_listen,
            port=self.config.webhook_port,
            url_path="telegram",
            webhook_url=self.config.webhook_url,
            secret_token=self._webhook_secret,
        )

    async def stop(self) -> None:
        """Stop receiving updates and close the HTTP client."""
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def send_alert(self, reply: Reply) -> None:
        """Push ``reply`` to every ``alert_chat_ids`` chat (the alert router's sink)."""
        message = telegram_message(reply)
        for chat_id in self.config.alert_chat_ids:
            await self.app.bot.send_message(
                chat_id, message.html, parse_mode=ParseMode.HTML, reply_markup=_markup(message)
            )

    # --- handlers -----------------------------------------------------------------------------------

    def _user_key(self, user_id: int, chat_id: int) -> str:
        allowed = self.config.allowed_chat_ids
        return str(user_id) if not allowed or chat_id in allowed else f"{user_id}@chat{chat_id}"

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        out = await self._handle(message.chat_id, user.id, message.text)
        await message.reply_text(out.html, parse_mode=ParseMode.HTML, reply_markup=_markup(out))

    async def _handle(
        self, chat_id: int, user_id: int, text: str, force_confirm: bool = False
    ) -> TelegramMessage:
        """Ask first when the command needs a confirmation, else run it."""
        key = self._user_key(user_id, chat_id)
        prompt = self._prompt(key, text, force_confirm)
        if prompt is None:
            return telegram_message(await self.service.run(CHANNEL, key, text))
        nonce = self.confirmations.issue(str(user_id), str(chat_id), text)
        return telegram_confirm(prompt, nonce)

    def _prompt(self, key: str, text: str, force: bool) -> str | None:
        name = command_name(text.strip().split(" ")[0])
        try:  # only authorized people are asked to confirm; others go straight to a refusal
            authorize(self.service.config, CHANNEL, key, name)
        except Unauthorized:
            return None
        prompt = confirmation_prompt(text, self.service.engine, self.service.confirm_above)
        return prompt or (f"Run “{text.strip()}”?" if force else None)

    def _known(self, key: str) -> bool:
        try:
            identify(self.service.config, CHANNEL, key)
        except Unauthorized:
            return False
        return True

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None or not isinstance(query.message, Message):
            return
        await query.answer()
        kind, _, rest = query.data.partition(":")
        chat_id, user_id = query.message.chat_id, query.from_user.id
        key = self._user_key(user_id, chat_id)
        if kind in ("run", "ask") or not self._known(key):  # strangers: refused and audited, whatever
            text = rest if kind in ("run", "ask") else query.data
            out = await self._handle(chat_id, user_id, text, force_confirm=kind == "ask")
            await query.message.reply_text(out.html, parse_mode=ParseMode.HTML, reply_markup=_markup(out))
            return
        command = self.confirmations.take(rest, str(user_id), str(chat_id))
        if command is None:
            out = telegram_message(Reply("That confirmation has expired; send the command again.", ok=False))
        elif kind == "yes":
            out = telegram_message(await self.service.run(CHANNEL, key, command))
        else:
            out = telegram_message(Reply(f"Cancelled: {command}"))
        await query.edit_message_text(out.html, parse_mode=ParseMode.HTML, reply_markup=_markup(out))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("telegram handler failed: %s", context.error)
