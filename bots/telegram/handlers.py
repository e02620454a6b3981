"""Telegram handlers: turn an update into an ``IncomingMessage``, ask the core, send the answers."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.core.metrics import UPDATE_FAILURES
from bots.core.models import IncomingMessage
from bots.telegram.link import is_transient
from bots.telegram.sender import PLATFORM, TelegramSender

__all__ = ["incoming", "on_error", "on_message"]

log = logging.getLogger(__name__)

_GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})


def incoming(update: Update, bot_id: int | None = None) -> IncomingMessage | None:
    """The platform-neutral message for a text update (None for anything else)."""
    message = update.message
    if message is None or not message.text:
        return None
    user = message.from_user
    replied = message.reply_to_message
    return IncomingMessage(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        user_id=str(user.id if user else message.chat.id),
        text=message.text,
        locale=user.language_code if user else None,
        message_id=str(message.message_id),
        is_group=message.chat.type in _GROUPS,
        user_name=(user.first_name or user.username) if user else None,
        reply_to_bot=bool(replied and replied.from_user and bot_id is not None and replied.from_user.id == bot_id),
        replied_text=(replied.text or replied.caption) if replied else None,
    )


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every command and every plain text: the core decides what is for us."""
    msg = incoming(update, context.bot.id)
    if msg is None:
        return
    core: ChatCore = context.bot_data["core"]
    sender: TelegramSender = context.bot_data["sender"]
    await sender.answer(await core.handle(msg))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure, then tell the user something went wrong rather than staying silent.

    The platform failing us (flood control past the bot's wait, the API away) is expected: one
    WARNING line, counted. Anything else is a bug: ERROR with its traceback.
    """
    error = context.error
    if isinstance(error, RetryAfter) or (error is not None and is_transient(error)):
        UPDATE_FAILURES.labels(platform=PLATFORM, kind="transient").inc()
        log.warning("Telegram: could not answer an update: %s", str(error).splitlines()[0] if str(error) else error)
    else:
        UPDATE_FAILURES.labels(platform=PLATFORM, kind="error").inc()
        log.error("Telegram: error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    chat_id, text = update.effective_chat.id, t("internal_error", user.language_code if user else None)
    sender: TelegramSender = context.bot_data["sender"]
    try:
        await sender.link.call(lambda: context.bot.send_message(chat_id=chat_id, text=text), max_flood_wait_s=60.0)
    except TelegramError:
        log.warning("Telegram: could not report the error to chat %s", update.effective_chat.id)
