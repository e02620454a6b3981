"""Sending to Discord: routes, the follow-up-or-channel decision, message limits, and retries.

A request's *route* is a small JSON-safe dict stored with the queued job and carried back on its
reply, so any bot process (even one started after a restart) can deliver it:

- ``{"kind": "interaction", ...}`` for slash commands: the interaction token allows follow-ups for
  15 minutes after the interaction was created; after that the poem goes to the channel instead.
  The token itself is not in the route (which lives as long as the job, up to a day): the client
  keeps it in Redis (``BotStore.remember_interaction_token``) with a TTL that ends with the token;
- ``{"kind": "message", ...}`` for prefix commands: the poem replies to the user's message.

Every REST call goes through the client's `DiscordLink`, which waits while Discord is unreachable
and makes the call again once it answers; channel posts carry a nonce Discord enforces, so a post
made again after a lost answer is not posted twice.

A game verdict's mark is a reaction on the player's message (``MARKS``; Discord takes any Unicode
emoji). Reactions have their own rate limit (per channel, a quarter of a second apart), which
discord.py waits out from the response headers; a mark Discord refuses (no permission to react, the
message gone) falls back to the verdict's text.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

import discord
import redis

from bots.core.delivery import PermanentDeliveryError, TransientDeliveryError
from bots.core.models import OutgoingMessage
from bots.core.store import BotStore
from bots.discord.link import PLATFORM, TRANSIENT_ERRORS, DiscordLink
from worker.contract.protocol import PoemReply

__all__ = ["MARKS", "MAX_MESSAGE_CHARS", "Boards", "DiscordSender", "interaction_route", "message_route", "split_text"]

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
"""Discord rejects message content longer than this."""

MARKS: dict[str, str] = {"right": "✅", "wrong": "❌", "repeat": "🔁", "near": "🤔"}
"""A game verdict's mark (`bots.core.games.outbox.MARKS`) as the reaction the bot adds."""


def interaction_route(interaction: discord.Interaction) -> dict[str, Any]:
    """Route for a slash command; ``created_at`` is the interaction's own time (from its id)."""
    return {
        "kind": "interaction",
        "application_id": str(interaction.application_id),
        "interaction_id": str(interaction.id),
        "created_at": interaction.created_at.timestamp(),
        "channel_id": str(interaction.channel_id),
        "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
        "user_id": str(interaction.user.id),
    }


