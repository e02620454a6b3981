"""The Telegram ``Application``: handlers in one place, polling or webhook, plus reply delivery.

    bot = TelegramBot(core, settings, consumer)   # consumer: ReplyConsumer for platform "telegram"
    await bot.start()          # getMe, setMyCommands (zh + en), polling or webhook, delivery task
    ...
    await bot.stop()

``run_telegram`` does the same until cancelled, so ``poetbot serve`` can run it beside Discord in one
event loop. ``TELEGRAM_BASE_URL`` points the bot at a self-hosted Bot API server (or a test fake).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, MessageHandler, filters

from bots.core.chat import ChatCore
from bots.core.commands import COMMAND_ALIASES
from bots.core.delivery import run_delivery
from bots.core.settings import BotSettings
from bots.telegram.handlers import on_error, on_message
from bots.telegram.sender import PLATFORM, TelegramSender

__all__ = ["TelegramBot", "TelegramSetupError", "build_application", "publish_commands", "run_telegram"]

log = logging.getLogger(__name__)

# Telegram only accepts [a-z0-9_] command names; the Chinese aliases arrive as plain text.
LATIN_COMMANDS = tuple(a for aliases in COMMAND_ALIASES.values() for a in aliases if a.isascii())


class TelegramSetupError(RuntimeError):
    """The bot cannot start because of its configuration; the message says how to fix it."""


def build_application(settings: BotSettings, core: ChatCore, *, updater: bool = True) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application with every handler registered; ``updater=False`` for update-by-update tests."""
    token = settings.telegram_token_value
    if not token:
        raise TelegramSetupError(
            "TELEGRAM_TOKEN is not set. Talk to @BotFather on Telegram (/newbot), copy the token it gives "
            "you and export TELEGRAM_TOKEN=<token>; see docs/telegram.md."
        )
    builder = ApplicationBuilder().token(token).base_url(settings.telegram_base_url)
    builder = builder.get_updates_read_timeout(settings.telegram_poll_timeout_s + 10)
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["core"] = core
    app.bot_data["sender"] = TelegramSender(app.bot, core)
    only_new = filters.UpdateType.MESSAGE  # edits of old commands must not order a second poem
    app.add_handler(CommandHandler(list(LATIN_COMMANDS), on_message, filters=only_new))
    # Everything else (Chinese aliases, unknown /commands, plain text): the core's parser decides.
    app.add_handler(MessageHandler(only_new & filters.TEXT, on_message))
    app.add_error_handler(on_error)
    return app


async def publish_commands(app: Application[Any, Any, Any, Any, Any, Any], core: ChatCore) -> None:
    """setMyCommands: Chinese as the default list, English for clients whose language is English."""
    for language in (None, "zh", "en"):
        commands = [BotCommand(name, desc) for name, desc in core.command_descriptions(language or "zh")]
        await app.bot.set_my_commands(commands, language_code=language)


class TelegramBot:
    """One running Telegram front-end: updates in (polling or webhook), replies out (delivery)."""

    def __init__(self, core: ChatCore, settings: BotSettings, consumer: Any | None = None) -> None:
        self.core = core
        self.settings = settings
        self.consumer = consumer
        self.app = build_application(settings, core)
        self._delivery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.app.initialize()  # getMe: fails here with InvalidToken on a bad token
        self.core.bot_username = self.app.bot.username
        await publish_commands(self.app, self.core)
        updater = self.app.updater
        assert updater is not None
        settings = self.settings
        allowed = [Update.MESSAGE]
        if settings.telegram_mode == "webhook":
            secret = (
                settings.telegram_webhook_secret.get_secret_value()
                if settings.telegram_webhook_secret
                else secrets.token_urlsafe(32)  # never run a webhook anyone could post fake updates to
            )
            await updater.start_webhook(
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                url_path=settings.telegram_webhook_path,
                webhook_url=settings.telegram_webhook_url,
                secret_token=secret,
                allowed_updates=allowed,
            )
        else:
            await updater.start_polling(timeout=settings.telegram_poll_timeout_s, allowed_updates=allowed)
        await self.app.start()
        if self.consumer is not None:
            sender: TelegramSender = self.app.bot_data["sender"]
            self._delivery = asyncio.create_task(run_delivery(self.core, self.consumer, sender.send_reply))
        log.info("Telegram: @%s is up (%s)", self.app.bot.username, settings.telegram_mode)

    async def stop(self) -> None:
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        log.info("Telegram: stopped")


async def run_telegram(core: ChatCore, settings: BotSettings, consumer: Any) -> None:
    """Run the Telegram bot until cancelled (``consumer``: the ReplyConsumer for "telegram")."""
    bot = TelegramBot(core, settings, consumer)
    await bot.start()
    try:
        await asyncio.Event().wait()
    finally:
        await bot.stop()


__all__ += ["LATIN_COMMANDS", "PLATFORM"]
