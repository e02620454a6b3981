"""Sending replies to Discord: routes, the follow-up-or-channel decision, and message limits.

A request's *route* is a small JSON-safe dict stored with the queued job and carried back on its
reply, so any bot process (even one started after a restart) can deliver it:

- ``{"kind": "interaction", ...}`` for slash commands: the interaction token allows follow-ups for
  15 minutes after the interaction was created; after that the poem goes to the channel instead.
  The token itself is not in the route (which lives as long as the job, up to a day): the client
  keeps it in Redis (``BotStore.remember_interaction_token``) with a TTL that ends with the token;
- ``{"kind": "message", ...}`` for prefix commands: the poem replies to the user's message.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import discord

from bots.core.delivery import PermanentDeliveryError
from bots.core.models import OutgoingMessage
from bots.core.store import BotStore
from worker.contract.protocol import PoemReply

__all__ = ["MAX_MESSAGE_CHARS", "DiscordSender", "interaction_route", "message_route", "split_text"]

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
"""Discord rejects message content longer than this."""


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


class DiscordSender:
    """Delivers text to Discord through a logged-in client's HTTP session.

    ``store`` holds interaction tokens (None: no follow-ups, every reply goes to its channel).
    Rate limits: discord.py waits out ``X-RateLimit-*`` buckets and 429s on every path, webhooks
    included; a 429 that outlasts its retries propagates, so the reply is retried later, never
    redirected or dropped.
    """

    def __init__(self, client: discord.Client, followup_window_s: float = 14 * 60,
                 store: BotStore | None = None) -> None:
        self.client = client
        self.followup_window_s = followup_window_s
        self.store = store

    def followup_age_left(self, route: dict[str, Any], now: float | None = None) -> float:
        """Seconds the interaction's follow-up window has left (<= 0: post to the channel)."""
        created = route.get("created_at")
        if route.get("kind") != "interaction" or created is None:
            return 0.0
        return self.followup_window_s - ((time.time() if now is None else now) - float(created))

    async def remember_token(self, interaction: discord.Interaction, route: dict[str, Any]) -> None:
        """Keep the interaction's token until its follow-up window ends, for the poem's delivery."""
        left = self.followup_age_left(route)
        if self.store is not None and left > 0:
            await self.store.remember_interaction_token(str(interaction.id), interaction.token, left)

    async def _token(self, route: dict[str, Any]) -> str | None:
        if self.followup_age_left(route) <= 0 or self.store is None:
            return None
        return await self.store.interaction_token(str(route.get("interaction_id")))

    async def deliver(self, text: str, route: dict[str, Any] | None, chat_id: str,
                      reply_to: str | None = None) -> str:
        """Send ``text`` where ``route`` says; returns "followup" or "channel" (for logs and tests).

        A follow-up that Discord refuses (token expired or unknown) falls back to the channel, so a
        reply is never lost to a clock skew or a slow queue.
        """
        route = route or {}
        token = await self._token(route)
        if token:
            try:
                await self.followup(route, token, text)
                return "followup"
            except discord.HTTPException as exc:
                if exc.status >= 500 or exc.status == 429:
                    raise  # transient: retried later, still as a follow-up
                log.warning("Discord: follow-up for interaction %s refused (%s %s); posting to channel",
                            route.get("interaction_id"), exc.status, exc.text)
        channel_id = str(route.get("channel_id") or chat_id)
        if route.get("kind") == "interaction" and route.get("user_id"):
            # No thread of replies to attach to, so address the user who asked.
            text = f"<@{route['user_id']}> {text}"
        await self.channel(channel_id, text, reply_to=reply_to or route.get("message_id"),
                           user_id=route.get("user_id"))
        return "channel"

    async def send_reply(self, reply: PoemReply, out: OutgoingMessage) -> None:
        """The ``run_delivery`` callback: deliver one rendered poem reply.

        Permanent refusals (the bot was removed from the channel, the channel is gone) raise
        ``PermanentDeliveryError`` so the reply is acknowledged and dropped; transient ones (5xx,
        network) propagate as they are and the reply is retried.
        """
        try:
            where = await self.deliver(out.text, reply.route, out.chat_id or reply.chat_id, out.reply_to_message_id)
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                raise
            raise PermanentDeliveryError(f"Discord refused the reply: {exc.status} {exc.text}") from exc
        log.info("Discord: delivered reply %s by %s", reply.request_id, where)

    async def answer(self, out: OutgoingMessage, msg: Any) -> None:
        """An immediate answer to a prefix command; a game board is edited in place once it exists."""
        channel_id = out.chat_id or msg.chat_id
        if out.edit_message_id:
            try:
                await self.client.get_partial_messageable(int(channel_id)).get_partial_message(
                    int(out.edit_message_id)).edit(content=split_text(out.text)[0])
                return
            except discord.HTTPException as exc:
                log.info("Discord: cannot edit board %s (%s); posting it anew", out.edit_message_id, exc.status)
        sent = await self.channel(channel_id, out.text, reply_to=out.reply_to_message_id or msg.message_id)
        if out.board_key and sent is not None and self.store is not None:
            await self.store.remember_placeholder("discord", out.board_key, str(sent.id))

    async def followup(self, route: dict[str, Any], token: str, text: str) -> None:
        """Post follow-up message(s) with the interaction's webhook token."""
        webhook = discord.Webhook.partial(int(route["application_id"]), token, client=self.client)
        for chunk in split_text(text):
            await webhook.send(chunk, allowed_mentions=_mentions(route.get("user_id")))

    async def channel(self, channel_id: str, text: str, reply_to: str | None = None,
                      user_id: str | None = None) -> discord.Message | None:
        """Post message(s) to a channel, the first one replying to ``reply_to`` when given; returns the first."""
        channel = self.client.get_partial_messageable(int(channel_id))
        reference = (discord.MessageReference(message_id=int(reply_to), channel_id=int(channel_id),
                                              fail_if_not_exists=False) if reply_to else None)
        first: discord.Message | None = None
        for chunk in split_text(text):
            sent = await channel.send(chunk, reference=reference, allowed_mentions=_mentions(user_id))  # type: ignore[arg-type]
            first = first or sent
            reference = None
        return first