def message_route(message: discord.Message) -> dict[str, Any]:
    """Route for a prefix command: reply in the same channel, to the user's message."""
    return {
        "kind": "message",
        "channel_id": str(message.channel.id),
        "message_id": str(message.id),
        "guild_id": str(message.guild.id) if message.guild else None,
        "user_id": str(message.author.id),
    }


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters, preferring line breaks."""
    chunks: list[str] = []
    rest = text.strip() or "…"
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        cut = cut if cut > 0 else limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip("\n")
    chunks.append(rest)
    return chunks


def _mentions(user_id: str | None) -> discord.AllowedMentions:
    """Never let echoed user text ping @everyone or roles; ping only the requester, if anyone."""
    users = [discord.Object(int(user_id))] if user_id else False
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=True)


class Boards(Protocol):
    """Where game boards are remembered (the chat core), so later moves edit the board in place, and
    where a game hears that the message starting its clock is visible."""

    async def remember_board(self, platform: str, board_key: str, message_id: str) -> None: ...

    async def game_visible(self, platform: str, out: OutgoingMessage, at: float) -> None: ...


class DiscordSender:
    """Delivers text to Discord through a logged-in client's HTTP session.

    Args:
        client: the logged-in client.
        link: the client's `DiscordLink`: every call waits out Discord's outages through it.
        boards: the chat core, which remembers game boards (None: boards are posted anew each move).
        followup_window_s: age of an interaction after which its replies go to the channel.
        store: holds interaction tokens (None: no follow-ups for queued poems, they go to the channel).
        delivery_window_s: how long one queued reply may wait for Discord before it is handed back
            to the reply stream (None: as long as it takes). It must end before the consumer's lease,
            or another bot process could claim the reply and send it too.

    Rate limits: discord.py waits out ``X-RateLimit-*`` buckets and 429s on every path, webhooks
    included; a 429 that outlasts its retries propagates, so the reply is retried later, never
    redirected or dropped.
    """

    def __init__(self, client: discord.Client, link: DiscordLink, *, boards: Boards | None = None,
                 followup_window_s: float = 14 * 60, store: BotStore | None = None,
                 delivery_window_s: float | None = None) -> None:
        self.client = client
        self.link = link
        self.boards = boards
        self.followup_window_s = followup_window_s
        self.store = store
        self.delivery_window_s = delivery_window_s

    def followup_age_left(self, route: dict[str, Any], now: float | None = None) -> float:
        """Seconds the interaction's follow-up window has left (<= 0: post to the channel)."""
        created = route.get("created_at")
        if route.get("kind") != "interaction" or created is None:
            return 0.0
        return self.followup_window_s - ((time.time() if now is None else now) - float(created))

    def answer_deadline(self, route: dict[str, Any] | None = None) -> float:
        """When an immediate answer stops waiting for Discord (``time.monotonic()``): the end of the
        interaction's follow-up window, or that long from now for a prefix command. The deadline
        keeps a long outage from holding the channel's later events for ever."""
        left = self.followup_age_left(route or {}) if route and route.get("kind") == "interaction" else 0.0
        return time.monotonic() + (left if left > 0 else self.followup_window_s)

    async def remember_token(self, interaction: discord.Interaction, route: dict[str, Any]) -> None:
        """Keep the interaction's token until its follow-up window ends, for the poem's delivery.

        Redis away is no reason to leave the command unanswered: the core says so in its answer,
        and a poem without its token goes to the channel.
        """
        left = self.followup_age_left(route)
        if self.store is not None and left > 0:
            try:
                await self.store.remember_interaction_token(str(interaction.id), interaction.token, left)
            except redis.RedisError as exc:
                log.warning("Discord: cannot keep the token of interaction %s (Redis: %s); its poem will go "
                            "to the channel", interaction.id, exc)

    async def _token(self, route: dict[str, Any]) -> str | None:
        if self.followup_age_left(route) <= 0 or self.store is None:
            return None
        return await self.store.interaction_token(str(route.get("interaction_id")))

    # ----------------------------------------------------------------- queued replies
    async def deliver(self, text: str, route: dict[str, Any] | None, chat_id: str,
                      reply_to: str | None = None, *, give_up_at: float | None = None) -> str:
        """Send ``text`` where ``route`` says; returns "followup" or "channel" (for logs and tests).

        A follow-up that Discord refuses (token expired or unknown) falls back to the channel, so a
        reply is never lost to a clock skew or a slow queue.
        """
        route = route or {}
        token = await self._token(route)
        if token:
            try:
                await self.followup(route, token, text, give_up_at=give_up_at)
                return "followup"
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise  # transient: retried later, still as a follow-up
                log.warning("Discord: follow-up for interaction %s refused (%s %s); posting to channel",
                            route.get("interaction_id"), exc.status, exc.text)
        await self.to_channel(route, chat_id, text, reply_to=reply_to, give_up_at=give_up_at)
        return "channel"

    async def to_channel(self, route: dict[str, Any], chat_id: str, text: str, *, reply_to: str | None = None,
                         give_up_at: float | None = None) -> None:
        """Post ``text`` in the route's channel: replying to the user's message, or (for a slash
        command, which has no message to reply to) addressing the user who asked."""
        channel_id = str(route.get("channel_id") or chat_id)
        if route.get("kind") == "interaction" and route.get("user_id"):
            text = f"<@{route['user_id']}> {text}"
        await self.channel(channel_id, text, reply_to=reply_to or route.get("message_id"),
                           user_id=route.get("user_id"), give_up_at=give_up_at)

    async def send_reply(self, reply: PoemReply, out: OutgoingMessage) -> None:
        """The ``run_delivery`` callback: deliver one rendered poem reply.

        Permanent refusals (the bot was removed from the channel, the channel is gone) raise
        ``PermanentDeliveryError`` so the reply is acknowledged and dropped. A 429 that outlasted
        discord.py's waits, and Discord unreachable past ``delivery_window_s``, raise
        ``TransientDeliveryError``: the reply stays pending and is sent later. In the second case
        only once Discord answers again, so an outage costs a reply one attempt, not all of them.
        """
        give_up_at = time.monotonic() + self.delivery_window_s if self.delivery_window_s is not None else None
        try:
            where = await self.deliver(out.text, reply.route, out.chat_id or reply.chat_id, out.reply_to_message_id,
                                       give_up_at=give_up_at)
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise TransientDeliveryError("flood", f"Discord still rate-limits after discord.py's waits: "
                                                      f"{exc.status} {exc.text}") from exc
            if exc.status >= 500:
                await self.link.wait_until_rest_up()
                raise TransientDeliveryError("unavailable", f"Discord answered {exc.status}") from exc
            raise PermanentDeliveryError(f"Discord refused the reply: {exc.status} {exc.text}") from exc
        except TRANSIENT_ERRORS as exc:
            await self.link.wait_until_rest_up()
            raise TransientDeliveryError("unavailable", f"Discord was unreachable for {self.delivery_window_s} s "
                                                        f"({type(exc).__name__})") from exc
        log.info("Discord: delivered reply %s by %s", reply.request_id, where)

    # ----------------------------------------------------------------- immediate answers
    async def answer(self, out: OutgoingMessage, msg: Any = None, *, give_up_at: float | None = None) -> None:
        """An immediate answer in the channel (``msg``: what it answers; None for the game clock's):
        a game verdict's mark first, and a game board is edited in place once it exists."""
        channel_id = out.chat_id or msg.chat_id
        if out.mark and out.reply_to_message_id:
            marked = await self._mark(channel_id, out, give_up_at)
            if out.mark_only and marked:
                await self._visible(out)
                return
        if out.mark_only:  # no reaction could be set: the verdict's text is its fallback
            out = replace(out, mark_only=False)
        if out.edit_message_id:
            message = self.client.get_partial_messageable(int(channel_id)).get_partial_message(int(out.edit_message_id))
            try:
                await self.link.call("edit", lambda: message.edit(content=split_text(out.text)[0]),
                                     give_up_at=give_up_at)
                await self._visible(out)
                return
            except discord.HTTPException as exc:
                log.info("Discord: cannot edit board %s (%s); posting it anew", out.edit_message_id, exc.status)
        reply_to = out.reply_to_message_id or (msg.message_id if msg is not None else None)
        image = (out.image, out.image_name) if out.image is not None else None  # a poem card, as an attachment
        sent = await self.channel(channel_id, out.text, reply_to=reply_to, give_up_at=give_up_at, image=image)
        if out.board_key and sent is not None and self.boards is not None:
            await self.boards.remember_board(PLATFORM, out.board_key, str(sent.id))
        await self._visible(out)

    async def timed(self, out: OutgoingMessage) -> None:
        """A message of the game clock (a warning, an end, a verdict board): as ``answer``, waiting for
        Discord at most a follow-up window."""
        await self.answer(out, give_up_at=self.answer_deadline())

    async def _mark(self, channel_id: str, out: OutgoingMessage, give_up_at: float | None) -> bool:
        """React on the player's message with the verdict's mark; False when Discord will not have it."""
        emoji = MARKS.get(out.mark or "")
        if emoji is None:
            return False
        message = self.client.get_partial_messageable(int(channel_id)).get_partial_message(
            int(out.reply_to_message_id or 0))
        try:
            await self.link.call("react", lambda: message.add_reaction(emoji), give_up_at=give_up_at)
        except discord.HTTPException as exc:
            log.info("Discord: cannot mark message %s (%s %s); sending the verdict as text", out.reply_to_message_id,
                     exc.status, exc.text)
            return False
        return True

    async def _visible(self, out: OutgoingMessage) -> None:
        """``out`` is in the channel: a game clock it starts counts from now."""
        if out.clock is not None and self.boards is not None:
            await self.boards.game_visible(PLATFORM, out, time.time())

    async def interaction_answer(self, interaction: discord.Interaction, route: dict[str, Any], text: str, *,
                                 deferred: bool) -> None:
        """An immediate answer to a slash command: a follow-up while the token works, else the channel."""
        give_up_at = self.answer_deadline(route)
        if deferred:  # just deferred, so the token works: the bot's window matters for late poems only
            mentions = discord.AllowedMentions(everyone=False, roles=False, users=False)
            try:
                await self._chunks("follow-up", text, lambda chunk: interaction.followup.send(
                    chunk, allowed_mentions=mentions), give_up_at)
                return
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise
                log.warning("Discord: follow-up for interaction %s refused (%s %s); posting to channel",
                            interaction.id, exc.status, exc.text)
        await self.to_channel(route, str(interaction.channel_id), text, give_up_at=give_up_at)

    async def remove_thinking(self, interaction: discord.Interaction) -> None:
        """Nothing (more) to say: remove the "thinking…" placeholder of a deferred interaction."""
        try:
            await self.link.call("delete", interaction.delete_original_response,
                                 give_up_at=self.answer_deadline(interaction_route(interaction)))
        except discord.HTTPException as exc:  # the token expired meanwhile: nothing left to tidy
            log.info("Discord: cannot remove the placeholder of interaction %s (%s)", interaction.id, exc.status)

    # ----------------------------------------------------------------- the two ways out
    async def followup(self, route: dict[str, Any], token: str, text: str, *, give_up_at: float | None = None) -> None:
        """Post follow-up message(s) with the interaction's webhook token."""
        webhook = discord.Webhook.partial(int(route["application_id"]), token, client=self.client)
        mentions = _mentions(route.get("user_id"))
        await self._chunks("follow-up", text, lambda chunk: webhook.send(chunk, allowed_mentions=mentions),
                           give_up_at)

    async def channel(self, channel_id: str, text: str, reply_to: str | None = None,
                      user_id: str | None = None, *, give_up_at: float | None = None,
                      image: tuple[bytes, str] | None = None) -> discord.Message | None:
        """Post message(s) to a channel, the first one replying to ``reply_to`` when given (and carrying
        ``image``, (bytes, file name), as its attachment); returns the first.

        Each message keeps one nonce through its retries: Discord (``enforce_nonce``) answers a
        repeated post with the message it already made, so a lost answer never posts twice.
        """
        channel = self.client.get_partial_messageable(int(channel_id))
        reference = (discord.MessageReference(message_id=int(reply_to), channel_id=int(channel_id),
                                              fail_if_not_exists=False) if reply_to else None)
        first: discord.Message | None = None
        for chunk in split_text(text):
            nonce = secrets.randbits(63)
            ref = reference

            def post(chunk: str = chunk, nonce: int = nonce, ref: discord.MessageReference | None = ref,
                     attached: tuple[bytes, str] | None = image if first is None else None
                     ) -> Awaitable[discord.Message]:
                # A fresh File per try: a sent one has been read to its end.
                file = discord.File(io.BytesIO(attached[0]), filename=attached[1]) if attached else None
                return channel.send(chunk, reference=ref, allowed_mentions=_mentions(user_id),  # type: ignore[arg-type]
                                    nonce=nonce, file=file)  # type: ignore[arg-type]

            sent = await self.link.call("post", post, give_up_at=give_up_at)
            first = first or sent
            reference = None
        return first

    async def _chunks(self, what: str, text: str, send: Callable[[str], Awaitable[object]],
                      give_up_at: float | None) -> None:
        for chunk in split_text(text):
            await self.link.call(what, lambda chunk=chunk: send(chunk), give_up_at=give_up_at)  # type: ignore[misc]
