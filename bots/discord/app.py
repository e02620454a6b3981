"""Entry points: build the Discord client, and run it with the reply-delivery loop."""

from __future__ import annotations

import logging
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bots.core.chat import ChatCore
from bots.core.delivery import run_delivery
from bots.core.games.clock import run_game_clock
from bots.core.settings import DiscordSettings
from bots.core.store import BotStore
from bots.discord.client import BackgroundJob, ChatHandler, PoetClient
from worker.contract.replies import ReplyConsumer

__all__ = ["DiscordSetupError", "build_client", "configure_endpoints", "run_discord"]

log = logging.getLogger(__name__)


class DiscordSetupError(RuntimeError):
    """The bot cannot start because of its configuration; the message says how to fix it."""


def configure_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL`` when they are set.

    discord.py keeps both as class attributes, so this is process-wide: meant for tests and for
    operators behind an API proxy. Unset values leave the library's Discord defaults alone.
    """
    if settings.api_base:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
    if settings.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def build_client(core: ChatHandler, settings: DiscordSettings, *,
                 background: tuple[BackgroundJob, ...] = (), store: BotStore | None = None,
                 **options: Any) -> PoetClient:
    """A ready-to-start client for ``core``; ``background`` jobs start once it has logged in.

    ``store`` keeps interaction tokens for follow-ups; a ``ChatCore`` brings its own.
    """
    configure_endpoints(settings)
    if isinstance(core, ChatCore):
        core.uses_placeholders = False  # Discord defers the interaction and answers it instead
        store = store or core.store
    return PoetClient(core, settings, background=background, store=store, **options)


async def run_discord(core: ChatCore, settings: DiscordSettings, consumer: ReplyConsumer | None,
                      **options: Any) -> None:
    """Run the Discord bot until cancelled: gateway events plus delivery of queued poem replies.

    ``consumer`` is the ``ReplyConsumer`` for platform ``"discord"`` that ``run_delivery`` reads
    (None: no delivery, e.g. when another process delivers).
    Raises ``DiscordSetupError`` with a fix for a missing or rejected token or a missing intent.
    """
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise DiscordSetupError(
            "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications "
            "(Bot -> Reset Token) and export DISCORD_TOKEN=<token>; see docs/discord.md."
        )

    background: tuple[BackgroundJob, ...] = ()
    if consumer is not None:
        replies = consumer

        async def deliver_replies(client: PoetClient) -> None:
            await run_delivery(core, replies, client.sender.send_reply)

        background = (deliver_replies,)

    async def game_clock(client: PoetClient) -> None:
        await run_game_clock(core.games, "discord", lambda out: client.sender.channel(
            out.chat_id, out.text, reply_to=out.reply_to_message_id))

    background = (*background, game_clock)
    client = build_client(core, settings, background=background, **options)
    try:
        async with client:
            await client.start(settings.token.get_secret_value())
    except discord.LoginFailure as exc:
        raise DiscordSetupError(
            "Discord rejected DISCORD_TOKEN (401). Copy the token again from the Developer Portal "
            "(your application -> Bot -> Reset Token); it is not the client secret or the application id."
        ) from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise DiscordSetupError(
            "Discord refused the Message Content intent. Enable it in the Developer Portal (your "
            "application -> Bot -> Privileged Gateway Intents -> Message Content Intent), or set "
            "DISCORD_MESSAGE_CONTENT=false to run with slash commands and @mentions only."
        ) from exc
