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
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CommandHandler,
    MessageHandler,
    filters,
)

from bots.core.chat import ChatCore
from bots.core.commands import COMMAND_ALIASES
from bots.core.delivery import run_delivery
from bots.core.games.clock import run_game_clock
from bots.core.settings import BotSettings
from bots.telegram.handlers import on_error, on_message
from bots.telegram.intake import DurableIntake
from bots.telegram.sender import PLATFORM, TelegramSender

__all__ = [
    "LATIN_COMMANDS",
    "PLATFORM",
    "PerChatUpdateProcessor",
    "TelegramBot",
    "TelegramSetupError",
    "build_application",
    "publish_commands",
    "run_telegram",
]

log = logging.getLogger(__name__)

# Telegram only accepts [a-z0-9_] command names; the Chinese aliases arrive as plain text.
LATIN_COMMANDS = tuple(a for aliases in COMMAND_ALIASES.values() for a in aliases if a.isascii())


class _RedactToken(logging.Filter):
    """Replaces the bot token in log records: it is part of every Bot API URL."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:  # an httpx error's text carries the request URL, token included
            trace = logging.Formatter().formatException(record.exc_info)
            if self.token in trace:
                message, record.exc_info, record.exc_text = f"{message}\n{trace}", None, None
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<TELEGRAM_TOKEN>"), None
        return True


def _protect_token_in_logs(token: str) -> None:
    """httpx logs each request URL at INFO, and Bot API URLs carry the token: keep httpx at WARNING,
    and redact the token on every handler of the root logger. A filter on a logger only sees records
    logged to that very logger, not its children's ("telegram.ext.ExtBot"), so it goes on handlers."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for handler in root.handlers:
        if not any(isinstance(f, _RedactToken) and f.token == token for f in handler.filters):
            handler.addFilter(_RedactToken(token))
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Many chats at once, each chat's updates in order: a slow Bot API call for one group must not
    hold up everyone else, but a user's "/poem" then "/cancel" must still be handled in that order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}  # chat -> (lock, updates holding or waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # idle chats cost nothing
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up: locks are made per chat on demand."""

    async def shutdown(self) -> None:
        """Nothing to release."""


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
    _protect_token_in_logs(token)
    builder = ApplicationBuilder().token(token).base_url(settings.telegram_base_url)
    builder = builder.get_updates_read_timeout(settings.telegram_poll_timeout_s + 10)
    # Stay under the Bot API's limits (about 30 messages/s overall, 20/min per group) before Telegram
    # has to say 429; whatever 429 still comes is waited out by the sender (honouring_retry_after).
    limiter = AIORateLimiter(
        overall_max_rate=settings.telegram_overall_rate, overall_time_period=1,
        group_max_rate=settings.telegram_group_rate, group_time_period=settings.telegram_group_period_s,
        max_retries=0,
    )
    builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB types the builder's default, None
    builder = builder.concurrent_updates(PerChatUpdateProcessor(settings.telegram_concurrent_updates))
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["core"] = core
    app.bot_data["sender"] = TelegramSender(app.bot, core, settings.telegram_max_flood_wait_s)
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
        # No PTB Updater: it confirms updates before they are handled. DurableIntake stores first.
        self.app = build_application(settings, core, updater=False)
        queue = core.service.sync.settings
        self.intake = DurableIntake(self.app, core.service.sync.connection, consumer=queue.consumer_for(PLATFORM),
                                    group=queue.reply_group, claim_idle_ms=queue.reply_claim_idle_ms,
                                    seen_ttl_s=queue.request_ttl_s)
        self._tasks: list[asyncio.Task[None]] = []
        self._delivery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """getMe, setMyCommands (zh + en), polling or webhook, then the delivery task."""
        try:
            await self._start()
        except BaseException:
            await self.stop()  # release the HTTP clients and the webhook port of a half-started bot
            raise

    async def _start(self) -> None:
        try:
            await self.app.initialize()  # getMe
        except InvalidToken:
            # PTB's own message quotes the token; never let it reach a log or a terminal.
            raise TelegramSetupError(
                "Telegram rejected TELEGRAM_TOKEN (401 Unauthorized). Copy it again from @BotFather "
                "(/mybots -> your bot -> API Token); if it leaked, /revoke it there and use the new one."
            ) from None
        self.core.bot_username = self.app.bot.username
        await publish_commands(self.app, self.core)
        settings = self.settings
        allowed = [Update.MESSAGE]
        await self.app.start()
        if settings.telegram_mode == "webhook":
            secret = (
                settings.telegram_webhook_secret.get_secret_value()
                if settings.telegram_webhook_secret
                else secrets.token_urlsafe(32)  # never run a webhook anyone could post fake updates to
            )
            await self.intake.serve_webhook(settings.telegram_webhook_listen, settings.telegram_webhook_port,
                                            settings.telegram_webhook_path, secret)
            await self.app.bot.set_webhook(settings.telegram_webhook_url or "", secret_token=secret,
                                           allowed_updates=allowed)
        else:
            await self.app.bot.delete_webhook()
            self._tasks.append(asyncio.create_task(
                self.intake.poll(settings.telegram_poll_timeout_s, allowed), name="telegram-poll"))
        self._tasks.append(asyncio.create_task(self.intake.process(), name="telegram-intake"))
        sender: TelegramSender = self.app.bot_data["sender"]
        self._tasks.append(asyncio.create_task(run_game_clock(self.core.games, PLATFORM, sender.send),
                                               name="telegram-games"))
        if self.consumer is not None:
            self._delivery = asyncio.create_task(run_delivery(self.core, self.consumer, sender.send_reply))
        log.info("Telegram: @%s is up (%s)", self.app.bot.username, settings.telegram_mode)

    @property
    def delivery(self) -> asyncio.Task[None] | None:
        """The reply-delivery task while running (None without a consumer)."""
        return self._delivery

    async def stop(self) -> None:
        await self.intake.stop()  # no new updates; the ones being handled finish and are acked
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._delivery is not None:
            self._delivery.cancel()
            try:
                await self._delivery
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("Telegram: reply delivery had failed")
            self._delivery = None
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        log.info("Telegram: stopped")


async def run_telegram(core: ChatCore, settings: BotSettings, consumer: Any) -> None:
    """Run the Telegram bot until cancelled (``consumer``: the ReplyConsumer for "telegram")."""
    bot = TelegramBot(core, settings, consumer)
    await bot.start()
    try:
        if bot.delivery is not None:
            # Returns only if delivery ends (e.g. Redis refused us for good): then stop, not limp on.
            await asyncio.shield(bot.delivery)
            raise RuntimeError("reply delivery stopped")
        await asyncio.Event().wait()
    finally:
        await bot.stop()
