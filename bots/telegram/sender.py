"""Sending to Telegram: immediate answers (remembering placeholders) and queued poem replies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bots.core.chat import ChatCore
from bots.core.delivery import PermanentDeliveryError
from bots.core.models import OutgoingMessage
from worker.contract.protocol import PoemReply

__all__ = ["PLATFORM", "TelegramSender", "honouring_retry_after", "retry_after_s"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"
T = TypeVar("T")


def retry_after_s(exc: RetryAfter) -> float:
    """PTB 22 gives an int of seconds, later versions a timedelta."""
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def honouring_retry_after(call: Callable[[], Awaitable[T]], max_wait_s: float = 900.0) -> T:
    """Run a Bot API call, waiting out every 429 for exactly its ``retry_after``.

    The rate limiter keeps us under Telegram's limits; this covers what it cannot know (limits
    shared with other bots on the token, a burst after a restart). Throttling never drops a poem:
    only past ``max_wait_s`` of waiting in all does the ``RetryAfter`` propagate, and delivery then
    retries the reply later.
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_s(exc)
            if time.monotonic() + wait > deadline:
                raise
            log.info("Telegram: flood control, waiting %.1f s as asked", wait)
            await asyncio.sleep(wait)


def _chat(chat_id: str) -> int | str:
    """Telegram chat ids are integers; "@channel" usernames stay text."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class TelegramSender:
    """Sends ``OutgoingMessage``s through one ``telegram.Bot``."""

    def __init__(self, bot: Bot, core: ChatCore, max_flood_wait_s: float = 900.0) -> None:
        self.bot = bot
        self.core = core
        self.max_flood_wait_s = max_flood_wait_s

    async def send(self, out: OutgoingMessage) -> Message:
        reply_to = (
            ReplyParameters(message_id=int(out.reply_to_message_id), allow_sending_without_reply=True)
            if out.reply_to_message_id
            else None
        )
        return await honouring_retry_after(
            lambda: self.bot.send_message(
                chat_id=_chat(out.chat_id), text=out.text, reply_parameters=reply_to, parse_mode=out.parse_mode
            ),
            self.max_flood_wait_s,
        )

    async def answer(self, outgoing: Iterable[OutgoingMessage]) -> None:
        """Send the core's immediate answers; a placeholder's message id is stored so the poem
        can replace it later, even from another process or after a restart."""
        for out in outgoing:
            if out.edit_message_id and await self._edited(out):
                continue
            sent = await self.send(out)
            if out.board_key:  # a game board: later moves edit this message instead of posting anew
                await self.core.remember_placeholder(PLATFORM, out.board_key, str(sent.message_id))
            if out.request_id:
                await self.core.remember_placeholder(PLATFORM, out.request_id, str(sent.message_id))
                # "typing…" under the chat title while the poem is written; purely cosmetic.
                with contextlib.suppress(TelegramError):
                    await self.bot.send_chat_action(chat_id=_chat(out.chat_id), action=ChatAction.TYPING)

    async def _edited(self, out: OutgoingMessage) -> bool:
        """Edit ``out.edit_message_id`` into ``out.text``; False when Telegram refuses (send it anew)."""
        try:
            edit_id = int(out.edit_message_id or 0)
            await honouring_retry_after(
                lambda: self.bot.edit_message_text(text=out.text, chat_id=_chat(out.chat_id), message_id=edit_id,
                                                   parse_mode=out.parse_mode),
                self.max_flood_wait_s,
            )
        except BadRequest as exc:
            return "not modified" in exc.message.lower()
        return True

    async def send_reply(self, reply: PoemReply, out: OutgoingMessage) -> None:
        """The ``run_delivery`` callback: edit the acknowledgement into the poem, or send it anew.

        Refusals that retrying cannot fix (bot blocked, chat gone) raise ``PermanentDeliveryError``
        so the reply is acknowledged and dropped; network errors propagate and the reply is retried.
        """
        try:
            if out.edit_message_id:
                try:
                    edit_id = int(out.edit_message_id)
                    await honouring_retry_after(
                        lambda: self.bot.edit_message_text(
                            text=out.text, chat_id=_chat(out.chat_id), message_id=edit_id, parse_mode=out.parse_mode
                        ),
                        self.max_flood_wait_s,
                    )
                    return
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():
                        return  # an earlier attempt already edited it
                    log.info("Telegram: cannot edit placeholder %s for %s (%s); sending a new message",
                             out.edit_message_id, reply.request_id, exc.message)
            await self.send(out)
        except (Forbidden, BadRequest) as exc:
            raise PermanentDeliveryError(f"Telegram refused chat {out.chat_id}: {exc.message}") from exc
