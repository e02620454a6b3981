"""The Telegram ``Application``: handlers in one place, polling or webhook, plus reply delivery.

    bot = TelegramBot(core, settings, consumer, health)   # consumer: ReplyConsumer for "telegram"
    await bot.start()          # getMe (retried until it answers), setMyCommands (zh + en),
    ...                        # polling or webhook, delivery task
    await bot.stop()

``run_telegram`` does the same until cancelled, so ``poetbot serve`` can run it beside Discord in one
event loop. ``TELEGRAM_BASE_URL`` points the bot at a self-hosted Bot API server (or a test fake).
Every Bot API call goes through one ``BotApiLink``, which rides out an unreachable API at start and
mid-run (``bots.telegram.link``); ``health`` (part "telegram") is ready only while the API answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import Awaitable
from typing import Any

from telegram import BotCommand, Update
from telegram.error import InvalidToken, RetryAfter
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
from bots.core.clock import run_chat_clock
from bots.core.commands import COMMAND_ALIASES
from bots.core.delivery import run_delivery
from bots.core.settings import BotSettings
from bots.telegram.handlers import on_error, on_message
from bots.telegram.intake import DurableIntake
from bots.telegram.link import BotApiLink
from bots.telegram.sender import PLATFORM, TelegramSender
from worker.contract.health import Health

__all__ = [
    "LATIN_COMMANDS",
    "PLATFORM",
    "GroupRateLimiter",
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


# --- PTB beyond its public API: its logger names (one place) ---------------------------------------
RATE_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"
"""``telegram._utils.logging.get_logger``'s name for ``AIORateLimiter``'s records (PTB 22)."""


class _HandledRetryAfter(logging.Filter):
    """With ``max_retries=0``, ``AIORateLimiter`` logs every 429 it passes on as ERROR with a
    traceback ("Rate limit hit after maximum of 0 retries"), although ``BotApiLink.call`` waits it
    out and logs its own INFO line (counted in ``poetcore_flood_waits_total``). Drop that record:
    a 429 is expected, handled, and not an operator's problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, RetryAfter)


def _quiet_handled_rate_limits() -> None:
    limiter_log = logging.getLogger(RATE_LIMITER_LOGGER)
    if not any(isinstance(f, _HandledRetryAfter) for f in limiter_log.filters):
        limiter_log.addFilter(_HandledRetryAfter())


class GroupRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` whose per-group pace counts a group's messages, sends and edits, and not
    the reactions that mark game verdicts.

    Telegram's Bot FAQ limits a bot to "20 messages per minute to the same group"; its Bot API
    maintainers add that edits share that limit with sends. Reactions are no messages, and no
    Telegram document puts them under it, so a busy group's verdict marks are not paced three
    seconds apart like its messages. They still go through the bot-wide pace, and a 429 on one is
    waited out like any other (``BotApiLink``).
    """

    UNPACED_IN_GROUPS = frozenset({"setMessageReaction"})

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        if endpoint in self.UNPACED_IN_GROUPS and data.get("chat_id") is not None:
            # AIORateLimiter reads ``data`` only to choose its limiters (a negative chat id: the
            # group's); the request itself is made by ``callback`` with its own arguments.
            data = {**data, "chat_id": 0}
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


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


def build_application(
    settings: BotSettings, core: ChatCore, *, updater: bool = True, health: Health | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application with every handler registered; ``updater=False`` for update-by-update tests.

    ``bot_data["sender"]`` sends over the app's ``BotApiLink`` (``sender.link``), which reports to
    ``health`` as part "telegram" when one is given.
    """
    token = settings.telegram_token_value
    if not token:
        raise TelegramSetupError(
            "TELEGRAM_TOKEN is not set. Talk to @BotFather on Telegram (/newbot), copy the token it gives "
            "you and export TELEGRAM_TOKEN=<token>; see docs/telegram.md."
        )
    _protect_token_in_logs(token)
    _quiet_handled_rate_limits()
    builder = ApplicationBuilder().token(token).base_url(settings.telegram_base_url)
    builder = builder.get_updates_read_timeout(settings.telegram_poll_timeout_s + 10)
    # Stay under the Bot API's limits (about 30 messages/s overall, 20/min per group, sends and edits)
    # before Telegram has to say 429; whatever 429 still comes is waited out by the sender (BotApiLink).
    limiter = GroupRateLimiter(
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
    link = BotApiLink(app.bot, platform=PLATFORM, health=health, retry_first_s=settings.telegram_retry_first_s,
                      retry_max_s=settings.telegram_retry_max_s, max_flood_wait_s=settings.telegram_max_flood_wait_s)
    app.bot_data["sender"] = TelegramSender(app.bot, core, link)
    only_new = filters.UpdateType.MESSAGE  # edits of old commands must not order a second poem
    app.add_handler(CommandHandler(list(LATIN_COMMANDS), on_message, filters=only_new))
    # Everything else (Chinese aliases, unknown /commands, plain text): the core's parser decides.
    app.add_handler(MessageHandler(only_new & filters.TEXT, on_message))
    app.add_error_handler(on_error)
    return app


async def publish_commands(app: Application[Any, Any, Any, Any, Any, Any], core: ChatCore,
                           link: BotApiLink | None = None) -> None:
    """setMyCommands: Chinese as the default list, English for clients whose language is English."""
    for language in (None, "zh", "en"):
        commands = [BotCommand(name, desc) for name, desc in core.command_descriptions(language or "zh")]
        if link is None:
            await app.bot.set_my_commands(commands, language_code=language)
        else:
            await link.call(functools.partial(app.bot.set_my_commands, commands, language_code=language))


class TelegramBot:
    """One running Telegram front-end: updates in (polling or webhook), replies out (delivery).

    ``health`` (optional): the process's ``Health``; part "telegram" is not ready until the Bot API
    has answered, and again while it is unreachable.
    """

    def __init__(self, core: ChatCore, settings: BotSettings, consumer: Any | None = None,
                 health: Health | None = None) -> None:
        self.core = core
        self.settings = settings
        self.consumer = consumer
        # No PTB Updater: it confirms updates before they are handled. DurableIntake stores first.
        self.app = build_application(settings, core, updater=False, health=health)
        self.sender: TelegramSender = self.app.bot_data["sender"]
        self.link = self.sender.link
        queue = core.service.sync.settings
        self.intake = DurableIntake(self.app, core.service.sync.connection, consumer=queue.consumer_for(PLATFORM),
                                    group=queue.reply_group, claim_idle_ms=queue.reply_claim_idle_ms,
                                    seen_ttl_s=queue.request_ttl_s, link=self.link)
        self._tasks: list[asyncio.Task[None]] = []
        self._delivery: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """getMe (until the API answers), setMyCommands (zh + en), polling or webhook, then delivery.

        With the Bot API unreachable this waits, retrying with capped, jittered back-off: the
        process stays up (not ready) instead of exiting into a crash loop.
        """
        try:
            await self._start()
        except BaseException:
            await self.stop()  # release the HTTP clients and the webhook port of a half-started bot
            raise

    async def _start(self) -> None:
        try:
            await self.link.connect(self.app.initialize)  # getMe
        except InvalidToken:
            # PTB's own message quotes the token; never let it reach a log or a terminal.
            raise TelegramSetupError(
                "Telegram rejected TELEGRAM_TOKEN (401 Unauthorized). Copy it again from @BotFather "
                "(/mybots -> your bot -> API Token); if it leaked, /revoke it there and use the new one."
            ) from None
        self.core.bot_username = self.app.bot.username
        await publish_commands(self.app, self.core, self.link)
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
            await self.link.call(lambda: self.app.bot.set_webhook(settings.telegram_webhook_url or "",
                                                                  secret_token=secret, allowed_updates=allowed))
        else:
            await self.link.call(self.app.bot.delete_webhook)
            self._tasks.append(asyncio.create_task(
                self.intake.poll(settings.telegram_poll_timeout_s, allowed), name="telegram-poll"))
        self._tasks.append(asyncio.create_task(self.intake.process(), name="telegram-intake"))
        self._tasks.append(asyncio.create_task(
            run_chat_clock(self.core.games, self.core.notices, PLATFORM, lambda out: self.sender.answer([out])),
            name="telegram-games"))
        if self.consumer is not None:
            self._delivery = asyncio.create_task(run_delivery(self.core, self.consumer, self.sender.send_reply))
        log.info("Telegram: @%s is up (%s)", self.app.bot.username, settings.telegram_mode)

    @property
    def delivery(self) -> asyncio.Task[None] | None:
        """The reply-delivery task while running (None without a consumer)."""
        return self._delivery

    async def stop(self) -> None:
        # No new updates; the ones being handled finish and are acked. While the API is away they
        # cannot finish: they are cancelled unacked, and handled again after the restart.
        await self.intake.stop(timeout_s=30.0 if self.link.is_up else 0.0)
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
        await self.link.close()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.app.bot.shutdown()  # its HTTP clients, also when getMe never answered (no-op otherwise)
        log.info("Telegram: stopped")


async def run_telegram(core: ChatCore, settings: BotSettings, consumer: Any, health: Health | None = None) -> None:
    """Run the Telegram bot until cancelled (``consumer``: the ReplyConsumer for "telegram";
    ``health``: the process's, whose part "telegram" says whether the Bot API answers)."""
    bot = TelegramBot(core, settings, consumer, health)
    await bot.start()
    try:
        if bot.delivery is not None:
            # Returns only if delivery ends (e.g. Redis refused us for good): then stop, not limp on.
            await asyncio.shield(bot.delivery)
            raise RuntimeError("reply delivery stopped")
        await asyncio.Event().wait()
    finally:
        await bot.stop()
