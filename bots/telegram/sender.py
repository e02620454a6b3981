"""Sending to Telegram: immediate answers (remembering placeholders), game marks and boards, and
queued poem replies.

Every call goes through the ``BotApiLink``: it waits while the Bot API is unreachable and waits out
429s, so an outage or flood control delays answers instead of losing them (``bots.telegram.link``).

A game verdict's mark is a reaction on the player's message (setMessageReaction). Telegram lets a
bot react only with the emoji of `telegram.constants.ReactionEmoji` (no ✅ ❌ 🔁), one per message,
so ``MARKS`` picks among them. A mark Telegram refuses (reactions turned off in the group) falls
back to the verdict's text, so a verdict is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace

from telegram import Bot, InputFile, Message, ReplyParameters
from telegram.constants import ChatAction, ReactionEmoji
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bots.core.chat import ChatCore
from bots.core.delivery import PermanentDeliveryError, TransientDeliveryError
from bots.core.models import OutgoingMessage
from bots.telegram.link import BotApiLink, retry_after_s
from worker.contract.protocol import PoemReply

__all__ = ["MARKS", "PLATFORM", "TelegramSender", "retry_after_s"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"

MARKS: dict[str, str] = {
    "right": ReactionEmoji.THUMBS_UP, "wrong": ReactionEmoji.THUMBS_DOWN,
    "repeat": ReactionEmoji.EYES, "near": ReactionEmoji.THINKING_FACE,
}
"""A game verdict's mark (`bots.core.games.outbox.MARKS`) as a reaction Telegram lets a bot set."""


class _PlaceholderOverdue(Exception):
    """The poem was published while its placeholder waited for the Bot API: send no placeholder (the
    poem replies to the request itself), rather than a "正在作诗…" nobody will ever edit."""


def _chat(chat_id: str) -> int | str:
    """Telegram chat ids are integers; "@channel" usernames stay text."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class TelegramSender:
    """Sends ``OutgoingMessage``s through one ``telegram.Bot``, over its ``BotApiLink``."""

    def __init__(self, bot: Bot, core: ChatCore, link: BotApiLink) -> None:
        self.bot = bot
        self.core = core
        self.link = link

    async def send(self, out: OutgoingMessage, after_outage: Callable[[], Awaitable[None]] | None = None) -> Message:
        reply_to = (
            ReplyParameters(message_id=int(out.reply_to_message_id), allow_sending_without_reply=True)
            if out.reply_to_message_id
            else None
        )
        if out.image is not None:  # a poem card: the picture, its text as the caption
            image, name = out.image, out.image_name
            return await self.link.call(
                lambda: self.bot.send_photo(chat_id=_chat(out.chat_id), photo=InputFile(image, filename=name),
                                            caption=out.text, reply_parameters=reply_to, parse_mode=out.parse_mode),
                after_outage=after_outage,
            )
        return await self.link.call(
            lambda: self.bot.send_message(
                chat_id=_chat(out.chat_id), text=out.text, reply_parameters=reply_to, parse_mode=out.parse_mode
            ),
            after_outage=after_outage,
        )

    def _placeholder_check(self, request_id: str) -> Callable[[], Awaitable[None]]:
        """For a placeholder held up by an outage: mark it as coming again (a poem published from now
        on waits for it, as after any submit), then give it up if the poem is already out."""

        async def check() -> None:
            core = self.core
            await core.store.mark_placeholder_pending(PLATFORM, request_id, core.settings.placeholder_wait_s * 4)
            if await asyncio.to_thread(core.service.sync.publisher.is_answered, request_id):
                raise _PlaceholderOverdue(request_id)

        return check

    async def answer(self, outgoing: Iterable[OutgoingMessage]) -> None:
        """Send the core's immediate answers, in order; a placeholder's message id is stored so the
        poem can replace it later, even from another process or after a restart. A game verdict's
        mark is set first; a message that starts a game clock is reported once it is visible."""
        for out in outgoing:
            if out.mark and out.reply_to_message_id:
                marked = await self._mark(out)
                if out.mark_only and marked:
                    await self._visible(out)
                    continue
            if out.mark_only:  # no reaction could be set: the verdict's text is its fallback
                out = replace(out, mark_only=False)
            if out.edit_message_id and await self._edited(out):
                await self._visible(out)
                continue
            try:
                sent = await self.send(out, self._placeholder_check(out.request_id) if out.request_id else None)
            except _PlaceholderOverdue:
                log.info("Telegram: the poem for %s came before its placeholder could be sent; no placeholder",
                         out.request_id)
                await self.core.forget_placeholder(PLATFORM, out.request_id or "")  # the poem need not wait
                continue
            if out.board_key:  # a game board: later moves edit this message instead of posting anew
                await self.core.remember_board(PLATFORM, out.board_key, str(sent.message_id))
            await self._visible(out)
            if out.request_id:
                await self.core.remember_placeholder(PLATFORM, out.request_id, str(sent.message_id))
                # "typing…" under the chat title while the poem is written; purely cosmetic: one try,
                # never waited for while the API is away.
                if self.link.is_up:
                    with contextlib.suppress(TelegramError):
                        await self.bot.send_chat_action(chat_id=_chat(out.chat_id), action=ChatAction.TYPING)

    async def _mark(self, out: OutgoingMessage) -> bool:
        """React on the player's message with the verdict's mark; False when Telegram will not have it
        (reactions off in the chat, the message gone, flood control past the link's wait)."""
        emoji = MARKS.get(out.mark or "")
        if emoji is None:
            return False
        message_id = int(out.reply_to_message_id or 0)
        try:
            await self.link.call(lambda: self.bot.set_message_reaction(
                chat_id=_chat(out.chat_id), message_id=message_id, reaction=emoji))
        except (BadRequest, Forbidden, RetryAfter) as exc:
            log.info("Telegram: cannot mark message %s in %s (%s); sending the verdict as text", message_id,
                     out.chat_id, exc.message)
            return False
        return True

    async def _visible(self, out: OutgoingMessage) -> None:
        """``out`` is in the chat: a game clock it starts counts from now."""
        if out.clock is not None:
            await self.core.game_visible(PLATFORM, out, time.time())

    async def _edit(self, out: OutgoingMessage) -> None:
        edit_id = int(out.edit_message_id or 0)
        await self.link.call(
            lambda: self.bot.edit_message_text(text=out.text, chat_id=_chat(out.chat_id), message_id=edit_id,
                                               parse_mode=out.parse_mode)
        )

    async def _edited(self, out: OutgoingMessage) -> bool:
        """Edit ``out.edit_message_id`` into ``out.text``; False when Telegram refuses (send it anew)."""
        try:
            await self._edit(out)
        except BadRequest as exc:
            return "not modified" in exc.message.lower()
        return True

    async def send_reply(self, reply: PoemReply, out: OutgoingMessage) -> None:
        """The ``run_delivery`` callback: edit the acknowledgement into the poem, or send it anew.

        Refusals that retrying cannot fix (bot blocked, chat gone) raise ``PermanentDeliveryError``
        so the reply is acknowledged and dropped. An unreachable API is waited for here (the link);
        flood control longer than ``max_flood_wait_s`` raises ``TransientDeliveryError``, and the
        reply is retried later.
        """
        try:
            if out.edit_message_id:
                try:
                    await self._edit(out)
                    return
                except BadRequest as exc:
                    if "not modified" in exc.message.lower():
                        return  # an earlier attempt already edited it
                    log.info("Telegram: cannot edit placeholder %s for %s (%s); sending a new message",
                             out.edit_message_id, reply.request_id, exc.message)
            await self.send(out)
        except (Forbidden, BadRequest) as exc:
            raise PermanentDeliveryError(f"Telegram refused chat {out.chat_id}: {exc.message}") from exc
        except RetryAfter as exc:
            raise TransientDeliveryError(
                "flood", f"flood control asks for {retry_after_s(exc):.0f} s more than the wait allowed"
            ) from exc
